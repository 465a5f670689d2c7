"""The public map between a RASP program and its compiled model (`CompiledModel.layout`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from interp.circuit import Circuit, Edge, node_layer_position
from interp.model import ResidualLabels


@dataclass
class ProgramLayout:
    """Where each RASP variable lives and which component computes each RASP node.

    directions: variable -> residual direction indices (in value order).
    component_of: RASP node label -> components computing it (e.g. ["L0H1"], or
    ["L0H0", "MLP0"] for a SelectorWidth). node_of: component -> RASP node labels.
    captions: component -> "L0H1: x = Aggregate(...)" text. reads: component -> slot ->
    variables read; writes: component -> variables written; embedded: variable ->
    "embed" or "pos_embed"; output: the output variable; selector_of: selector label ->
    the heads whose attention pattern it sets.
    """

    labels: ResidualLabels
    directions: dict[str, list[int]]
    component_of: dict[str, list[str]]
    node_of: dict[str, list[str]]
    captions: dict[str, str]
    reads: dict[str, dict[str, list[str]]]
    writes: dict[str, list[str]]
    embedded: dict[str, str]
    output: str
    # Selector node label -> heads whose attention pattern it sets (Selects, And/Or/Not).
    selector_of: dict[str, list[str]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def circuit(self) -> Circuit:
        """Ground-truth component circuit: dst.slot reads a residual direction src writes.

        Edges are found per direction, not per variable: when register allocation hands a
        dead variable's directions to a new one, the new variable's readers also read what
        the dead variable's writers put there (cancelled only by an erasing write), and
        cutting such an edge does change the output, so it belongs to the circuit.
        """
        written: dict[str, set[int]] = {}
        for var, component in self.embedded.items():
            written.setdefault(component, set()).update(self.directions.get(var, []))
        for component, names in self.writes.items():
            for var in names:
                written.setdefault(component, set()).update(self.directions.get(var, []))
        edges: set[Edge] = set()
        reads = dict(self.reads)
        reads["logits"] = {"in": [self.output]}
        for dst, slots in reads.items():
            for slot, names in slots.items():
                read = {d for var in names for d in self.directions.get(var, [])}
                for src, directions in written.items():
                    if directions & read and node_layer_position(src) < node_layer_position(dst):
                        edges.add(Edge(src, dst, slot))
        nodes = {e.src for e in edges} | {e.dst for e in edges}
        ordered = sorted(nodes, key=lambda n: (node_layer_position(n), n))
        return Circuit(ordered, sorted(edges))

    def to_json(self) -> dict[str, Any]:
        return {
            "directions": self.directions,
            "component_of": self.component_of,
            "node_of": self.node_of,
            "captions": self.captions,
            "reads": self.reads,
            "writes": self.writes,
            "embedded": self.embedded,
            "output": self.output,
            "selector_of": self.selector_of,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], labels: ResidualLabels) -> ProgramLayout:
        return cls(labels=labels, **data)
