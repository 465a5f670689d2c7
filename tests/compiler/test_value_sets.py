"""value_sets.py and the value sets lowering infers, against hand-computed answers."""

from __future__ import annotations

import pytest

from rasp import core
from rasp.compiler.errors import CompileError
from rasp.compiler.ir import Var
from rasp.compiler.lower import lower_program
from rasp.compiler.value_sets import (
    Tabulated,
    aggregate_means,
    combinations,
    linear_values,
    settle_values,
    tabulate,
)
from rasp.limits import Limits

LIMITS = Limits()


def test_tabulate_follows_the_interpreters_none_and_error_rules() -> None:
    x = Var("x", False, [0, 1, 2], may_none=True)
    table = tabulate("f", [x], Tabulated("f", lambda v: 10 // v), LIMITS)
    # 10 // 0 raises: that input is invalid (None); a None input gives None.
    assert table == {(0,): None, (1,): 10, (2,): 5, (None,): None}


def test_tabulate_refuses_past_the_table_cap() -> None:
    x, y = Var("x", False, list(range(10))), Var("y", False, list(range(10)), may_none=True)
    assert combinations([x, y]) == 110
    with pytest.raises(CompileError, match="110 input combinations.*table_entries=100"):
        tabulate("f", [x, y], lambda a, b: a, Limits(table_entries=100))


def test_a_function_failing_everywhere_is_refused() -> None:
    x = Var("x", False, [1, 2])
    f = Tabulated("bad", lambda v: v["key"])
    tabulate("bad", [x], f, LIMITS)
    with pytest.raises(CompileError, match="bad.*fails on every value"):
        f.check_some_evaluate()


def test_settle_merges_rounding_neighbours_and_refuses_nan() -> None:
    var = settle_values(Var("m", True, [0.1 + 0.2, 0.3, 1.0]), LIMITS)
    assert var.values == [0.3, 1.0]
    assert var.near == {0.3: (0.1 + 0.2,)}
    with pytest.raises(CompileError, match="nan"):
        settle_values(Var("m", True, [float("nan")]), LIMITS)
    with pytest.raises(CompileError, match="3 distinct values.*value_set=2"):
        settle_values(Var("c", False, ["a", "b", "c"]), Limits(value_set=2))


def test_aggregate_means_of_zero_and_one_over_two_positions() -> None:
    # widths 1 and 2 over {0, 1}: 0, 1, 0.5 (and 0 for selecting nothing).
    assert aggregate_means("agg", Var("s", True, [0, 1]), 2, LIMITS) == [0.0, 0.5, 1.0]


def test_linear_values_include_rounding_neighbours() -> None:
    x = settle_values(Var("x", True, [0.1 + 0.2, 0.3]), LIMITS)
    y = Var("y", True, [1, 2])
    # 2x - y over x in {0.3, 0.30000000000000004}, y in {1, 2}: every float, none merged yet.
    assert linear_values("s", x, y, 2.0, -1.0, 0.0, LIMITS) == sorted(
        {2 * a - b for a in (0.3, 0.1 + 0.2) for b in (1, 2)})


def test_lowered_value_sets_of_a_small_program() -> None:
    mod3 = core.Map(lambda i: i % 3, core.indices).named("mod3")
    same = core.Select(core.tokens, core.tokens, core.Comparison.EQ).named("same")
    width = core.SelectorWidth(same).named("width")
    prev = core.Aggregate(core.Select(core.indices, core.indices, lambda k, q: k == q - 1),
                          core.tokens).named("prev")
    pair = core.SequenceMap(lambda w, p: f"{w}{p}", width, prev).named("pair")
    out = core.SequenceMap(lambda a, m: (a, m), pair, mod3).named("out")
    lowered = lower_program(out, ["a", "b"], 5, False, LIMITS)
    v = lowered.variables
    assert v["mod3"].values == [0, 1, 2] and v["mod3"].source == "pos"
    assert v["width"].values == [0, 1, 2, 3, 4, 5] and not v["width"].may_none
    assert v["width.bos_weight"].values == [1.0, 1 / 2, 1 / 3, 1 / 4, 1 / 5, 1 / 6][::-1]
    assert v["prev"].values == ["a", "b"] and v["prev"].may_none  # position 0 selects nothing
    assert v["pair"].values == sorted(f"{w}{p}" for w in range(6) for p in "ab")
    assert v["pair"].may_none
    assert set(v["out"].values) == {(f"{w}{p}", m) for w in range(6) for p in "ab" for m in range(3)}
