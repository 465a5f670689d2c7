"""Embedding folding: SOps that depend on the token alone or the position alone cost no layer.

tokens, indices, ConstantSOp, and Maps / SequenceMaps (or joint tuples, scores.py) whose
inputs are all functions of the same one of the two, become a table over the vocabulary
or the positions that the token or position embedding writes directly. Full and Maps of
constants become constants, substituted wherever they are read. No op is emitted.

Produces `Lowered.variables` entries with `source` "token", "pos" (and `fn`, the table)
or "const" (and `const`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rasp import core
from rasp.compiler.ir import Var
from rasp.compiler.lowering_state import LoweringState
from rasp.compiler.value_sets import check_hashable, check_numerical
from rasp.compiler.values import sort_values


def embedded(st: LoweringState, label: str, name: str, source: str, fn: Callable[[Any], Any],
             numerical: bool) -> Var:
    """Variable `name` written by the embeddings: `fn` of the token ("token") or the
    position ("pos"); `label` is the node named in refusals."""
    # Each function is called once per input: the table is what the weights store.
    table = {x: fn(x) for x in st.positions(source)}
    for value in table.values():
        check_hashable(label, value)
    outputs = list(table.values())
    var = Var(name, numerical, sort_values(outputs), any(o is None for o in outputs),
              source=source, fn=table.__getitem__)
    check_numerical(label, var)
    return st.add(var)


def constant(st: LoweringState, node: core.SOp, value: Any, numerical: bool) -> Var:
    """A variable with the same value at every position (substituted, never stored)."""
    return st.add(Var(st.name(node), numerical, sort_values([value]), value is None,
                      source="const", const=value))


def foldable(leaves: list[Var]) -> bool:
    """Whether a function of `leaves` is itself a function of the token or of the position."""
    return all(v.embedded for v in leaves) and len({v.source for v in leaves}) == 1


def fold(st: LoweringState, label: str, name: str, leaves: list[Var], fn: Callable[..., Any],
         numerical: bool) -> Var:
    """`fn` of `foldable` leaves as an embedded variable."""
    fns = [v.fn for v in leaves]
    return embedded(st, label, name, leaves[0].source, lambda t: fn(*[g(t) for g in fns]),
                    numerical)


def substitute_constants(leaves: list[Var],
                         fn: Callable[..., Any]) -> tuple[list[Var], Callable[..., Any]]:
    """The non-constant leaves, and `fn` of them with the constants' values filled in."""
    consts = [v for v in leaves if v.source == "const"]
    if not consts:
        return leaves, fn
    const_values = {v.name: v.const for v in consts}
    names = [v.name for v in leaves]
    stored = [v for v in leaves if v.source != "const"]
    kept = [v.name for v in stored]

    def substituted(*args: Any) -> Any:
        env = dict(const_values)
        env.update(zip(kept, args))
        return fn(*[env[n] for n in names])

    return stored, substituted
