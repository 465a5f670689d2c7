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
    """'A+B' with operands of independent lengths (each at least one digit) filling
    `length` tokens; half the draws hold a carry that crosses a uniformly drawn number of
    columns (0 to the most that fit).

    add_loop needs one step per column a carry moves, and uniform digits almost never make
    a long chain (a column passes a carry on only when its digits sum to 9), so on uniform
    operands alone its later steps would almost never act.
    """
    if length < 3:
        return [str(rng.randrange(10)) for _ in range(max(1, length))]
    chain = rng.randint(0, length - 3) if rng.random() < 0.5 else None
    fits = [n for n in range(1, length - 1) if chain is None or max(n, length - 1 - n) > chain]
    n_a = rng.choice(fits)
    a = [rng.randrange(10) for _ in range(n_a)]  # most significant digit first
    b = [rng.randrange(10) for _ in range(length - 1 - n_a)]
    if chain is not None:
        _carry_chain(rng, a, b, chain)
    return [*map(str, a), "+", *map(str, b)]


def _carry_chain(rng: random.Random, a: list[int], b: list[int], chain: int) -> None:
    """Set digits of `a` and `b` (in place) so that a carry made in a column both have
    crosses the next `chain` columns (the longer operand has chain + 1 columns at least)."""
    columns, overlap = max(len(a), len(b)), min(len(a), len(b))
    start = rng.randint(0, min(overlap - 1, columns - 1 - chain))
    x = rng.randint(1, 9)
    a[len(a) - 1 - start], b[len(b) - 1 - start] = x, rng.randint(10 - x, 9)  # sum >= 10
    for column in range(start + 1, start + chain + 1):
        if column < overlap:  # both digits: they sum to 9, so the carry passes on
            x = rng.randint(0, 9)
            a[len(a) - 1 - column], b[len(b) - 1 - column] = x, 9 - x
        else:  # only the longer operand has this column: a 9 passes the carry on
            longer = a if len(a) > len(b) else b
            longer[len(longer) - 1 - column] = 9


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
