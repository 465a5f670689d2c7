"""One intra-op thread: on a busy machine with few cores, torch's thread pool stalls (a
tiny backward pass took 40x longer with two threads than with one)."""

import torch

torch.set_num_threads(1)
