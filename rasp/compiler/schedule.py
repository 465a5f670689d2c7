"""Scheduling: each op goes to the earliest layer where its inputs exist (minimal depth).

Residual stages (`interp.circuit.residual_stage`): 0 after the embeddings, 2l+1 after
layer l's attention, 2l+2 after its MLP. A head in layer l reads stage 2l and writes 2l+1;
an MLP reads 2l+1, writes 2l+2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

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


def schedule(ops: Sequence[Op], variables: dict[str, Var]) -> tuple[tuple[Op, ...], int]:
    """The ops (in dependency order) with `reads` and their earliest `layer` set, and the
    number of layers."""
    ready: dict[str, int] = {name: 0 for name, var in variables.items() if var.embedded}
    scheduled = []
    for op in ops:
        reads = op_reads(op)
        needed = max([ready[name] for names in reads.values() for name in names] + [0])
        layer = (needed + 1) // 2 if op.kind == "attn" else max(0, needed // 2)
        op = replace(op, reads=reads, layer=layer)
        for name in op.writes:
            ready[name] = max(ready.get(name, 0), write_stage(op))
        scheduled.append(op)
    return tuple(scheduled), max([op.layer + 1 for op in scheduled] + [0])


def late_layers(ops: Sequence[Op], n_layers: int) -> list[int]:
    """The latest layer of each scheduled op that its readers allow (same depth, shorter
    lifetimes)."""
    readers: dict[str, list[int]] = {}
    for i, op in enumerate(ops):
        for names in op.reads.values():
            for name in names:
                readers.setdefault(name, []).append(i)
    layers = [op.layer for op in ops]
    for i in reversed(range(len(ops))):
        op = ops[i]
        latest = n_layers - 1
        for name in op.writes:
            for j in readers.get(name, []):
                if j == i:
                    continue
                reader = ops[j]
                # A reader's input stage must be at or after this op's output stage.
                ok = layers[j] if (reader.kind != "attn" and op.kind == "attn") else layers[j] - 1
                latest = min(latest, ok)
        layers[i] = max(layers[i], latest)
    return layers
