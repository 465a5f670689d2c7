"""Tasks whose targets come from a RASP library program run by the reference interpreter
(one source of truth: the same program compiles to weights and labels the training data)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

import torch

from interp.errors import InputError
from interp.tasks.base import IGNORE, Task, python_seed
from interp.tasks.checks import integer
from rasp.core import SOp, tokens
from rasp.evaluate import evaluate
from rasp.lib import PROGRAMS, make_reverse, make_sort

_CACHE_LIMIT = 200_000  # memoised interpreter outputs per task (inputs repeat on small spaces)
_PROBE = 2000  # inputs run to discover the output values when they are not given


class RaspTask(Task):
    """Inputs drawn as the library program samples them; targets = the interpreter's output.

    `values` overrides the program's input vocabulary (then inputs are uniform over it);
    `out_values` lists the output values (default: every output on a seeded probe of 2,000
    inputs). Positions where the program outputs None are not scored.
    """

    def __init__(self, program: str = "reverse", seq_len: int = 6, values: Sequence[Any] | None = None,
                 out_values: Sequence[Any] | None = None, build: Callable[[], SOp] | None = None):
        if program not in PROGRAMS:
            raise InputError(f"unknown RASP library program {program!r}; known: {sorted(PROGRAMS)}.")
        library = PROGRAMS[program]
        if not isinstance(seq_len, int) or not 1 <= seq_len <= library.max_seq_len:
            raise InputError(f"seq_len={seq_len!r} is outside 1..{library.max_seq_len} for {program!r}.")
        self.name, self.seq_len, self._library = program, seq_len, library
        if values is not None:
            integer("len(values)", len(values), minimum=1, limit="vocab_size")
        self.values = tuple(values) if values is not None else tuple(library.vocab)
        self._uniform = values is not None
        self._sop = (build or library.build)()
        self._memo: dict[tuple, list[Any]] = {}
        if out_values is None:
            rng = random.Random(0)
            seen = {v for _ in range(_PROBE) for v in self._run(self._draw(rng)) if v is not None}
            out_values = sorted(seen, key=lambda v: (type(v).__name__, v))
        self.out_values = tuple(out_values)
        self.d_vocab, self.d_vocab_out = len(self.values), len(self.out_values)
        self.vocab = [str(v) for v in self.values]
        self.vocab_out = [str(v) for v in self.out_values]

    def _draw(self, rng: random.Random) -> list[Any]:
        if self._uniform:
            return [rng.choice(self.values) for _ in range(self.seq_len)]
        return self._library.sample(rng, self.seq_len)[: self.seq_len]

    def _run(self, inputs: Sequence[Any]) -> list[Any]:
        key = tuple(inputs)
        if key not in self._memo:
            if len(self._memo) >= _CACHE_LIMIT:
                self._memo.clear()
            self._memo[key] = evaluate(self._sop, list(inputs))
        return self._memo[key]

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """n inputs [n, seq_len] (ids into values) and targets [n, seq_len] (ids into out_values)."""
        rng = random.Random(python_seed(generator))
        index_in = {v: i for i, v in enumerate(self.values)}
        index_out = {v: i for i, v in enumerate(self.out_values)}
        inputs = torch.empty(n, self.seq_len, dtype=torch.long)
        targets = torch.full((n, self.seq_len), IGNORE, dtype=torch.long)
        for row in range(n):
            drawn = self._draw(rng)
            if len(drawn) != self.seq_len:
                raise InputError(f"{self.name!r} sampled {len(drawn)} tokens, not seq_len={self.seq_len}; "
                                 "choose a length its sampler supports.")
            inputs[row] = torch.tensor([index_in[v] for v in drawn])
            for position, value in enumerate(self._run(drawn)):
                if value is None:
                    continue
                if value not in index_out:
                    raise InputError(f"{self.name!r} produced {value!r}, which is not among its output "
                                     f"values {list(self.out_values)}; pass out_values listing every output.")
                targets[row, position] = index_out[value]
        return inputs, targets


class Reverse(RaspTask):
    """The input reversed (rasp.lib's make_reverse), over tokens 0..d_vocab-1."""

    def __init__(self, d_vocab: int = 5, seq_len: int = 6, d_vocab_out: int | None = None):
        values = _int_values(d_vocab, d_vocab_out)
        super().__init__("reverse", seq_len, values, values, build=lambda: make_reverse(tokens))


class Sort(RaspTask):
    """The input sorted ascending (rasp.lib's stable make_sort), over tokens 0..d_vocab-1."""

    def __init__(self, d_vocab: int = 5, seq_len: int = 6, d_vocab_out: int | None = None):
        values = _int_values(d_vocab, d_vocab_out)
        super().__init__("sort", seq_len, values, values,
                         build=lambda: make_sort(tokens, tokens, max_seq_len=seq_len, min_key=1))


def _int_values(d_vocab: int, d_vocab_out: int | None) -> list[int]:
    integer("d_vocab", d_vocab, minimum=1, limit="vocab_size")
    if d_vocab_out is not None and d_vocab_out != d_vocab:
        raise InputError(f"d_vocab_out={d_vocab_out} must equal d_vocab={d_vocab} for this task.")
    return list(range(d_vocab))
