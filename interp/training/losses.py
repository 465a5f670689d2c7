"""Loss functions of (model, batch): one loop trains token, sequence and regression tasks.

`model` may be wrapped by DistributedDataParallel, so a loss only calls `model(inputs)`.
Every loss is a mean over the batch's scored items.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from interp.errors import ConfigError

Batch = Any  # a tensor or a tuple of tensors whose first dimension is the batch
LossFn = Callable[[nn.Module, Batch], torch.Tensor]
IGNORE = -100  # target id of positions that are not scored


def per_position_ce(model: nn.Module, batch: Batch) -> torch.Tensor:
    """Cross-entropy of logits [b, pos, vocab] against targets [b, pos] (IGNORE is skipped)."""
    inputs, targets = batch
    logits = model(inputs)  # [batch, pos, d_vocab_out]
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=IGNORE)


def next_token_ce(model: nn.Module, batch: Batch) -> torch.Tensor:
    """Cross-entropy of predicting token t+1 from tokens ..t; batch is tokens [b, pos] or (tokens, _)."""
    tokens = batch[0] if isinstance(batch, (tuple, list)) else batch
    logits = model(tokens)  # [batch, pos, d_vocab]
    return F.cross_entropy(logits[:, :-1].flatten(0, 1), tokens[:, 1:].flatten())


def masked_mse(model: nn.Module, batch: Batch) -> torch.Tensor:
    """Squared error of the scalar read-out (output 0) against float targets [b, pos]; NaN = unscored."""
    inputs, targets = batch
    prediction = model(inputs)[..., 0]  # [batch, pos]
    scored = ~torch.isnan(targets)
    return F.mse_loss(prediction[scored], targets[scored])


def per_position_accuracy(model: nn.Module, batch: Batch) -> dict[str, float]:
    """Held-out metrics for per-position tasks: loss, token accuracy, exact match of whole sequences."""
    inputs, targets = batch
    logits = model(inputs)
    loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=IGNORE)
    scored = targets != IGNORE
    correct = (logits.argmax(-1) == targets) | ~scored
    return {
        "loss": loss.item(),
        "accuracy": (correct & scored).sum().item() / max(1, scored.sum().item()),
        "exact_match": correct.all(dim=1).float().mean().item(),
    }


LOSSES: dict[str, LossFn] = {
    "per_position_ce": per_position_ce,
    "next_token_ce": next_token_ce,
    "masked_mse": masked_mse,
}


def loss_by_name(name: str) -> LossFn:
    """A loss function by name (the names in LOSSES)."""
    if name not in LOSSES:
        raise ConfigError(f"unknown loss {name!r}; known losses: {sorted(LOSSES)}.")
    return LOSSES[name]
