"""Residual layout: which directions hold which variable when (register allocation).

A variable occupies its directions from the stage it is written until its last reader.
After that an MLP of the last reader's layer can subtract it (erase neurons), and a
variable written later may reuse the directions. Reuse is only kept when it makes the
model smaller, since erasing costs MLP neurons.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from interp.circuit import Node
from interp.model.labels import ResidualLabel
from rasp.compiler import mlp
from rasp.compiler.ir import Dir, Op, Var
from rasp.compiler.schedule import read_stage, write_stage
from rasp.compiler.values import label_value


@dataclass
class Allocation:
    """Directions of every stored variable, plus the erase ops that make reuse possible."""

    index: dict[Dir, int]
    d_model: int
    labels: list[ResidualLabel]
    erase_ops: list[Op] = field(default_factory=list)
    slots: dict[str, list[int]] = field(default_factory=dict)


def stored_variables(variables: dict[str, Var], ops: list[Op], output: str) -> list[str]:
    """Variables that need residual directions: read by some op, or the output."""
    needed = {"bos", output}
    for op in ops:
        for names in op.reads.values():
            needed.update(names)
    return [name for name in variables if name in needed]


def allocate(
    variables: dict[str, Var], ops: list[Op], output: str, n_layers: int, reuse: bool
) -> Allocation:
    """Assign directions; with `reuse`, dead variables' directions are recycled."""
    names = stored_variables(variables, ops, output)
    writer = {name: op for op in ops for name in op.writes}
    last_read: dict[str, int] = {}
    for op in ops:
        for slot_names in op.reads.values():
            for name in slot_names:
                last_read[name] = max(last_read.get(name, -1), read_stage(op))
    final = 2 * n_layers + 1
    last_read[output] = final
    last_read["bos"] = final

    def born(name: str) -> int:
        return 0 if name not in writer else write_stage(writer[name])

    order = sorted(names, key=lambda n: (born(n), n != "bos", names.index(n)))
    pool: list[tuple[int, int, str]] = []  # (direction, layer where its owner dies, owner)
    slots: dict[str, list[int]] = {}
    erased: dict[str, list[str]] = {}
    next_index = 0
    for name in order:
        var = variables[name]
        taken: list[int] = []
        if reuse and name in writer:
            op = writer[name]
            usable = [
                entry for entry in pool
                if (entry[1] < op.layer if op.kind == "attn" else entry[1] <= op.layer)
            ]
            for entry in usable[: var.width]:
                pool.remove(entry)
                taken.append(entry[0])
                erased.setdefault(entry[2], [])
                if name not in erased[entry[2]]:
                    erased[entry[2]].append(name)
        while len(taken) < var.width:
            taken.append(next_index)
            next_index += 1
        slots[name] = taken
        if name not in ("bos", output) and last_read.get(name, final) < final:
            dies = last_read[name] // 2
            pool += [(i, dies, name) for i in taken]

    index: dict[Dir, int] = {}
    labels = []
    for name in order:
        var = variables[name]
        last = 2 * (last_read[name] // 2) + 1 if name in erased else None
        for d, i in zip(var.dirs(), slots[name]):
            index[d] = i
            labels.append(
                ResidualLabel(i, name, None if var.numerical else label_value(d[1]),
                              var.numerical, born(name), last)
            )
    erase_ops = [
        Op(name, "erase", {"in": [name]}, reusers, f"clear {name} for {', '.join(reusers)}",
           neurons=mlp.erase(variables[name]), layer=last_read[name] // 2)
        for name, reusers in erased.items()
    ]
    labels.sort(key=lambda lb: (lb.index, lb.first_stage))
    return Allocation(index, max(next_index, 1), labels, erase_ops, slots)


def component_names(ops: list[Op]) -> dict[int, str]:
    """Circuit node name of each op (by id): heads numbered in order within their layer;
    MLP parts (erase ops included) share their layer's MLP."""
    names: dict[int, str] = {}
    heads_in_layer: dict[int, int] = {}
    for op in ops:
        if op.kind == "attn":
            h = heads_in_layer.get(op.layer, 0)
            heads_in_layer[op.layer] = h + 1
            names[id(op)] = Node("head", op.layer, h).name
        else:
            names[id(op)] = Node("mlp", op.layer).name
    return names
