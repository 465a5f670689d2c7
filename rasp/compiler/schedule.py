"""Scheduling: each op goes to the earliest layer where its inputs exist (minimal depth).

Residual stages (`interp.circuit.residual_stage`): 0 after the embeddings, 2l+1 after
layer l's attention, 2l+2 after its MLP. A head in layer l reads stage 2l and writes 2l+1;
an MLP reads 2l+1, writes 2l+2.
"""

from __future__ import annotations

from interp.circuit import residual_stage
from rasp.compiler.ir import Op, Var


def op_reads(op: Op) -> dict[str, list[str]]:
    """Variables each input slot of an op reads (from its weights, so it is exact)."""
    if op.kind == "attn":
        head = op.head
        slots = {
            "q": {d[0] for w, _ in head.q for d in w},
            "k": {d[0] for w, _ in head.k for d in w},
            "v": {d[0] for w in head.v for d in w},
        }
    else:
        slots = {"in": {d[0] for n in op.neurons for d in n.w_in}}
    return {slot: sorted(names) for slot, names in slots.items()}


def write_stage(op: Op) -> int:
    """The residual stage an op's output is first in: after its attention or its MLP."""
    return residual_stage(op.layer, "mid" if op.kind == "attn" else "post")


def read_stage(op: Op) -> int:
    """The residual stage an op reads: before its layer (a head) or after its attention."""
    return residual_stage(op.layer, "pre" if op.kind == "attn" else "mid")


def schedule(ops: list[Op], variables: dict[str, Var]) -> int:
    """Assign `op.layer` for ops in dependency order; returns the number of layers."""
    ready: dict[str, int] = {name: 0 for name, var in variables.items() if var.embedded}
    n_layers = 0
    for op in ops:
        op.reads = op_reads(op)
        needed = max([ready[name] for names in op.reads.values() for name in names] + [0])
        if op.kind == "attn":
            op.layer = (needed + 1) // 2
        else:
            op.layer = max(0, needed // 2)
        for name in op.writes:
            ready[name] = max(ready.get(name, 0), write_stage(op))
        n_layers = max(n_layers, op.layer + 1)
    return n_layers


def schedule_late(ops: list[Op], n_layers: int, output: str) -> None:
    """Move each op to the latest layer its readers allow (same depth, shorter lifetimes)."""
    readers: dict[str, list[Op]] = {}
    for op in ops:
        for names in op.reads.values():
            for name in names:
                readers.setdefault(name, []).append(op)
    for op in reversed(ops):
        latest = n_layers - 1
        for name in op.writes:
            for reader in readers.get(name, []):
                if reader is op:
                    continue
                # A reader's input stage must be at or after this op's output stage.
                ok = reader.layer if (reader.kind != "attn" and op.kind == "attn") else reader.layer - 1
                latest = min(latest, ok)
        op.layer = max(op.layer, latest)
