"""Edges the weights cannot carry: the source writes only residual coordinates that the
destination's slot never reads (zero weights), so removing the edge changes no number the
model computes, on any input, under any ablation. Compiled programs and Transformer
Programs keep each variable in its own coordinates, so most of their candidate edges are
such (7,579 of the shipped Transformer Program `sort`'s 7,811); discovery scores them 0
without running the model.

Only for models without LayerNorm: there a destination reads its input linearly. With
LayerNorm every coordinate moves the normalisation, so no edge is silent.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from interp.analysis.nodes import parse_node
from interp.circuit import Edge
from interp.model import HookedTransformer


def silent_edges(model: HookedTransformer, edges: Iterable[Edge]) -> set[Edge]:
    """The edges of `edges` whose source's write coordinates and destination slot's read
    coordinates do not meet (empty when the model has LayerNorm)."""
    if model.cfg.normalization_type is not None:
        return set()
    writes: dict[str, torch.Tensor] = {}
    reads: dict[tuple[str, str], torch.Tensor] = {}
    silent = set()
    with torch.no_grad():
        for edge in edges:
            if edge.src not in writes:
                writes[edge.src] = write_support(model, edge.src)
            key = (edge.dst, edge.slot)
            if key not in reads:
                reads[key] = read_support(model, edge.dst, edge.slot)
            if not bool((writes[edge.src] & reads[key]).any()):
                silent.add(edge)
    return silent


def write_support(model: HookedTransformer, src: str) -> torch.Tensor:
    """[d_model] bool: the residual coordinates node `src` can ever write (its replacement
    under any ablation is one of its own outputs, or zero, so it lies there too)."""
    node = parse_node(src, model)
    if node.kind == "embed":
        embed = model.embed
        support = embed.W_E != 0  # [d_vocab or d_input, d_model]
        support = support.any(0)
        bias = getattr(embed, "b_E", None)
        return support | (bias != 0) if bias is not None else support
    if node.kind == "pos_embed":
        return (model.pos_embed.W_pos != 0).any(0)
    if node.kind == "head":
        return (model.blocks[node.layer].attn.W_O[node.head] != 0).any(0)  # W_O [d_head, d_model]
    mlp = model.blocks[node.layer].mlp
    return (mlp.W_out != 0).any(0) | (mlp.b_out != 0)


def read_support(model: HookedTransformer, dst: str, slot: str) -> torch.Tensor:
    """[d_model] bool: the residual coordinates node `dst` reads through `slot`."""
    node = parse_node(dst, model)
    if node.kind == "head":
        attn = model.blocks[node.layer].attn
        weight = {"q": attn.W_Q, "k": attn.W_K, "v": attn.W_V}[slot][node.head]  # [d_model, d_head]
    elif node.kind == "mlp":
        weight = model.blocks[node.layer].mlp.W_in  # [d_model, d_mlp]
    else:
        weight = model.unembed.W_U  # [d_model, d_vocab_out]
    return (weight != 0).any(1)
