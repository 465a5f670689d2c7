"""Metrics for comparing a clean and a corrupted run in activation/path patching: the
answer's logit difference, KL divergence to the clean run, and accuracy on the clean answer.
Each factory takes both runs' logits [batch, pos, d_vocab_out] and returns a Metric."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from interp.analysis.metrics import Metric, kl_divergence
from interp.errors import InputError


def _positions(logits: torch.Tensor, positions: Sequence[int] | None) -> list[int]:
    n = logits.shape[1]
    chosen = list(range(n)) if positions is None else list(positions)
    if not chosen or any(not 0 <= p < n for p in chosen):
        raise InputError(f"positions {chosen} must be non-empty and within 0..{n - 1}.")
    return chosen


def logit_difference(clean_logits: torch.Tensor, corrupted_logits: torch.Tensor,
                     positions: Sequence[int] | None = None) -> Metric:
    """Mean over rows and `positions` of logit[clean answer] - logit[corrupted answer]:
    high on the clean run, low on the corrupted one (0 where both answers agree)."""
    chosen = _positions(clean_logits, positions)
    if clean_logits.shape != corrupted_logits.shape:
        raise InputError("clean and corrupted logits must have the same shape (same input length).")
    if clean_logits.shape[-1] == 1:
        raise InputError("logit difference needs categorical outputs; this model has one numerical "
                         "output: use KL (squared error) instead.")
    clean_answer = clean_logits[:, chosen].argmax(-1, keepdim=True)  # [batch, pos, 1]
    corrupted_answer = corrupted_logits[:, chosen].argmax(-1, keepdim=True)

    def metric(logits: torch.Tensor) -> torch.Tensor:
        chosen_logits = logits[:, chosen]
        return (chosen_logits.gather(-1, clean_answer) - chosen_logits.gather(-1, corrupted_answer)).mean()

    return metric


def kl_to_clean(clean_logits: torch.Tensor, corrupted_logits: torch.Tensor,
                positions: Sequence[int] | None = None) -> Metric:
    """KL(clean || run) at `positions`: 0 on the clean run."""
    del corrupted_logits
    return kl_divergence(clean_logits, _positions(clean_logits, positions))


def accuracy_on_clean(clean_logits: torch.Tensor, corrupted_logits: torch.Tensor,
                      positions: Sequence[int] | None = None) -> Metric:
    """Fraction of rows x `positions` whose arg-max is the clean run's answer."""
    del corrupted_logits
    chosen = _positions(clean_logits, positions)
    answer = clean_logits[:, chosen].argmax(-1)  # [batch, pos]

    def metric(logits: torch.Tensor) -> torch.Tensor:
        return (logits[:, chosen].argmax(-1) == answer).float().mean()

    return metric


PATCH_METRICS: dict[str, Callable[..., Metric]] = {
    "logit difference": logit_difference,
    "KL to clean": kl_to_clean,
    "accuracy": accuracy_on_clean,
}


def fraction_of_effect(values: torch.Tensor, clean: float, corrupted: float,
                       patched_into: str = "corrupted") -> torch.Tensor:
    """Patching results as a fraction of the clean-vs-corrupted effect: for clean activations
    patched into the corrupted run, (m - corrupted) / (clean - corrupted) (1: this activation
    restores everything); for corrupted ones patched into the clean run (path patching),
    (clean - m) / (clean - corrupted) (1: this path carries the whole effect)."""
    if patched_into not in ("corrupted", "clean"):
        raise InputError(f"patched_into={patched_into!r}; choose 'corrupted' or 'clean'.")
    gap = clean - corrupted
    if abs(gap) < 1e-9:
        raise InputError("the metric is the same on the clean and the corrupted input: there is no "
                         "effect to attribute; pick another corruption or metric.")
    values = torch.as_tensor(values, dtype=torch.float32)
    return (values - corrupted) / gap if patched_into == "corrupted" else (clean - values) / gap
