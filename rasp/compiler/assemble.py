"""Assembly: ops + residual layout become a HookedTransformer's weights."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from interp.model import HookedTransformer, ModelConfig, ResidualLabels
from rasp.compiler.ir import BOS_DIR, NUM, Dir, Op, Var
from rasp.compiler.layout import Allocation


def layer_ops(ops: list[Op], n_layers: int) -> list[tuple[list[Op], list[Op]]]:
    """(heads, mlp parts) of each layer, in op order."""
    out: list[tuple[list[Op], list[Op]]] = [([], []) for _ in range(n_layers)]
    for op in ops:
        out[op.layer][0 if op.kind == "attn" else 1].append(op)
    return out


def build_model(
    variables: dict[str, Var],
    ops: list[Op],
    n_layers: int,
    alloc: Allocation,
    output: Var,
    token_names: list[str],
    tokens: Sequence[Any],
    max_seq_len: int,
    causal: bool,
    metadata: dict[str, Any],
    attention_kind: str = "softmax",
) -> HookedTransformer:
    """A HookedTransformer computing the ops, with residual labels and metadata."""
    layers = layer_ops(ops, n_layers)
    n_heads = max([len(h) for h, _ in layers] + [1])
    d_head = max([op.head.d_head for op in ops if op.kind == "attn"] + [1])
    widths = [sum(len(op.neurons) for op in m) for _, m in layers]
    d_mlp = max(widths + [0]) or None
    d_out = max(output.width, 1)
    cfg = ModelConfig(
        n_layers=n_layers,
        d_model=alloc.d_model,
        n_ctx=max_seq_len + 1,
        d_vocab=len(token_names),
        n_heads=n_heads,
        d_head=d_head,
        d_mlp=d_mlp,
        d_vocab_out=d_out,
        act_fn="relu",
        causal=causal,
        attention_kind=attention_kind,
        vocab=token_names,
        vocab_out=[str(v) for v in (output.values or [])] if not output.numerical and output.width else None,
        model_name="rasp-compiled",
    )
    model = HookedTransformer(cfg, labels=ResidualLabels(alloc.labels, alloc.d_model), metadata=metadata)
    index = alloc.index
    # Weights are filled in numpy (element writes into torch tensors are ~50x slower).
    arrays = {name: np.zeros(tuple(p.shape), dtype=np.float32) for name, p in model.named_parameters()}
    _embed(arrays, variables, index, tokens, max_seq_len)
    for layer, (heads, mlps) in enumerate(layers):
        for h, op in enumerate(heads):
            _head(arrays, f"blocks.{layer}.attn", h, op, index)
        W_in, b_in = arrays.get(f"blocks.{layer}.mlp.W_in"), arrays.get(f"blocks.{layer}.mlp.b_in")
        W_out = arrays.get(f"blocks.{layer}.mlp.W_out")
        column = 0
        for op in mlps:
            for neuron in op.neurons:
                for d, w in neuron.w_in.items():
                    W_in[index[d], column] += w
                b_in[column] = neuron.bias
                for d, w in neuron.w_out.items():
                    W_out[column, index[d]] += w
                column += 1
    for j, d in enumerate(output.dirs()):
        arrays["unembed.W_U"][index[d], j] = 1.0
    # Scores are divided by the default sqrt(d_head) (TransformerLens' bridge needs the
    # default scale), so queries carry that factor on top of the chosen sharpness.
    for name in arrays:
        if name.endswith((".W_Q", ".b_Q")):
            arrays[name] *= np.float32(math.sqrt(d_head))
    with torch.no_grad():
        for name, param in model.named_parameters():
            param.copy_(torch.from_numpy(arrays[name]))
    return model


def _embed(arrays: dict[str, np.ndarray], variables: dict[str, Var], index: dict[Dir, int],
           tokens: Sequence[Any], max_seq_len: int) -> None:
    W_E = arrays["embed.W_E"]
    W_E[0, index[BOS_DIR]] = 1.0
    W_pos = arrays["pos_embed.W_pos"]
    for var in variables.values():
        if var.name == "bos" or not var.embedded or not any(d in index for d in var.dirs()):
            continue
        if var.source == "pos":
            rows = [(W_pos, p + 1, var.fn(p)) for p in range(max_seq_len)]
        elif var.source == "token":
            rows = [(W_E, i + 1, var.fn(t)) for i, t in enumerate(tokens)]
        else:
            rows = [(W_E, i + 1, var.const) for i in range(len(tokens))]
        for matrix, row, value in rows:
            if value is None:
                continue
            if var.numerical:
                matrix[row, index[(var.name, NUM)]] += float(value)
            else:
                matrix[row, index[(var.name, value)]] += 1.0


def _head(arrays: dict[str, np.ndarray], prefix: str, h: int, op: Op,
          index: dict[Dir, int]) -> None:
    spec = op.head
    for side, dims in (("Q", spec.q), ("K", spec.k)):
        W, b = arrays[f"{prefix}.W_{side}"], arrays[f"{prefix}.b_{side}"]
        for j, (weights, bias) in enumerate(dims):
            for d, w in weights.items():
                W[h, index[d], j] += w
            b[h, j] = bias
    W_V, W_O = arrays[f"{prefix}.W_V"], arrays[f"{prefix}.W_O"]
    b_V = arrays[f"{prefix}.b_V"]
    for j, weights in enumerate(spec.v):
        for d, w in weights.items():
            W_V[h, index[d], j] += w
    for j, bias in enumerate(spec.v_bias):
        b_V[h, j] = bias
    for j, weights in enumerate(spec.o):
        for d, w in weights.items():
            W_O[h, j, index[d]] += w


def estimate_params(variables: dict[str, Var], ops: list[Op], n_layers: int, d_model: int,
                    output: Var, n_tokens: int, max_seq_len: int) -> int:
    """Parameter count of the model `build_model` would make (to compare layouts)."""
    layers = layer_ops(ops, n_layers)
    n_heads = max([len(h) for h, _ in layers] + [1])
    d_head = max([op.head.d_head for op in ops if op.kind == "attn"] + [1])
    d_mlp = max([sum(len(op.neurons) for op in m) for _, m in layers] + [0])
    d_out = max(output.width, 1)
    per_layer = 4 * n_heads * d_model * d_head + 3 * n_heads * d_head + d_model
    if d_mlp:
        per_layer += 2 * d_model * d_mlp + d_mlp + d_model
    return (n_tokens + max_seq_len + 1) * d_model + n_layers * per_layer + d_model * d_out + d_out
