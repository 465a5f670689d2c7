"""Every library program compiles and agrees with the interpreter (the independent reference)."""

from __future__ import annotations

import random
import warnings

import pytest

from rasp.compiler import CompileWarning, compile_program
from rasp.lib import PROGRAMS


def _inputs(entry, max_len: int, n: int, seed: int = 0) -> list[list]:
    """Half the library's own sampler (valid inputs), half uniform tokens."""
    rng = random.Random(seed)
    out = [entry.sample(rng, rng.randint(1, max_len)) for _ in range(n // 2)]
    out += [[rng.choice(entry.vocab) for _ in range(rng.randint(1, max_len))] for _ in range(n - n // 2)]
    return [x[:max_len] for x in out if x]


def _compile(entry, vocab, max_len):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CompileWarning)
        return compile_program(entry.build(), vocab, max_len)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_library_program_at_default_size(name: str) -> None:
    entry = PROGRAMS[name]
    compiled = _compile(entry, entry.vocab, entry.max_seq_len)
    report = compiled.verify(inputs=_inputs(entry, entry.max_seq_len, 400))
    assert report.n_inputs > 100
    assert report.ok, str(report)


def _sweep_cases() -> list:
    cases = []
    for name in sorted(PROGRAMS):
        for max_len in (5, 10, 20):
            cases.append(pytest.param(name, max_len, marks=pytest.mark.slow, id=f"{name}-{max_len}"))
    return cases


def _bigger_vocab(entry, size: int) -> list:
    """The program's vocabulary grown to `size` tokens where the program allows any tokens."""
    vocab = list(entry.vocab)
    if entry.name in ("length", "reverse", "hist", "double_hist", "sort_freq", "sort_most_freq",
                      "most_freq", "count_less_freq", "count", "shift_by"):
        extra = [c for c in "abcdefghij" if c not in vocab]
        vocab = (vocab + extra)[:max(size, len(vocab))]
    return vocab


@pytest.mark.parametrize(("name", "max_len"), _sweep_cases())
def test_library_program_sweep(name: str, max_len: int) -> None:
    """Exhaustive where the input space is <= 1e5, else 2,000 random inputs (plus valid ones)."""
    entry = PROGRAMS[name]
    if name == "add" and max_len < 3:
        pytest.skip("add needs room for A+B")
    vocab = _bigger_vocab(entry, 5 if max_len == 20 else 7 if max_len == 10 else 10)
    compiled = _compile(entry, vocab, max_len)
    report = compiled.verify(n=2000)
    assert report.ok, str(report)
    valid = compiled.verify(inputs=_inputs(entry, max_len, 300, seed=1))
    assert valid.ok, str(valid)
    if report.exhaustive:
        assert report.n_inputs + report.n_skipped == sum(len(vocab) ** k for k in range(1, max_len + 1))
