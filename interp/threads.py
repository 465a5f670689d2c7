"""Torch thread settings for the toolkit's tiny models, chosen here once.

Our models are a few hundred to a few thousand dimensions wide: a matmul is microseconds
of work, and torch's default of one thread per core spends far more than that waking and
syncing threads (ACDC on a 2-layer model: 0.4 s on one thread, 15 s on two busy cores;
benchmarks/README measured 7 s vs 102 s for discovery). One thread is the right default
for a server or a sweep over tiny models; raise it only for wide trained models.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from interp.errors import InputError

SMALL_MODEL_THREADS = 1


def use_small_model_threads(threads: int = SMALL_MODEL_THREADS) -> None:
    """Set torch's intra-op threads for this process (the app calls it once at start)."""
    if threads < 1:
        raise InputError(f"threads={threads}: need at least 1 torch thread.")
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


@contextmanager
def torch_threads(threads: int = SMALL_MODEL_THREADS) -> Iterator[None]:
    """Run a block with `threads` torch threads, restoring the previous number after."""
    before = torch.get_num_threads()
    use_small_model_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
