"""Which component matters for one input: each head's effect on the output at the answer
positions (zero-ablation, one head at a time), and which labelled variable varies most.

Views open on what these pick, so a user starts on the head that computes the answer
rather than on an empty L0H0. Model-generic: any HookedTransformer, any labelled readout.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from interp.analysis.metrics import distance_to
from interp.circuit import head_name
from interp.model import HookedTransformer


@dataclass(frozen=True)
class Pick:
    """A chosen component, its score, and a one-line reason for a caption."""

    name: str
    score: float
    reason: str


def _zero_heads(layer: int, n_heads: int, rows: int) -> Callable[[torch.Tensor, Any], torch.Tensor]:
    """Zero head h of `layer` in the h-th block of `rows` rows of this layer's copy."""
    def hook(z: torch.Tensor, hook: Any) -> torch.Tensor:  # z: [copies * rows, pos, n_heads, d_head]
        z = z.clone()
        for head in range(n_heads):
            start = (layer * n_heads + head) * rows
            z[start:start + rows, :, head] = 0.0
        return z

    return hook


def head_effects(model: HookedTransformer, inputs: torch.Tensor,
                 positions: Sequence[int] | None = None) -> dict[str, float]:
    """Every head's zero-ablation effect: the distance (KL, or squared error for one numerical
    output) between the clean outputs and those with that head's output zeroed, at `positions`
    (None: all). Keys are `L0H1` names, in layer-major order."""
    n_layers, n_heads = model.cfg.n_layers, model.cfg.n_heads
    rows = inputs.shape[0]
    copies = n_layers * n_heads
    effects: dict[str, float] = {}
    if copies == 0:
        return effects
    with torch.no_grad():
        metric = distance_to(model(inputs), positions)
        # One forward for all heads: copy c of the batch has head c (layer-major) zeroed.
        batch = inputs.repeat(copies, *([1] * (inputs.dim() - 1)))  # [copies * rows, pos(, d)]
        hooks = [(f"blocks.{layer}.attn.hook_z", _zero_heads(layer, n_heads, rows))
                 for layer in range(n_layers)]
        with model.hooks(fwd_hooks=hooks):
            logits = model(batch)  # [copies * rows, pos, d_vocab_out]
        for copy in range(copies):
            part = logits[copy * rows:(copy + 1) * rows]
            effects[head_name(*divmod(copy, n_heads))] = max(0.0, float(metric(part)))
    return effects


NEGLIGIBLE = 1e-4  # a head effect (KL or squared error) below this changes no answer visibly


def top_head(effects: Mapping[str, float], allowed: Sequence[str] | None = None) -> Pick | None:
    """The head with the largest effect (ties: the earliest), restricted to `allowed` when
    given; None when there is no head."""
    names = [n for n in effects if allowed is None or n in allowed]
    if not names:
        return None
    best = max(names, key=lambda n: (effects[n], -names.index(n)))
    ranked = sorted(names, key=lambda n: -effects[n])
    runner = next((n for n in ranked if n != best), None)
    if effects[best] <= 0.0:
        return Pick(best, 0.0, f"{best}: no head changes the output at the answer positions when "
                    "zeroed, so the first one is shown.")
    second = f"; next {runner} {effects[runner]:.3g}" if runner is not None else ""
    if effects[best] < NEGLIGIBLE:
        # "Most" would oversell it (the one-head Markov model: 9e-07): say nothing matters much.
        return Pick(best, effects[best], f"{best}: zeroing any one head barely changes the output at "
                    f"the answer positions here (largest distance {effects[best]:.3g}{second}).")
    return Pick(best, effects[best], f"{best}: zeroing it changes the output at the answer positions "
                f"most (distance {effects[best]:.3g}{second}).")


def most_varied(values: Mapping[str, Sequence[Any]], prefer: str | None = None) -> Pick | None:
    """The variable whose values (one per position; None: not held there) take the most
    distinct values; `prefer` (the output) wins whenever it holds two or more distinct values,
    and a variable held nowhere is never picked (it would draw a blank chart)."""
    counts = {name: len({repr(v) for v in seq if v is not None}) for name, seq in values.items()}
    held = [n for n in values if counts[n] > 0]
    if not held:
        return None
    if prefer in held and counts[prefer] >= 2:
        return Pick(prefer, float(counts[prefer]), f"{prefer}: the output variable "
                    f"({counts[prefer]} distinct values on this input).")
    best = max(held, key=lambda n: (counts[n], -held.index(n)))
    why = f"{best}: the variable with the most distinct values on this input ({counts[best]})"
    if prefer is not None and prefer != best:
        why += f"; the output {prefer} is {'constant' if prefer in held else 'not held'} here"
    return Pick(best, float(counts[best]), why + ".")
