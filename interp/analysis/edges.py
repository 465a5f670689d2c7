"""Edge-level interventions: change what one node reads from one upstream node.

An edge src -> dst.slot is removed by subtracting, from dst's input through `slot`,
src's current output minus its replacement (zero, mean, resampled or corrupted). The
model's per-head q/k/v input hooks and `hook_mlp_in` make each input separately
editable (see `component_hooks_enabled`); nothing else in the run changes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence

import torch

from interp.analysis.nodes import input_hook, output_hook, parse_node, select_output
from interp.analysis.replace import Replacement
from interp.circuit import Edge
from interp.errors import InputError
from interp.model import HookedTransformer

Hook = tuple[str, Callable]


def edge_hooks(
    model: HookedTransformer,
    edges: Iterable[Edge],
    replacements: Mapping[str, Replacement],
    positions: Sequence[int] | None = None,
    known_outputs: Mapping[str, torch.Tensor] | None = None,
) -> list[Hook]:
    """Forward hooks that remove `edges`; run them with component hooks enabled.

    replacements: per source node, what it should look like to the cut edges.
    known_outputs: output-hook values of nodes that this run will not recompute
    (used when the run starts at a later layer, see `run_from_layer`).
    """
    edges = list(edges)
    store: dict[str, torch.Tensor] = dict(known_outputs or {})
    by_input: dict[str, list[tuple[int | None, str]]] = defaultdict(list)
    for edge in edges:
        if edge.src not in replacements:
            raise InputError(f"no replacement given for source node {edge.src!r} of edge {edge}.")
        by_input[input_hook(edge.dst, edge.slot, model)].append(
            (parse_node(edge.dst, model).head, edge.src)
        )

    def capture(value: torch.Tensor, hook) -> torch.Tensor:
        store[hook.name] = value
        return value

    def cut(value: torch.Tensor, hook) -> torch.Tensor:
        out = value.clone()
        for head, src in by_input[hook.name]:
            current = select_output(src, store[output_hook(src, model)], model)
            delta = current - replacements[src].values(current)
            if positions is not None:
                delta = delta * _position_mask(positions, delta.shape[1], delta)
            if head is None:
                out = out - delta
            else:
                out[:, :, head] = out[:, :, head] - delta
        return out

    sources = sorted({output_hook(e.src, model) for e in edges})
    return [(name, capture) for name in sources] + [(name, cut) for name in sorted(by_input)]


def run_from_layer(
    model: HookedTransformer,
    resid_pre: torch.Tensor,
    layer: int,
    hooks: Sequence[Hook] = (),
) -> torch.Tensor:
    """Logits of the model started at block `layer` from a given `resid_pre` (skips the prefix)."""
    with model.hooks(fwd_hooks=list(hooks)):
        resid = resid_pre
        for block in model.blocks[layer:]:
            resid = block(resid)
        return model.unembed(model.ln_final(resid))


def _position_mask(positions: Sequence[int], seq: int, like: torch.Tensor) -> torch.Tensor:
    mask = torch.zeros(seq, dtype=like.dtype)
    for p in positions:
        if not -seq <= p < seq:
            raise InputError(f"position {p} is outside the sequence of length {seq}.")
        mask[p] = 1.0
    return mask[None, :, None]
