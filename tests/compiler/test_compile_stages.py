"""Unit tests per compiler stage, each against an independent expectation (brute force or
a hand-computed answer): value sets, MLP constructions, selector tables, schedule, layout."""

from __future__ import annotations

import itertools
import random

import pytest

from rasp.compiler import attention, mlp
from rasp.compiler.ir import BOS_DIR, NUM, HeadSpec, Neuron, Op, Var
from rasp.compiler.layout import allocate
from rasp.compiler.schedule import schedule
from rasp.compiler.selectors import TRUE, And, Atom, Conjunct, Not, Or, conjunct_table, split_conjuncts
from rasp.compiler.values import cluster_floats, mean_values


# ------------------------------------------------------------------ value sets
def test_mean_values_are_every_left_to_right_mean() -> None:
    values = [0.1, 0.2, 0.7]
    expected = {0.0}
    for width in range(1, 4):
        for picked in itertools.product(values, repeat=width):
            expected.add(sum(picked) / width)  # the interpreter's sum(selected) / len(selected)
    got = mean_values(values, 3, 0.0, max_values=10**4, max_work=10**6)
    assert set(got) == expected


def test_mean_values_gives_up_past_its_caps() -> None:
    assert mean_values([0.0, 1.0, 2.5], 8, 0.0, max_values=20, max_work=10**6) is None
    assert mean_values([0.0, 1.0, 2.5], 8, 0.0, max_values=10**6, max_work=5) is None


def test_cluster_floats_groups_only_rounding_neighbours() -> None:
    a = (0.1 + 0.2) + 0.3
    b = (0.3 + 0.2) + 0.1
    assert a != b
    assert cluster_floats([b, 0.7, a, 0.5]) == [[0.5], sorted([a, b]), [0.7]]


# ------------------------------------------------------------- MLP constructions
def _run_mlp(neurons: list[Neuron], inputs: dict) -> dict:
    """Evaluate neurons on a residual given as {direction: value} (the reference ReLU MLP)."""
    out: dict = {}
    for n in neurons:
        act = max(0.0, sum(w * inputs.get(d, 0.0) for d, w in n.w_in.items()) + n.bias)
        for d, w in n.w_out.items():
            out[d] = out.get(d, 0.0) + act * w
    return {d: v for d, v in out.items() if abs(v) > 1e-9}


def _one_hot(var: Var, value) -> dict:
    return {} if value is None else {(var.name, value): 1.0}


def test_map_categorical_is_a_lookup_table() -> None:
    x = Var("x", False, ["a", "b", "c"])
    out = Var("y", False, [0, 1])
    table = {"a": 1, "b": 0, "c": 1}
    neurons = mlp.map_categorical(x, table, out)
    for a, z in table.items():
        assert _run_mlp(neurons, _one_hot(x, a)) == {("y", z): 1.0}


def test_sequence_map_categorical_covers_every_pair_and_none() -> None:
    x = Var("x", False, [0, 1, 2], may_none=True)
    y = Var("y", False, [0, 1])
    out = Var("z", False, [0, 1, 2, 3])
    neurons = mlp.sequence_map_categorical(x, y, lambda a, b: (a + b) % 4, out)
    for a, b in itertools.product([0, 1, 2, None], [0, 1]):
        got = _run_mlp(neurons, {**_one_hot(x, a), **_one_hot(y, b), BOS_DIR: 0.0})
        assert got == ({} if a is None else {("z", (a + b) % 4): 1.0})


def test_staircase_tolerates_errors_below_an_eighth_of_the_gap() -> None:
    x = Var("x", True, [0.0, 0.5, 1.0])
    out = Var("y", False, ["lo", "mid", "hi"])
    neurons = mlp.staircase(x, x.values, out.values, out, gate=None)
    for value, want in zip(x.values, out.values):
        for error in (-0.06, 0.0, 0.06):  # gap 0.5: errors below 0.0625 land on the step
            got = _run_mlp(neurons, {("x", NUM): value + error})
            assert got == pytest.approx({("y", want): 1.0})


def test_linear_mlp_computes_the_combination() -> None:
    x, y = Var("x", True, [0.0, 1.0]), Var("y", True, [0.0, 2.0])
    out = Var("z", True, None)
    neurons = mlp.linear([(x, 2.0), (y, -1.0)], 0.5, out)
    for a, b in [(0.3, 1.7), (-1.0, 2.0), (0.0, 0.0)]:
        got = _run_mlp(neurons, {("x", NUM): a, ("y", NUM): b}).get(("z", NUM), 0.0)
        assert got == pytest.approx(2 * a - b + 0.5)


# mlp.table_neurons: the construction chosen for a Map's table computes that table.
def _residual(leaves: list[Var], combo: tuple) -> dict:
    res = {}
    for var, value in zip(leaves, combo):
        if var.numerical:
            res[(var.name, NUM)] = float(value)
        elif value is not None:
            res[(var.name, value)] = 1.0
    return res


TABLE_CASES = {
    "pair": lambda a, b: (a + len(b)) % 3,
    "ignores_y": lambda a, b: a * 2,
    "additive": lambda a, b: a + len(b),
}


@pytest.mark.parametrize("name", sorted(TABLE_CASES))
def test_table_neurons_categorical_pairs(name: str) -> None:
    f = TABLE_CASES[name]
    x, y = Var("x", False, [0, 1, 2]), Var("y", False, ["", "u", "uv"])
    table = {(a, b): f(a, b) for a, b in itertools.product(x.values, y.values)}
    out = Var("out", False, sorted(set(table.values())))
    neurons = mlp.table_neurons([x, y], table, out)
    for combo, z in table.items():
        assert _run_mlp(neurons, _residual([x, y], combo)) == {("out", z): 1.0}
    if name == "ignores_y":
        assert not any(d[0] == "y" for n in neurons for d in n.w_in)


def test_table_neurons_three_inputs_numerical_output() -> None:
    leaves = [Var(n, False, [0, 1]) for n in "xyz"]
    table = {c: float(c[0] + 2 * c[1] - c[2]) for c in itertools.product([0, 1], repeat=3)}
    out = Var("out", True, sorted(set(table.values())))
    neurons = mlp.table_neurons(leaves, table, out)
    for combo, z in table.items():
        got = _run_mlp(neurons, _residual(leaves, combo)).get(("out", NUM), 0.0)
        assert got == pytest.approx(z)


def test_table_neurons_numerical_input() -> None:
    x = Var("x", True, [0.0, 0.5, 2.0])
    table = {(a,): {0.0: "lo", 0.5: "mid", 2.0: "hi"}[a] for a in x.values}
    out = Var("out", False, ["hi", "lo", "mid"])
    neurons = mlp.table_neurons([x], table, out)
    for (a,), z in table.items():
        assert _run_mlp(neurons, _residual([x], (a,))) == pytest.approx({("out", z): 1.0})


# ---------------------------------------------------------------- selector tables
@pytest.mark.parametrize("seed", range(5))
def test_table_dims_factor_any_table(seed: int) -> None:
    rng = random.Random(seed)
    rows, cols = rng.randint(1, 6), rng.randint(1, 6)
    table = [[rng.random() < 0.4 for _ in range(cols)] for _ in range(rows)]
    q_feats = [({("q", i): 1.0}, 0.0) for i in range(rows)]
    k_feats = [({("k", j): 1.0}, 0.0) for j in range(cols)]
    dims = attention.table_dims(q_feats, k_feats, table)
    for i, j in itertools.product(range(rows), range(cols)):
        score = sum(qw.get(("q", i), 0.0) * kw.get(("k", j), 0.0) for (qw, _), (kw, _) in dims)
        assert score == float(table[i][j])


def test_conjunct_table_matches_the_formula_brute_force() -> None:
    parity = Atom("k", "q", lambda k, q: k % 2 == q % 2)
    less = Atom("k", "q", lambda k, q: k < q)
    formula = Or(parity, Not(less))
    part = Conjunct("k", "q", formula)
    table = conjunct_table(part, [0, 1, 2, 3], [0, 1, 2], {}, lambda var, v: {var: v})
    assert table == [[(k % 2 == q % 2) or not (k < q) for k in [0, 1, 2]] for q in [0, 1, 2, 3]]


def test_split_conjuncts_groups_by_variable_pair() -> None:
    a = Atom("x", "x", lambda k, q: k == q)
    b = Atom("x", "x", lambda k, q: k < q)
    c = Atom("y", "y", lambda k, q: k != q)
    mixed = Or(Atom("x", "x", lambda k, q: k == q), Atom("y", "x", lambda k, q: k == q))
    single, rest, n_false = split_conjuncts(And(And(a, TRUE), And(c, And(b, mixed))),
                                            lambda name: False)
    assert {(p.key_var, p.query_var) for p in single} == {("x", "x"), ("y", "y")}
    assert rest == mixed and n_false == 0


# ---------------------------------------------------------------------- schedule
def _head(label: str, reads: str, writes: str) -> Op:
    spec = HeadSpec(q=[({(reads, 0): 1.0}, 0.0)], k=[({(reads, 0): 1.0}, 0.0)],
                    v=[{(reads, 0): 1.0}], o=[{(writes, 0): 1.0}])
    return Op(label, "attn", {}, [writes], label, head=spec)


def _mlp_op(label: str, reads: str, writes: str) -> Op:
    return Op(label, "mlp", {}, [writes], label, neurons=[Neuron({(reads, 0): 1.0}, 0.0, {(writes, 0): 1.0})])


def _vars() -> dict[str, Var]:
    names = ["tok", "a", "b", "c", "d"]
    variables = {n: Var(n, False, [0], source="token" if n == "tok" else "computed") for n in names}
    variables["bos"] = Var("bos", True, [1.0], source="token")
    return variables


def test_schedule_places_each_op_at_its_earliest_layer() -> None:
    # head(tok) -> mlp -> mlp -> head -> head: attention then MLP share a layer; a second
    # MLP or a head reading an MLP output must wait for the next layer.
    ops = [_head("h1", "tok", "a"), _mlp_op("m1", "a", "b"), _mlp_op("m2", "b", "c"),
           _head("h2", "c", "d")]
    scheduled, n_layers = schedule(ops, _vars())
    assert n_layers == 3
    assert [op.layer for op in scheduled] == [0, 0, 1, 2]
    assert [op.layer for op in ops] == [-1] * 4  # the input ops are left as they were


def test_allocation_never_shares_a_direction_between_live_variables() -> None:
    variables = _vars()
    ops = [_head("h1", "tok", "a"), _mlp_op("m1", "a", "b"), _mlp_op("m2", "b", "c"),
           _head("h2", "c", "d")]
    ops, n_layers = schedule(ops, variables)
    for reuse in (False, True):
        alloc = allocate(variables, ops, "d", n_layers, reuse)
        spans = {}
        for label in alloc.labels:
            last = label.last_stage if label.last_stage is not None else 2 * n_layers + 2
            spans.setdefault(label.index, []).append((label.first_stage, last))
        for intervals in spans.values():
            intervals.sort()
            for (_, end), (start, _) in zip(intervals, intervals[1:]):
                assert start > end  # the next owner is written after the previous one dies
        if not reuse:
            assert alloc.d_model == 6  # bos, tok, a, b, c, d: one direction each
