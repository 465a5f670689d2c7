"""Residual layout: which directions hold which variable when (register allocation).

A variable occupies its directions from the stage it is written until its last reader.
After that an MLP of the last reader's layer can subtract it (erase neurons), and a
variable written later may reuse the directions. Reuse is only kept when it makes the
model smaller, since erasing costs MLP neurons.

Reuse never adds a circuit edge: a reader of the new variable also reads whatever every
earlier owner's writers (and the erasing MLP) put on those directions, and such an edge is
usually inert (the erase cancels it) yet would be listed by `ProgramLayout.circuit()`. So
a direction is reused only when every edge it would add already connects the same two
components through the variables they really share (`_edges_by_variable`); otherwise a
fresh direction is used. The ground truth then has no reuse-made edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from interp.circuit import Node
from interp.model.labels import ResidualLabel
from rasp.compiler import mlp
from rasp.compiler.ir import BOS_DIR, Dir, Op, Var
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
    variables: dict[str, Var], ops: list[Op], output: str, n_layers: int, reuse: bool,
    add_edges: bool = False,
) -> Allocation:
    """Assign directions; with `reuse`, dead variables' directions are recycled, only where
    that adds no circuit edge unless `add_edges` (the smallest model; its circuit may then
    list edges the erase cancels)."""
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

    def writer_of(name: str) -> Any:
        if name in writer:
            return _component(writer[name])
        return "pos_embed" if variables[name].source == "pos" else "embed"

    shared = _edges_by_variable(ops, output, writer_of)
    readers: dict[str, list[tuple[Any, str]]] = {}
    for op in ops:
        for slot, slot_names in op.reads.items():
            for name in slot_names:
                readers.setdefault(name, []).append((_component(op), slot))
    readers.setdefault(output, []).append(("logits", "in"))
    history: dict[int, set[Any]] = {}  # direction -> components that have written it
    erase_component = {}  # dead variable -> the MLP that erases it

    def adds_no_edge(direction: int, owner: str, name: str) -> bool:
        eraser = ("mlp", last_read[owner] // 2)
        sources = history[direction] | {eraser}
        if any((src, dst, slot) not in shared for src in sources for dst, slot in readers.get(name, [])):
            return False
        # The eraser reads the dead variable's directions, so their writers feed it.
        return all((src, eraser, "in") in shared for d in slots[owner] for src in history[d])

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
            if not add_edges:
                usable = [entry for entry in usable if adds_no_edge(entry[0], entry[2], name)]
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
        for i in taken:
            history.setdefault(i, set()).add(writer_of(name))
            if i in erase_component:
                history[i].add(erase_component.pop(i))
        if name not in ("bos", output) and last_read.get(name, final) < final:
            dies = last_read[name] // 2
            pool += [(i, dies, name) for i in taken]
        for entry in pool:
            erase_component.setdefault(entry[0], ("mlp", entry[1]))

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


def _component(op: Op) -> Any:
    """A circuit component before naming: one head per attention op; one MLP per layer."""
    return ("head", id(op)) if op.kind == "attn" else ("mlp", op.layer)


def _edges_by_variable(ops: list[Op], output: str, writer_of: Any) -> set[tuple[Any, Any, str]]:
    """(source, destination, slot) of every component pair joined by a variable the
    destination reads (BOS reads left out: hygiene may drop them later)."""
    edges = {(writer_of(output), "logits", "in")}
    for op in ops:
        for slot, names in op.reads.items():
            for name in names:
                if name != BOS_DIR[0]:
                    edges.add((writer_of(name), _component(op), slot))
    return edges


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
