"""Metrics on logits used by ablation, patching and discovery: each maps logits to a scalar."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

Metric = Callable[[torch.Tensor], torch.Tensor]


def _select(logits: torch.Tensor, positions: Sequence[int] | None) -> torch.Tensor:
    return logits if positions is None else logits[:, list(positions)]


def kl_divergence(clean_logits: torch.Tensor, positions: Sequence[int] | None = None) -> Metric:
    """Mean over batch and positions of KL(clean || run) of the output distributions."""
    clean_logprobs = _select(clean_logits, positions).detach().log_softmax(-1)

    def metric(logits: torch.Tensor) -> torch.Tensor:
        logprobs = _select(logits, positions).log_softmax(-1)
        return (clean_logprobs.exp() * (clean_logprobs - logprobs)).sum(-1).mean()

    return metric


def mean_squared_error(clean_logits: torch.Tensor, positions: Sequence[int] | None = None) -> Metric:
    """Mean squared difference to the clean logits (for numerical outputs)."""
    clean = _select(clean_logits, positions).detach()

    def metric(logits: torch.Tensor) -> torch.Tensor:
        return (_select(logits, positions) - clean).pow(2).mean()

    return metric


def distance_to(clean_logits: torch.Tensor, positions: Sequence[int] | None = None) -> Metric:
    """KL divergence for categorical outputs, squared error for one numerical output."""
    if clean_logits.shape[-1] == 1:
        return mean_squared_error(clean_logits, positions)
    return kl_divergence(clean_logits, positions)


def cross_entropy_to_clean(clean_logits: torch.Tensor, positions: Sequence[int] | None = None) -> Metric:
    """Cross-entropy against the clean run's top predictions (non-zero gradient at clean)."""
    targets = _select(clean_logits, positions).detach().argmax(-1)

    def metric(logits: torch.Tensor) -> torch.Tensor:
        chosen = _select(logits, positions)
        return torch.nn.functional.cross_entropy(chosen.flatten(0, -2), targets.flatten())

    return metric


def agreement(
    clean_logits: torch.Tensor, logits: torch.Tensor, positions: Sequence[int] | None = None,
    tolerance: float = 1e-3,
) -> float:
    """Fraction of (row, position) outputs equal to the clean run's: same arg-max for
    categorical outputs, within `tolerance` for one numerical output."""
    clean, run = _select(clean_logits, positions), _select(logits, positions)
    if clean.shape[-1] == 1:
        same = (clean - run).abs()[..., 0] <= tolerance * clean.abs()[..., 0].clamp(min=1.0)
    else:
        same = clean.argmax(-1) == run.argmax(-1)
    return same.float().mean().item()
