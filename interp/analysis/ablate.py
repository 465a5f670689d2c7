"""Zero, mean and resample ablation of nodes, heads, MLPs, neurons and edges, at all or
some positions: `with ablate(model, heads=[(0, 1)], kind="mean", reference=batch): ...`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch

from interp.analysis.edges import edge_hooks
from interp.analysis.metrics import Metric
from interp.analysis.nodes import component_hooks_enabled, output_hook, parse_node
from interp.analysis.replace import check_kind, make_replacement
from interp.circuit import Edge, head_name, mlp_name
from interp.errors import InputError
from interp.model import HookedTransformer


@contextmanager
def ablate(
    model: HookedTransformer,
    nodes: Iterable[str] = (),
    heads: Iterable[tuple[int, int]] = (),
    mlps: Iterable[int] = (),
    neurons: Iterable[tuple[int, int]] = (),
    edges: Iterable[Edge | str] = (),
    positions: Sequence[int] | None = None,
    kind: str = "zero",
    reference: Any = None,
    seed: int = 0,
) -> Iterator[HookedTransformer]:
    """Run the model with components replaced by zero, their reference mean or a resampled
    reference row (per position).

    nodes: component-graph names (embed, pos_embed, L0H1, MLP2); heads (layer, head) and
    mlps (layer) are shorthands; neurons are (layer, index) of `mlp.hook_post`; edges are
    `Edge`s or "src->dst.slot" strings. `positions` limits every ablation to those
    positions (nodes=["embed", "pos_embed"], positions=[3] removes input position 3).
    """
    check_kind(kind)
    names = list(nodes) + [head_name(l, h) for l, h in heads] + [mlp_name(l) for l in mlps]
    for name in names:
        if parse_node(name, model).kind == "logits":
            raise InputError("'logits' cannot be ablated; ablate its input edges instead.")
    neurons = list(neurons)
    edges = [Edge.parse(e) if isinstance(e, str) else e for e in edges]
    with component_hooks_enabled(model):
        hook_names = {output_hook(n, model) for n in names + [e.src for e in edges]}
        hook_names |= {f"blocks.{layer}.mlp.hook_post" for layer, _ in neurons}
        reference_cache = _reference_cache(model, reference, kind, hook_names)

        def reference_of(hook: str, index: tuple) -> torch.Tensor | None:
            return None if reference_cache is None else reference_cache[hook][index]

        hooks: list[tuple[str, Callable]] = []
        targets: dict[str, list[tuple]] = defaultdict(list)
        for name in names:
            targets[output_hook(name, model)].append(_slice(name, model))
        for layer, neuron in neurons:
            if model.cfg.attn_only or not 0 <= layer < model.cfg.n_layers:
                raise InputError(f"neuron ({layer}, {neuron}): the model has no MLP in layer {layer}.")
            if not 0 <= neuron < model.cfg.d_mlp:
                raise InputError(f"neuron {neuron} is outside d_mlp={model.cfg.d_mlp}.")
            targets[f"blocks.{layer}.mlp.hook_post"].append((slice(None), slice(None), neuron))
        for hook, indices in targets.items():
            replacements = [
                (index, make_replacement(kind, reference_of(hook, index), seed)) for index in indices
            ]
            hooks.append((hook, _replace_hook(replacements, positions)))
        if edges:
            sources = {}
            for e in edges:
                ref = reference_of(output_hook(e.src, model), _slice(e.src, model))
                sources[e.src] = make_replacement(kind, ref, seed)
            hooks += edge_hooks(model, edges, sources, positions)
        with model.hooks(fwd_hooks=hooks):
            yield model


def ablation_effect(
    model: HookedTransformer, inputs: Any, metric: Metric, **ablation: Any
) -> float:
    """metric(ablated logits) - metric(clean logits); `ablation` are `ablate` arguments."""
    with torch.no_grad():
        clean = metric(model(inputs))
        with ablate(model, **ablation):
            ablated = metric(model(inputs))
    return float(ablated - clean)


def _slice(name: str, model: HookedTransformer) -> tuple:
    head = parse_node(name, model).head
    return (slice(None), slice(None), head) if head is not None else (slice(None),)


def _reference_cache(model: HookedTransformer, reference: Any, kind: str, hooks: set[str]):
    if kind == "zero" or not hooks:
        return None
    if reference is None:
        raise InputError(f"{kind} ablation needs a reference batch; pass reference=inputs.")
    with torch.no_grad():
        _, cache = model.run_with_cache(reference, names_filter=lambda name: name in hooks)
    return cache


def _replace_hook(replacements: list, positions: Sequence[int] | None) -> Callable:
    def hook_fn(value: torch.Tensor, hook) -> torch.Tensor:
        out = value.clone()
        for index, replacement in replacements:
            part = out[index]
            new = replacement.values(part)
            if positions is None:
                out[index] = new
            else:
                where = list(positions)
                patched = part.clone()
                patched[:, where] = new.expand_as(part)[:, where]
                out[index] = patched
        return out

    return hook_fn
