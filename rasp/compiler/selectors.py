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

# A formula over atoms: ("atom", key_var, query_var, predicate) | ("and", f, g) |
# ("or", f, g) | ("not", f) | ("const", bool). Variable names; predicate(key, query).
Formula = tuple


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


def atoms(formula: Formula) -> list[Formula]:
    """Every atom of a formula."""
    if formula[0] == "atom":
        return [formula]
    if formula[0] == "const":
        return []
    return [a for sub in formula[1:] for a in atoms(sub)]


def evaluate(formula: Formula, keys: dict[str, Any], queries: dict[str, Any]) -> bool:
    """Truth of a formula given each variable's value at the key and at the query."""
    kind = formula[0]
    if kind == "atom":
        return formula[3](keys.get(formula[1]), queries.get(formula[2]))
    if kind == "const":
        return formula[1]
    if kind == "and":
        return evaluate(formula[1], keys, queries) and evaluate(formula[2], keys, queries)
    if kind == "or":
        return evaluate(formula[1], keys, queries) or evaluate(formula[2], keys, queries)
    return not evaluate(formula[1], keys, queries)


def conjuncts(formula: Formula) -> list[Formula]:
    """Top-level conjuncts of a formula (And flattened)."""
    if formula[0] == "and":
        return conjuncts(formula[1]) + conjuncts(formula[2])
    return [formula]


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
    formula = part.formula
    if formula[0] != "atom" or len(formula) < 5 or formula[4] not in _NUMPY_COMPARISONS:
        return None
    if formula[1] != part.key_var or formula[2] != part.query_var:
        return None
    if not all(isinstance(v, (int, float)) for v in q_values + k_values if v is not None):
        return None
    q = np.array([np.nan if v is None else float(v) for v in q_values])
    k = np.array([np.nan if v is None else float(v) for v in k_values])
    # predicate(key, query); comparisons with NaN (None) are False, as the interpreter's.
    table = _NUMPY_COMPARISONS[formula[4]](k[None, :], q[:, None])
    if formula[4] is core.Comparison.NEQ:
        table &= ~np.isnan(k)[None, :] & ~np.isnan(q)[:, None]
    return table.tolist()
