"""Where each component-graph node (interp.circuit) lives in the hooked model.

A node's *output* is what it adds to the residual stream: `hook_embed`,
`hook_pos_embed`, one head's slice of `attn.hook_result`, or `hook_mlp_out`.
Attention output biases (`b_O`) belong to no node: they are the same in every run.
A node's *input* is the hook where it reads the residual: `hook_{q,k,v}_input`
(`blocks.L.attn.hook_{q,k,v}_input`, per head), `hook_mlp_in`, or the last `hook_resid_post`
for `logits`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache

import torch

from interp.circuit import Node, node_order
from interp.errors import InputError
from interp.model import HookedTransformer


def parse_node(name: str | Node, model: HookedTransformer) -> Node:
    """Parse a node name and check it against the model's shape."""
    cfg = model.cfg
    node = name if isinstance(name, Node) else Node.parse(name)
    return _check(node, cfg.n_layers, cfg.n_heads, cfg.attn_only, cfg.positional_embedding)


@lru_cache(maxsize=65536)
def _check(node: Node, n_layers: int, n_heads: int, attn_only: bool, positional: str) -> Node:
    # Cached: discovery checks the same few hundred nodes millions of times.
    if node.kind == "pos_embed" and positional != "learned":
        raise InputError("this model has no positional embedding, so no node 'pos_embed'.")
    if node.kind == "head" and (node.layer >= n_layers or node.head >= n_heads):
        raise InputError(
            f"node {node.name!r} is outside the model ({n_layers} layers x {n_heads} heads)."
        )
    if node.kind == "mlp" and (attn_only or node.layer >= n_layers):
        raise InputError(f"node {node.name!r} does not exist (attn_only={attn_only}, "
                         f"{n_layers} layers).")
    return node


def output_hook(name: str, model: HookedTransformer) -> str:
    """The hook whose value is (or, for heads, contains) the node's residual contribution."""
    node = parse_node(name, model)
    if node.kind == "embed":
        return "hook_embed"
    if node.kind == "pos_embed":
        return "hook_pos_embed"
    if node.kind == "head":
        return f"blocks.{node.layer}.attn.hook_result"
    if node.kind == "mlp":
        return f"blocks.{node.layer}.hook_mlp_out"
    raise InputError("'logits' writes nothing into the residual stream; it has no output.")


def input_hook(name: str, slot: str, model: HookedTransformer) -> str:
    """The hook where node `name` reads the residual through `slot` (q/k/v or in)."""
    node = parse_node(name, model)
    if node.kind == "head":
        if slot not in ("q", "k", "v"):
            raise InputError(f"head {name} reads through q, k or v, not {slot!r}.")
        return f"blocks.{node.layer}.attn.hook_{slot}_input"
    if slot != "in":
        raise InputError(f"node {name} has one input slot, 'in', not {slot!r}.")
    if node.kind == "mlp":
        return f"blocks.{node.layer}.hook_mlp_in"
    if node.kind == "logits":
        if model.cfg.n_layers == 0:
            raise InputError("a model without layers has no residual hook before the logits.")
        return f"blocks.{model.cfg.n_layers - 1}.hook_resid_post"
    raise InputError(f"node {name} reads nothing (embeddings are inputs of the graph).")


def select_output(name: str, value: torch.Tensor, model: HookedTransformer) -> torch.Tensor:
    """The node's [batch, pos, d_model] contribution from its output hook's value."""
    node = parse_node(name, model)
    return value[:, :, node.head] if node.kind == "head" else value


def node_output(name: str, cache: Mapping[str, torch.Tensor], model: HookedTransformer) -> torch.Tensor:
    """A node's contribution [batch, pos, d_model] read from a cache."""
    return select_output(name, cache[output_hook(name, model)], model)


def writer_nodes(model: HookedTransformer) -> list[str]:
    """Every node that writes into the residual stream, in computation order."""
    return [n for n in node_order(model.cfg) if n != "logits"]


def first_layer(name: str) -> int:
    """The first block whose recomputation can change `name`'s inputs or output."""
    node = Node.parse(name)
    return 0 if node.kind in ("embed", "pos_embed") else node.sort_key[0]


def output_hook_names(model: HookedTransformer) -> list[str]:
    """Every output hook of every writer node (for `run_with_cache(names_filter=...)`)."""
    return sorted({output_hook(n, model) for n in writer_nodes(model)})


@contextmanager
def component_hooks_enabled(model: HookedTransformer) -> Iterator[HookedTransformer]:
    """Turn on per-head results and per-node input hooks; restore the flags afterwards."""
    cfg = model.cfg
    saved = (cfg.use_attn_result, cfg.use_split_qkv_input, cfg.use_hook_mlp_in)
    cfg.use_attn_result = True
    cfg.use_split_qkv_input = True
    cfg.use_hook_mlp_in = True
    try:
        yield model
    finally:
        cfg.use_attn_result, cfg.use_split_qkv_input, cfg.use_hook_mlp_in = saved
