"""Library programs against independent Python references on random inputs."""

import collections

from hypothesis import given, settings
from hypothesis import strategies as st

import rasp
from rasp import lib

FAST = settings(max_examples=25, deadline=None)
letters = st.lists(st.sampled_from("abcd"), min_size=1, max_size=10)
brackets1 = st.lists(st.sampled_from("()"), min_size=1, max_size=10)
brackets2 = st.lists(st.sampled_from("(){}"), min_size=1, max_size=10)


def ptf_reference(tokens, pairs):
    """P/T/F for each prefix using a stack."""
    closer_to_opener = {p[1]: p[0] for p in pairs}
    stack, failed, out = [], False, []
    for t in tokens:
        if t in closer_to_opener:
            failed = failed or not stack or stack.pop() != closer_to_opener[t]
        else:
            stack.append(t)
        out.append("F" if failed else ("T" if not stack else "P"))
    return out


@FAST
@given(st.lists(st.integers(0, 9), min_size=1, max_size=10))
def test_sort_is_sorted(xs):
    assert rasp.evaluate(lib.make_sort(rasp.tokens, rasp.tokens, max_seq_len=10, min_key=1), xs) == sorted(xs)


@FAST
@given(st.lists(st.integers(0, 30), min_size=1, max_size=10, unique=True))
def test_sort_unique(xs):
    assert rasp.evaluate(lib.make_sort_unique(rasp.tokens, rasp.tokens), xs) == sorted(xs)


@FAST
@given(letters)
def test_hist_is_counter(xs):
    counts = collections.Counter(xs)
    assert rasp.evaluate(lib.make_hist(), xs) == [counts[x] for x in xs]
    assert rasp.evaluate(lib.make_hist_bos(), ["BOS", *xs]) == [0] + [counts[x] for x in xs]


@FAST
@given(letters)
def test_reverse(xs):
    assert rasp.evaluate(lib.make_reverse(rasp.tokens), xs) == xs[::-1]


@FAST
@given(st.lists(st.sampled_from("xy"), min_size=1, max_size=10))
def test_frac_prevs_is_running_fraction(xs):
    out = rasp.evaluate(lib.make_frac_prevs(rasp.tokens == "x"), xs)
    expected = [xs[: i + 1].count("x") / (i + 1) for i in range(len(xs))]
    assert out == expected


@FAST
@given(letters)
def test_sort_by_most_freq_and_most_freq(xs):
    counts = collections.Counter(xs)
    firsts = list(dict.fromkeys(xs))
    ranked = sorted(firsts, key=lambda t: (-counts[t], firsts.index(t)))
    out = rasp.evaluate(lib.make_sort_by_most_freq(10), xs)
    assert out == ranked + ["§"] * (len(xs) - len(ranked))
    assert rasp.evaluate(lib.make_most_freq(10), xs) == [ranked[0]] * len(xs)


@FAST
@given(letters)
def test_double_hist(xs):
    counts = collections.Counter(xs)
    expected = [sum(1 for t in counts if counts[t] == counts[x]) for x in xs]
    assert rasp.evaluate(lib.make_double_hist(), xs) == expected


@FAST
@given(brackets1)
def test_dyck1_matches_stack_checker(xs):
    assert rasp.evaluate(lib.make_dyck1_ptf(), xs) == ptf_reference(xs, ["()"])


@FAST
@given(brackets2)
def test_dyck2_matches_stack_checker(xs):
    assert rasp.evaluate(lib.make_dyck2_ptf(), xs) == ptf_reference(xs, ["()", "{}"])


@FAST
@given(brackets2)
def test_shuffle_dyck2_each_type_balanced(xs):
    def balanced(open_, close):
        depth = 0
        for t in xs:
            depth += (t == open_) - (t == close)
            if depth < 0:
                return False
        return depth == 0

    expected = balanced("(", ")") and balanced("{", "}")
    assert rasp.evaluate(lib.make_shuffle_dyck2(), xs) == [expected] * len(xs)


@FAST
@given(st.integers(1, 6), st.data())
def test_addition_matches_int_arithmetic(n, data):
    a = data.draw(st.integers(0, 10**n - 1))
    b = data.draw(st.integers(0, 10**n - 1))
    tokens = list(f"{a:0{n}d}+{b:0{n}d}")
    out = rasp.evaluate(lib.make_add(), tokens)
    assert out[:n] == [None] * n
    assert int("".join(map(str, out[n:]))) == a + b


@FAST
@given(letters, st.integers(1, 3))
def test_detect_pattern(xs, k):
    pattern = ["a", "b", "c"][:k]
    out = rasp.evaluate(lib.detect_pattern(rasp.tokens, pattern), xs)
    expected = [None if i < k - 1 else xs[i - k + 1 : i + 1] == pattern for i in range(len(xs))]
    assert out == expected
