"""What an ablated activation becomes: zero, the reference mean, a resampled reference row,
or a fixed (paired corrupted) activation."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from interp.circuit import ABLATION_KINDS
from interp.errors import InputError


class Replacement:
    """Values to put in place of an activation of shape [batch, seq, ...]."""

    def values(self, like: torch.Tensor) -> torch.Tensor:
        """Replacement for activation `like` (same shape, or broadcastable to it)."""
        raise NotImplementedError


class Zero(Replacement):
    """Zero ablation."""

    def values(self, like: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(like)


@dataclass
class Mean(Replacement):
    """Mean ablation: the per-position mean of a reference batch's activations."""

    reference: torch.Tensor  # [n_ref, seq_ref, ...]

    def values(self, like: torch.Tensor) -> torch.Tensor:
        return _fit_positions(self.reference, like).mean(dim=0, keepdim=True).expand_as(like)


@dataclass
class Resample(Replacement):
    """Resample ablation: each row gets the activation of a seeded random reference row."""

    reference: torch.Tensor  # [n_ref, seq_ref, ...]
    seed: int = 0

    def values(self, like: torch.Tensor) -> torch.Tensor:
        rows = resample_rows(self.reference.shape[0], like.shape[0], self.seed)
        return _fit_positions(self.reference, like)[rows]


@dataclass
class Fixed(Replacement):
    """Paired patching: row i gets row i of a given activation (e.g. a corrupted run)."""

    activation: torch.Tensor

    def values(self, like: torch.Tensor) -> torch.Tensor:
        if self.activation.shape[0] not in (1, like.shape[0]):
            raise InputError(
                f"patch activation has batch {self.activation.shape[0]} but the run has "
                f"{like.shape[0]}; pass corrupted inputs with the same batch size."
            )
        return _fit_positions(self.activation, like).expand_as(like)


def resample_rows(n_reference: int, batch: int, seed: int) -> torch.Tensor:
    """Seeded row indices into a reference batch; a shifted permutation when sizes match,
    so that no row is paired with itself (resampling a row from itself ablates nothing)."""
    generator = torch.Generator().manual_seed(seed)
    if n_reference == batch and batch > 1:
        order = torch.randperm(batch, generator=generator)
        rows = torch.empty(batch, dtype=torch.long)
        rows[order] = order.roll(1)
        return rows
    return torch.randint(0, n_reference, (batch,), generator=generator)


def _fit_positions(reference: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    seq = like.shape[1]
    if reference.shape[1] < seq:
        raise InputError(
            f"the reference batch has {reference.shape[1]} positions but the run has {seq}; "
            "use a reference at least as long as the inputs."
        )
    return reference[:, :seq]


def check_kind(kind: str) -> str:
    """Validate an ablation kind name."""
    if kind not in ABLATION_KINDS:
        raise InputError(f"ablation kind {kind!r} is not one of {list(ABLATION_KINDS)}.")
    return kind


def make_replacement(kind: str, reference: torch.Tensor | None, seed: int = 0) -> Replacement:
    """A Replacement of `kind` built from reference activations (unused for zero)."""
    check_kind(kind)
    if kind == "zero":
        return Zero()
    if reference is None:
        raise InputError(f"{kind} ablation needs a reference batch; pass reference=inputs.")
    return Mean(reference) if kind == "mean" else Resample(reference, seed)
