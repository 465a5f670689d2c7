"""The causal-safety check: with causal=True no result may depend on later positions."""

from __future__ import annotations

from typing import Any

from rasp.compiler.errors import node_error
from rasp.compiler.ir import Var
from rasp.compiler.selectors import Formula


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
    kind = formula[0]
    if kind == "const":
        return not formula[1]
    if kind == "and":
        return _safe(formula[1], variables, n) or _safe(formula[2], variables, n)
    if kind == "or":
        return _safe(formula[1], variables, n) and _safe(formula[2], variables, n)
    if kind == "not":
        return False
    keys, queries = variables[formula[1]], variables[formula[2]]
    if keys.source not in ("pos", "const") or queries.source not in ("pos", "const"):
        return False

    def at(var: Var, i: int) -> Any:
        return var.const if var.source == "const" else var.fn(i)

    return all(
        k <= q or not formula[3](at(keys, k), at(queries, q)) for q in range(n) for k in range(n)
    )
