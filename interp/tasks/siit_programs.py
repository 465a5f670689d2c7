"""Small InterpBench-style RASP programs for SIIT models and the circuit benchmark, beside the
library's (`rasp.lib.PROGRAMS`): one-layer circuits of one head feeding one MLP, and two-layer
ones that count what such a circuit marks; written here (not copied from InterpBench), with the
library's letters and length.

`library_program(name)` looks a name up in the library first, then here, so every SIIT and
circuit-bench entry point takes either."""

from __future__ import annotations

from interp.errors import InputError
from rasp.core import Aggregate, Select, SelectorWidth, SequenceMap, indices, tokens
from rasp.lib import PROGRAMS, LibraryProgram
from rasp.tracr_lib import shift_by

_LETTERS = ["a", "b", "c", "d"]
_MAX = 16  # the library's max_seq_len


def _first_token():
    """tokens[0] at every position (one head attending to position 0)."""
    first = Aggregate(Select(indices, indices, lambda k, q: k == 0).named("select_first"), tokens)
    return first.named("first_token")


def make_prev_equal():
    """True where a token equals the one before it (None at position 0, which has none)."""
    return SequenceMap(lambda x, y: x == y, tokens, shift_by(1, tokens)).named("prev_equal")


def make_same_as_first():
    """True where a token equals the sequence's first token."""
    return SequenceMap(lambda x, y: x == y, tokens, _first_token()).named("same_as_first")


def make_pair_order():
    """'up', 'down' or 'same': how a token compares with the one before it (None at position 0:
    a SequenceMap of a None is None)."""
    def order(x, y):
        return "up" if x > y else "down" if x < y else "same"

    return SequenceMap(order, tokens, shift_by(1, tokens)).named("pair_order")


def _count_true(flags):
    """How many positions of a boolean SOp are True, at every position."""
    return SelectorWidth(Select(flags, flags, lambda k, q: k is True).named("select_true"))


def make_count_first():
    """How many tokens equal the sequence's first token (the first included), everywhere."""
    return _count_true(make_same_as_first()).named("count_first")


def make_count_repeats():
    """How many positions repeat the token before them, everywhere but position 0 (0 there: its
    flag is None, and a None query selects nothing)."""
    return _count_true(make_prev_equal()).named("count_repeats")


SIIT_PROGRAMS: dict[str, LibraryProgram] = {
    p.name: p
    for p in [
        LibraryProgram("prev_equal", make_prev_equal, _LETTERS, _MAX, "token equals the previous one"),
        LibraryProgram("same_as_first", make_same_as_first, _LETTERS, _MAX, "token equals the first one"),
        LibraryProgram("pair_order", make_pair_order, _LETTERS, _MAX,
                       "up / down / same against the previous token"),
        LibraryProgram("count_first", make_count_first, _LETTERS, _MAX,
                       "how many tokens equal the first one"),
        LibraryProgram("count_repeats", make_count_repeats, _LETTERS, _MAX,
                       "how many tokens repeat the one before them"),
    ]
}


def program_names() -> list[str]:
    """Every name `library_program` accepts: the library's, then these."""
    return sorted(PROGRAMS) + sorted(SIIT_PROGRAMS)


def library_program(name: str) -> LibraryProgram:
    """The library program `name`, or one of these; InputError naming the known ones."""
    if name in PROGRAMS:
        return PROGRAMS[name]
    if name in SIIT_PROGRAMS:
        return SIIT_PROGRAMS[name]
    raise InputError(f"unknown RASP program {name!r}; known: {program_names()}.")
