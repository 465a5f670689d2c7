"""Library programs against outputs written by hand from their definitions."""

import pytest

import rasp
from rasp import lib

T = rasp.tokens

CASES = [
    (lambda: lib.make_length(), list("abc"), [3, 3, 3]),
    (lambda: lib.make_length(), ["a"], [1]),
    (lambda: lib.make_reverse(T), list("abcd"), list("dcba")),
    (lambda: lib.make_reverse(T), ["x"], ["x"]),
    (lambda: lib.make_hist(), list("abaac"), [3, 1, 3, 3, 1]),
    (lambda: lib.make_hist(), list("aaaa"), [4, 4, 4, 4]),
    (lambda: lib.make_sort_unique(T, T), [3, 1, 2], [1, 2, 3]),
    (lambda: lib.make_sort(T, T, max_seq_len=8, min_key=1), [2, 1, 2, 0], [0, 1, 2, 2]),
    (lambda: lib.make_sort(T, T, max_seq_len=8, min_key=1), [5, 5, 5], [5, 5, 5]),
    (lambda: lib.make_sort_freq(8), list("abbcb"), list("bbbac")),
    (lambda: lib.make_frac_prevs(T == "x"), list("xyxx"), [1.0, 0.5, 2 / 3, 0.75]),
    (lambda: lib.make_pair_balance(T, "(", ")"), list("(()"), [1.0, 1.0, 1 / 3]),
    (lambda: lib.make_shuffle_dyck(["()"]), list("(())"), [True] * 4),
    (lambda: lib.make_shuffle_dyck(["()"]), list("())("), [False] * 4),
    (lambda: lib.make_shuffle_dyck(["()"]), list("(("), [False] * 2),
    (lambda: lib.make_shuffle_dyck2(), list("({)}"), [True] * 4),
    (lambda: lib.make_shuffle_dyck2(), list("({)"), [False] * 3),
    (lambda: lib.make_count_less_freq(2), list("aaabbc"), [3] * 6),
    (lambda: lib.make_count(T, "a"), list("abca"), [2] * 4),
    (lambda: lib.make_nary_sequencemap(lambda x, y, z: x + y + z, T, T, T), list("ab"), ["aaa", "bbb"]),
    (lambda: lib.shift_by(2, T), list("abcd"), [None, None, "a", "b"]),
    (lambda: lib.detect_pattern(T, "ab"), list("abab"), [None, True, False, True]),
    (lambda: lib.make_hist_bos(), ["BOS", "a", "b", "a"], [0, 2, 1, 2]),
    (lambda: lib.make_double_hist(), list("aabcc"), [2, 2, 1, 2, 2]),
    (lambda: lib.make_sort_by_most_freq(8), list("abbcbc"), ["b", "c", "a", "§", "§", "§"]),
    (lambda: lib.make_sort_by_most_freq(8), list("ba"), ["b", "a"]),
    (lambda: lib.make_most_freq(8), list("abcc"), ["c"] * 4),
    (lambda: lib.make_most_freq(8), list("ba"), ["b", "b"]),
    (lambda: lib.make_dyck1_ptf(), list("(()))("), ["P", "P", "P", "T", "F", "F"]),
    (lambda: lib.make_dyck1_ptf(), [")"], ["F"]),
    (lambda: lib.make_dyck2_ptf(), list("({})"), ["P", "P", "P", "T"]),
    (lambda: lib.make_dyck2_ptf(), list("({)}"), ["P", "P", "F", "F"]),
    (lambda: lib.make_add(), list("12+34"), [None, None, 0, 4, 6]),
    (lambda: lib.make_add(), list("99+01"), [None, None, 1, 0, 0]),
    (lambda: lib.make_add(), list("5+5"), [None, 1, 0]),
]


@pytest.mark.parametrize("build,tokens,expected", CASES)
def test_library_program_matches_hand_computed(build, tokens, expected):
    assert rasp.evaluate(build(), tokens) == pytest.approx(expected)


@pytest.mark.parametrize("name", sorted(lib.PROGRAMS))
def test_registry_entry_runs_on_its_own_samples(name):
    import random

    entry = lib.PROGRAMS[name]
    program = entry.build()
    for length in (1, 5, entry.max_seq_len):
        tokens = entry.sample(random.Random(length), length)
        out = rasp.evaluate(program, tokens, vocab=entry.vocab, max_seq_len=entry.max_seq_len)
        assert len(out) == len(tokens)
    assert entry.description


def test_lib_programs_have_unique_labels():
    for entry in lib.PROGRAMS.values():
        rasp.check_unique_labels(entry.build())
