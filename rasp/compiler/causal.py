"""The causal-safety check: with causal=True no result may depend on later positions."""

from __future__ import annotations

from itertools import product
from typing import Any

from rasp.compiler.errors import node_error
from rasp.compiler.ir import Var
from rasp.compiler.selectors import And, Atom, Const, Formula, Not, Or, atoms


def check_causal(label: str, formula: Formula, variables: dict[str, Var], n: int,
                 max_work: int = 2_000_000) -> None:
    """Raise CompileError naming `label` unless its selector only selects keys <= query.

    Exact where it can be: atoms comparing functions of the position are evaluated at
    every (query, key > query) pair, and every other atom (on tokens or computed SOps) is
    treated as free (true or false), so the check is sound and decides every selector
    whose causality follows from its position structure (e.g. ~Select(indices, indices,
    GT), or tokens == tokens & indices <= indices). Above `max_work` evaluations it falls
    back to a structural rule (an And with one safe side; an Or of safe sides).
    """
    unique = list(dict.fromkeys(atoms(formula)))
    positional = [a for a in unique if _positional(a, variables)]
    free = [a for a in unique if a not in positional]
    if n * n * 2 ** len(free) * max(len(unique), 1) <= max_work:
        safe = _safe_exact(formula, positional, free, variables, n)
    else:
        safe = _safe(formula, variables, n)
    if not safe:
        raise node_error(
            label,
            "with causal=True its selector may select keys after the query, so its "
            "result would depend on later positions",
            "restrict the selector with & rasp.Select(rasp.indices, rasp.indices, "
            "rasp.Comparison.LEQ), or compile with causal=False",
        )


def _positional(atom: Atom, variables: dict[str, Var]) -> bool:
    return all(variables[v].source in ("pos", "const") for v in (atom.key_var, atom.query_var))


def _at(var: Var, i: int) -> Any:
    return var.const if var.source == "const" else var.fn(i)


def _safe_exact(formula: Formula, positional: list[Atom], free: list[Atom],
                variables: dict[str, Var], n: int) -> bool:
    for q in range(n):
        for k in range(q + 1, n):
            truth = {a: a.predicate(_at(variables[a.key_var], k), _at(variables[a.query_var], q))
                     for a in positional}
            for bits in product((False, True), repeat=len(free)):
                truth.update(zip(free, bits))
                if _value(formula, truth):
                    return False
    return True


def _value(formula: Formula, truth: dict[Atom, bool]) -> bool:
    if isinstance(formula, Atom):
        return truth[formula]
    if isinstance(formula, Const):
        return formula.value
    if isinstance(formula, And):
        return _value(formula.left, truth) and _value(formula.right, truth)
    if isinstance(formula, Or):
        return _value(formula.left, truth) or _value(formula.right, truth)
    return not _value(formula.inner, truth)


def _safe(formula: Formula, variables: dict[str, Var], n: int) -> bool:
    if isinstance(formula, Const):
        return not formula.value
    if isinstance(formula, And):
        return _safe(formula.left, variables, n) or _safe(formula.right, variables, n)
    if isinstance(formula, Or):
        return _safe(formula.left, variables, n) and _safe(formula.right, variables, n)
    if isinstance(formula, Not) or not _positional(formula, variables):
        return False
    keys, queries = variables[formula.key_var], variables[formula.query_var]
    return all(not formula.predicate(_at(keys, k), _at(queries, q))
               for q in range(n) for k in range(q + 1, n))
