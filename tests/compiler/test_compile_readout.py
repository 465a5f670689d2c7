"""rasp.ArgmaxReadout: the interpreter against a numpy reference, and the compiled model against
the interpreter on every input of a small setting (ties, None inputs and refusals included)."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

import rasp
from rasp.compiler import CompileError, compile_program

VOCAB = ["a", "b", "c"]
LABELS = ["x", "y", "z", "w"]


def _program(seed: int, with_none: bool) -> tuple[rasp.SOp, list[rasp.SOp], list[dict]]:
    """A read-out of tokens, a Map of tokens, indices, a SelectorWidth and (optionally) an Aggregate
    that selects nothing on some inputs (None there), with random rows rounded so ties occur."""
    rng = random.Random(seed)
    inputs: list[rasp.SOp] = [
        rasp.tokens,
        rasp.Map(lambda t: t == "a", rasp.tokens).named("is_a"),
        rasp.indices,
        rasp.SelectorWidth(rasp.Select(rasp.tokens, rasp.tokens, rasp.Comparison.EQ)).named("same"),
    ]
    if with_none:
        previous = rasp.Select(rasp.indices, rasp.indices, lambda k, q: k == q - 1)
        inputs.append(rasp.Aggregate(previous, rasp.tokens).named("prev_token"))
    domains = [VOCAB, [False, True], list(range(4)), list(range(5)), VOCAB][: len(inputs)]
    rows = [{v: [rng.choice([-1.0, 0.0, 0.5, 1.0, 2.0]) for _ in LABELS] for v in dom} for dom in domains]
    bias = [rng.choice([0.0, 0.5]) for _ in LABELS]
    return rasp.ArgmaxReadout(inputs, rows, bias, LABELS).named("label"), inputs, [*rows, bias]


def _reference(rows_and_bias: list, values: list) -> object:
    """numpy: float64 sum, bias first, then the first maximum; None if any input is None."""
    *rows, bias = rows_and_bias
    if any(v is None for v in values):
        return None
    scores = np.array(bias, dtype=np.float64)
    for table, value in zip(rows, values):
        scores = scores + np.array(table[value], dtype=np.float64)
    return LABELS[int(np.argmax(scores))]


def _inputs(max_len: int):
    for n in range(1, max_len + 1):
        yield from (list(body) for body in itertools.product(VOCAB, repeat=n))


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("with_none", [False, True])
def test_interpreter_and_compiled_model_agree_with_numpy_on_every_input(seed: int, with_none: bool) -> None:
    program, inputs, rows_and_bias = _program(seed, with_none)
    compiled = compile_program(program, VOCAB, max_seq_len=4, attention_kind="hard")
    words = list(_inputs(4))
    got = compiled.run_batch(words)
    ties = 0
    for word, out in zip(words, got):
        traced = rasp.trace(program, word)
        columns = [traced.values[sop.label] for sop in inputs]
        want = [_reference(rows_and_bias, list(values)) for values in zip(*columns)]
        assert traced.output == want, word
        assert out == want, word
        ties += sum(1 for values in zip(*columns) if None not in values and _tied(rows_and_bias, values))
    if with_none:
        assert any(None in out for out in got)  # the None path is exercised
    assert ties  # the first-maximum rule is exercised


def _tied(rows_and_bias: list, values: tuple) -> bool:
    *rows, bias = rows_and_bias
    scores = np.array(bias) + sum(np.array(table[v]) for table, v in zip(rows, values))
    return int((scores == scores.max()).sum()) > 1


def test_a_readout_read_by_another_node_is_refused() -> None:
    readout = rasp.ArgmaxReadout([rasp.tokens], [{t: [1.0, 0.0] for t in VOCAB}], [0.0, 0.0], ["p", "q"])
    program = rasp.Map(lambda label: label == "p", readout.named("scores")).named("use")
    assert rasp.evaluate(program, ["a"]) == [True]
    with pytest.raises(CompileError, match="'scores'.*only the program's output"):
        compile_program(program, VOCAB, max_seq_len=3)


def test_a_value_without_a_score_row_is_refused() -> None:
    readout = rasp.ArgmaxReadout([rasp.tokens], [{"a": [1.0, 0.0], "b": [0.0, 1.0]}], [0.0, 0.0],
                                 ["p", "q"]).named("out")
    with pytest.raises(rasp.RASPError, match="value 'c'"):
        rasp.evaluate(readout, ["a", "c"])
    with pytest.raises(CompileError, match=r"\['c'\].*no score row"):
        compile_program(readout, VOCAB, max_seq_len=3)


@pytest.mark.parametrize("bad", [
    dict(rows=[{"a": [1.0]}], bias=[0.0, 0.0], labels=["p", "q"]),  # short row
    dict(rows=[{"a": [1.0, 0.0]}], bias=[0.0], labels=["p", "q"]),  # short bias
    dict(rows=[{"a": [1.0, 0.0]}], bias=[0.0, 0.0], labels=["p", "p"]),  # repeated label
    dict(rows=[], bias=[0.0, 0.0], labels=["p", "q"]),  # no table for the input
])
def test_malformed_readouts_are_refused(bad: dict) -> None:
    with pytest.raises(rasp.RASPError):
        rasp.ArgmaxReadout([rasp.tokens], **bad)
