"""Placement: choose each op's layer (earliest or latest) and whether dead variables'
directions are reused, keeping the smallest model (the depth is the same either way).

Input: scheduled ops (`op.layer` = earliest layer, `op.reads` set). Output: a `Placement`
(the chosen layer per op, the residual `Allocation`, every op including the erase ops it
adds, sorted by layer, and the parameter count). Sets `op.layer` on the ops it returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from rasp.compiler.assemble import estimate_params
from rasp.compiler.ir import Op, Var
from rasp.compiler.layout import Allocation, allocate
from rasp.compiler.schedule import op_reads, schedule_late


@dataclass(frozen=True)
class Placement:
    """The chosen layout: ops (erase ops included) in layer order, directions, size."""

    ops: tuple[Op, ...]
    alloc: Allocation
    params: int


def choose_placement(ops: list[Op], variables: dict[str, Var], output: Var, n_layers: int,
                     n_tokens: int, max_seq_len: int) -> Placement:
    """Try early and late placement, with and without direction reuse; keep the smallest."""
    early = {id(op): op.layer for op in ops}
    schedule_late(ops, n_layers, output.name)
    late = {id(op): op.layer for op in ops}
    best: tuple[int, Allocation, list[Op], dict[int, int]] | None = None
    for layers, reuse in ((early, False), (early, True), (late, False), (late, True)):
        for op in ops:
            op.layer = layers[id(op)]
        alloc = allocate(variables, ops, output.name, n_layers, reuse)
        for op in alloc.erase_ops:
            op.reads = op_reads(op)
        all_ops = ops + alloc.erase_ops
        params = estimate_params(variables, all_ops, n_layers, alloc.d_model, output, n_tokens,
                                 max_seq_len)
        if best is None or params < best[0]:
            best = (params, alloc, all_ops, layers)
    assert best is not None  # four candidates were tried
    params, alloc, all_ops, layers = best
    for op in ops:
        op.layer = layers[id(op)]
    ordered = sorted(all_ops, key=lambda op: op.layer)  # stable: keeps head order per layer
    return Placement(tuple(ordered), alloc, params)
