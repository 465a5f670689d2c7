"""Building blocks of the hooked transformer, with TransformerLens parameter and hook names.

Parameter names match TransformerLens' HookedTransformer state dict (`embed.W_E`,
`blocks.0.attn.W_Q`, ...), so `transformer_lens.utilities.convert_tl_checkpoint`
accepts our weights unchanged.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules import module as _module_hooks
from transformer_lens.hook_points import HookPoint

from interp.model.config import ModelConfig

_ACTIVATIONS = {
    "relu": F.relu,
    "gelu": F.gelu,
    "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
    "silu": F.silu,
    "identity": lambda x: x,
}


def _linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """[..., d_in] @ [d_in, d_out] + [d_out] as one addmm: the bias add fused, as in nn.Linear."""
    out = torch.addmm(bias, x.reshape(-1, x.shape[-1]), weight)  # [prod(...), d_out]
    return out.view(*x.shape[:-1], weight.shape[-1])


def is_observed(point: HookPoint) -> bool:
    """Whether any hook (TransformerLens', or torch's own, per module or global) sees `point`.

    Mirrors the check torch's Module.__call__ makes before it skips hook dispatch.
    """
    return bool(
        point._forward_hooks or point._forward_pre_hooks or point._backward_hooks
        or point._backward_pre_hooks or _module_hooks._global_forward_hooks
        or _module_hooks._global_forward_pre_hooks or _module_hooks._global_backward_hooks
        or _module_hooks._global_backward_pre_hooks
    )


class Embed(nn.Module):
    """Token embedding W_E [d_vocab, d_model], or a linear read-in of vectors when d_input is set."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.reads_vectors = cfg.d_input is not None
        rows = cfg.d_input if self.reads_vectors else cfg.d_vocab
        self.W_E = nn.Parameter(torch.zeros(rows, cfg.d_model))
        if self.reads_vectors:
            self.b_E = nn.Parameter(torch.zeros(cfg.d_model))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """[batch, pos] ids or [batch, pos, d_input] vectors -> [batch, pos, d_model]."""
        if self.reads_vectors:
            return _linear(inputs, self.W_E, self.b_E)
        return self.W_E[inputs]


class PosEmbed(nn.Module):
    """Learned positional embedding W_pos [n_ctx, d_model], broadcast to the batch."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.W_pos = nn.Parameter(torch.zeros(cfg.n_ctx, cfg.d_model))

    def forward(self, batch: int, seq: int) -> torch.Tensor:
        # Batch-shaped because ActivationCache.decompose_resid stacks it with other [b, p, d] terms.
        return self.W_pos[:seq].unsqueeze(0).expand(batch, seq, -1)


class LayerNorm(nn.Module):
    """LayerNorm with TransformerLens' hook_scale / hook_normalized and params w, b."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.eps = cfg.eps
        self.w = nn.Parameter(torch.ones(cfg.d_model))
        self.b = nn.Parameter(torch.zeros(cfg.d_model))
        self.hook_scale = HookPoint()  # [batch, pos, 1]
        self.hook_normalized = HookPoint()  # [batch, pos, d_model]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[..., d_model] -> [..., d_model] (per-head inputs [batch, pos, n_heads, d_model] too)."""
        if not (is_observed(self.hook_scale) or is_observed(self.hook_normalized)):
            # Fast path (training, plain forwards): torch's fused kernel, one op forward and one
            # backward instead of five each. Same values; it only skips the two hook points, so it
            # is taken only when nothing watches them (run_with_cache and hooks get the slow path).
            return F.layer_norm(x, x.shape[-1:], self.w, self.b, self.eps)
        x = x - x.mean(-1, keepdim=True)
        scale = self.hook_scale((x.pow(2).mean(-1, keepdim=True) + self.eps).sqrt())  # [..., 1]
        return self.hook_normalized(x / scale) * self.w + self.b


class Attention(nn.Module):
    """Multi-head attention: softmax, hard (uniform over arg-max keys) or linear weights."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        h, d, e = cfg.n_heads, cfg.d_model, cfg.d_head
        self.W_Q = nn.Parameter(torch.zeros(h, d, e))
        self.W_K = nn.Parameter(torch.zeros(h, d, e))
        self.W_V = nn.Parameter(torch.zeros(h, d, e))
        self.W_O = nn.Parameter(torch.zeros(h, e, d))
        self.b_Q = nn.Parameter(torch.zeros(h, e))
        self.b_K = nn.Parameter(torch.zeros(h, e))
        self.b_V = nn.Parameter(torch.zeros(h, e))
        self.b_O = nn.Parameter(torch.zeros(d))
        # Pre-ln1 per-head copies of the residual (TL 4.3 names: `blocks.L.attn.hook_q_input`);
        # fired by the block only when cfg.use_split_qkv_input / use_attn_in is on.
        self.hook_attn_in = HookPoint()  # [batch, pos, n_heads, d_model]
        self.hook_q_input = HookPoint()  # [batch, pos, n_heads, d_model]
        self.hook_k_input = HookPoint()  # [batch, pos, n_heads, d_model]
        self.hook_v_input = HookPoint()  # [batch, pos, n_heads, d_model]
        self.hook_q = HookPoint()  # [batch, pos, n_heads, d_head]
        self.hook_k = HookPoint()  # [batch, pos, n_heads, d_head]
        self.hook_v = HookPoint()  # [batch, pos, n_heads, d_head]
        self.hook_attn_scores = HookPoint()  # [batch, n_heads, query_pos, key_pos]
        self.hook_pattern = HookPoint()  # [batch, n_heads, query_pos, key_pos]
        self.hook_z = HookPoint()  # [batch, pos, n_heads, d_head]
        self.hook_result = HookPoint()  # [batch, pos, n_heads, d_model]

    def forward(self, q_in: torch.Tensor, k_in: torch.Tensor, v_in: torch.Tensor) -> torch.Tensor:
        """Inputs are [b, p, d_model], or [b, p, n_heads, d_model] when split per head."""
        if q_in is k_in and k_in is v_in:
            q, k, v = self._project_qkv(q_in)  # each [batch, pos, n_heads, d_head]
        else:  # split per-head inputs (use_split_qkv_input): three distinct tensors
            q = _project(q_in, self.W_Q) + self.b_Q
            k = _project(k_in, self.W_K) + self.b_K
            v = _project(v_in, self.W_V) + self.b_V
        q, k, v = self.hook_q(q), self.hook_k(k), self.hook_v(v)  # [batch, pos, n_heads, d_head]
        if self.cfg.attention_kind == "softmax" and not (
            is_observed(self.hook_attn_scores) or is_observed(self.hook_pattern)
        ):
            # Fast path: torch's fused attention (no [b, h, q, k] scores/pattern tensors kept for
            # backward), taken only when nothing watches the two hook points it skips.
            z = F.scaled_dot_product_attention(
                q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),  # [batch, n_heads, pos, d_head]
                is_causal=self.cfg.causal, scale=1.0 / self.cfg.scale,
            ).transpose(1, 2)  # [batch, pos, n_heads, d_head]
            if is_observed(self.hook_z):
                z = z.clone()  # a hook may edit z in place, and SDPA's backward reads its own output
            return self._output(self.hook_z(z))
        scores = torch.einsum("bqhe,bkhe->bhqk", q, k) / self.cfg.scale  # [batch, n_heads, q, k]
        if self.cfg.causal:
            seq = scores.shape[-1]
            fill = 0.0 if self.cfg.attention_kind == "linear" else float("-inf")
            # In place: `scores` is a fresh quotient that autograd does not save.
            scores = scores.masked_fill_(_future_keys(seq, scores.device), fill)
        scores = self.hook_attn_scores(scores)
        pattern = self.hook_pattern(self._weights(scores))  # [batch, n_heads, q, k]
        z = self.hook_z(torch.einsum("bhqk,bkhe->bqhe", pattern, v))  # [batch, pos, n_heads, d_head]
        return self._output(z)

    def _output(self, z: torch.Tensor) -> torch.Tensor:
        """z [batch, pos, n_heads, d_head] -> attention output [batch, pos, d_model] (+ hook_result)."""
        if self.cfg.use_attn_result:
            # [batch, pos, n_heads, d_model]
            result = self.hook_result(torch.einsum("bqhe,hed->bqhd", z, self.W_O))
            return result.sum(dim=2) + self.b_O
        h, e, d = self.W_O.shape
        # One [b*q, h*e] x [h*e, d] matmul with the bias fused, not a batch-1 bmm plus an add.
        return _linear(z.reshape(*z.shape[:2], h * e), self.W_O.reshape(h * e, d), self.b_O)

    def _project_qkv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """q, k, v of one shared input with one fused matmul (as GPT-2's c_attn), not three.

        [b, p, d_model] or per-head [b, p, h, d_model] -> three [b, p, h, d_head] views.
        """
        e = self.cfg.d_head
        weight = torch.cat([self.W_Q, self.W_K, self.W_V], dim=-1)  # [h, d_model, 3 * d_head]
        bias = torch.cat([self.b_Q, self.b_K, self.b_V], dim=-1)  # [h, 3 * d_head]
        if x.dim() == 3:
            h, d, f = weight.shape
            matrix = weight.permute(1, 0, 2).reshape(d, h * f)  # [d_model, h * 3 * d_head]
            qkv = _linear(x, matrix, bias.reshape(-1)).view(*x.shape[:2], h, f)  # [b, p, h, 3 * d_head]
        else:
            qkv = torch.einsum("bphd,hdf->bphf", x, weight) + bias  # [b, p, h, 3 * d_head]
        # Slices, not split(): hooks may edit q/k/v in place, which autograd forbids on split's outputs.
        return qkv[..., :e], qkv[..., e : 2 * e], qkv[..., 2 * e :]

    def _weights(self, scores: torch.Tensor) -> torch.Tensor:
        kind = self.cfg.attention_kind
        if kind == "softmax":
            return scores.softmax(dim=-1)
        if kind == "linear":
            return scores
        # Hard attention: every key tied for the maximum gets an equal share (RASP semantics).
        top = scores.amax(dim=-1, keepdim=True)
        chosen = (scores >= top - 1e-6 * top.abs().clamp(min=1.0)).to(scores.dtype)
        return chosen / chosen.sum(dim=-1, keepdim=True)


def _project(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """[b,p,d] or per-head [b,p,h,d] times [h,d,e] -> [b,p,h,e]."""
    if x.dim() == 3:
        return torch.einsum("bpd,hde->bphe", x, weight)
    return torch.einsum("bphd,hde->bphe", x, weight)


@functools.lru_cache(maxsize=32)
def _future_keys(seq: int, device: torch.device) -> torch.Tensor:
    """[q, k] bool mask of keys after the query; one per (length, device), shared by all layers."""
    # A normal tensor even when first built under inference_mode: masked_fill saves it for backward.
    with torch.inference_mode(False):
        return torch.ones(seq, seq, dtype=torch.bool, device=device).triu(1)


class MLP(nn.Module):
    """Two-layer MLP with hook_pre (before the activation) and hook_post (after)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.W_in = nn.Parameter(torch.zeros(cfg.d_model, cfg.d_mlp))
        self.b_in = nn.Parameter(torch.zeros(cfg.d_mlp))
        self.W_out = nn.Parameter(torch.zeros(cfg.d_mlp, cfg.d_model))
        self.b_out = nn.Parameter(torch.zeros(cfg.d_model))
        self.act = _ACTIVATIONS[cfg.act_fn]
        self.hook_pre = HookPoint()  # [batch, pos, d_mlp]
        self.hook_post = HookPoint()  # [batch, pos, d_mlp]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[batch, pos, d_model] -> [batch, pos, d_model]."""
        pre = self.hook_pre(_linear(x, self.W_in, self.b_in))  # [batch, pos, d_mlp]
        return _linear(self.hook_post(self.act(pre)), self.W_out, self.b_out)


class TransformerBlock(nn.Module):
    """Pre-norm residual block: resid_pre -> +attn -> resid_mid -> +mlp -> resid_post."""

    # Read by TL's logit lens: hook_resid_post is the one residual stream the model unembeds.
    hook_out_is_single_residual_stream = True

    def __init__(self, cfg: ModelConfig, layer: int):
        super().__init__()
        self.cfg = cfg
        self.layer = layer
        norm = cfg.normalization_type == "LN"
        self.ln1 = LayerNorm(cfg) if norm else nn.Identity()
        self.attn = Attention(cfg)
        if not cfg.attn_only:
            self.ln2 = LayerNorm(cfg) if norm else nn.Identity()
            self.mlp = MLP(cfg)
        self.hook_resid_pre = HookPoint()  # [batch, pos, d_model]
        self.hook_attn_out = HookPoint()  # [batch, pos, d_model]
        self.hook_resid_mid = HookPoint()  # [batch, pos, d_model]
        self.hook_mlp_in = HookPoint()  # [batch, pos, d_model]
        self.hook_mlp_out = HookPoint()  # [batch, pos, d_model]
        self.hook_resid_post = HookPoint()  # [batch, pos, d_model]

    def forward(self, resid_pre: torch.Tensor) -> torch.Tensor:
        """[batch, pos, d_model] -> [batch, pos, d_model]."""
        resid_pre = self.hook_resid_pre(resid_pre)
        cfg = self.cfg
        if cfg.use_split_qkv_input or cfg.use_attn_in:
            per_head = resid_pre.unsqueeze(2).expand(-1, -1, cfg.n_heads, -1)  # [b, p, h, d_model]
            attn = self.attn
            if cfg.use_split_qkv_input:
                q_in = self.ln1(attn.hook_q_input(per_head.clone()))
                k_in = self.ln1(attn.hook_k_input(per_head.clone()))
                v_in = self.ln1(attn.hook_v_input(per_head.clone()))
            else:
                q_in = k_in = v_in = self.ln1(attn.hook_attn_in(per_head.clone()))
        else:
            q_in = k_in = v_in = self.ln1(resid_pre)
        attn_out = self.hook_attn_out(self.attn(q_in, k_in, v_in))  # [batch, pos, d_model]
        resid_mid = self.hook_resid_mid(resid_pre + attn_out)  # [batch, pos, d_model]
        if cfg.attn_only:
            return self.hook_resid_post(resid_mid)
        mlp_in = self.hook_mlp_in(resid_mid.clone()) if cfg.use_hook_mlp_in else resid_mid
        mlp_out = self.hook_mlp_out(self.mlp(self.ln2(mlp_in)))
        return self.hook_resid_post(resid_mid + mlp_out)


class Unembed(nn.Module):
    """Readout W_U [d_model, d_vocab_out] + b_U."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.W_U = nn.Parameter(torch.zeros(cfg.d_model, cfg.d_vocab_out))
        self.b_U = nn.Parameter(torch.zeros(cfg.d_vocab_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[batch, pos, d_model] -> [batch, pos, d_vocab_out]."""
        return _linear(x, self.W_U, self.b_U)
