"""Numerics: attention sharpness from value spacing and sequence length, checked margins.

Every value is carried with an absolute error below `tolerance`: a sixteenth of the
smallest gap between two values of any numerical variable (so staircase MLPs, whose
ramps need an error below gap/8, always land on the right step, and the final read-out
snaps to the right value). A head leaks weight e^(-s/2) per wrong key; its sharpness s
makes the total leak times the largest value it moves stay below that tolerance.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import replace

from rasp.compiler.errors import CompileWarning
from rasp.compiler.ir import Op, Var
from rasp.compiler.values import min_gap

# float32 resolves about 1e-7 relative; below this tolerance exactness is not guaranteed.
FLOAT32_FLOOR = 2e-6


def tolerance(variables: dict[str, Var], discretized: set[str]) -> float:
    """Error budget for every value in the model (from the variables read by staircases)."""
    gaps = [min_gap(variables[n].values) for n in discretized if variables[n].numerical]
    return min([1e-3] + [g / 16 for g in gaps])


def sharpness(max_seq_len: int, value_bound: float, tol: float) -> float:
    """Softmax scale s with (max_seq_len + 1) * e^(-s/2) * value_bound <= tol."""
    return 2.0 * (math.log(max_seq_len + 1) + math.log(max(value_bound, 1.0) / tol))


def apply_sharpness(ops: Sequence[Op], max_seq_len: int, tol: float) -> tuple[Op, ...]:
    """The ops with every head's query weights multiplied by its sharpness."""
    return tuple(_sharpened(op, max_seq_len, tol) if op.kind == "attn" else op for op in ops)


def _sharpened(op: Op, max_seq_len: int, tol: float) -> Op:
    s = sharpness(max_seq_len, op.value_bound, tol)
    q = [({d: w * s for d, w in weights.items()}, b * s) for weights, b in op.head.q]
    return replace(op, head=replace(op.head, q=q))


def warn_if_imprecise(variables: dict[str, Var], discretized: set[str], tol: float) -> None:
    """CompileWarning when float32 cannot hold values to the needed precision."""
    for name in sorted(discretized):
        var = variables[name]
        if not var.numerical or not var.values:
            continue
        scale = max(abs(v) for v in var.values)
        if scale and tol / scale < FLOAT32_FLOOR:
            warnings.warn(
                f"numerical SOp '{var.name}' has values {min_gap(var.values):.3g} apart at "
                f"magnitude {scale:.3g}; float32 may not resolve them, so decoded outputs can "
                "differ from the interpreter. Use a smaller max_seq_len or coarser values.",
                CompileWarning,
                stacklevel=3,
            )
