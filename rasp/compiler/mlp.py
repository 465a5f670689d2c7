"""MLP constructions: each RASP Map / SequenceMap becomes a few ReLU neurons.

Categorical inputs are one-hot, so a lookup neuron relu(sum of matching one-hots - k)
is exactly 0 or 1. Numerical inputs are discretised with clamped ramps
relu(L(x-t)+1/2) - relu(L(x-t)-1/2) placed midway between consecutive values, with the
slope L = 2/gap so an input error below gap/8 still lands on the right side.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rasp.compiler.ir import BOS_DIR, NUM, Dir, Neuron, Var
from rasp.compiler.value_sets import domain


def write(out: Var, value: Any, scale: float = 1.0) -> dict[Dir, float]:
    """Output weights that store `value` in variable `out` (nothing for None / numerical 0)."""
    if value is None:
        return {}
    if out.numerical:
        return {} if value == 0 else {(out.name, NUM): float(value) * scale}
    return {(out.name, value): scale}


def feature(var: Var, value: Any) -> tuple[dict[Dir, float], float]:
    """Affine read that is 1 where `var` == value, else 0 (value None: 'var is None')."""
    if var.source == "const":
        # A constant is present at every real position; the BOS position reads 0.
        return ({BOS_DIR: -1.0}, 1.0) if value == var.const else ({}, 0.0)
    if value is None:
        weights = {d: -1.0 for d in var.dirs()}
        weights[BOS_DIR] = -1.0
        return weights, 1.0
    return {(var.name, value): 1.0}, 0.0


def _add(into: dict[Dir, float], more: dict[Dir, float], scale: float = 1.0) -> None:
    for d, w in more.items():
        into[d] = into.get(d, 0.0) + w * scale


def _diff(out: Var, new: Any, old: Any) -> dict[Dir, float]:
    weights = write(out, new)
    _add(weights, write(out, old), -1.0)
    return {d: w for d, w in weights.items() if w != 0}


def constant(out: Var, value: Any) -> list[Neuron]:
    """Write a constant at every real position."""
    weights = write(out, value)
    return [Neuron({}, 1.0, weights)] if weights else []


def map_categorical(x: Var, table: dict[Any, Any], out: Var) -> list[Neuron]:
    """Lookup f(x) for categorical x: one neuron per output value (or two for numerical out).

    `table` maps input values (None allowed: 'x is None') to outputs.
    """
    if out.numerical:
        pos: dict[Dir, float] = {}
        neg: dict[Dir, float] = {}
        pos_bias = neg_bias = 0.0
        for a, z in table.items():
            if z is None or z == 0:
                continue
            w, b = feature(x, a)
            if z > 0:
                _add(pos, w, z)
                pos_bias += b * z
            else:
                _add(neg, w, -z)
                neg_bias -= b * z
        neurons = []
        if pos or pos_bias:
            neurons.append(Neuron(pos, pos_bias, {(out.name, NUM): 1.0}))
        if neg or neg_bias:
            neurons.append(Neuron(neg, neg_bias, {(out.name, NUM): -1.0}))
        return neurons
    by_output: dict[Any, tuple[dict[Dir, float], float]] = {}
    for a, z in table.items():
        if z is None:
            continue
        w, b = feature(x, a)
        weights, bias = by_output.get(z, ({}, 0.0))
        _add(weights, w)
        by_output[z] = (weights, bias + b)
    return [Neuron(w, b, write(out, z)) for z, (w, b) in by_output.items()]


def map_numerical(x: Var, f: Callable[[Any], Any], out: Var) -> list[Neuron]:
    """f(x) for numerical x: linear when f is, else a staircase over x's known values."""
    values = sorted(x.values or [])
    outputs = [f(v) for v in values]
    if out.numerical and _is_linear(values, outputs):
        a, c = _line(values, outputs)
        neurons = []
        if a:
            neurons.append(Neuron({(x.name, NUM): 1.0}, 0.0, {(out.name, NUM): a}))
            neurons.append(Neuron({(x.name, NUM): -1.0}, 0.0, {(out.name, NUM): -a}))
        return neurons + constant(out, c)
    return staircase(x, values, outputs, out, gate=None)


def staircase(
    x: Var, values: list[float], outputs: list[Any], out: Var, gate: Dir | None
) -> list[Neuron]:
    """Piecewise-constant map values[i] -> outputs[i]; `gate`: only where that direction is 1."""
    if not values:
        return []
    if gate is None:
        neurons = constant(out, outputs[0])
    else:
        first = write(out, outputs[0])
        neurons = [Neuron({gate: 1.0}, 0.0, first)] if first else []
    span = max(abs(v) for v in values)
    for lo, hi, y_lo, y_hi in zip(values, values[1:], outputs, outputs[1:]):
        if y_lo == y_hi:
            continue
        step = _diff(out, y_hi, y_lo)
        if not step:
            continue
        slope = 2.0 / (hi - lo)
        mid = (lo + hi) / 2
        for offset, sign in ((0.5, 1.0), (-0.5, -1.0)):
            w_in: dict[Dir, float] = {(x.name, NUM): slope}
            bias = -slope * mid + offset
            if gate is not None:
                # Off unless the gate is 1: the ramp never exceeds slope*(span+|mid|)+1.
                big = slope * (span + abs(mid)) + 2.0
                w_in[gate] = big
                bias -= big
            neurons.append(Neuron(w_in, bias, {d: w * sign for d, w in step.items()}))
    return neurons


def sequence_map_categorical(
    x: Var, y: Var, f: Callable[[Any, Any], Any], out: Var
) -> list[Neuron]:
    """f(x, y) for categorical x, y: one neuron per (value of one input, output value).

    Grouping by the input side that gives fewer neurons is never worse than tracr's one
    neuron per (x, y) pair.
    """
    best: list[Neuron] | None = None
    for first, second, g in ((x, y, f), (y, x, lambda b, a: f(a, b))):
        neurons = []
        for a in first.values or []:
            groups: dict[Any, list[Any]] = {}
            for b in second.values or []:
                z = g(a, b)
                if z is None or (out.numerical and z == 0):
                    continue
                groups.setdefault(z, []).append(b)
            for z, bs in groups.items():
                w_in, bias = feature(first, a)
                w_in = dict(w_in)
                for b in bs:
                    wb, bb = feature(second, b)
                    _add(w_in, wb)
                    bias += bb
                neurons.append(Neuron(w_in, bias - 1.0, write(out, z)))
        if best is None or len(neurons) < len(best):
            best = neurons
    return best or []


def sequence_map_additive(
    x: Var, y: Var, f: Callable[[Any, Any], Any], out: Var
) -> list[Neuron] | None:
    """f(x, y) = g(x + c*y) (c = 1 or -1) for number-valued categorical x, y, as a staircase
    over x + c*y read linearly from the one-hots: about 4*max_seq_len neurons for
    `length - indices` instead of one per pair. None when f is not of that form."""
    if x.may_none or y.may_none or not _numbers(x.values) or not _numbers(y.values):
        return None
    best = None
    for c in (1, -1):
        by_sum: dict[float, Any] = {}
        ok = True
        for a in x.values:
            for b in y.values:
                key = round(a + c * b, 9)
                z = f(a, b)
                if key in by_sum and by_sum[key] != z:
                    ok = False
                    break
                by_sum[key] = z
            if not ok:
                break
        if not ok or (out.numerical and any(v is None for v in by_sum.values())):
            continue
        sums = sorted(by_sum)
        # A virtual numerical input s = x + c*y, read straight from the one-hots.
        virtual = Var(f"{x.name}+{c}*{y.name}", True, sums)
        neurons = staircase(virtual, sums, [by_sum[k] for k in sums], out, gate=None)
        neurons = [_expand_virtual(n, virtual, x, y, c) for n in neurons]
        if best is None or len(neurons) < len(best):
            best = neurons
    return best


def _expand_virtual(neuron: Neuron, virtual: Var, x: Var, y: Var, c: float) -> Neuron:
    w_in = dict(neuron.w_in)
    slope = w_in.pop((virtual.name, NUM), 0.0)
    if slope:
        for a in x.values or []:
            if a:
                w_in[(x.name, a)] = w_in.get((x.name, a), 0.0) + slope * a
        for b in y.values or []:
            if b:
                w_in[(y.name, b)] = w_in.get((y.name, b), 0.0) + slope * c * b
    return Neuron(w_in, neuron.bias, neuron.w_out)


def _numbers(values: list | None) -> bool:
    return bool(values) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def sequence_map_mixed(
    x: Var, y: Var, f: Callable[[Any, Any], Any], out: Var
) -> list[Neuron]:
    """f(x, y) for numerical x and categorical y: one staircase over x per value of y."""
    neurons = []
    xs = sorted(x.values or [])
    for b in y.values or []:
        neurons += staircase(x, xs, [f(a, b) for a in xs], out, gate=(y.name, b))
    return neurons


def linear(terms: list[tuple[Var, float]], const: float, out: Var) -> list[Neuron]:
    """sum(coeff * var) + const for numerical inputs: two neurons per input."""
    neurons = []
    for var, coeff in terms:
        if coeff:
            neurons.append(Neuron({(var.name, NUM): 1.0}, 0.0, {(out.name, NUM): coeff}))
            neurons.append(Neuron({(var.name, NUM): -1.0}, 0.0, {(out.name, NUM): -coeff}))
    return neurons + constant(out, const)


def lookup_nary(inputs: list[Var], table: dict[tuple, Any], out: Var) -> list[Neuron]:
    """f over three or more categorical inputs: one neuron per (values of all inputs but
    the widest, output value); the widest input's matching values are summed in."""
    wide = max(range(len(inputs)), key=lambda i: inputs[i].width)
    groups: dict[tuple, dict[Any, list[Any]]] = {}
    for combo, z in table.items():
        if z is None or (out.numerical and z == 0) or any(v is None for v in combo):
            continue
        rest = combo[:wide] + combo[wide + 1:]
        groups.setdefault(rest, {}).setdefault(z, []).append(combo[wide])
    others = inputs[:wide] + inputs[wide + 1:]
    neurons = []
    for rest, by_output in groups.items():
        base: dict[Dir, float] = {}
        bias = -float(len(inputs) - 1)
        for var, value in zip(others, rest):
            w, b = feature(var, value)
            _add(base, w)
            bias += b
        for z, wide_values in by_output.items():
            w_in = dict(base)
            for value in wide_values:
                _add(w_in, feature(inputs[wide], value)[0])
            neurons.append(Neuron(w_in, bias, write(out, z)))
    return neurons


def table_neurons(leaves: list[Var], table: dict[tuple, Any], out: Var) -> list[Neuron]:
    """The smallest construction storing `out` = table[values of the leaves] (1 to n leaves)."""
    if len(leaves) > 2:
        return lookup_nary(leaves, table, out)
    if len(leaves) == 1:
        x = leaves[0]
        single = {a[0]: z for a, z in table.items()}
        if x.numerical:
            return map_numerical(x, lambda a: single[a], out)
        return map_categorical(x, {a: z for a, z in single.items() if a is not None}, out)
    x, y = leaves
    # A function that ignores one argument is a Map of the other, provided the ignored one
    # is never None: a None input makes the output None (the interpreter's rule).
    xs, ys = domain(x), domain(y)
    if ys and all(table[(a, b)] == table[(a, ys[0])] for a in xs for b in ys):
        return table_neurons([x], {(a,): table[(a, ys[0])] for a in xs}, out)
    if xs and all(table[(a, b)] == table[(xs[0], b)] for a in xs for b in ys):
        return table_neurons([y], {(b,): table[(xs[0], b)] for b in ys}, out)

    def lookup(a: Any, b: Any) -> Any:
        return table.get((a, b))

    if x.numerical:
        return sequence_map_mixed(x, y, lookup, out)
    if y.numerical:
        return sequence_map_mixed(y, x, lambda b, a: lookup(a, b), out)
    neurons = sequence_map_categorical(x, y, lookup, out)
    additive = sequence_map_additive(x, y, lookup, out)
    if additive is not None and len(additive) < len(neurons):
        return additive
    return neurons


def joint(inputs: list[Var], out: Var) -> list[Neuron]:
    """The tuple of several categorical inputs (None allowed per component) as one variable."""
    neurons = []
    for combo in out.values or []:
        w_in: dict[Dir, float] = {}
        bias = -(len(inputs) - 1.0)
        for var, value in zip(inputs, combo):
            w, b = feature(var, value)
            _add(w_in, w)
            bias += b
        neurons.append(Neuron(w_in, bias, write(out, combo)))
    return neurons


def erase(var: Var) -> list[Neuron]:
    """Neurons that subtract `var` from the residual, so its directions can be reused."""
    if var.numerical:
        d = (var.name, NUM)
        return [Neuron({d: 1.0}, 0.0, {d: -1.0}), Neuron({d: -1.0}, 0.0, {d: 1.0})]
    return [Neuron({d: 1.0}, 0.0, {d: -1.0}) for d in var.dirs()]


def gate_bos(neuron: Neuron, bos_bounds: dict[str, float]) -> Neuron:
    """Keep a neuron silent at the BOS position (where every input is ~0, or bounded)."""
    worst = neuron.bias + sum(
        abs(w) * bos_bounds.get(d[0], 0.0) for d, w in neuron.w_in.items() if d != BOS_DIR
    )
    if worst <= 0:
        return neuron
    w_in = dict(neuron.w_in)
    w_in[BOS_DIR] = w_in.get(BOS_DIR, 0.0) - (worst + 1.0)
    return Neuron(w_in, neuron.bias, neuron.w_out)


def _is_linear(xs: list[float], ys: list[Any]) -> bool:
    if not xs or any(not isinstance(y, (int, float)) or isinstance(y, bool) for y in ys):
        return False
    a, c = _line(xs, ys)
    scale = max(1.0, max(abs(y) for y in ys))
    return all(abs(a * x + c - y) <= 1e-9 * scale for x, y in zip(xs, ys))


def _line(xs: list[float], ys: list[float]) -> tuple[float, float]:
    if len(xs) < 2 or xs[-1] == xs[0]:
        return 0.0, float(ys[0])
    a = (ys[-1] - ys[0]) / (xs[-1] - xs[0])
    return a, ys[0] - a * xs[0]
