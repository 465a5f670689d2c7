"""What every task provides: token or vector inputs, targets, and the loss that fits them."""

from __future__ import annotations

from typing import Any

import torch

IGNORE = -100  # target id of a position that is not scored


class Task:
    """A seeded source of (inputs, targets) batches.

    Subclasses set `name`, `d_vocab` (input tokens 0..d_vocab-1), `seq_len`, `d_vocab_out`,
    `loss` (a loss name of interp.training: how the targets are scored) and `vocab` /
    `vocab_out` (token names, or None), and implement `sample`.
    """

    name: str = "task"
    d_vocab: int
    seq_len: int
    d_vocab_out: int
    loss: str = "per_position_ce"
    causal: bool = False  # whether a model for this task must be causal (next-token tasks)
    vocab: list[str] | None = None
    vocab_out: list[str] | None = None

    def sample(self, n: int, generator: torch.Generator) -> Any:
        """n examples: inputs [n, seq_len] and targets [n, seq_len] (IGNORE where unscored)."""
        raise NotImplementedError

    def batch(self, n: int, seed: int = 0) -> Any:
        """A seeded batch (same seed, same batch)."""
        return self.sample(n, torch.Generator().manual_seed(seed))


def uniform(n: int, generator: torch.Generator) -> torch.Tensor:
    """n float64 uniforms in [0, 1) from `generator`."""
    return torch.rand(n, generator=generator, dtype=torch.float64)


def python_seed(generator: torch.Generator) -> int:
    """A seed for Python's `random` drawn from a torch generator (keeps one seed stream)."""
    return int(torch.randint(0, 2**62, (1,), generator=generator).item())
