"""Map fusion: a chain of Maps / SequenceMaps becomes one MLP instead of one per node.

A categorical Map / SequenceMap read only by the next Map / SequenceMap is not stored: it
stays pending (its table over its stored inputs, the 'leaves') and its reader tabulates
itself over those leaves instead, as long as that keeps at most two stored inputs (or a
few categorical ones with at most `fused_table_entries` combinations). Composition goes
through tables, never nested functions, so chains of any length stay flat. A pending Map
that someone else needs after all is materialized (its own MLP emitted).

Produces `Var.pending` (cleared before lowering ends) and `Lowered.fused` (fused Map
label -> label of the reader it was composed into).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rasp import core
from rasp.compiler.ir import PendingMap, Var
from rasp.compiler.lowering_state import LoweringState
from rasp.compiler.value_sets import combinations


def deferrable(numerical: bool, is_output: bool, readers: list[core.RASPExpr]) -> bool:
    """Whether a node's Map may stay pending: categorical, not the output, and read only by
    one Map / SequenceMap."""
    return (not numerical and not is_output and len(readers) == 1
            and type(readers[0]) in (core.Map, core.SequenceMap))


def defer(out: Var, label: str, leaves: list[Var], table: dict[tuple, Any], caption: str) -> None:
    """Leave `out` unstored: its table over `leaves` is composed into its reader."""
    out.pending = PendingMap(label, tuple(leaves), table, caption)


def materialize(st: LoweringState, var: Var) -> None:
    """Emit the MLP of a pending variable (someone needs it stored after all)."""
    pending = var.pending
    if pending is not None:
        var.pending = None
        st.emit_table(pending.label, list(pending.leaves), pending.table, var, pending.caption)


def compose(st: LoweringState, label: str, children: list[Var],
            f: Callable[..., Any]) -> tuple[list[Var], Callable[..., Any]]:
    """The inputs node `label` is tabulated over, and `f` as a function of them: the
    pending children's leaves where that stays narrow, else the children (materialized)."""
    leaves, inputs = _expand(children)

    def fn(*args: Any) -> Any:
        return f(*inputs(*args))

    stored_numerical = [v for v in leaves if v.numerical and v.source != "const"]
    stored = [v for v in leaves if v.source != "const"]
    too_wide = len(stored) > 2 and (
        stored_numerical or combinations(stored) > st.limits.fused_table_entries)
    if too_wide or len(stored_numerical) > 1:
        for child in children:
            materialize(st, child)
        leaves, fn = children, f
    for child in children:
        if child.pending is not None:
            st.fused[child.name] = label
    return leaves, fn


def _expand(children: list[Var]) -> tuple[list[Var], Callable[..., list[Any]]]:
    """Leaves (stored inputs) of `children`, looking through pending Maps, and a function
    from leaf values to the children's values (pending ones read from their tables)."""
    leaves: list[Var] = []
    plans: list[tuple[dict | None, list[int]]] = []
    for child in children:
        pending = child.pending
        sub_leaves = list(pending.leaves) if pending is not None else [child]
        idx = []
        for leaf in sub_leaves:
            if leaf not in leaves:
                leaves.append(leaf)
            idx.append(leaves.index(leaf))
        plans.append((pending.table if pending is not None else None, idx))

    def inputs(*args: Any) -> list[Any]:
        return [table[tuple(args[i] for i in idx)] if table is not None else args[idx[0]]
                for table, idx in plans]

    return leaves, inputs
