"""Library of RASP programs: tracr's `compiler/lib.py` plus the RASP paper's programs.

`PROGRAMS` maps short names to ready-to-run programs with default vocabularies.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rasp import tracr_lib
from rasp.core import SOp, tokens
from rasp.loop_lib import make_add_loop, make_alta_add, make_parity_loop  # noqa: F401 - re-exported library API
from rasp.paper_lib import (  # noqa: F401 - re-exported library API
    BOS,
    make_add,
    make_double_hist,
    make_dyck1_ptf,
    make_dyck2_ptf,
    make_dyck_ptf,
    make_hist_bos,
    make_most_freq,
    make_sort_by_most_freq,
)
from rasp.tracr_lib import (  # noqa: F401 - re-exported library API
    detect_pattern,
    make_count,
    make_count_less_freq,
    make_frac_prevs,
    make_hist,
    make_length,
    make_nary_sequencemap,
    make_pair_balance,
    make_reverse,
    make_shuffle_dyck,
    make_shuffle_dyck2,
    make_sort,
    make_sort_freq,
    make_sort_unique,
    shift_by,
)


@dataclass(frozen=True)
class LibraryProgram:
    """A library program ready to run: how to build it and what inputs it expects."""

    name: str
    build: Callable[[], SOp]
    vocab: list[Any]
    max_seq_len: int
    description: str
    sample_input: Callable[[random.Random, int], list[Any]] | None = None

    def sample(self, rng: random.Random, length: int) -> list[Any]:
        """A valid input of about `length` tokens (uniform over vocab unless overridden)."""
        if self.sample_input is not None:
            return self.sample_input(rng, length)
        return [rng.choice(self.vocab) for _ in range(length)]


def _with_bos(vocab: list[Any]) -> Callable[[random.Random, int], list[Any]]:
    def sample(rng: random.Random, length: int) -> list[Any]:
        return [BOS] + [rng.choice(vocab) for _ in range(max(1, length - 1))]

    return sample


def _brackets(pairs: list[str]) -> Callable[[random.Random, int], list[Any]]:
    # Half the samples are balanced words: uniform tokens are almost never balanced.
    def sample(rng: random.Random, length: int) -> list[Any]:
        if rng.random() < 0.5:
            return [rng.choice("".join(pairs)) for _ in range(length)]
        out: list[str] = []
        stack: list[str] = []
        while len(out) < length:
            if stack and (rng.random() < 0.5 or len(out) + len(stack) >= length):
                out.append(stack.pop())
            else:
                pair = rng.choice(pairs)
                out.append(pair[0])
                stack.append(pair[1])
        return out[:length]

    return sample


def _addition(rng: random.Random, length: int) -> list[str]:
    n = max(1, (length - 1) // 2)
    a = [str(rng.randrange(10)) for _ in range(n)]
    b = [str(rng.randrange(10)) for _ in range(n)]
    return a + ["+"] + b


def _addition_any(rng: random.Random, length: int) -> list[str]:
    # Operands of independent lengths (each at least one digit) filling `length` tokens.
    if length < 3:
        return [str(rng.randrange(10)) for _ in range(max(1, length))]
    n_a = rng.randint(1, length - 2)
    return ([str(rng.randrange(10)) for _ in range(n_a)] + ["+"]
            + [str(rng.randrange(10)) for _ in range(length - 1 - n_a)])


_LETTERS = ["a", "b", "c", "d"]
_DIGITS = [str(d) for d in range(10)]
_MAX = 16
_LOOP_MAX = 10  # loop programs: the compiled depth grows with the step cap

PROGRAMS: dict[str, LibraryProgram] = {
    p.name: p
    for p in [
        LibraryProgram("length", make_length, _LETTERS, _MAX, "input length everywhere"),
        LibraryProgram("reverse", lambda: make_reverse(tokens), _LETTERS, _MAX, "tokens reversed"),
        LibraryProgram("hist", make_hist, _LETTERS, _MAX, "count of each token"),
        LibraryProgram(
            "hist_bos",
            make_hist_bos,
            [*_LETTERS, BOS],
            _MAX,
            "count of each token, paper's BOS version (input starts with BOS)",
            _with_bos(_LETTERS),
        ),
        LibraryProgram(
            "double_hist", make_double_hist, _LETTERS, _MAX, "distinct tokens as frequent"
        ),
        LibraryProgram(
            "sort_unique",
            lambda: make_sort_unique(tokens, tokens),
            list(range(20)),
            _MAX,
            "sort distinct numbers ascending",
            lambda rng, n: rng.sample(range(20), min(n, 20)),
        ),
        LibraryProgram(
            "sort",
            lambda: make_sort(tokens, tokens, max_seq_len=_MAX, min_key=1),
            list(range(10)),
            _MAX,
            "sort numbers ascending (stable)",
        ),
        LibraryProgram(
            "sort_freq",
            lambda: make_sort_freq(_MAX),
            _LETTERS,
            _MAX,
            "tokens by descending frequency",
        ),
        LibraryProgram(
            "sort_most_freq",
            lambda: make_sort_by_most_freq(_MAX),
            _LETTERS,
            _MAX,
            "distinct tokens by descending frequency, then fillers",
        ),
        LibraryProgram(
            "most_freq", lambda: make_most_freq(_MAX), _LETTERS, _MAX, "most frequent token"
        ),
        LibraryProgram(
            "frac_prevs",
            lambda: make_frac_prevs(tokens == "x"),
            ["x", "y"],
            _MAX,
            "running fraction of 'x' tokens",
        ),
        LibraryProgram(
            "pair_balance",
            lambda: make_pair_balance(tokens, "(", ")"),
            ["(", ")"],
            _MAX,
            "running (#'(' - #')') / (i+1)",
            _brackets(["()"]),
        ),
        LibraryProgram(
            "shuffle_dyck",
            lambda: make_shuffle_dyck(["()"]),
            ["(", ")"],
            _MAX,
            "whole input is balanced ()",
            _brackets(["()"]),
        ),
        LibraryProgram(
            "shuffle_dyck2",
            make_shuffle_dyck2,
            ["(", ")", "{", "}"],
            _MAX,
            "whole input is a shuffle of balanced () and {}",
            _brackets(["()", "{}"]),
        ),
        LibraryProgram(
            "dyck1",
            make_dyck1_ptf,
            ["(", ")"],
            _MAX,
            "Dyck-1 P/T/F per prefix",
            _brackets(["()"]),
        ),
        LibraryProgram(
            "dyck2",
            make_dyck2_ptf,
            ["(", ")", "{", "}"],
            _MAX,
            "Dyck-2 P/T/F per prefix",
            _brackets(["()", "{}"]),
        ),
        LibraryProgram(
            "count_less_freq",
            lambda: make_count_less_freq(2),
            _LETTERS,
            _MAX,
            "positions whose token occurs at most twice",
        ),
        LibraryProgram(
            "count",
            lambda: make_count(tokens, "a"),
            _LETTERS,
            _MAX,
            "number of 'a' tokens",
        ),
        LibraryProgram(
            "detect_pattern",
            lambda: detect_pattern(tokens, ["a", "b", "c"]),
            ["a", "b", "c"],
            _MAX,
            "'a b c' ends here",
        ),
        LibraryProgram(
            "shift_by",
            lambda: shift_by(1, tokens),
            _LETTERS,
            _MAX,
            "tokens shifted right by one",
        ),
        LibraryProgram(
            "add",
            make_add,
            [*_DIGITS, "+"],
            _MAX - 1,
            "digits of A+B for input 'A+B' (equal-length operands)",
            _addition,
        ),
        LibraryProgram(
            "parity_loop",
            lambda: make_parity_loop(_LOOP_MAX - 1),
            [0, 1],
            _LOOP_MAX,
            "running parity, one position per loop step until every position is done "
            "(ALTA's sequential parity; one weight-shared layer group)",
        ),
        LibraryProgram(
            "add_loop",
            lambda: make_add_loop(_LOOP_MAX - 2),
            [*_DIGITS, "+"],
            _LOOP_MAX,
            "digits of A+B for input 'A+B', operands of any lengths (a loop propagates "
            "carries until none is left)",
            _addition_any,
        ),
        LibraryProgram(
            "alta_add",
            lambda: make_alta_add(_LOOP_MAX // 2),
            [*_DIGITS, "+"],
            _LOOP_MAX - 1,
            "ALTA's addition example: two pointers walk equal-length operands one digit per "
            "loop step, carrying, until past the '+' (digits of A+B from the '+' on)",
            _addition,
        ),
    ]
}


# tracr's lib exposes a ready-made `length` SOp (bound last: functions above take a
# `length` argument).
length = tracr_lib.length
