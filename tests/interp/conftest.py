"""Shared settings for the model tests."""

import torch

# Tiny models: one thread is ~25x faster than several competing for the shared cores.
torch.set_num_threads(1)
