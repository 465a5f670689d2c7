"""Which readers of a head can carry its effect in path patching, decided exactly from the
weights, so the Patching view runs no forward for a path that carries nothing: a reader whose
output weights are all zero passes nothing on, and (without LayerNorm, which would couple
every direction through its scale) a reader slot whose input weights are orthogonal to the
head's output weights never sees the head's change (W_O[head] @ W_slot = 0)."""

from __future__ import annotations

import re

import torch

from interp.circuit import Circuit, Edge
from interp.model import HookedTransformer

HEAD, MLP = re.compile(r"L(\d+)H(\d+)"), re.compile(r"MLP(\d+)")


def writes_nothing(model: HookedTransformer, node: str) -> bool:
    """Whether head `L<l>H<h>` or `MLP<l>` has all-zero output weights (adds nothing to the
    residual stream but its layer's bias, whatever its input)."""
    head = HEAD.fullmatch(node)
    if head is not None:
        return not bool(model.blocks[int(head.group(1))].attn.W_O[int(head.group(2))].any())
    mlp = MLP.fullmatch(node)
    if mlp is not None:
        return not bool(model.blocks[int(mlp.group(1))].mlp.W_out.any())
    return False


def _input_weights(model: HookedTransformer, edge: Edge) -> torch.Tensor | None:
    """The weights through which `edge.dst` reads the residual stream at `edge.slot`
    ([d_model, *]); None when not known here (then the edge is kept)."""
    if edge.dst == "logits":
        return model.unembed.W_U
    mlp = MLP.fullmatch(edge.dst)
    if mlp is not None:
        return model.blocks[int(mlp.group(1))].mlp.W_in
    head = HEAD.fullmatch(edge.dst)
    if head is not None and edge.slot in ("q", "k", "v"):
        attn = model.blocks[int(head.group(1))].attn
        return {"q": attn.W_Q, "k": attn.W_K, "v": attn.W_V}[edge.slot][int(head.group(2))]
    return None


def blind(model: HookedTransformer, edge: Edge) -> bool:
    """Whether the reader slot of `edge` (from a head) cannot see the head's output: no
    LayerNorm and W_O[src] @ W_slot all zero. The head's change is (Δz) @ W_O[src], so the
    slot's input moves by exactly zero."""
    src = HEAD.fullmatch(edge.src)
    if src is None or model.cfg.normalization_type is not None or getattr(model.cfg, "loop_steps", None):
        return False
    read = _input_weights(model, edge)
    if read is None:
        return False
    w_o = model.blocks[int(src.group(1))].attn.W_O[int(src.group(2))]  # [d_head, d_model]
    return not bool((w_o @ read).any())


def effective_readers(model: HookedTransformer, sender: str) -> tuple[list[str], list[str]]:
    """(every component reading head `sender`, those through which a path can carry an effect)."""
    edges = [e for e in Circuit.full(model.cfg).edges if e.src == sender]
    readers = list(dict.fromkeys(e.dst for e in edges))
    live = {e.dst for e in edges if not writes_nothing(model, e.dst) and not blind(model, e)}
    return readers, [r for r in readers if r in live]
