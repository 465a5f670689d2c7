"""The programs of tracr's `compiler/lib.py`, same names and signatures."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rasp import core
from rasp.core import (
    Aggregate,
    Comparison,
    LinearSequenceMap,
    Map,
    Select,
    SelectorWidth,
    SequenceMap,
    SOp,
    numerical,
)
from rasp.errors import RASPError


def make_length() -> SOp:
    """The input length at every position, built from SelectorWidth (any vocabulary)."""
    all_true = Select(core.tokens, core.tokens, Comparison.TRUE).named("all_true_selector")
    return SelectorWidth(all_true).named("length")


# tracr's lib exposes a ready-made length SOp as well as make_length().
length = make_length()


def make_reverse(sop: SOp) -> SOp:
    """`sop` in reverse order (any vocabulary)."""
    opp_idx = (make_length() - core.indices).named("opp_idx")
    opp_idx = (opp_idx - 1).named("opp_idx-1")
    reverse_selector = Select(core.indices, opp_idx, Comparison.EQ).named("reverse_selector")
    return Aggregate(reverse_selector, sop).named("reverse")


def make_pair_balance(sop: SOp, open_token: str, close_token: str) -> SOp:
    """Running (#open - #close) / (i+1) at each position i, numerical (any vocabulary)."""
    pair = f"{open_token}{close_token}"
    bools_open = numerical(sop == open_token).named(f"bools_open_{pair}")
    opens = numerical(make_frac_prevs(bools_open)).named(f"opens_{pair}")
    bools_close = numerical(sop == close_token).named(f"bools_close_{pair}")
    closes = numerical(make_frac_prevs(bools_close)).named(f"closes_{pair}")
    balance = numerical(LinearSequenceMap(opens, closes, 1, -1))
    return balance.named("pair_balance")


def make_shuffle_dyck(pairs: list[str]) -> SOp:
    """True at every position iff the whole input is a shuffle of balanced Dyck words.

    Vocabulary: the bracket characters of `pairs` (e.g. ["()", "{}"]); each bracket type
    must be balanced on its own, never dipping below zero.
    """
    if not pairs or any(len(pair) != 2 for pair in pairs):
        raise RASPError(f"make_shuffle_dyck needs pairs like ['()', '{{}}'], got {pairs!r}")
    balances = [
        make_pair_balance(core.tokens, pair[0], pair[1]).named(f"balance_{pair}") for pair in pairs
    ]
    any_negative = balances[0] < 0
    for balance in balances[1:]:
        any_negative = any_negative | (balance < 0)
    any_negative = numerical(Map(lambda x: x, any_negative)).named("any_negative")
    select_all = Select(core.indices, core.indices, Comparison.TRUE).named("select_all")
    has_neg = numerical(Aggregate(select_all, any_negative, default=0)).named("has_neg")
    all_zero = balances[0] == 0
    for balance in balances[1:]:
        all_zero = all_zero & (balance == 0)
    select_last = Select(core.indices, make_length() - 1, Comparison.EQ).named("select_last")
    last_zero = Aggregate(select_last, all_zero).named("last_zero")
    not_has_neg = (~has_neg).named("not_has_neg")
    return (last_zero & not_has_neg).named("shuffle_dyck")


def make_shuffle_dyck2() -> SOp:
    """make_shuffle_dyck for "()" and "{}" (vocabulary ( ) { })."""
    return make_shuffle_dyck(pairs=["()", "{}"]).named("shuffle_dyck2")


def make_hist() -> SOp:
    """How many times each position's token occurs in the input (any vocabulary)."""
    same_tok = Select(core.tokens, core.tokens, Comparison.EQ).named("same_tok")
    return SelectorWidth(same_tok).named("hist")


def make_sort_unique(vals: SOp, keys: SOp) -> SOp:
    """`vals` ordered by ascending `keys`; keys must all differ."""
    smaller = Select(keys, keys, Comparison.LT).named("smaller")
    target_pos = SelectorWidth(smaller).named("target_pos")
    sel_new = Select(target_pos, core.indices, Comparison.EQ).named("sel_new")
    return Aggregate(sel_new, vals).named("sort")


def make_sort(vals: SOp, keys: SOp, *, max_seq_len: int, min_key: float) -> SOp:
    """`vals` ordered by ascending `keys`, ties kept in input order (stable).

    Keys must be numbers at least `min_key` apart; adding min_key * i / max_seq_len makes
    equal keys distinct without reordering different ones.
    """
    keys = SequenceMap(lambda x, i: x + min_key * i / max_seq_len, keys, core.indices)
    return make_sort_unique(vals, keys)


def make_sort_freq(max_seq_len: int) -> SOp:
    """Tokens ordered by descending frequency, ties in input order (any vocabulary)."""
    hist = (-1 * make_hist()).named("neg_hist")
    return make_sort(core.tokens, hist, max_seq_len=max_seq_len, min_key=1).named("sort_freq")


def make_frac_prevs(bools: SOp) -> SOp:
    """Fraction of positions 0..i where `bools` is true, at each position i (numerical)."""
    bools = numerical(bools)
    # Left unnamed: make_pair_balance builds two of these and labels must stay unique.
    prevs = Select(core.indices, core.indices, Comparison.LEQ)
    return numerical(Aggregate(prevs, bools, default=0)).named("frac_prevs")


def make_count_less_freq(n: int) -> SOp:
    """Number of positions whose token occurs at most `n` times, at every position."""
    hist = make_hist()
    select_less = Select(hist, hist, lambda k, q: k <= n).named("select_less")
    return SelectorWidth(select_less).named("count_less_freq")


def make_count(sop: SOp, token: Any) -> SOp:
    """How many positions of `sop` equal `token`, at every position."""
    matches = Select(sop, sop, lambda k, q: k == token).named(f"select_{token}")
    return SelectorWidth(matches).named(f"count_{token}")


def make_nary_sequencemap(f: Callable[..., Any], *sops: SOp) -> SOp:
    """f(*values) positionwise over any number (>= 2) of SOps."""
    if len(sops) < 2:
        raise RASPError("make_nary_sequencemap needs at least two SOps; use rasp.Map for one")
    values = SequenceMap(lambda x, y: (x, y), sops[0], sops[1])
    for sop in sops[2:]:
        values = SequenceMap(lambda xs, y: (*xs, y), values, sop)
    return Map(lambda xs: f(*xs), values)


def shift_by(offset: int, sop: SOp) -> SOp:
    """`sop` moved `offset` positions right; the first `offset` positions are None."""
    select_off_by_offset = Select(core.indices, core.indices, lambda k, q: q == k + offset)
    out = Aggregate(select_off_by_offset.named(f"select_shift_{offset}"), sop, default=None)
    return out.named(f"shift_by({offset})")


def detect_pattern(sop: SOp, pattern: Sequence[Any]) -> SOp:
    """True at i iff sop[i-len(pattern)+1 .. i] == pattern; None before the pattern fits."""
    if len(pattern) < 1:
        raise RASPError("detect_pattern needs a non-empty pattern")
    detectors = []
    for i, element in enumerate(pattern):
        detector = sop == element
        if i != len(pattern) - 1:
            detector = shift_by(len(pattern) - i - 1, detector)
        detectors.append(detector)
    detected = detectors.pop()
    while detectors:
        detected = detected & detectors.pop()
    return detected.named(f"detect_pattern({''.join(map(str, pattern))})")
