"""Shared by the bad-input tests of the training, program, task and baseline surfaces: run a
case under an address-space cap (current size + HEADROOM), so a case that tries to allocate
from a hostile size fails the test instead of succeeding slowly, and with one torch thread."""

from __future__ import annotations

import resource
from collections.abc import Iterator
from contextlib import contextmanager

import torch

HEADROOM = 512 * 2**20

torch.set_num_threads(1)  # a busy 2-core machine stalls torch's thread pool


@contextmanager
def bounded_memory(headroom: int = HEADROOM) -> Iterator[None]:
    """Cap this process's address space at its current size + `headroom` while the body runs."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as f:
        current = int(f.read().split()[0]) * resource.getpagesize()
    cap = current + headroom if hard == resource.RLIM_INFINITY else min(hard, current + headroom)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
