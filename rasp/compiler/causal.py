"""The causal-safety check: with causal=True no result may depend on later positions."""

from __future__ import annotations

from typing import Any

from rasp.compiler.errors import node_error
from rasp.compiler.ir import Var
from rasp.compiler.selectors import And, Const, Formula, Not, Or


def check_causal(label: str, formula: Formula, variables: dict[str, Var], n: int) -> None:
    """Raise CompileError naming `label` unless its selector only selects keys <= query.

    Safe: a Select on functions of the position whose predicate is false whenever the
    key is after the query; an And with one safe side; an Or of safe sides. Anything
    else (tokens, computed SOps, Not) cannot be proven safe, so it is refused.
    """
    if not _safe(formula, variables, n):
        raise node_error(
            label,
            "with causal=True its selector may select keys after the query, so its "
            "result would depend on later positions",
            "restrict the selector with & rasp.Select(rasp.indices, rasp.indices, "
            "rasp.Comparison.LEQ), or compile with causal=False",
        )


def _safe(formula: Formula, variables: dict[str, Var], n: int) -> bool:
    if isinstance(formula, Const):
        return not formula.value
    if isinstance(formula, And):
        return _safe(formula.left, variables, n) or _safe(formula.right, variables, n)
    if isinstance(formula, Or):
        return _safe(formula.left, variables, n) and _safe(formula.right, variables, n)
    if isinstance(formula, Not):
        return False
    keys, queries = variables[formula.key_var], variables[formula.query_var]
    if keys.source not in ("pos", "const") or queries.source not in ("pos", "const"):
        return False

    def at(var: Var, i: int) -> Any:
        return var.const if var.source == "const" else var.fn(i)

    return all(
        k <= q or not formula.predicate(at(keys, k), at(queries, q))
        for q in range(n) for k in range(n)
    )
