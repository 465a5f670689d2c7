"""The RASP paper's programs (Weiss et al. 2021) and long addition."""

from __future__ import annotations

from rasp import core
from rasp.core import (
    Aggregate,
    Comparison,
    Full,
    Map,
    Select,
    SelectorWidth,
    SequenceMap,
    SOp,
    categorical,
    numerical,
)
from rasp.errors import RASPError
from rasp.tracr_lib import make_hist, make_length, make_nary_sequencemap, make_sort

BOS = "BOS"


def make_hist_bos() -> SOp:
    """Histogram that, like the RASP paper, uses a BOS token at position 0 and no SelectorWidth.

    Input: [BOS, t1, ..., tn]. Output at position 0 is 0, elsewhere the count of that token
    among t1..tn. Any vocabulary plus "BOS".
    """
    same_tok = Select(core.tokens, core.tokens, Comparison.EQ).named("same_tok_bos")
    return _width_with_bos(same_tok, "hist_bos")


def _width_with_bos(selector: core.Selector, name: str) -> SOp:
    # Adding position 0 to every row makes the row's BOS weight 1/(width+1), which a
    # numerical Aggregate computes; width is recovered by inverting it.
    with_bos = (selector | Select(core.indices, Full(0), Comparison.EQ)).named(f"{name}_sel")
    is_bos = numerical(Map(lambda i: 1 if i == 0 else 0, core.indices)).named(f"{name}_is_bos")
    bos_weight = numerical(Aggregate(with_bos, is_bos, default=0)).named(f"{name}_weight")
    return Map(lambda w: round(1 / w) - 1, bos_weight).named(name)


def make_double_hist() -> SOp:
    """At each position, how many distinct tokens occur as often as this one (paper's hist2)."""
    hist = make_hist()
    earlier_copy = (
        Select(core.tokens, core.tokens, Comparison.EQ)
        & Select(core.indices, core.indices, Comparison.LT)
    ).named("earlier_copy")
    has_prev = (SelectorWidth(earlier_copy) > 0).named("has_prev_copy")
    same_count_first = (
        Select(hist, hist, Comparison.EQ) & Select(has_prev, Full(False), Comparison.EQ)
    ).named("same_count_first_copies")
    return SelectorWidth(same_count_first).named("double_hist")


def make_sort_by_most_freq(max_seq_len: int, filler: str = "§") -> SOp:
    """Distinct tokens by descending frequency (ties: first seen first), then `filler`s.

    The RASP paper's sort_by_most_freq without BOS; any vocabulary not containing `filler`.
    """
    hist = make_hist()
    earlier_copy = (
        Select(core.tokens, core.tokens, Comparison.EQ)
        & Select(core.indices, core.indices, Comparison.LT)
    ).named("earlier_copy_freq")
    has_prev = (SelectorWidth(earlier_copy) > 0).named("has_earlier")
    # Repeats get key 0, above every first occurrence's -count, so they sort last.
    key = SequenceMap(lambda h, rep: 0 if rep else -h, hist, has_prev).named("freq_key")
    vals = SequenceMap(lambda t, rep: filler if rep else t, core.tokens, has_prev)
    vals = vals.named("filtered_tokens")
    return make_sort(vals, key, max_seq_len=max_seq_len, min_key=1).named("sort_by_most_freq")


def make_most_freq(max_seq_len: int) -> SOp:
    """The most frequent token (ties: the one seen first) at every position."""
    ranked = make_sort_by_most_freq(max_seq_len)
    first = Select(core.indices, Full(0), Comparison.EQ).named("select_first")
    return Aggregate(first, ranked).named("most_freq")


def make_dyck_ptf(pairs: list[str]) -> SOp:
    """Per position "T" (prefix balanced), "P" (could still be balanced) or "F" (never can).

    The RASP paper's Dyck-k recognizer; vocabulary: the characters of `pairs`.
    """
    if not pairs or any(len(pair) != 2 for pair in pairs):
        raise RASPError(f"make_dyck_ptf needs pairs like ['()', '{{}}'], got {pairs!r}")
    openers = {pair[0] for pair in pairs}
    closers = {pair[1] for pair in pairs}
    valid = set(pairs)
    up_to_self = Select(core.indices, core.indices, Comparison.LEQ).named("up_to_self")
    is_open = numerical(Map(lambda t: 1 if t in openers else 0, core.tokens)).named("is_open")
    is_close = numerical(Map(lambda t: 1 if t in closers else 0, core.tokens)).named("is_close")
    frac_open = numerical(Aggregate(up_to_self, is_open, default=0)).named("frac_open")
    frac_close = numerical(Aggregate(up_to_self, is_close, default=0)).named("frac_close")
    # Counts are fraction * (i+1); rounding removes float error so they are exact ints.
    n_open = SequenceMap(lambda f, i: round(f * (i + 1)), frac_open, core.indices)
    n_close = SequenceMap(lambda f, i: round(f * (i + 1)), frac_close, core.indices)
    depth = SequenceMap(lambda o, c: o - c, n_open.named("n_open"), n_close.named("n_close"))
    depth = depth.named("depth")
    closes = categorical(Map(lambda t: t in closers, core.tokens)).named("closes")
    # An opener's depth after it equals its matching closer's depth before it.
    delay = SequenceMap(lambda d, c: d + (1 if c else 0), depth, closes).named("delay_closer")
    depth_index = SelectorWidth(Select(delay, delay, Comparison.EQ) & up_to_self).named(
        "depth_index"
    )
    opens_cat = Map(lambda t: t in openers, core.tokens).named("opens")
    open_for_close = (
        Select(opens_cat, Full(True), Comparison.EQ)
        & Select(delay, delay, Comparison.EQ)
        & Select(depth_index, (depth_index - 1).named("depth_index-1"), Comparison.EQ)
    ).named("open_for_close")
    matched = Aggregate(open_for_close, core.tokens, default="-").named("matched_opener")
    matches = SequenceMap(lambda o, t: f"{o}{t}" in valid, matched, core.tokens)
    problem = make_nary_sequencemap(
        lambda c, m, d: 1 if (c and not m) or d < 0 else 0, closes, matches.named("matches"), depth
    )
    problem = numerical(problem).named("problem")
    any_problem = numerical(Aggregate(up_to_self, problem, default=0)).named("frac_problem")
    return SequenceMap(
        lambda p, d: "F" if p > 0 else ("T" if d == 0 else "P"), any_problem, depth
    ).named("dyck_ptf")


def make_dyck1_ptf() -> SOp:
    """Dyck-1 "P"/"T"/"F" per position over "(" and ")" (RASP paper)."""
    return make_dyck_ptf(["()"]).named("dyck1_ptf")


def make_dyck2_ptf() -> SOp:
    """Dyck-2 "P"/"T"/"F" per position over "()" and "{}" (RASP paper)."""
    return make_dyck_ptf(["()", "{}"]).named("dyck2_ptf")


def make_add() -> SOp:
    """Long addition of "A+B" with A and B zero-padded to the same n digits.

    Input tokens: the characters, e.g. list("12+34"), vocabulary "0".."9" and "+", length 2n+1.
    Output: None at the n digits of A, then the n+1 digits of A+B (leading digit may be 0)
    as ints at the "+" and B positions: list("12+34") -> [None, None, 0, 4, 6].
    """
    half = Map(lambda length: (length - 1) // 2, make_length()).named("n_digits")
    digit = Map(lambda t: int(t) if str(t).isdigit() else 0, core.tokens).named("digit")
    in_b = SequenceMap(lambda i, h: i > h, core.indices, half).named("in_b")
    # The A digit in the same column as B's digit at position p sits at p - n - 1.
    a_src = SequenceMap(lambda i, h: i - h - 1 if i > h else i, core.indices, half)
    a_digit = Aggregate(Select(core.indices, a_src.named("a_src"), Comparison.EQ), digit).named(
        "a_digit"
    )
    # Column sums; positions outside B count as 9 ("propagate") so they never stop a carry.
    col = make_nary_sequencemap(lambda a, b, inb: a + b if inb else 9, a_digit, digit, in_b)
    col = col.named("column_sum")
    # The carry into column p comes from the nearest column right of p whose sum is not 9.
    non9 = Select(col, col, lambda k, q: k != 9).named("non9")
    non9_at_or_after = SelectorWidth(
        non9 & Select(core.indices, core.indices, Comparison.GEQ)
    ).named("non9_at_or_after")
    non9_after = SelectorWidth(non9 & Select(core.indices, core.indices, Comparison.GT)).named(
        "non9_after"
    )
    nearest = (
        non9
        & Select(core.indices, core.indices, Comparison.GT)
        & Select(non9_at_or_after, non9_after, Comparison.EQ)
    ).named("nearest_non9_right")
    generates = Map(lambda s: 1 if s >= 10 else 0, col).named("generates")
    carry = Aggregate(nearest, generates, default=0).named("carry")
    return make_nary_sequencemap(
        lambda i, h, s, c: None if i < h else (c if i == h else (s + c) % 10),
        core.indices,
        half,
        col,
        carry,
    ).named("add")
