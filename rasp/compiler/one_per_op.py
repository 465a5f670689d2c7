"""One component per RASP operation: the compile mode for circuit benchmarks.

`compile_program(..., one_per_op=True)` keeps tracr's layout: every Map / SequenceMap is
its own MLP part (never folded into the embeddings, never fused into its reader), every
Aggregate its own head (SelectorWidth and `length`: a head and a decoding MLP, as by
default), and every variable its own residual directions (no reuse of dead variables'
directions), so each RASP node lines up with its component(s) and a residual subspace.
Lowering skips folding and fusion (`LoweringState.one_per_op`); this module places the
ops (`placement`) and reads the alignment off a compiled model (`alignment`).

Maps whose inputs are all constants stay constants (there is nothing for an MLP to read);
joint variables of embedded SOps for | / ~ selectors stay in the embeddings (they are no
RASP operation). Loops are refused in this mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from rasp import core
from rasp.compiler.assemble import estimate_params
from rasp.compiler.ir import Op, Var
from rasp.compiler.layout import allocate
from rasp.compiler.placement import Placement
from rasp.compiler.schedule import op_reads
from rasp.graph import walk


def placement(ops: Sequence[Op], variables: dict[str, Var], output: Var, n_layers: int,
              n_tokens: int, max_seq_len: int) -> Placement:
    """Earliest layers and no direction reuse: every variable keeps its own subspace."""
    placed = list(ops)
    alloc = allocate(variables, placed, output.name, n_layers, False)
    erase_ops = [replace(op, reads=op_reads(op)) for op in alloc.erase_ops]
    all_ops = placed + erase_ops
    params = estimate_params(variables, all_ops, n_layers, alloc.d_model, output, n_tokens,
                             max_seq_len)
    ordered = sorted(all_ops, key=lambda op: op.layer)  # stable: keeps head order per layer
    return Placement(tuple(ordered), replace(alloc, erase_ops=erase_ops), params)


@dataclass(frozen=True)
class Aligned:
    """One RASP node's place in the model: its components, variables and directions."""

    label: str
    kind: str  # "tokens", "indices", "Map", "Aggregate", ... (the node's class)
    components: tuple[str, ...]  # e.g. ("L0H1",) or ("L0H0", "L0MLP"); () if embedded
    variables: tuple[str, ...]  # residual variables it writes (helpers such as .raw too)
    directions: tuple[int, ...]  # residual indices of those variables

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "kind": self.kind, "components": list(self.components),
                "variables": list(self.variables), "directions": list(self.directions)}


def alignment(compiled: Any) -> dict[str, Aligned]:
    """RASP SOp label -> its components and residual subspace, for every SOp node of the
    compiled program that the model stores or computes (constants are left out)."""
    layout = compiled.layout
    out: dict[str, Aligned] = {}
    for node in walk(compiled.program):
        if isinstance(node, core.Selector):
            continue
        label = node.label
        names = tuple(sorted(
            name for name in layout.directions
            if name == label or name.startswith(label + ".") or name.startswith(label + "#")))
        components = tuple(layout.component_of.get(label, []))
        if not names and not components:
            continue  # a constant, substituted wherever it is read
        directions = tuple(d for name in names for d in layout.directions[name])
        out[label] = Aligned(label, type(node).__name__, components, names, directions)
    return out
