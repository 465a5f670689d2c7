"""Discovery inputs for compiled RASP programs: token batches of several lengths (with the
compiler's BOS) and metrics that ignore the BOS position.

Kept on the compiler side (it knows the BOS convention); it imports no analysis code, so
the metric factory is passed in (e.g. `after_bos(interp.analysis.metrics.distance_to)`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

import torch

from interp.errors import InputError

# (clean_logits, positions=...) -> metric; the shape of interp.analysis' metric factories.
MetricFactory = Callable[..., Callable[[torch.Tensor], torch.Tensor]]


def program_batches(
    compiled: Any,
    sample: Any,
    lengths: Sequence[int] | None = None,
    per_length: int = 16,
    seed: int = 0,
) -> list[torch.Tensor]:
    """One batch of encoded inputs (BOS first) per length; `sample(rng, n)` draws an input
    of about n tokens (e.g. a `rasp.lib` entry's `sample`); inputs of another length are
    redrawn until they fit."""
    rng = random.Random(seed)
    lengths = list(lengths or range(1, compiled.max_seq_len + 1))
    batches = []
    for length in lengths:
        rows = []
        for _ in range(per_length * 50):
            tokens = list(sample(rng, length))
            if len(tokens) == length:
                rows.append(compiled.encode(tokens))
            if len(rows) == per_length:
                break
        if rows:
            batches.append(torch.tensor(rows))
    if not batches:
        raise InputError(f"could not sample inputs of lengths {lengths}.")
    return batches


def after_bos(factory: MetricFactory) -> Callable[[torch.Tensor], Callable]:
    """The metric `factory` restricted to the positions after BOS (the program's outputs)."""

    def make(clean_logits: torch.Tensor):
        return factory(clean_logits, positions=list(range(1, clean_logits.shape[1])))

    return make
