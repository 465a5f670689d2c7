"""The compiler's intermediate form: variables, residual directions, MLP neurons and heads.

Everything is symbolic (directions are named by variable and value); the residual layout
turns names into indices only at assembly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

# A residual direction: (variable, value) for categorical, (variable, NUM) for numerical.
NUM = "<num>"
Dir = tuple[str, Any]
BOS_DIR: Dir = ("bos", NUM)


@dataclass
class Var:
    """One RASP SOp as stored in the residual stream.

    values: the values it can take (None excluded); None for a numerical variable whose
    value set is too large to enumerate. may_none: whether it can be None.
    source: "token" / "pos" (a function of the token / the position, written by the
    embeddings), "const", or "computed" (written by a head or an MLP).
    """

    name: str
    numerical: bool
    values: list[Any] | None
    may_none: bool = False
    source: str = "computed"
    fn: Callable[[Any], Any] | None = None  # token -> value or index -> value (embedded)
    const: Any = None
    # Numerical: value -> the near-equal floats it stands for (float rounding of sums).
    near: dict[Any, tuple[Any, ...]] = field(default_factory=dict)
    # A Map not stored yet: its table is composed into its single reader (fusion.py).
    pending: PendingMap | None = None

    def __eq__(self, other: object) -> bool:
        return self is other

    __hash__ = object.__hash__

    def dirs(self) -> list[Dir]:
        """The residual directions this variable occupies."""
        if self.numerical:
            return [(self.name, NUM)]
        return [(self.name, v) for v in self.values or []]

    @property
    def width(self) -> int:
        return 1 if self.numerical else len(self.values or [])

    @property
    def embedded(self) -> bool:
        return self.source in ("token", "pos", "const")


@dataclass(frozen=True)
class PendingMap:
    """A Map whose MLP is not emitted yet: its table over `leaves` is composed into its reader."""

    label: str
    leaves: tuple[Var, ...]
    table: dict[tuple, Any]
    caption: str


@dataclass(frozen=True)
class Neuron:
    """One MLP hidden unit: relu(sum w_in * x + bias) written with weights w_out."""

    w_in: dict[Dir, float]
    bias: float
    w_out: dict[Dir, float]


@dataclass(frozen=True)
class HeadSpec:
    """One attention head: per q/k dimension (weights, bias); per v/o dimension weights."""

    q: list[tuple[dict[Dir, float], float]]
    k: list[tuple[dict[Dir, float], float]]
    v: list[dict[Dir, float]]
    o: list[dict[Dir, float]]
    v_bias: list[float] = field(default_factory=list)
    # The selector's number of conjuncts, and whether the head counts (SelectorWidth: the
    # BOS key joins the selected keys) rather than aggregates. hygiene.py needs both.
    theta: int = 0
    counts: bool = False
    # The selector provably selects a key for every query (totality.py): the BOS key is
    # never the fallback, so hygiene.py may drop the head's `bos` key read.
    total: bool = False

    @property
    def d_head(self) -> int:
        return max(len(self.q), len(self.v), 1)


# "attn": an attention head; "mlp": MLP neurons computing a node; "erase": MLP neurons that
# clear a dead variable so another can reuse its directions (added by layout.py).
OpKind = Literal["attn", "mlp", "erase"]


@dataclass(frozen=True)
class Op:
    """One component's work: an attention head or an MLP part computing one RASP node.

    Frozen: each stage after lowering returns new ops (dataclasses.replace) with the fields
    it sets; lowering builds each op whole."""

    label: str  # the RASP node it computes (for an erase op: the variable it clears)
    kind: OpKind
    reads: dict[str, list[str]]  # slot (q/k/v or in) -> variable names
    writes: list[str]
    caption: str
    head: HeadSpec | None = None
    neurons: list[Neuron] = field(default_factory=list)
    layer: int = -1  # set by schedule.py (earliest), then placement.py (early or late)
    value_bound: float = 1.0  # largest |value| a head moves (sets its sharpness)
    selectors: tuple[str, ...] = ()  # a head: labels of the selector nodes that set its pattern
