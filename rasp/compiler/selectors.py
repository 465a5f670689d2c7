"""Selectors as attention scores.

A selector is turned into conjuncts, each a 0/1 table over one (key variable, query
variable) pair. The attention score is the sum of the tables, so a key is selected
exactly when it reaches the number of conjuncts, and every selected key gets the same
score (uniform attention, as numerical means and SelectorWidth need). A conjunct that
mixes several pairs (an Or or Not across variables) is first rewritten onto joint
variables (tuples) built by an MLP, so it too becomes one table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from rasp import core


@dataclass(frozen=True)
class Atom:
    """predicate(value of key_var at the key, value of query_var at the query)."""

    key_var: str
    query_var: str
    predicate: Callable[[Any, Any], bool]
    comparison: core.Comparison | None = None  # set for a plain Comparison (fast tables)


@dataclass(frozen=True)
class And:
    left: Formula
    right: Formula


@dataclass(frozen=True)
class Or:
    left: Formula
    right: Formula


@dataclass(frozen=True)
class Not:
    inner: Formula


@dataclass(frozen=True)
class Const:
    value: bool


Formula = Atom | And | Or | Not | Const
TRUE, FALSE = Const(True), Const(False)


@dataclass
class Conjunct:
    """One summand of the score: table[query_value][key_value] over one variable pair."""

    key_var: str | None  # None: the conjunct does not depend on the key
    query_var: str | None
    formula: Formula


def predicate_of(select: core.Select) -> Callable[[Any, Any], bool]:
    """The interpreter's semantics of one Select: None matches nothing unless TRUE."""
    pred = select.predicate

    def check(key: Any, query: Any) -> bool:
        if pred is core.Comparison.TRUE:
            return True
        if key is None or query is None:
            return False
        try:
            return bool(pred(key, query))
        except Exception:  # noqa: BLE001 - an incomparable pair is simply not selected
            return False

    return check


def atoms(formula: Formula) -> list[Atom]:
    """Every atom of a formula (iterative: selectors may be nested deeply)."""
    found, stack = [], [formula]
    while stack:
        f = stack.pop()
        if isinstance(f, Atom):
            found.append(f)
        elif isinstance(f, (And, Or)):
            stack += [f.right, f.left]
        elif isinstance(f, Not):
            stack.append(f.inner)
    return found


def evaluate(formula: Formula, keys: dict[str, Any], queries: dict[str, Any]) -> bool:
    """Truth of a formula given each variable's value at the key and at the query."""
    if isinstance(formula, Atom):
        return formula.predicate(keys.get(formula.key_var), queries.get(formula.query_var))
    if isinstance(formula, Const):
        return formula.value
    if isinstance(formula, And):
        return evaluate(formula.left, keys, queries) and evaluate(formula.right, keys, queries)
    if isinstance(formula, Or):
        return evaluate(formula.left, keys, queries) or evaluate(formula.right, keys, queries)
    return not evaluate(formula.inner, keys, queries)


def conjuncts(formula: Formula) -> list[Formula]:
    """Top-level conjuncts of a formula (And flattened, in order)."""
    out, stack = [], [formula]
    while stack:
        f = stack.pop()
        if isinstance(f, And):
            stack += [f.right, f.left]
        else:
            out.append(f)
    return out


def split_conjuncts(formula: Formula, is_const: Callable[[str], bool]
                    ) -> tuple[list[Conjunct], Formula | None, int]:
    """Group the conjuncts by their (key variable, query variable) pair (constants don't
    count). Returns the single-pair conjuncts, the And of those that mix several variables
    on one side (None if none; they need joint variables), and the number of FALSE ones."""
    single: dict[tuple[str | None, str | None], Formula] = {}
    mixed: Formula | None = None
    n_false = 0
    for part in conjuncts(formula):
        if part == TRUE:
            continue
        if part == FALSE:
            n_false += 1
            continue
        keys = {a.key_var for a in atoms(part) if not is_const(a.key_var)}
        queries = {a.query_var for a in atoms(part) if not is_const(a.query_var)}
        if len(keys) <= 1 and len(queries) <= 1:
            pair = (next(iter(keys), None), next(iter(queries), None))
            single[pair] = And(single[pair], part) if pair in single else part
        else:
            mixed = part if mixed is None else And(mixed, part)
    return [Conjunct(k, q, f) for (k, q), f in single.items()], mixed, n_false


def conjunct_table(part: Conjunct, q_values: list, k_values: list, consts: dict[str, Any],
                   unpack: Callable[[str | None, Any], dict[str, Any]]) -> list[list[bool]]:
    """table[i][j]: is key value k_values[j] selected by query value q_values[i]?
    `unpack` turns a (possibly joint) coordinate into variable values."""
    fast = comparison_table(part, q_values, k_values)
    if fast is not None:
        return fast
    table = []
    for qv in q_values:
        query_env = {**consts, **unpack(part.query_var, qv)}
        table.append([evaluate(part.formula, {**consts, **unpack(part.key_var, kv)}, query_env)
                      for kv in k_values])
    return table


def describe(selector: core.Selector) -> str:
    """Short human text of a selector for captions."""
    if isinstance(selector, core.Select):
        pred = selector.predicate
        name = pred.name if isinstance(pred, core.Comparison) else "λ"
        return f"Select({selector.keys.label}, {selector.queries.label}, {name})"
    if isinstance(selector, core.SelectorAnd):
        return f"({describe(selector.fst)} & {describe(selector.snd)})"
    if isinstance(selector, core.SelectorOr):
        return f"({describe(selector.fst)} | {describe(selector.snd)})"
    if isinstance(selector, core.SelectorNot):
        return f"~{describe(selector.inner)}"
    return type(selector).__name__


_NUMPY_COMPARISONS = {
    core.Comparison.EQ: np.equal,
    core.Comparison.NEQ: np.not_equal,
    core.Comparison.LT: np.less,
    core.Comparison.LEQ: np.less_equal,
    core.Comparison.GT: np.greater,
    core.Comparison.GEQ: np.greater_equal,
}


def comparison_table(part: Conjunct, q_values: list, k_values: list) -> list[list[bool]] | None:
    """The table of a single Comparison atom on numbers, vectorised (big sort keys)."""
    atom = part.formula
    if not isinstance(atom, Atom) or atom.comparison not in _NUMPY_COMPARISONS:
        return None
    if atom.key_var != part.key_var or atom.query_var != part.query_var:
        return None
    if not all(isinstance(v, (int, float)) for v in q_values + k_values if v is not None):
        return None
    q = np.array([np.nan if v is None else float(v) for v in q_values])
    k = np.array([np.nan if v is None else float(v) for v in k_values])
    # predicate(key, query); comparisons with NaN (None) are False, as the interpreter's.
    table = _NUMPY_COMPARISONS[atom.comparison](k[None, :], q[:, None])
    if atom.comparison is core.Comparison.NEQ:
        table &= ~np.isnan(k)[None, :] & ~np.isnan(q)[:, None]
    return table.tolist()
