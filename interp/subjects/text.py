"""The front door's rules for what a user types: vocabularies, tokens and input lengths.

- a vocabulary: tokens separated by commas and/or spaces; numbers become ints when the
  default vocabulary is numeric (or, with no default, when every token is a number);
  duplicates are dropped, order kept.
- an input: tokens separated by spaces, each matched to the vocabulary by its text; a word
  outside the vocabulary is an InputError naming it and its position.
- input lengths for analyses: 1, 2, 3, 4, n/2, n-1 and n (n = the longest input).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from typing import Any

from interp.errors import InputError

Sampler = Callable[[random.Random, int], list[Any]]  # (rng, length) -> one input


def _is_int(word: str) -> bool:
    # ASCII digits only: str.isdigit() accepts '²', which int() refuses.
    return re.fullmatch(r"-?[0-9]+", word) is not None


def parse_vocab(text: str, like: Sequence[Any] | None = None) -> list[Any]:
    """Tokens separated by commas and/or spaces; ints when `like` (the default) is numeric."""
    words = text.replace(",", " ").split()
    if not words:
        raise InputError(f"the vocabulary {text!r} is empty; give its tokens, e.g. a,b,c.")
    numeric = all(isinstance(v, int) for v in like) if like else True
    if numeric and all(_is_int(w) for w in words):
        return list(dict.fromkeys(int(w) for w in words))
    return list(dict.fromkeys(words))


def parse_tokens(text: str, vocab: Sequence[Any] | None = None, ints: bool = False) -> list[Any]:
    """Space-separated tokens matched to `vocab` by their text; without a vocab, numbers become
    ints when `ints` is set. InputError names a word outside the vocabulary."""
    words = text.split()
    if not words:
        raise InputError("the input is empty; give at least one token, e.g. --input \"a b c\".")
    if vocab is None:
        return [int(w) if ints and _is_int(w) else w for w in words]
    by_text = {str(v): v for v in vocab}
    for position, word in enumerate(words):
        if word not in by_text:
            raise InputError(f"token {word!r} at position {position} is not in the vocabulary "
                             f"{list(by_text)}.")
    return [by_text[w] for w in words]


def input_lengths(max_len: int) -> list[int]:
    """Input lengths analyses sample: 1, 2, 3, 4, n/2, n-1 and n (those within 1..n)."""
    return sorted({n for n in (1, 2, 3, 4, max_len // 2, max_len - 1, max_len) if 1 <= n <= max_len})


def uniform_sampler(vocab: Sequence[Any]) -> Sampler:
    """Inputs of uniformly drawn vocabulary tokens."""
    choices = list(vocab)

    def sample(rng: random.Random, n: int) -> list[Any]:
        return [rng.choice(choices) for _ in range(n)]

    return sample
