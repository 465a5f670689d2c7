"""Selector totality: does a selector select some key for every query on every valid input?

An Aggregate whose selector is total never falls back to the BOS key, so its head need
not read `bos` there (that read would be an edge of the ground truth that changes nothing).
The proof is sound and three-valued per (query, key) cell, for each input length:

- a Select whose keys and queries do not depend on the token values (positions, length,
  constants, and anything computed from them only) is evaluated by the interpreter on any
  input of that length: its matrix is the same for every input;
- Select(x, x, pred) with pred(v, v) true for every value x can take selects the query's
  own position (the diagonal), whatever the input;
- a TRUE predicate selects every key;
- And / Or / Not combine cells in three-valued logic; everything else is unknown.

A row is total when some visible key (key <= query under causal) is certainly selected.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rasp import core
from rasp.compiler.ir import Var
from rasp.errors import RASPError

Cell = bool | None  # True / False, or None: depends on the input
Matrix = list[list[Cell]]


def always_selects(selector: core.Selector, var_of: Callable[[core.SOp], Var | None],
                   vocab: list[Any], max_seq_len: int, causal: bool) -> bool:
    """True only if `selector` selects a key for every query of every valid input."""
    independent: dict[int, bool] = {}
    for n in range(1, max_seq_len + 1):
        matrix = _cells(selector, n, var_of, vocab, causal, independent)
        for q in range(n):
            visible = matrix[q][: q + 1] if causal else matrix[q]
            if not any(cell is True for cell in visible):
                return False
    return True


def _cells(sel: core.Selector, n: int, var_of: Callable[[core.SOp], Var | None], vocab: list[Any],
           causal: bool, independent: dict[int, bool]) -> Matrix:
    unknown: Matrix = [[None] * n for _ in range(n)]
    if not _depends_on_tokens(sel, independent):
        try:
            return [list(row) for row in _evaluate(sel, [vocab[0]] * n, causal)]
        except RASPError:
            return unknown  # the interpreter rejects that input; prove nothing from it
    if isinstance(sel, core.Select):
        if sel.predicate is core.Comparison.TRUE:
            return [[True] * n for _ in range(n)]
        if sel.keys is sel.queries and _reflexive(sel, var_of(sel.keys)):
            return [[True if k == q else None for k in range(n)] for q in range(n)]
        return unknown
    if isinstance(sel, (core.SelectorAnd, core.SelectorOr)):
        a = _cells(sel.fst, n, var_of, vocab, causal, independent)
        b = _cells(sel.snd, n, var_of, vocab, causal, independent)
        combine = _and if isinstance(sel, core.SelectorAnd) else _or
        return [[combine(x, y) for x, y in zip(ra, rb)] for ra, rb in zip(a, b)]
    if isinstance(sel, core.SelectorNot):
        inner = _cells(sel.inner, n, var_of, vocab, causal, independent)
        return [[None if x is None else not x for x in row] for row in inner]
    return unknown


def _reflexive(sel: core.Select, var: Var | None) -> bool:
    """pred(v, v) for every value the (shared) key/query SOp can take, None included."""
    if var is None or var.values is None or var.may_none:
        return False  # None selects nothing but under TRUE (handled before)
    try:
        return all(bool(sel.predicate(v, v)) for v in var.values)
    except Exception:  # noqa: BLE001 - a predicate failing on a value proves nothing
        return False


def _and(x: Cell, y: Cell) -> Cell:
    if x is False or y is False:
        return False
    return True if x is True and y is True else None


def _or(x: Cell, y: Cell) -> Cell:
    if x is True or y is True:
        return True
    return False if x is False and y is False else None


def _evaluate(sel: core.Selector, tokens: list[Any], causal: bool) -> list[list[bool]]:
    from rasp.evaluate import evaluate

    return evaluate(sel, tokens, causal=causal)


def _depends_on_tokens(expr: core.RASPExpr, memo: dict[int, bool]) -> bool:
    """Whether `expr`'s value can change with the token values (conservative: unknown
    expression types depend on them)."""
    if id(expr) in memo:
        return memo[id(expr)]
    stack = [expr]
    while stack:  # iterative: programs can be deep
        node = stack[-1]
        if id(node) in memo:
            stack.pop()
            continue
        children = _inputs(node)
        if children is None:
            memo[id(node)] = True
            stack.pop()
            continue
        pending = [c for c in children if id(c) not in memo]
        if pending:
            stack.extend(pending)
            continue
        memo[id(node)] = any(memo[id(c)] for c in children)
        stack.pop()
    return memo[id(expr)]


def _inputs(node: core.RASPExpr) -> list[core.RASPExpr] | None:
    """What `node`'s value is computed from; None for the token input or an unknown type."""
    if isinstance(node, core.TokensType):
        return None
    if isinstance(node, (core.IndicesType, core.LengthType, core.Full, core.ConstantSOp,
                         core.ConstantSelector)):
        return []
    if isinstance(node, core.Select):
        # A TRUE predicate ignores the values compared (None included).
        return [] if node.predicate is core.Comparison.TRUE else [node.keys, node.queries]
    if isinstance(node, (core.Map, core.SequenceMap, core.Aggregate, core.SelectorWidth,
                         core.SelectorAnd, core.SelectorOr, core.SelectorNot)):
        return list(node.children)
    return None
