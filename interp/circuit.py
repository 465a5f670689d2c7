"""The component graph of a model: the shared vocabulary of ground-truth circuits
(from the RASP compiler) and discovered circuits (from interp.analysis).

Nodes: `embed` (token embedding), `pos_embed` (positional embedding), `L{l}H{h}`
(attention head h of layer l), `MLP{l}`, and `logits` (the unembedding, which
reads the final residual stream). An edge says "dst reads what src wrote":
`Edge("L0H1", "L1H0", "q")` is head L0H1's output read by L1H0's queries.
Heads have input slots q, k, v; MLPs and logits one slot, `in`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from interp.errors import InputError
from interp.model.config import ModelConfig

HEAD_SLOTS = ("q", "k", "v")


@dataclass(frozen=True, order=True)
class Edge:
    """`dst` (through input `slot`) reads the residual contribution of `src`."""

    src: str
    dst: str
    slot: str = "in"

    def __str__(self) -> str:
        return f"{self.src}->{self.dst}" + (f".{self.slot}" if self.slot != "in" else "")

    @classmethod
    def parse(cls, text: str) -> Edge:
        """Inverse of `str(edge)`."""
        src, arrow, rest = text.partition("->")
        if not arrow:
            raise InputError(f"edge {text!r} is not of the form SRC->DST[.q|.k|.v].")
        dst, _, slot = rest.partition(".")
        return cls(src, dst, slot or "in")


def head_name(layer: int, head: int) -> str:
    return f"L{layer}H{head}"


def mlp_name(layer: int) -> str:
    return f"MLP{layer}"


def node_order(cfg: ModelConfig) -> list[str]:
    """Every node in computation order (sources first, `logits` last)."""
    nodes = ["embed"]
    if cfg.positional_embedding == "learned":
        nodes.append("pos_embed")
    for layer in range(cfg.n_layers):
        nodes += [head_name(layer, h) for h in range(cfg.n_heads)]
        if not cfg.attn_only:
            nodes.append(mlp_name(layer))
    return nodes + ["logits"]


def node_layer_position(name: str) -> tuple[int, int]:
    """Sort key: (layer, 0 for heads / 1 for the MLP); embeddings first, logits last."""
    if name in ("embed", "pos_embed"):
        return (-1, 0)
    if name == "logits":
        return (10**9, 0)
    if name.startswith("MLP"):
        return (int(name[3:]), 1)
    if name.startswith("L") and "H" in name:
        return (int(name[1 : name.index("H")]), 0)
    raise InputError(f"unknown circuit node {name!r}.")


def input_slots(node: str) -> tuple[str, ...]:
    """The input slots of a node (none for the embeddings)."""
    if node in ("embed", "pos_embed"):
        return ()
    return HEAD_SLOTS if node.startswith("L") else ("in",)


@dataclass
class Circuit:
    """A set of nodes and edges over a model's component graph, optionally scored."""

    nodes: list[str]
    edges: list[Edge]
    scores: dict[Edge, float] = field(default_factory=dict)

    @classmethod
    def full(cls, cfg: ModelConfig) -> Circuit:
        """Every edge a model with this config could use (the search space of discovery)."""
        order = node_order(cfg)
        edges = []
        for j, dst in enumerate(order):
            for src in order[:j]:
                if node_layer_position(src) >= node_layer_position(dst):
                    continue
                # Heads of one layer run in parallel and cannot read each other.
                edges += [Edge(src, dst, slot) for slot in input_slots(dst)]
        return cls(order, edges)

    def edge_set(self) -> set[Edge]:
        return set(self.edges)

    def to_json(self) -> dict:
        return {
            "nodes": list(self.nodes),
            "edges": [str(e) for e in self.edges],
            "scores": {str(e): s for e, s in self.scores.items()},
        }

    @classmethod
    def from_json(cls, data: dict) -> Circuit:
        return cls(
            list(data["nodes"]),
            [Edge.parse(e) for e in data["edges"]],
            {Edge.parse(e): float(s) for e, s in data.get("scores", {}).items()},
        )
