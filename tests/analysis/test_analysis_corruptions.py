"""Corruptions keep the length, change what they say, and are seeded."""

import pytest

from interp.analysis.corruptions import CORRUPTIONS, corrupt
from interp.errors import InputError

TOKENS = list("abcab")


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_corruptions_keep_length_and_vocabulary_and_are_seeded(name):
    out = corrupt(name, TOKENS, "abc", seed=3)
    assert len(out) == len(TOKENS) and set(out) <= set("abc")
    assert out == corrupt(name, TOKENS, "abc", seed=3)


def test_what_each_corruption_changes():
    last = corrupt("replace the last token", TOKENS, "abc")
    assert last[:-1] == TOKENS[:-1] and last[-1] != TOKENS[-1]
    one = corrupt("replace one random token", TOKENS, "abc", seed=1)
    assert sum(a != b for a, b in zip(one, TOKENS)) == 1
    swapped = corrupt("swap two tokens", TOKENS, "abc", seed=2)
    assert sorted(swapped) == sorted(TOKENS) and sum(a != b for a, b in zip(swapped, TOKENS)) == 2
    assert corrupt("reverse the sequence", TOKENS, "abc") == TOKENS[::-1]


def test_bad_corruptions_are_input_errors():
    with pytest.raises(InputError, match="unknown corruption"):
        corrupt("shout", TOKENS, "abc")
    with pytest.raises(InputError, match="one token"):
        corrupt("replace the last token", ["a"], ["a"])
    with pytest.raises(InputError, match="empty"):
        corrupt("reverse the sequence", [], "abc")
