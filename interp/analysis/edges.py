"""Edge-level interventions: change what one node reads from one upstream node.

An edge src -> dst.slot is removed by subtracting, from dst's input through `slot`,
src's current output minus its replacement (zero, mean, resampled or corrupted). The
model's per-head q/k/v input hooks and `hook_mlp_in` make each input separately
editable (see `component_hooks_enabled`); nothing else in the run changes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from interp.analysis.nodes import input_hook, output_hook, parse_node, select_output
from interp.analysis.replace import Replacement
from interp.circuit import Edge
from interp.errors import InputError
from interp.model import HookedTransformer

Hook = tuple[str, Callable]


@dataclass
class StackedDeltas:
    """Output minus replacement of many source nodes, stacked [n_sources, batch, pos, d]."""

    names: list[str]
    values: torch.Tensor

    def __post_init__(self) -> None:
        self.index = {name: i for i, name in enumerate(self.names)}


def edge_hooks(
    model: HookedTransformer,
    edges: Iterable[Edge],
    replacements: Mapping[str, Replacement],
    positions: Sequence[int] | None = None,
    known_outputs: Mapping[str, torch.Tensor] | None = None,
    known_deltas: StackedDeltas | None = None,
) -> list[Hook]:
    """Forward hooks that remove `edges`; run them with component hooks enabled.

    replacements: per source node, what it should look like to the cut edges.
    known_outputs: output-hook values of nodes that this run will not recompute
    (used when the run starts at a later layer, see `run_from_layer`); known_deltas:
    optionally, for such nodes, their output minus its replacement, precomputed.
    """
    edges = list(edges)
    store: dict[str, torch.Tensor] = dict(known_outputs or {})
    recomputed: set[str] = set()
    fresh: dict[str, torch.Tensor] = {}
    by_input: dict[str, dict[int | None, list[str]]] = defaultdict(lambda: defaultdict(list))
    source_hook = {}
    for edge in edges:
        if edge.src not in replacements:
            raise InputError(f"no replacement given for source node {edge.src!r} of edge {edge}.")
        source_hook[edge.src] = output_hook(edge.src, model)
        head = parse_node(edge.dst, model).head
        by_input[input_hook(edge.dst, edge.slot, model)][head].append(edge.src)

    def delta_of(src: str) -> torch.Tensor:
        # One subtraction per source per run, shared by all its cut edges.
        if src not in fresh:
            current = select_output(src, store[source_hook[src]], model)  # [batch, pos, d_model]
            fresh[src] = current - replacements[src].values(current)
        return fresh[src]

    def summed_delta(sources: list[str]) -> torch.Tensor:
        static = []
        total = None
        for src in sources:
            if known_deltas is not None and src in known_deltas.index and (
                source_hook[src] not in recomputed
            ):
                static.append(known_deltas.index[src])
            else:
                total = delta_of(src) if total is None else total + delta_of(src)
        if static:
            # Unchanged sources: one sum over the selected precomputed deltas (a product with
            # a 0/1 weight vector would touch every source's delta, however few are cut).
            part = known_deltas.values[static[0]] if len(static) == 1 else (
                known_deltas.values[static].sum(0))  # [batch, pos, d_model]
            total = part if total is None else total + part
        return total

    def capture(value: torch.Tensor, hook) -> torch.Tensor:
        store[hook.name] = value
        recomputed.add(hook.name)
        for src, name in source_hook.items():
            if name == hook.name:
                fresh.pop(src, None)
        return value

    def cut(value: torch.Tensor, hook) -> torch.Tensor:
        out = value.clone()
        for head, sources in by_input[hook.name].items():
            delta = summed_delta(sources)  # [batch, pos, d_model]
            if positions is not None:
                delta = delta * _position_mask(positions, delta.shape[1], delta)
            if head is None:
                out = out - delta
            else:
                out[:, :, head] = out[:, :, head] - delta
        return out

    sources = sorted(set(source_hook.values()))
    return [(name, capture) for name in sources] + [(name, cut) for name in sorted(by_input)]


def run_from_layer(
    model: HookedTransformer,
    resid_pre: torch.Tensor,
    layer: int,
    hooks: Sequence[Hook] = (),
) -> torch.Tensor:
    """Logits of the model started at block `layer` from a given `resid_pre` (skips the prefix)."""
    with temporary_hooks(model, hooks):
        resid = resid_pre
        for block in model.blocks[layer:]:
            resid = block(resid)
        return model.unembed(model.ln_final(resid))


@contextmanager
def temporary_hooks(model: HookedTransformer, hooks: Sequence[Hook]) -> Iterator[None]:
    """Add forward hooks and remove exactly those afterwards (TransformerLens' `hooks()`
    resets every hook point, which dominates the cost of ACDC's many small runs)."""
    added = []
    try:
        for name, fn in hooks:
            point = model.mod_dict[name]
            added.append((point, point.add_hook(fn)))
        yield
    finally:
        for point, handle in added:
            handle.hook.remove()
            point.fwd_hooks = [h for h in point.fwd_hooks if h is not handle]


def _position_mask(positions: Sequence[int], seq: int, like: torch.Tensor) -> torch.Tensor:
    mask = torch.zeros(seq, dtype=like.dtype)
    for p in positions:
        if not -seq <= p < seq:
            raise InputError(f"position {p} is outside the sequence of length {seq}.")
        mask[p] = 1.0
    return mask[None, :, None]
