"""causal=True compiles to rasp.causal_eval (tracr's semantics for a causal model).

Every check compares the compiled model with the interpreter's causal evaluation,
exhaustively over small vocabularies and lengths.
"""

from __future__ import annotations

import itertools

import pytest

import rasp
from rasp import Comparison, Select, SelectorWidth, causal_eval, indices, tokens
from rasp.compiler import compile_program, compile_rasp_to_model
from rasp.errors import RASPError
from rasp.lib import PROGRAMS


def _agrees_everywhere(program: rasp.SOp, vocab: list, max_len: int) -> int:
    """Compile causally and compare with causal_eval on every input; the positions checked."""
    compiled = compile_program(program, vocab, max_len, causal=True)
    checked = 0
    for n in range(1, max_len + 1):
        inputs = [list(t) for t in itertools.product(vocab, repeat=n)]
        got = compiled.run_batch(inputs)
        for tokens_in, have in zip(inputs, got):
            try:
                want = causal_eval.evaluate(program, tokens_in)
            except RASPError:
                continue  # the interpreter rejects this input
            for position, (a, b) in enumerate(zip(want, have)):
                if isinstance(a, float) or isinstance(b, float):
                    assert a is not None and b is not None and abs(a - b) < 1e-5, (tokens_in, position)
                else:
                    assert a == b, (tokens_in, position, want, have)
            checked += len(want)
    return checked


def test_select_all_width_gives_prefix_counts_like_tracr() -> None:
    program = SelectorWidth(Select(tokens, tokens, Comparison.TRUE))
    model = compile_rasp_to_model(program, {"a", "b"}, 4, compiler_bos="BOS", causal=True)
    assert model.apply(["BOS", "a", "b", "a"]).decoded[1:] == [1, 2, 3]
    assert _agrees_everywhere(program, ["a", "b"], 4) > 0


def test_aggregate_of_equal_selected_values() -> None:
    word_length = rasp.Map(len, tokens).named("word_length")
    same = Select(word_length, word_length, Comparison.EQ)
    program = rasp.Aggregate(same, word_length).named("same_length")
    assert _agrees_everywhere(program, ["a", "bb", "cc", "ddd"], 4) > 0


def test_width_of_a_backward_looking_pair_predicate() -> None:
    pairs = rasp.SequenceMap(lambda t, i: (t, i), tokens, indices).named("pairs")
    earlier_same = Select(pairs, pairs, lambda k, q: k[0] == q[0] and k[1] <= q[1])
    assert _agrees_everywhere(SelectorWidth(earlier_same), ["a", "b"], 4) > 0


SELECTORS = {
    "later": Select(indices, indices, Comparison.GT),
    "not_before": ~Select(indices, indices, Comparison.LT),
    "tokens_eq": Select(tokens, tokens, Comparison.EQ),
    "or": Select(tokens, tokens, Comparison.LT) | Select(indices, indices, Comparison.GEQ),
    "length_last": Select(indices, rasp.length - 1, Comparison.EQ),
}


@pytest.mark.parametrize("name", sorted(SELECTORS))
def test_every_selector_shape_matches_causal_eval(name: str) -> None:
    selector = SELECTORS[name]
    for program in (SelectorWidth(selector), rasp.Aggregate(selector, tokens),
                    rasp.numerical(rasp.Aggregate(selector, rasp.numerical(tokens == "a"), default=0))):
        assert _agrees_everywhere(program, ["a", "b"], 3) > 0


# Loops (rasp.compiler.loops) have their own causal rules and tests.
LOOPS = {"parity_loop", "add_loop", "alta_add"}


@pytest.mark.parametrize("name", sorted(n for n in PROGRAMS if n not in LOOPS))
def test_library_programs_compiled_causally(name: str) -> None:
    spec = PROGRAMS[name]
    vocab = spec.vocab[:3] if name != "add" else ["1", "2", "+"]
    max_len = 4 if len(vocab) <= 3 else 3
    compiled = compile_program(spec.build(), vocab, max_len, causal=True)
    report = compiled.verify()  # exhaustive, against causal_eval for a causal model
    assert report.exhaustive and report.ok, str(report)
