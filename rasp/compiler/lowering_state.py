"""What lowering has built so far: variables by name and ops in dependency order.

The lowering modules (embedding.py, maps.py, fusion.py, scores.py, heads.py) add to one
`LoweringState` while lower.py walks the program; lower.py then freezes it into `Lowered`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rasp import core
from rasp.compiler import mlp
from rasp.compiler.ir import Neuron, Op, Var
from rasp.compiler.value_sets import check_mlp_size, settle_values
from rasp.limits import Limits


@dataclass
class LoweringState:
    """Variables and ops of one program being lowered (see `Lowered` for each field)."""

    vocab: list[Any]
    max_seq_len: int
    causal: bool
    limits: Limits
    vars: dict[str, Var] = field(default_factory=lambda: {"bos": Var("bos", True, [1.0], source="token")})
    ops: list[Op] = field(default_factory=list)
    bos_bounds: dict[str, float] = field(default_factory=dict)
    # Joint variable name -> the variables whose tuple it holds (scores.py).
    joint_parts: dict[str, list[str]] = field(default_factory=dict)
    # Maps composed into their reader: label -> reader label (they share its MLP).
    fused: dict[str, str] = field(default_factory=dict)
    # Numerical variables read by staircases: their value gaps set the error budget.
    discretized: set[str] = field(default_factory=set)
    # one_per_op.py's mode: every Map / SequenceMap gets its own MLP (no folding, no fusion).
    one_per_op: bool = False

    @classmethod
    def start(cls, vocab: Sequence[Any], max_seq_len: int, causal: bool,
              limits: Limits, one_per_op: bool = False) -> LoweringState:
        """An empty state (only the `bos` variable) for one program."""
        return cls(list(vocab), max_seq_len, causal, limits, one_per_op=one_per_op)

    def positions(self, source: str) -> list[Any]:
        """The inputs an embedded function sees: the vocabulary ("token") or positions ("pos")."""
        return self.vocab if source == "token" else list(range(self.max_seq_len))

    def name(self, node: core.RASPExpr, suffix: str = "") -> str:
        """A fresh variable name for `node` (its label, numbered if taken)."""
        base = node.label + suffix
        name, i = base, 2
        while name in self.vars:
            name, i = f"{base}#{i}", i + 1
        return name

    def add(self, var: Var) -> Var:
        """Register a new variable (its values checked and settled first)."""
        self.vars[var.name] = settle_values(var, self.limits)
        return var

    def consts(self) -> set[str]:
        """Names of the constant variables (substituted, never stored)."""
        return {name for name, var in self.vars.items() if var.source == "const"}

    def emit_mlp(self, label: str, neurons: list[Neuron], writes: list[str], caption: str) -> None:
        """Append an MLP op (its neurons gated to write nothing at the BOS position)."""
        neurons = [mlp.gate_bos(n, self.bos_bounds) for n in neurons]
        self.ops.append(Op(label, "mlp", {}, writes, caption, neurons=neurons))

    def emit_table(self, label: str, leaves: list[Var], table: dict[tuple, Any], out: Var,
                   caption: str) -> None:
        """Append the MLP storing `out` = table[leaf values]."""
        check_mlp_size(label, out, self.limits)
        self.discretized.update(v.name for v in leaves if v.numerical)
        self.emit_mlp(label, mlp.table_neurons(leaves, table, out), [out.name], caption)
