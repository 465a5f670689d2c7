"""A tiny model and task shared by the training-loop tests (and the torchrun worker)."""

from __future__ import annotations

import torch

from interp.model import HookedTransformer, ModelConfig
from interp.tasks import Reverse
from interp.training import TrainConfig

TASK = Reverse(d_vocab=4, seq_len=4)


def tiny_model(seed: int = 0, dtype: torch.dtype = torch.float32) -> HookedTransformer:
    """A 1-layer, 16-wide model for TASK."""
    cfg = ModelConfig(n_layers=1, d_model=16, n_ctx=4, d_vocab=4, n_heads=2, d_mlp=16, seed=seed)
    return HookedTransformer(cfg).init_weights(std=0.2, seed=seed).to(dtype)


def tiny_config(**changes: object) -> TrainConfig:
    """A short run that evaluates and checkpoints often."""
    base = dict(steps=12, batch_size=16, lr=1e-2, warmup_steps=3, eval_every=4, eval_size=32,
                checkpoint_every=4, log_every=2, seed=3)
    return TrainConfig(**{**base, **changes})
