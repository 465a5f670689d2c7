"""Standard corruptions of a token sequence for patching: each keeps the length (patching
compares positions one to one) and is seeded."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from interp.errors import InputError

Corruption = Callable[[list[Any], Sequence[Any], random.Random], list[Any]]


def replace_last(tokens: list[Any], vocab: Sequence[Any], rng: random.Random) -> list[Any]:
    """The last token replaced by a different vocabulary token."""
    others = [v for v in vocab if v != tokens[-1]]
    if not others:
        raise InputError("the vocabulary has one token: nothing to replace it with.")
    return tokens[:-1] + [rng.choice(others)]


def replace_random(tokens: list[Any], vocab: Sequence[Any], rng: random.Random) -> list[Any]:
    """One random position replaced by a different vocabulary token."""
    i = rng.randrange(len(tokens))
    others = [v for v in vocab if v != tokens[i]]
    if not others:
        raise InputError("the vocabulary has one token: nothing to replace it with.")
    return tokens[:i] + [rng.choice(others)] + tokens[i + 1:]


def swap_two(tokens: list[Any], vocab: Sequence[Any], rng: random.Random) -> list[Any]:
    """Two positions holding different tokens swapped (unchanged if all tokens are equal)."""
    del vocab
    pairs = [(i, j) for i in range(len(tokens)) for j in range(i + 1, len(tokens)) if tokens[i] != tokens[j]]
    if not pairs:
        return list(tokens)
    i, j = rng.choice(pairs)
    out = list(tokens)
    out[i], out[j] = out[j], out[i]
    return out


def reverse(tokens: list[Any], vocab: Sequence[Any], rng: random.Random) -> list[Any]:
    """The sequence reversed."""
    del vocab, rng
    return tokens[::-1]


def resample(tokens: list[Any], vocab: Sequence[Any], rng: random.Random) -> list[Any]:
    """Every token drawn afresh from the vocabulary."""
    return [rng.choice(list(vocab)) for _ in tokens]


CORRUPTIONS: dict[str, Corruption] = {
    "replace the last token": replace_last,
    "replace one random token": replace_random,
    "swap two tokens": swap_two,
    "reverse the sequence": reverse,
    "resample every token": resample,
}


def corrupt(name: str, tokens: list[Any], vocab: Sequence[Any], seed: int = 0) -> list[Any]:
    """Corruption `name` of `tokens` (same length), seeded."""
    if name not in CORRUPTIONS:
        raise InputError(f"unknown corruption {name!r}; choose one of {sorted(CORRUPTIONS)}.")
    if not tokens:
        raise InputError("cannot corrupt an empty input.")
    return CORRUPTIONS[name](list(tokens), vocab, random.Random(seed))
