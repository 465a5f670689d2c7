"""Value-set inference: which values each variable can take, under the interpreter's rules.

A user function is tabulated over its inputs' value sets, each combination called once
(the table is what the weights store), with the interpreter's rules: a None input gives
None, an input on which the function raises is invalid. Refusals name the node: values
that are unhashable or not finite, a numerical SOp that can be None or is not a number,
value sets, tables or MLPs over the caps of `rasp.limits`, a function failing on every
input, and a function that tells apart floats the residual stream stores as one.

Produces the `Var` fields `values`, `may_none` and `near` of `Lowered.variables`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import product
from typing import Any

from rasp.compiler.errors import node_error
from rasp.compiler.ir import Var
from rasp.compiler.values import apply_safely, cluster_floats, mean_values, sort_values
from rasp.limits import Limits


def settle_values(var: Var, limits: Limits) -> Var:
    """Check a new variable's values (finite, within the value_set cap) and merge floats
    that differ only by rounding into one value (the others go to `var.near`)."""
    for value in var.values or []:
        if isinstance(value, float) and not math.isfinite(value):
            raise node_error(var.name, f"it can take the value {value!r}, which has no exact "
                             "place in the residual stream (NaN equals nothing; inf "
                             "overflows the weights)", "make its function return finite numbers")
    if var.numerical and var.values:
        clusters = cluster_floats(var.values)
        var.values = [c[0] for c in clusters]
        var.near = {c[0]: tuple(c[1:]) for c in clusters if len(c) > 1}
    if var.values is not None and len(var.values) > limits.value_set:
        raise node_error(var.name, f"it can take {len(var.values)} distinct values, more than "
                         f"the cap rasp.limits value_set={limits.value_set}",
                         "round or bucket it with a Map, shorten max_seq_len or the vocabulary, "
                         "or raise the cap (compile_program(..., limits=Limits(value_set=...)))")
    return var


def domain(var: Var) -> list[Any]:
    """Every value a variable can hold at a position, None included when it can be None."""
    return list(var.values or []) + ([None] if var.may_none else [])


def combinations(variables: list[Var]) -> int:
    """Number of joint values of `variables` (None counted where possible)."""
    size = 1
    for var in variables:
        size *= len(domain(var))
    return size


def tabulate(label: str, leaves: list[Var], fn: Callable[..., Any],
             limits: Limits) -> dict[tuple, Any]:
    """fn on every combination of the leaves' values (the table_entries cap checked first)."""
    for var in leaves:
        if var.values is None:
            raise node_error(label, f"its input '{var.name}' can take too many values "
                             "to tabulate", "round or bucket it with a Map first")
    size = combinations(leaves)
    if size > limits.table_entries:
        raise node_error(label, f"{size} input combinations are more than the cap "
                         f"rasp.limits table_entries={limits.table_entries}",
                         "shrink the inputs' value sets, or raise the cap "
                         "(compile_program(..., limits=Limits(table_entries=...)))")
    return {combo: fn(*combo) for combo in product(*[domain(v) for v in leaves])}


def check_hashable(label: str, value: Any) -> None:
    """Refuse a value that cannot name a residual direction."""
    try:
        hash(value)
    except TypeError:
        raise node_error(label, f"its function returns the unhashable {type(value).__name__} "
                         f"{value!r}, which cannot name a residual direction",
                         "return a tuple (or a frozenset) instead") from None


def check_numerical(label: str, var: Var) -> None:
    """Refuse a numerical variable that can be None or takes a non-number value."""
    if not var.numerical:
        return
    if var.may_none:
        raise node_error(label, "a numerical SOp can be None here, which has no "
                         "number to store", "make its function return a number everywhere "
                         "(e.g. 0), or make it categorical")
    bad = next((v for v in var.values or [] if not isinstance(v, (int, float))), None)
    if bad is not None:
        raise node_error(label, f"numerical SOp takes the non-number value {bad!r}",
                         "annotate it rasp.categorical(...) or return numbers")


def check_mlp_size(label: str, out: Var, limits: Limits) -> None:
    """Refuse before building an MLP whose stored categorical output alone exceeds the
    parameter cap: a direction per value and, since each neuron changes the output by a
    fixed vector, at least W - 1 neurons."""
    if out.numerical:
        return
    params = 2 * out.width * max(out.width - 1, 1)
    cap = limits.model_parameters
    if params > cap:
        raise node_error(label, f"its MLP ({out.width} output values) needs at least {params:,} "
                         f"parameters, more than the cap rasp.limits model_parameters={cap:,}",
                         "shrink its inputs' value sets (bucket them with a Map first) or "
                         "max_seq_len, or raise the cap "
                         "(compile_program(..., limits=Limits(model_parameters=...)))")


def with_near(var: Var) -> list[Any]:
    """A numerical variable's values and the rounding neighbours each stands for."""
    return list(var.values or []) + [alt for alts in var.near.values() for alt in alts]


def check_near_values(label: str, leaves: list[Var], table: dict[tuple, Any],
                      fn: Callable[..., Any]) -> None:
    """A numerical value stands for the floats within rounding of it; refuse a function
    that tells them apart (the model stores only one of them, so it could not be exact)."""
    for i, leaf in enumerate(leaves):
        if not leaf.near:
            continue
        for combo, value in table.items():
            for alt in leaf.near.get(combo[i], ()):
                other = fn(*combo[:i], alt, *combo[i + 1:])
                if other != value:
                    raise node_error(label, f"its input '{leaf.name}' takes both {combo[i]!r} and "
                                     f"{alt!r} (the same mean summed in another order), and its "
                                     f"function gives {value!r} and {other!r} for them",
                                     "round the input (e.g. round(x, 6)) before comparing or "
                                     "bucketing it")


def aggregate_means(label: str, sop: Var, max_seq_len: int, limits: Limits) -> list[float]:
    """Every mean a numerical Aggregate of `sop` can produce (0 for selecting nothing)."""
    values = mean_values(with_near(sop), max_seq_len, 0.0, limits.value_set, limits.table_entries)
    if values is None:
        # Decoding an unlisted mean could only be approximate: refuse instead.
        raise node_error(label, f"the means of '{sop.name}' ({len(sop.values or [])} "
                         f"values) over up to {max_seq_len} positions are more than the cap "
                         f"rasp.limits value_set={limits.value_set} (or take more than "
                         f"table_entries={limits.table_entries} steps to list), so "
                         "they cannot be decoded exactly",
                         f"round '{sop.name}' to fewer values with a Map, shorten "
                         "max_seq_len, or raise the caps")
    return values


def linear_values(label: str, x: Var, y: Var, a: float, b: float, c: float,
                  limits: Limits) -> list[Any]:
    """Values of a*x + b*y + c, rounding neighbours included (so the output's value set has
    every float the interpreter can produce; Maps downstream are checked against them)."""
    xs, ys = with_near(x), with_near(y)
    if len(xs) * len(ys) > limits.table_entries:
        raise node_error(label, f"{len(xs) * len(ys)} input combinations are more than "
                         f"the cap rasp.limits table_entries={limits.table_entries}",
                         "shrink the inputs' value sets, or raise the cap")
    return sort_values(a * p + b * q + c for p in xs for q in ys)


class Tabulated:
    """A node's function with the interpreter's rules (None in, None out; a raising input
    is invalid), counting whether it ever evaluates, and refusing unhashable results."""

    def __init__(self, label: str, f: Callable[..., Any]):
        self.label = label
        self.f = f
        self.calls = 0
        self.ok = 0
        self.first_failure: tuple[tuple, Exception] | None = None

    def __call__(self, *args: Any) -> Any:
        if any(a is None for a in args):
            return None
        self.calls += 1
        ok, value = apply_safely(self.f, *args)
        if not ok:
            if self.first_failure is None:
                self.first_failure = (args, value)
            return None
        self.ok += 1
        check_hashable(self.label, value)
        return value

    def check_some_evaluate(self) -> None:
        """Refuse a node whose function fails on every input it can receive: the
        interpreter would reject every program input that reaches it."""
        if self.calls and not self.ok and self.first_failure is not None:
            args, error = self.first_failure
            shown = args[0] if len(args) == 1 else args
            raise node_error(self.label, f"its function fails on every value it can receive "
                             f"(e.g. {shown!r}: {type(error).__name__}: {error}), so the "
                             "interpreter rejects every input", "make its function handle those values")
