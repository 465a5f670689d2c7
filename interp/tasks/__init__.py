"""Seeded toy-task generators: each task samples (inputs, targets) batches for training
and analysis. A task is any object with the `Task` fields and `sample`; add new ones here."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from interp.errors import InputError


@dataclass(frozen=True)
class Task:
    """A sequence-to-sequence task over tokens 0..d_vocab-1 with one target per position
    (-100 where a position is not scored)."""

    name: str
    d_vocab: int
    seq_len: int
    d_vocab_out: int

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """n inputs [n, seq_len] and targets [n, seq_len]."""
        raise NotImplementedError

    def batch(self, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """A seeded batch (same seed, same batch)."""
        return self.sample(n, torch.Generator().manual_seed(seed))


@dataclass(frozen=True)
class Reverse(Task):
    """Output the input sequence reversed."""

    name: str = "reverse"
    d_vocab: int = 5
    seq_len: int = 6
    d_vocab_out: int = 5

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        inputs = torch.randint(0, self.d_vocab, (n, self.seq_len), generator=generator)
        return inputs, inputs.flip(1)


@dataclass(frozen=True)
class Sort(Task):
    """Output the input tokens sorted ascending."""

    name: str = "sort"
    d_vocab: int = 5
    seq_len: int = 6
    d_vocab_out: int = 5

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        inputs = torch.randint(0, self.d_vocab, (n, self.seq_len), generator=generator)
        return inputs, inputs.sort(dim=1).values


TASKS = {"reverse": Reverse, "sort": Sort}


def make_task(name: str, **options: int) -> Task:
    """A task by name (`reverse`, `sort`) with optional d_vocab / seq_len."""
    if name not in TASKS:
        raise InputError(f"unknown task {name!r}; known tasks: {sorted(TASKS)}.")
    options.setdefault("d_vocab_out", options.get("d_vocab", 5))
    return TASKS[name](**options)
