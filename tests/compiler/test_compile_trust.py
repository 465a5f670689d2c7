"""Regression tests for issue 10's compiler defects: an exact answer or a CompileError at
compile time, never a silently wrong model. Each compares with the interpreter."""

from __future__ import annotations

import random

import pytest

import rasp
from rasp import Comparison, Select, indices, tokens
from rasp.compiler import CompileError, compile_program
from rasp.evaluate import evaluate
from rasp.limits import Limits


def _prev_token() -> rasp.SOp:
    """The previous position's 1, None at position 0 (nothing selected)."""
    return rasp.Aggregate(Select(indices, indices, Comparison.LT), rasp.Full(1))


def test_sequence_map_ignoring_an_argument_keeps_its_none() -> None:
    program = rasp.SequenceMap(lambda x, y: x, tokens, _prev_token())
    compiled = compile_program(program, list("abc"), 4)
    assert evaluate(program, list("abc")) == [None, "b", "c"]
    assert compiled.run(list("abc")) == [None, "b", "c"]
    assert compiled.verify().ok


def test_sequence_map_ignoring_its_first_argument_keeps_its_none() -> None:
    program = rasp.SequenceMap(lambda x, y: y, _prev_token(), tokens)
    compiled = compile_program(program, list("abc"), 4)
    assert compiled.run(list("cab")) == evaluate(program, list("cab")) == [None, "a", "b"]


def _nested_mean(max_len: int) -> rasp.SOp:
    is_a = rasp.numerical(rasp.Map(lambda t: 1 if t == "a" else 0, tokens))
    prefix = Select(indices, indices, Comparison.LEQ)
    inner = rasp.numerical(rasp.Aggregate(prefix, is_a, default=0))
    return rasp.numerical(rasp.Aggregate(prefix, inner, default=0)).named("outer_mean")


def test_nested_mean_too_many_values_is_refused_not_approximated() -> None:
    with pytest.raises(CompileError, match=r"'outer_mean'.*value_set"):
        compile_program(_nested_mean(8), list("ab"), 8)


def test_nested_mean_small_enough_to_list_is_exact() -> None:
    compiled = compile_program(_nested_mean(3), list("ab"), 3)
    report = compiled.verify()
    assert report.exhaustive and report.ok, str(report)
    assert compiled.run(list("aaa")) == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_numerical_value_is_refused(bad: float) -> None:
    weird = rasp.numerical(rasp.Map(lambda t, bad=bad: bad if t == "a" else 1.0, tokens)).named("weird")
    mean = rasp.numerical(rasp.Aggregate(Select(indices, indices, Comparison.LEQ), weird, default=0))
    with pytest.raises(CompileError, match=r"'weird'.*(nan|inf)"):
        compile_program(mean, list("ab"), 3)


def test_thousand_chained_maps_compile_exactly() -> None:
    program = rasp.SequenceMap(lambda a, b: (a, b % 2), tokens, indices)
    for _ in range(1000):
        program = rasp.Map(lambda v: v, program, simplify=False)
    compiled = compile_program(program, list("ab"), 3)
    assert compiled.run(list("aba")) == evaluate(program, list("aba"))


def test_deeply_nested_selector_is_a_compile_error_not_a_crash() -> None:
    sel = Select(tokens, tokens, Comparison.EQ)
    for _ in range(3000):
        sel = sel & Select(indices, indices, Comparison.TRUE)
    try:
        compiled = compile_program(rasp.SelectorWidth(sel), list("ab"), 3)
    except CompileError as error:
        assert "nested too deeply" in str(error)
    else:
        assert compiled.verify().ok


def test_map_failing_on_every_value_is_refused() -> None:
    program = rasp.Map(lambda t: 1 // 0, rasp.SequenceMap(lambda a, b: a, tokens, indices)).named("broken")
    with pytest.raises(CompileError, match=r"'broken'.*fails on every value.*ZeroDivisionError"):
        compile_program(program, list("abc"), 4)


def test_library_sort_with_a_failing_map_is_refused() -> None:
    # `interp compile sort --vocab a,b,c`: the library's numeric sort key fails on letters.
    program = rasp.lib.make_sort(tokens, tokens, max_seq_len=4, min_key=1)
    with pytest.raises(CompileError, match=r"fails on every value"):
        compile_program(program, list("abc"), 4)


def test_map_failing_on_some_values_still_compiles() -> None:
    program = rasp.Map(lambda t: 10 // t, tokens)
    compiled = compile_program(program, [0, 1, 2], 3)
    report = compiled.verify()
    assert report.ok and report.n_skipped > 0


@pytest.mark.parametrize("make", [lambda v: {v: 1}, lambda v: [v], lambda v: {v}])
def test_unhashable_map_output_is_refused(make) -> None:
    program = rasp.Map(make, tokens).named("unhashable")
    with pytest.raises(CompileError, match=r"'unhashable'.*unhashable"):
        compile_program(program, list("ab"), 3)


def test_non_deterministic_map_compiles_to_one_of_its_answers() -> None:
    rng = random.Random(0)
    program = rasp.SequenceMap(lambda x, y: rng.randint(0, 3), tokens, indices)
    compiled = compile_program(program, list("ab"), 3)
    for out in compiled.run(list("aba")):
        assert out in {0, 1, 2, 3}
    token_only = rasp.Map(lambda t: rng.randint(0, 3), tokens)
    assert all(v in {0, 1, 2, 3} for v in compile_program(token_only, list("ab"), 3).run(list("ab")))


def test_model_size_is_estimated_and_refused_before_building() -> None:
    program = rasp.SequenceMap(lambda a, b: (a, b), tokens, indices).named("pairs")
    with pytest.raises(CompileError, match=r"'pairs'.*model_parameters.*workaround") as info:
        compile_program(program, [f"t{i}" for i in range(300)], 300,
                        limits=Limits(value_set=10**6, table_entries=10**6))
    assert "parameters" in str(info.value)


def test_model_size_cap_is_overridable() -> None:
    program = rasp.SequenceMap(lambda a, b: (a, b), tokens, indices).named("pairs")
    with pytest.raises(CompileError, match=r"model_parameters=100\b"):
        compile_program(program, list("ab"), 3, limits=Limits(model_parameters=100))
    assert compile_program(program, list("ab"), 3).verify().ok


def test_value_set_cap_names_the_node() -> None:
    program = rasp.SequenceMap(lambda a, b: (a, b), tokens, indices).named("pairs")
    with pytest.raises(CompileError, match=r"'pairs'.*6 distinct values.*value_set=4"):
        compile_program(program, list("ab"), 3, limits=Limits(value_set=4))


def test_table_entries_cap_names_the_node() -> None:
    program = rasp.SequenceMap(lambda a, b: a, tokens, indices).named("wide")
    with pytest.raises(CompileError, match=r"'wide'.*table_entries=5"):
        compile_program(program, list("ab"), 3, limits=Limits(table_entries=5))


def test_vocab_of_lists_is_refused() -> None:
    with pytest.raises(CompileError, match=r"\[1\].*unhashable"):
        compile_program(tokens, [[1], [2]], 3)


def test_run_accepts_an_iterator_and_rejects_unhashable_tokens() -> None:
    from interp.errors import InputError

    compiled = compile_program(rasp.Map(lambda t: t.upper(), tokens), list("ab"), 3)
    assert compiled.run(iter(["a", "b"])) == ["A", "B"]
    with pytest.raises(InputError, match=r"\['a'\].*not in the vocabulary"):
        compiled.run([["a"]])


def test_map_telling_apart_float_rounding_of_one_mean_is_refused() -> None:
    # (0.1 + 0.2) + 0.3 != (0.3 + 0.2) + 0.1: the interpreter's mean depends on the order,
    # and x >= 0.2 separates the two; the model holds one float for both, so it refuses.
    tenths = rasp.numerical(rasp.Map(lambda t: {0: 0.1, 1: 0.2, 2: 0.3}[t], tokens))
    mean = rasp.numerical(rasp.Aggregate(Select(indices, indices, Comparison.LEQ), tenths, default=0))
    program = rasp.Map(lambda x: x >= 0.2, mean).named("at_least")
    assert evaluate(program, [0, 1, 2])[2] != evaluate(program, [2, 1, 0])[2]
    with pytest.raises(CompileError, match=r"'at_least'.*0\.19999999999999998.*0\.2"):
        compile_program(program, [0, 1, 2], 3)


def test_map_of_a_mean_that_ignores_float_rounding_compiles() -> None:
    tenths = rasp.numerical(rasp.Map(lambda t: {0: 0.1, 1: 0.2, 2: 0.3}[t], tokens))
    mean = rasp.numerical(rasp.Aggregate(Select(indices, indices, Comparison.LEQ), tenths, default=0))
    compiled = compile_program(rasp.Map(lambda x: round(x, 6) >= 0.2, mean), [0, 1, 2], 3)
    assert compiled.verify().ok
