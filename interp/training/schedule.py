"""Learning-rate schedule: linear warm-up, then cosine decay (a pure function of the step,
so resuming needs no scheduler state)."""

from __future__ import annotations

import math

from interp.training.config import TrainConfig


def learning_rate(step: int, config: TrainConfig) -> float:
    """Learning rate for optimizer step `step` (0-based)."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    decay_steps = max(1, config.steps - config.warmup_steps)
    progress = min(1.0, (step - config.warmup_steps) / decay_steps)
    floor = config.lr * config.min_lr_ratio
    return floor + 0.5 * (config.lr - floor) * (1.0 + math.cos(math.pi * progress))
