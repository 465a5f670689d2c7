"""The component graph of a model: the shared vocabulary of ground-truth circuits
(from the RASP compiler) and discovered circuits (from interp.analysis).

Nodes: `embed` (token embedding), `pos_embed` (positional embedding), `L{l}H{h}`
(attention head h of layer l), `MLP{l}`, and `logits` (the unembedding, which
reads the final residual stream). An edge says "dst reads what src wrote":
`Edge("L0H1", "L1H0", "q")` is head L0H1's output read by L1H0's queries.
Heads have input slots q, k, v; MLPs and logits one slot, `in`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Literal, get_args

from interp.errors import InputError

if TYPE_CHECKING:  # only for annotations: interp.model imports this module (labels use stages)
    from interp.model.config import ModelConfig

HEAD_SLOTS = ("q", "k", "v")

# How a removed component is replaced, and how circuits are found: defined once, here,
# because the CLI lists them without importing torch.
Ablation = Literal["zero", "mean", "resample"]
ABLATION_KINDS: tuple[str, ...] = get_args(Ablation)
Method = Literal["acdc", "eap", "eap-ig", "sp"]
METHODS: tuple[str, ...] = get_args(Method)
NodeKind = Literal["embed", "pos_embed", "head", "mlp", "logits"]
_HEAD = re.compile(r"^L(\d+)H(\d+)$")
_MLP = re.compile(r"^MLP(\d+)$")
_SUBLAYER = {"pre": 0, "mid": 1, "post": 2}


def residual_stage(layer: int, where: str) -> int:
    """The stage number of `blocks.{layer}.hook_resid_{where}` (where: pre, mid or post):
    stage 0 is the embeddings' output, 2l+1 follows layer l's attention, 2l+2 its MLP.
    The one definition of this numbering: residual labels, the compiler's schedule and the
    dashboard's figures should all call it."""
    if where not in _SUBLAYER:
        raise InputError(f"residual position {where!r} is not one of pre, mid, post.")
    return 2 * layer + _SUBLAYER[where]


@dataclass(frozen=True)
class Node:
    """One component of the graph: kind, and its layer (and head, for attention heads).

    `Node.parse("L1H0")` and `node.name` convert from and to the string names that
    `Edge` and `Circuit` (and JSON files) use."""

    kind: NodeKind
    layer: int = -1  # -1 for embed, pos_embed and logits
    head: int | None = None

    def __post_init__(self) -> None:
        needs_layer = self.kind in ("head", "mlp")
        if self.kind not in get_args(NodeKind):
            raise InputError(f"unknown node kind {self.kind!r}.")
        if needs_layer != (self.layer >= 0) or (self.kind == "head") != (self.head is not None):
            raise InputError(
                f"Node({self.kind!r}, layer={self.layer}, head={self.head}) is malformed: heads take "
                "a layer and a head, MLPs a layer, embed/pos_embed/logits neither."
            )

    @property
    def name(self) -> str:
        """The string name: embed, pos_embed, L{layer}H{head}, MLP{layer} or logits."""
        if self.kind == "head":
            return f"L{self.layer}H{self.head}"
        if self.kind == "mlp":
            return f"MLP{self.layer}"
        return self.kind

    def __str__(self) -> str:
        return self.name

    @classmethod
    def parse(cls, name: str) -> Node:
        """The node called `name` (inverse of `.name`)."""
        return _parse(name)

    @property
    def stage(self) -> int | None:
        """The residual stage at which this node's output is first in the stream
        (see `residual_stage`); None for `logits`, which writes nothing."""
        if self.kind in ("embed", "pos_embed"):
            return 0
        if self.kind == "head":
            return residual_stage(self.layer, "mid")
        if self.kind == "mlp":
            return residual_stage(self.layer, "post")
        return None

    @property
    def sort_key(self) -> tuple[int, int]:
        """Sort key in computation order: embeddings first, then per layer heads before
        the MLP, logits last."""
        if self.kind == "logits":
            return (10**9, 0)
        return (self.layer, 1 if self.kind == "mlp" else 0)

    @property
    def slots(self) -> tuple[str, ...]:
        """The input slots of this node: q, k, v for heads, `in` for MLPs and logits."""
        if self.kind in ("embed", "pos_embed"):
            return ()
        return HEAD_SLOTS if self.kind == "head" else ("in",)


@lru_cache(maxsize=65536)
def _parse(name: str) -> Node:
    # Cached: discovery parses the same few hundred names millions of times.
    if name in ("embed", "pos_embed", "logits"):
        return Node(name)
    match = _HEAD.match(name) if isinstance(name, str) else None
    if match:
        return Node("head", int(match.group(1)), int(match.group(2)))
    match = _MLP.match(name) if isinstance(name, str) else None
    if match:
        return Node("mlp", int(match.group(1)))
    raise InputError(f"unknown circuit node {name!r}; nodes are embed, pos_embed, L<l>H<h>, "
                     "MLP<l>, logits.")


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


    @property
    def src_node(self) -> Node:
        return Node.parse(self.src)

    @property
    def dst_node(self) -> Node:
        return Node.parse(self.dst)


def head_name(layer: int, head: int) -> str:
    return Node("head", layer, head).name


def mlp_name(layer: int) -> str:
    return Node("mlp", layer).name


def nodes(cfg: ModelConfig) -> list[Node]:
    """Every node in computation order (sources first, `logits` last)."""
    out = [Node("embed")]
    if cfg.positional_embedding == "learned":
        out.append(Node("pos_embed"))
    for layer in range(cfg.n_layers):
        out += [Node("head", layer, h) for h in range(cfg.n_heads)]
        if not cfg.attn_only:
            out.append(Node("mlp", layer))
    return out + [Node("logits")]


def node_order(cfg: ModelConfig) -> list[str]:
    """Every node name in computation order (sources first, `logits` last)."""
    return [node.name for node in nodes(cfg)]


def node_layer_position(name: str) -> tuple[int, int]:
    """Sort key: (layer, 0 for heads / 1 for the MLP); embeddings first, logits last."""
    return Node.parse(name).sort_key


def input_slots(node: str) -> tuple[str, ...]:
    """The input slots of a node (none for the embeddings)."""
    return Node.parse(node).slots


@dataclass
class Circuit:
    """A set of nodes and edges over a model's component graph, optionally scored."""

    nodes: list[str]
    edges: list[Edge]
    scores: dict[Edge, float] = field(default_factory=dict)

    @classmethod
    def full(cls, cfg: ModelConfig) -> Circuit:
        """Every edge a model with this config could use (the search space of discovery)."""
        order = nodes(cfg)
        edges = []
        for j, dst in enumerate(order):
            for src in order[:j]:
                if src.sort_key >= dst.sort_key:
                    continue
                # Heads of one layer run in parallel and cannot read each other.
                edges += [Edge(src.name, dst.name, slot) for slot in dst.slots]
        return cls([n.name for n in order], edges)

    @classmethod
    def of_edges(cls, edges: list[Edge], order: list[str]) -> Circuit:
        """The circuit of `edges`, its nodes those they touch, in `order`."""
        touched = {e.src for e in edges} | {e.dst for e in edges}
        return cls([n for n in order if n in touched], list(edges))

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
