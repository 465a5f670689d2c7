"""tracr's public RASP API, as a tracr user calls it (import lines changed only)."""

from __future__ import annotations

import pytest

import rasp
from rasp import causal_eval, lib

T, I = rasp.tokens, rasp.indices


def test_expressions_are_callable_on_lists_and_strings():
    program = rasp.Map(lambda x: x.upper(), T)
    assert program(["a", "b"]) == ["A", "B"]
    assert program("ab") == ["A", "B"]  # a string is read as its characters, like tracr
    assert rasp.Select(I, I, rasp.Comparison.LEQ)([7, 8]) == [[True, False], [True, True]]
    assert rasp.ConstantSelector([[True, False], [False, True]])([1, 2]) == [[True, False], [False, True]]


def test_numerical_aggregate_of_a_categorical_sop_evaluates_like_tracr():
    mean = rasp.numerical(rasp.Aggregate(rasp.Select(T, T, rasp.Comparison.EQ), T))
    assert mean([3]) == [3]
    assert mean([1, 2, 1]) == [1, 2, 1]


def test_default_names_labels_and_ids():
    m = rasp.Map(lambda x: x, T)
    assert m.name == "map" and m.annotations["name"] == "map"
    assert m.label == f"map_{m.unique_id}"
    assert (T.label, I.label, rasp.length.label) == ("tokens", "indices", "length")
    kinds = {
        "sequence_map": rasp.SequenceMap(lambda x, y: x, T, I),
        "linear_sequence_map": rasp.LinearSequenceMap(T, I, 1, 2),
        "aggregate": rasp.Aggregate(rasp.Select(T, I, rasp.Comparison.EQ), T),
        "selector_width": rasp.SelectorWidth(rasp.Select(T, I, rasp.Comparison.EQ)),
        "select": rasp.Select(T, I, rasp.Comparison.EQ),
        "full": rasp.Full(1),
        "constant_sop": rasp.ConstantSOp([1]),
    }
    assert {name: expr.name for name, expr in kinds.items()} == {name: name for name in kinds}
    assert m.named("mine").label == "mine" and m.named("mine").name == "mine"


def test_copy_annotate_and_renaming_are_independent():
    original = rasp.Map(lambda x: x + 1, T).named("foo")
    copy = original.copy()
    assert copy.name == "foo" and copy.unique_id != original.unique_id
    assert [c.unique_id for c in copy.children] == [c.unique_id for c in original.children]
    copy.named("bar")
    original.named("baz")
    assert (original.name, copy.name) == ("foo", "foo")
    annotated = rasp.annotate(original, encoding=rasp.Encoding.NUMERICAL, note="x")
    assert rasp.is_numerical(annotated) and annotated.annotations["note"] == "x"
    assert rasp.is_categorical(original)
    replaced = original.copy()
    replaced.annotations = {"name": "qux"}
    assert replaced.label == "qux" and original.label == "foo"


def test_module_level_selector_combinators():
    lt = rasp.Select(I, I, rasp.Comparison.LT)
    eq = rasp.Select(I, I, rasp.Comparison.EQ)
    xs = [0, 1, 2]
    assert rasp.selector_or(lt, eq)(xs) == rasp.Select(I, I, rasp.Comparison.LEQ)(xs)
    assert rasp.selector_and(lt, eq)(xs) == [[False] * 3] * 3
    assert rasp.selector_not(lt)(xs) == rasp.Select(I, I, rasp.Comparison.GEQ)(xs)
    assert rasp.selector_not(eq, simplify=False)(xs) == rasp.Select(I, I, rasp.Comparison.NEQ)(xs)


def test_causal_eval_masks_every_selector():
    everything = rasp.Select(T, T, rasp.Comparison.TRUE)
    assert causal_eval.evaluate(everything, "abc") == [
        [True, False, False],
        [True, True, False],
        [True, True, True],
    ]
    assert causal_eval.CausalEvaluator().evaluate(everything, "ab") == [[True, False], [True, True]]
    assert rasp.DefaultRASPEvaluator().evaluate(everything, "ab") == [[True, True], [True, True]]
    count = rasp.SelectorWidth(everything)
    assert causal_eval.evaluate(count, ["a", "b", "c"]) == [1, 2, 3]
    assert rasp.evaluate(count, ["a", "b", "c"]) == [3, 3, 3]


def test_value_types_and_library_names_exist():
    assert rasp.Value is not None and rasp.SelectorValue is not None and rasp.NumericValue is not None
    assert lib.length(["a", "b", "c"]) == [3, 3, 3]
    assert lib.make_length()("ab") == [2, 2]
    assert lib.shift_by(1, T)("abc") == [None, "a", "b"]
    assert lib.make_sort_unique(T, T)([3, 1, 2]) == [1, 2, 3]
    assert lib.make_frac_prevs(rasp.numerical(T == "a"))("aba") == [1, 0.5, 2 / 3]


@pytest.mark.parametrize(
    "op,expected",
    [
        (lambda s: s + 1, [2, 3]),
        (lambda s: 1 - s, [0, -1]),
        (lambda s: s * 2, [2, 4]),
        (lambda s: 4 / s, [4.0, 2.0]),
        (lambda s: s < 2, [True, False]),
        (lambda s: s == 2, [False, True]),
        (lambda s: ~(s == 2), [True, False]),
        (lambda s: (s == 1) | (s == 2), [True, True]),
        (lambda s: (s == 1) & (s == 2), [False, False]),
    ],
)
def test_operator_overloads_build_maps(op, expected):
    assert op(T)([1, 2]) == expected
