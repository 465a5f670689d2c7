"""Inputs as one batch or a list of batches of different lengths (compiled programs often
depend on the length, which a single batch holds fixed)."""

from __future__ import annotations

from typing import Any

import torch

from interp.errors import InputError
from interp.model import HookedTransformer


def as_batches(model: HookedTransformer, inputs: Any) -> list[torch.Tensor]:
    """One validated batch per input length: a tensor gives one, a list of tensors many."""
    if isinstance(inputs, (list, tuple)) and inputs and isinstance(inputs[0], torch.Tensor):
        return [model.validate_inputs(x) for x in inputs]
    return [model.validate_inputs(inputs)]


def aligned(other: Any, n: int, what: str) -> list[Any]:
    """Per-batch reference/corrupted inputs: None, one per batch, or one for a single batch."""
    if other is None:
        return [None] * n
    if isinstance(other, (list, tuple)) and other and isinstance(other[0], torch.Tensor):
        if len(other) != n:
            raise InputError(f"{what} has {len(other)} batches but the inputs have {n}.")
        return list(other)
    if n != 1:
        raise InputError(f"the inputs are {n} batches; pass {what} as a list of {n} batches.")
    return [other]
