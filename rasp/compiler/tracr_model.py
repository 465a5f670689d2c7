"""tracr's model object around a compiled model: params, model_config, encoders, forward.

Field names, shapes and meaning follow tracr's `compiler/assemble.py`,
`transformer/model.py` and `transformer/encoder.py`, so code written for tracr's
`AssembledTransformerModel` (and TransformerLens' tracr loader, which reads `params`,
`model_config`, the encoders and `residual_labels`) runs unchanged. Arrays are numpy
float32 (tracr's are jax arrays; `np.array(v)` and `torch.tensor(np.array(v))` work on both).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from interp.errors import InputError
from interp.model import HookedTransformer


@dataclass
class TransformerConfig:
    """tracr's `transformer/model.TransformerConfig` (no layer norm, ReLU, no dropout)."""

    num_heads: int
    num_layers: int
    key_size: int
    mlp_hidden_size: int
    dropout_rate: float = 0.0
    activation_function: Callable[[Any], Any] = torch.relu
    layer_norm: bool = False
    causal: bool = False


class CategoricalEncoder:
    """tracr's CategoricalEncoder: tokens <-> ids through `encoding_map` (ValueError if unknown)."""

    def __init__(self, encoding_map: dict[Any, int], enforce_bos: bool = False,
                 bos_token: str | None = None, pad_token: str | None = None,
                 max_seq_len: int | None = None):
        self.encoding_map = dict(encoding_map)
        self.decoding_map = {i: value for value, i in self.encoding_map.items()}
        self.enforce_bos = enforce_bos
        self._bos_token = bos_token
        self._pad_token = pad_token
        self._max_seq_len = max_seq_len
        # Matched by type and value, so 1 and True (equal as dict keys) stay distinct tokens.
        self._typed = {_key(value): i for value, i in self.encoding_map.items()}

    def encode(self, inputs: Sequence[Any]) -> list[int]:
        """Ids of `inputs` (which start with BOS when enforce_bos)."""
        inputs = list(inputs)
        if self.enforce_bos and (not inputs or inputs[0] != self._bos_token):
            raise InputError(f"First input token must be BOS token. Should be "
                             f"'{self._bos_token}', but was '{inputs[0] if inputs else None}'.")
        missing = [x for x in inputs if _hashable_key(x) not in self._typed]
        if missing:
            raise InputError(f"Inputs {missing} not found in encoding {list(self.encoding_map)}")
        if self._max_seq_len is not None and len(inputs) > self._max_seq_len:
            raise InputError(f"inputs={inputs} are longer than the maximum sequence length "
                             f"{self._max_seq_len}")
        return [self._typed[_key(x)] for x in inputs]

    def decode(self, encodings: Sequence[int]) -> list[Any]:
        """Tokens of ids (inverse of encode)."""
        missing = set(encodings) - set(self.decoding_map)
        if missing:
            raise InputError(f"Inputs {missing} not found in decoding map {list(self.decoding_map)}")
        return [self.decoding_map[x] for x in encodings]

    @property
    def vocab_size(self) -> int:
        return len(self.encoding_map)

    @property
    def bos_token(self) -> str | None:
        return self._bos_token

    @property
    def pad_token(self) -> str | None:
        return self._pad_token

    @property
    def bos_encoding(self) -> int | None:
        return None if self._bos_token is None else self.encoding_map[self._bos_token]

    @property
    def pad_encoding(self) -> int | None:
        return None if self._pad_token is None else self.encoding_map[self._pad_token]


class NumericalEncoder:
    """tracr's NumericalEncoder: the identity."""

    bos_token = pad_token = bos_encoding = pad_encoding = None

    def encode(self, inputs: Sequence[float]) -> list[float]:
        return list(inputs)

    def decode(self, encodings: Sequence[float]) -> list[float]:
        return list(encodings)


@dataclass
class TransformerOutput:
    """tracr's `transformer/model.TransformerOutput`."""

    layer_outputs: list[torch.Tensor]  # 2 per layer (attn, mlp): [B, T, D]
    residuals: list[torch.Tensor]  # the residual after each sublayer: [B, T, D]
    attn_logits: list[torch.Tensor]  # per layer: [B, T, T, H] (query, key, head)
    output: torch.Tensor  # [B, T, D]
    input_embeddings: torch.Tensor  # [B, T, D]


@dataclass
class CompiledTransformerModelOutput:
    """tracr's `transformer/model.CompiledTransformerModelOutput`."""

    transformer_output: TransformerOutput
    unembedded_output: torch.Tensor  # categorical: argmax ids [B, T]; numerical: values [B, T]
    logits: torch.Tensor  # [B, T, n_outputs] (ours: the scores the argmax reads)


@dataclass
class TracrLayout:
    """How the tracr-style params relate to the compiled model's residual stream."""

    order: list[int]  # exported residual dim j is model dim order[j] (-1: an always-zero dim)
    labels: list[str]
    n_outputs: int  # the first n_outputs exported dims are the output space


def tracr_layout(model: HookedTransformer, n_token_rows: int) -> TracrLayout:
    """Residual order for export: the output directions first (in output-encoding order), then
    always-zero dims up to the token-row count minus 2, then the rest.

    TransformerLens' tracr loader unembeds with `np.eye(d_model, d_vocab - 2)`, i.e. it reads
    the first |vocab| residual dims as the output logits; this order makes that exact whenever
    the output has at most |vocab| values (with more, that loader truncates, on tracr too).
    """
    W_U = model.unembed.W_U.detach()  # [d_model, d_out]
    out_dims = [int(W_U[:, j].abs().argmax()) for j in range(W_U.shape[1])]
    labels = model.residual_labels.names()
    n_zero = max(n_token_rows - 2 - len(out_dims), 0)
    rest = [d for d in range(len(labels)) if d not in set(out_dims)]
    order = out_dims + [-1] * n_zero + rest
    names = [labels[d] if d >= 0 else f"unused:{i}" for i, d in enumerate(order)]
    return TracrLayout(order, names, len(out_dims))


def export_params(model: HookedTransformer, layout: TracrLayout, pad_row: bool) -> tuple[
        dict[str, dict[str, np.ndarray]], TransformerConfig]:
    """tracr's params ({module: {"w"/"b"/"embeddings": array}}) and config of `model`."""
    cfg = model.cfg
    order = torch.tensor([max(d, 0) for d in layout.order])
    keep = torch.tensor([float(d >= 0) for d in layout.order])  # zero dims read/write nothing

    def rows(w: torch.Tensor) -> np.ndarray:  # [d_model, ...] -> [D, ...] in export order
        w = w.detach().float()[order]
        return (w * keep.view(-1, *([1] * (w.dim() - 1)))).numpy()

    def cols(w: torch.Tensor) -> np.ndarray:  # [..., d_model] -> [..., D]
        return (w.detach().float()[..., order] * keep).numpy()

    h, e = cfg.n_heads, cfg.d_head
    token_embed = cols(model.embed.W_E)  # [d_vocab, D]
    if pad_row:  # tracr embeds a pad token too (to the zero vector here: pads are masked)
        token_embed = np.concatenate([token_embed, np.zeros((1, token_embed.shape[1]), np.float32)])
    params: dict[str, dict[str, np.ndarray]] = {
        "token_embed": {"embeddings": token_embed},
        "pos_embed": {"embeddings": cols(model.pos_embed.W_pos)},  # [n_ctx, D]
    }
    # tracr and TransformerLens divide scores by sqrt(key_size); ours by cfg.scale.
    q_factor = math.sqrt(e) / cfg.scale
    d_mlp = cfg.d_mlp or 1
    D = len(layout.order)
    for layer, block in enumerate(model.blocks):
        attn = block.attn
        name = f"transformer/layer_{layer}"
        for part, W, b, factor in (("query", attn.W_Q, attn.b_Q, q_factor),
                                   ("key", attn.W_K, attn.b_K, 1.0),
                                   ("value", attn.W_V, attn.b_V, 1.0)):
            w = W.detach().float().permute(1, 0, 2).reshape(cfg.d_model, h * e)  # [d_model, h*e]
            params[f"{name}/attn/{part}"] = {"w": rows(w) * factor,
                                             "b": b.detach().float().reshape(h * e).numpy() * factor}
        w_o = attn.W_O.detach().float().reshape(h * e, cfg.d_model)  # [h*e, d_model]
        params[f"{name}/attn/linear"] = {"w": cols(w_o), "b": cols(attn.b_O)}
        if cfg.attn_only:  # tracr always has both sublayers; an absent MLP is all zeros
            params[f"{name}/mlp/linear_1"] = {"w": np.zeros((D, d_mlp), np.float32),
                                              "b": np.zeros(d_mlp, np.float32)}
            params[f"{name}/mlp/linear_2"] = {"w": np.zeros((d_mlp, D), np.float32),
                                              "b": np.zeros(D, np.float32)}
        else:
            mlp = block.mlp
            params[f"{name}/mlp/linear_1"] = {"w": rows(mlp.W_in), "b": mlp.b_in.detach().float().numpy()}
            params[f"{name}/mlp/linear_2"] = {"w": cols(mlp.W_out), "b": cols(mlp.b_out)}
    config = TransformerConfig(num_heads=h, num_layers=cfg.n_layers, key_size=e,
                               mlp_hidden_size=d_mlp, causal=cfg.causal)
    return params, config


def forward(params: dict[str, dict[str, Any]], tokens: Any, config: TransformerConfig,
            n_outputs: int, categorical: bool, pad_encoding: int | None = None
            ) -> CompiledTransformerModelOutput:
    """tracr's forward(params, tokens) on ids [B, T]: pad keys are masked, as in tracr."""
    with torch.no_grad():
        p = {m: {k: torch.as_tensor(np.asarray(v), dtype=torch.float32) for k, v in d.items()}
             for m, d in params.items()}
        ids = torch.as_tensor(np.asarray(tokens), dtype=torch.long)  # [B, T]
        B, T = ids.shape
        h, e = config.num_heads, config.key_size
        x = p["token_embed"]["embeddings"][ids] + p["pos_embed"]["embeddings"][:T]  # [B, T, D]
        embeddings = x
        key_ok = torch.ones(B, 1, 1, T, dtype=torch.bool)  # [B, 1, q, k]
        if pad_encoding is not None:
            key_ok = (ids != pad_encoding)[:, None, None, :]
        if config.causal:
            key_ok = key_ok & torch.ones(T, T, dtype=torch.bool).tril()
        layer_outputs, residuals, attn_logits = [], [], []
        for layer in range(config.num_layers):
            name = f"transformer/layer_{layer}/attn"
            q, k, v = (
                (x @ p[f"{name}/{part}"]["w"] + p[f"{name}/{part}"]["b"]).view(B, T, h, e)
                for part in ("query", "key", "value"))  # each [B, T, h, e]
            logits = torch.einsum("bqhe,bkhe->bhqk", q, k) / math.sqrt(e)  # [B, h, T, T]
            logits = logits.masked_fill(~key_ok, -1e30)
            pattern = logits.softmax(-1)
            z = torch.einsum("bhqk,bkhe->bqhe", pattern, v).reshape(B, T, h * e)
            attn_out = z @ p[f"{name}/linear"]["w"] + p[f"{name}/linear"]["b"]  # [B, T, D]
            x = x + attn_out
            layer_outputs.append(attn_out)
            residuals.append(x)
            attn_logits.append(logits.permute(0, 2, 3, 1))  # [B, T, T, h]
            mlp = f"transformer/layer_{layer}/mlp"
            hidden = torch.relu(x @ p[f"{mlp}/linear_1"]["w"] + p[f"{mlp}/linear_1"]["b"])
            mlp_out = hidden @ p[f"{mlp}/linear_2"]["w"] + p[f"{mlp}/linear_2"]["b"]
            x = x + mlp_out
            layer_outputs.append(mlp_out)
            residuals.append(x)
        out = x[..., :n_outputs]  # the output space is the first n_outputs dims
        unembedded = out.argmax(-1) if categorical else out[..., 0]
        return CompiledTransformerModelOutput(
            TransformerOutput(layer_outputs, residuals, attn_logits, x, embeddings), unembedded, out)


def _key(token: Any) -> Any:
    return (type(token).__name__ if not isinstance(token, bool) else "bool", token)


def _hashable_key(token: Any) -> Any:
    try:
        hash(token)
    except TypeError:
        return None
    return _key(token)
