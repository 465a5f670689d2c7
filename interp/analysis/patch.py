"""Activation patching (clean vs corrupted, by component and position) and path patching.

Convention (TransformerLens'): run the *corrupted* input and patch in activations of the
*clean* run; a metric value near the clean one means the patched activation carries the
behaviour. Whole-layer sweeps reuse `transformer_lens.patching`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import torch
from transformer_lens import patching
from transformer_lens.ActivationCache import ActivationCache

from interp.analysis.edges import edge_hooks
from interp.analysis.metrics import Metric
from interp.analysis.nodes import (
    component_hooks_enabled,
    node_output,
    output_hook,
    parse_node,
)
from interp.analysis.replace import Fixed
from interp.circuit import Edge, Node
from interp.errors import InputError
from interp.model import HookedTransformer

# What `activation_patch` can sweep, and the TransformerLens function that does it.
SWEEPS = {
    "resid_pre": patching.get_act_patch_resid_pre,
    "resid_mid": patching.get_act_patch_resid_mid,
    "attn_out": patching.get_act_patch_attn_out,
    "mlp_out": patching.get_act_patch_mlp_out,
    "head_out": patching.get_act_patch_attn_head_out_by_pos,
    "head_out_all_pos": patching.get_act_patch_attn_head_out_all_pos,
}


def activation_patch(
    model: HookedTransformer, clean: Any, corrupted: Any, metric: Metric, what: str = "resid_pre"
) -> torch.Tensor:
    """Metric of the corrupted run with one clean activation patched in, for every
    layer x position (resid_*, attn_out, mlp_out), layer x position x head (head_out)
    or layer x head (head_out_all_pos)."""
    if what not in SWEEPS:
        raise InputError(f"activation_patch what={what!r}; choose one of {sorted(SWEEPS)}.")
    if what == "mlp_out" and model.cfg.attn_only:
        raise InputError("this model is attention-only: there is no mlp_out to patch.")
    model.eval()
    clean, corrupted = model.validate_inputs(clean), model.validate_inputs(corrupted)
    with torch.no_grad():
        _, clean_cache = model.run_with_cache(clean)
        return SWEEPS[what](model, corrupted, clean_cache, lambda logits: metric(logits))


def patch_nodes(
    model: HookedTransformer,
    inputs: Any,
    source_cache: ActivationCache,
    nodes: Iterable[str],
    metric: Metric,
    positions: Sequence[int] | None = None,
) -> float:
    """Metric of `inputs` with the outputs of `nodes` (at `positions`, default all) taken
    from `source_cache` (a run on other inputs of the same batch size)."""
    nodes = list(nodes)
    with component_hooks_enabled(model), torch.no_grad():
        by_hook: dict[str, list[str]] = {}
        for node in nodes:
            by_hook.setdefault(output_hook(node, model), []).append(node)

        def make_hook(names: list[str]):
            def hook_fn(value: torch.Tensor, hook) -> torch.Tensor:
                out = value.clone()
                where = slice(None) if positions is None else list(positions)
                for name in names:
                    head = parse_node(name, model).head
                    source = node_output(name, source_cache, model)
                    if head is None:
                        out[:, where] = source[:, where]
                    else:
                        out[:, where, head] = source[:, where]
                return out

            return hook_fn

        hooks = [(hook, make_hook(names)) for hook, names in by_hook.items()]
        return float(metric(model.run_with_hooks(inputs, fwd_hooks=hooks)))


def path_patch(
    model: HookedTransformer,
    clean: Any,
    corrupted: Any,
    sender: str,
    receivers: Iterable[Edge | tuple[str, str] | str],
    metric: Metric,
    positions: Sequence[int] | None = None,
) -> float:
    """Metric of the clean run where only the receivers' inputs see the sender's corrupted
    output (every other path from the sender stays clean). A receiver is a node (all its
    slots), a (node, slot) pair or an Edge from `sender`.

    Ours, not TL's: `patching.get_act_patch_direct_path` is the same intervention for one
    head sender and every head receiver (clean/corrupted swapped); this one also takes
    embedding/MLP senders, MLP and logit receivers, receiver sets and positions."""
    edges = _receiver_edges(sender, receivers)
    clean, corrupted = model.validate_inputs(clean), model.validate_inputs(corrupted)
    if clean.shape[:2] != corrupted.shape[:2]:
        raise InputError("path patching needs clean and corrupted batches of the same shape.")
    with component_hooks_enabled(model), torch.no_grad():
        hook = output_hook(sender, model)
        _, corrupted_cache = model.run_with_cache(corrupted, names_filter=lambda n: n == hook)
        replacement = {sender: Fixed(node_output(sender, corrupted_cache, model))}
        hooks = edge_hooks(model, edges, replacement, positions)
        return float(metric(model.run_with_hooks(clean, fwd_hooks=hooks)))


def _receiver_edges(sender: str, receivers: Iterable[Edge | tuple[str, str] | str]) -> list[Edge]:
    edges = []
    for receiver in receivers:
        if isinstance(receiver, Edge):
            if receiver.src != sender:
                raise InputError(f"edge {receiver} does not start at the sender {sender!r}.")
            edges.append(receiver)
        elif isinstance(receiver, tuple):
            edges.append(Edge(sender, receiver[0], receiver[1]))
        else:
            edges += [Edge(sender, receiver, slot) for slot in Node.parse(receiver).slots]
    return edges
