"""mlp.table_neurons: the chosen construction computes the table (brute force over inputs)."""

from __future__ import annotations

import itertools

import pytest

from rasp.compiler import mlp
from rasp.compiler.ir import NUM, Neuron, Var


def _run(neurons: list[Neuron], inputs: dict) -> dict:
    out: dict = {}
    for n in neurons:
        act = max(0.0, sum(w * inputs.get(d, 0.0) for d, w in n.w_in.items()) + n.bias)
        for d, w in n.w_out.items():
            out[d] = out.get(d, 0.0) + act * w
    return {d: v for d, v in out.items() if abs(v) > 1e-9}


def _residual(leaves: list[Var], combo: tuple) -> dict:
    res = {}
    for var, value in zip(leaves, combo):
        if var.numerical:
            res[(var.name, NUM)] = float(value)
        elif value is not None:
            res[(var.name, value)] = 1.0
    return res


CASES = {
    "pair": lambda a, b: (a + len(b)) % 3,
    "ignores_y": lambda a, b: a * 2,
    "additive": lambda a, b: a + len(b),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_categorical_pair_tables(name: str) -> None:
    f = CASES[name]
    x, y = Var("x", False, [0, 1, 2]), Var("y", False, ["", "u", "uv"])
    table = {(a, b): f(a, b) for a, b in itertools.product(x.values, y.values)}
    out = Var("out", False, sorted(set(table.values())))
    neurons = mlp.table_neurons([x, y], table, out)
    for combo, z in table.items():
        assert _run(neurons, _residual([x, y], combo)) == {("out", z): 1.0}
    if name == "ignores_y":
        assert not any(d[0] == "y" for n in neurons for d in n.w_in)


def test_three_inputs_and_numerical_output() -> None:
    leaves = [Var(n, False, [0, 1]) for n in "xyz"]
    table = {c: float(c[0] + 2 * c[1] - c[2]) for c in itertools.product([0, 1], repeat=3)}
    out = Var("out", True, sorted(set(table.values())))
    neurons = mlp.table_neurons(leaves, table, out)
    for combo, z in table.items():
        got = _run(neurons, _residual(leaves, combo)).get(("out", NUM), 0.0)
        assert got == pytest.approx(z)


def test_numerical_input_map() -> None:
    x = Var("x", True, [0.0, 0.5, 2.0])
    table = {(a,): {0.0: "lo", 0.5: "mid", 2.0: "hi"}[a] for a in x.values}
    out = Var("out", False, ["hi", "lo", "mid"])
    neurons = mlp.table_neurons([x], table, out)
    for (a,), z in table.items():
        assert _run(neurons, _residual([x], (a,))) == pytest.approx({("out", z): 1.0})
