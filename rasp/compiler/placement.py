"""Placement: choose each op's layer (earliest or latest) and whether dead variables'
directions are reused, keeping the smallest model (the depth is the same either way).

Input: scheduled ops (`op.layer` = earliest layer, `op.reads` set). Output: a `Placement`
(new ops with the chosen layers, the erase ops the residual `Allocation` adds, all sorted
by layer; the allocation; the parameter count). The input ops are left as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from rasp.compiler.assemble import estimate_params
from rasp.compiler.ir import Op, Var
from rasp.compiler.layout import Allocation, allocate
from rasp.compiler.schedule import late_layers, op_reads


@dataclass(frozen=True)
class Placement:
    """The chosen layout: ops (erase ops included) in layer order, directions, size."""

    ops: tuple[Op, ...]
    alloc: Allocation
    params: int


def choose_placement(ops: Sequence[Op], variables: dict[str, Var], output: Var, n_layers: int,
                     n_tokens: int, max_seq_len: int, reuse_edges: bool = False) -> Placement:
    """Try early and late placement, with and without direction reuse; keep the smallest.
    reuse_edges: allow reuse that adds circuit edges (see layout.allocate)."""
    early = list(ops)
    late = [replace(op, layer=layer) for op, layer in zip(ops, late_layers(ops, n_layers))]
    best: Placement | None = None
    for placed, reuse in ((early, False), (early, True), (late, False), (late, True)):
        alloc = allocate(variables, placed, output.name, n_layers, reuse, add_edges=reuse_edges)
        erase_ops = [replace(op, reads=op_reads(op)) for op in alloc.erase_ops]
        all_ops = placed + erase_ops
        params = estimate_params(variables, all_ops, n_layers, alloc.d_model, output, n_tokens,
                                 max_seq_len)
        if best is None or params < best.params:
            ordered = sorted(all_ops, key=lambda op: op.layer)  # stable: keeps head order per layer
            best = Placement(tuple(ordered), replace(alloc, erase_ops=erase_ops), params)
    assert best is not None  # four candidates were tried
    return best
