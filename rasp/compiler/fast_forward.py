"""A fused, hook-free forward for compiled models: logits from token ids with the fewest ops.

`HookedTransformer.forward` pays for generality on every call: a module call per hook point,
id validation (a min/max pass), q/k/v weights concatenated anew, dense matmuls over weights
that are mostly zero, the BOS row unembedded. For batched inference of a compiled program
none of that is needed. This runs the same arithmetic with every sublayer packed to its
nonzero weights (the residual dimensions it reads and writes, its used heads, value columns
and hidden units; dropping exact zeros changes no sum), the residual stream feature-major so
those reads and writes are contiguous rows, biases fused into `addmm`, an in-place ReLU,
softmax attention computed elementwise over the short sequences, and the unembedding only
at the positions asked for. torch.compile is not used: on CPU its compile time (seconds per
model and shape) exceeds a whole 1,000-input batch.

It is used only when it computes what the model would (`fusable`): no hook is attached
anywhere, no LayerNorm, softmax attention, token ids in. Otherwise callers use the model.
The packed weights are rebuilt whenever a parameter changes (in-place edits included).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from interp.model import HookedTransformer
from interp.model.components import is_observed


@dataclass
class _Sub:
    """One sublayer as `x[:, cols] += f(x[:, rows])`, with only the nonzero weights kept.

    Compiled weights are mostly zero (each sublayer reads and writes a few residual
    dimensions), so the matmuls shrink to those. Dropping exact zeros changes no sum.
    rows / cols None: all of d_model.
    """

    rows: torch.Tensor | None  # [r] residual dimensions read
    w_in: torch.Tensor  # [k, r]: packed q|k|v of the used heads, or the MLP's W_in; transposed
    b_in: torch.Tensor  # [k, 1]
    w_out: torch.Tensor  # [c, m]: packed W_O of the used heads, or the MLP's W_out; transposed
    cols: torch.Tensor | None  # [c] residual dimensions written
    heads: int = 0  # attention: used heads (0 for an MLP)
    e_qk: int = 0  # attention: packed query/key width per head
    e_v: int = 0  # attention: packed value width per head
    act: Any = None  # MLP: activation


@dataclass
class _Block:
    """A block: attention and MLP sublayers (None when they write only their bias)."""

    attn: _Sub | None
    attn_bias: torch.Tensor | None  # b_O, None when zero
    mlp: _Sub | None
    mlp_bias: torch.Tensor | None  # b_out, None when zero


def fusable(model: HookedTransformer) -> bool:
    """Whether `fused_logits` equals `model(ids)`: no hooks, no LayerNorm, softmax, ids in."""
    cfg = model.cfg
    if (cfg.normalization_type is not None or cfg.attention_kind != "softmax"
            or cfg.d_input is not None or cfg.positional_embedding not in ("learned", "none")):
        return False
    # A hook anywhere (cache, patching, ablation) must see its activation: use the model then.
    return not any(is_observed(point) for point in model.hook_dict.values())


def _nonzero(t: torch.Tensor) -> torch.Tensor | None:
    return t.detach() if bool(t.any()) else None


def _index(mask: torch.Tensor) -> torch.Tensor | None:
    """Indices where mask [d] holds, or None when it holds everywhere (no gather needed)."""
    return None if bool(mask.all()) else mask.nonzero().flatten()


def _take(w: torch.Tensor, index: torch.Tensor | None, dim: int) -> torch.Tensor:
    return w if index is None else w.index_select(dim, index)


def _attention(attn: Any) -> _Sub | None:
    """The attention sublayer packed to its used heads and columns (None: it writes only b_O)."""
    W_Q, W_K, W_V, W_O = (w.detach() for w in (attn.W_Q, attn.W_K, attn.W_V, attn.W_O))
    b_Q, b_K, b_V = (b.detach() for b in (attn.b_Q, attn.b_K, attn.b_V))
    qk_cols, v_cols = [], []
    for h in range(W_Q.shape[0]):
        # A score term q_e * k_e is zero when either side is zero everywhere.
        qk = ((W_Q[h] != 0).any(0) | (b_Q[h] != 0)) & ((W_K[h] != 0).any(0) | (b_K[h] != 0))
        # A value column matters when it can be nonzero and W_O reads it.
        v = ((W_V[h] != 0).any(0) | (b_V[h] != 0)) & (W_O[h] != 0).any(1)
        if v.any():
            qk_cols.append((h, qk.nonzero().flatten()))
            v_cols.append(v.nonzero().flatten())
    if not v_cols:
        return None
    n, d = len(v_cols), W_Q.shape[1]
    e_qk = max(1, *(len(c) for _, c in qk_cols))  # zero-padded: 0 * 0 adds nothing to a score
    e_v = max(len(c) for c in v_cols)
    w = torch.zeros(d, 2 * n * e_qk + n * e_v, dtype=W_Q.dtype, device=W_Q.device)
    b = torch.zeros(w.shape[1], dtype=W_Q.dtype, device=W_Q.device)
    w_o = torch.zeros(n * e_v, W_O.shape[2], dtype=W_O.dtype, device=W_O.device)
    for i, ((h, qk), v) in enumerate(zip(qk_cols, v_cols)):
        q0, k0, v0 = i * e_qk, (n + i) * e_qk, 2 * n * e_qk + i * e_v
        w[:, q0:q0 + len(qk)], b[q0:q0 + len(qk)] = W_Q[h][:, qk], b_Q[h][qk]
        w[:, k0:k0 + len(qk)], b[k0:k0 + len(qk)] = W_K[h][:, qk], b_K[h][qk]
        w[:, v0:v0 + len(v)], b[v0:v0 + len(v)] = W_V[h][:, v], b_V[h][v]
        w_o[i * e_v:i * e_v + len(v)] = W_O[h][v]
    rows, cols = _index((w != 0).any(1)), _index((w_o != 0).any(0))
    return _Sub(rows, _take(w, rows, 0).t().contiguous(), b[:, None],
                _take(w_o, cols, 1).t().contiguous(), cols, heads=n, e_qk=e_qk, e_v=e_v)


def _mlp(mlp: Any) -> _Sub | None:
    """The MLP packed to its used hidden units (None: it writes only b_out)."""
    W_in, b_in, W_out = mlp.W_in.detach(), mlp.b_in.detach(), mlp.W_out.detach()
    units = (W_out != 0).any(1).nonzero().flatten()  # a unit W_out never reads adds nothing
    if len(units) == 0:
        return None
    W_in, b_in, W_out = W_in[:, units], b_in[units], W_out[units]
    rows, cols = _index((W_in != 0).any(1)), _index((W_out != 0).any(0))
    return _Sub(rows, _take(W_in, rows, 0).t().contiguous(), b_in[:, None],
                _take(W_out, cols, 1).t().contiguous(), cols, act=mlp.act)


def _plan(model: HookedTransformer) -> tuple[list[_Block], torch.Tensor | None, torch.Tensor]:
    """Packed blocks and unembedding, rebuilt whenever a parameter changed (in-place edits too)."""
    key = tuple((id(p), p._version) for p in model.parameters())
    cached = getattr(model, "_fast_forward_plan", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    with torch.no_grad():
        blocks = [
            _Block(_attention(block.attn), _nonzero(block.attn.b_O),
                   None if model.cfg.attn_only else _mlp(block.mlp),
                   None if model.cfg.attn_only else _nonzero(block.mlp.b_out))
            for block in model.blocks
        ]
        W_U = model.unembed.W_U.detach()
        u_rows = _index((W_U != 0).any(1))
        plan = (blocks, u_rows, _take(W_U, u_rows, 0).t().contiguous())
    model._fast_forward_plan = (key, plan)  # type: ignore[attr-defined]
    return plan


def _write(xt: torch.Tensor, sub: _Sub, value: torch.Tensor) -> None:
    """xt[sub.cols] += sub.w_out @ value, in place ([c, m] @ [m, N]; whole rows, so fast)."""
    if sub.cols is None:
        xt.addmm_(sub.w_out, value)
    else:
        xt.index_add_(0, sub.cols, sub.w_out @ value)


def _attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float,
            causal: bool) -> torch.Tensor:
    """Softmax attention in feature-major layout: q, k [h, e, n, p], v [h, e_v, n, p] -> z.

    Sequences are short and heads narrow, so a batched matmul of [p, e] x [e, p] blocks
    wastes most of its time; instead one elementwise pass per key position, each over all
    sequences at once, and the softmax over the leading key axis (contiguous rows).
    """
    p = q.shape[-1]
    # scores[j, h, n, i] = scale * sum_e q[h, e, n, i] * k[h, e, n, j]
    scores = torch.stack([(q * k[..., j: j + 1]).sum(1) for j in range(p)]) * scale
    if causal:  # key j after query i: -inf, as SDPA's is_causal
        scores.masked_fill_(_after(p, scores.device)[:, None, None, :], float("-inf"))
    scores -= scores.amax(0, keepdim=True)
    weights = scores.exp_()
    weights /= weights.sum(0, keepdim=True)  # [p_key, h, n, p_query]
    z = weights[0].unsqueeze(1) * v[..., 0:1]  # [h, e_v, n, p_query]
    for j in range(1, p):
        z.addcmul_(weights[j].unsqueeze(1), v[..., j: j + 1])
    return z


@functools.lru_cache(maxsize=32)
def _after(p: int, device: torch.device) -> torch.Tensor:
    """[key, query] bool: the key comes after the query."""
    return torch.ones(p, p, dtype=torch.bool, device=device).tril(-1)


@torch.no_grad()
def fused_logits(model: HookedTransformer, ids: torch.Tensor, first: int = 0) -> torch.Tensor:
    """Logits [batch, pos - first, d_vocab_out] of ids [batch, pos], as `model(ids)[:, first:]`.

    Callers check `fusable(model)` and that ids are valid (in the vocabulary, within n_ctx).
    """
    cfg = model.cfg
    n, p = ids.shape
    d = cfg.d_model
    resid = model.embed.W_E.detach()[ids]  # [n, p, d_model], a fresh tensor
    if cfg.positional_embedding == "learned":
        resid += model.pos_embed.W_pos.detach()[:p]
    # Feature-major [d_model, N] (N = n * p): reading or writing a residual dimension is then
    # one contiguous row, so the gathers and scatter-adds of the sparse sublayers are cheap.
    xt = resid.view(n * p, d).t().contiguous()  # [d_model, N]
    blocks, u_rows, W_U = _plan(model)
    for blk in blocks:
        if (sub := blk.attn) is not None:
            xr = xt if sub.rows is None else xt.index_select(0, sub.rows)  # [r, N]
            qkv = torch.addmm(sub.b_in, sub.w_in, xr)  # [heads * (2 * e_qk + e_v), N]
            m, eq, ev = sub.heads, sub.e_qk, sub.e_v
            q = qkv[: m * eq].view(m, eq, n, p)
            k = qkv[m * eq: 2 * m * eq].view(m, eq, n, p)
            v = qkv[2 * m * eq:].view(m, ev, n, p)
            z = _attend(q, k, v, 1.0 / cfg.scale, cfg.causal)  # [heads, e_v, n, p]
            _write(xt, sub, z.view(m * ev, n * p))
        if blk.attn_bias is not None:
            xt += blk.attn_bias[:, None]
        if (sub := blk.mlp) is not None:
            xr = xt if sub.rows is None else xt.index_select(0, sub.rows)  # [r, N]
            hidden = torch.addmm(sub.b_in, sub.w_in, xr)  # [used units, N]
            _write(xt, sub, hidden.relu_() if sub.act is F.relu else sub.act(hidden))
        if blk.mlp_bias is not None:
            xt += blk.mlp_bias[:, None]
    if u_rows is not None:
        xt = xt.index_select(0, u_rows)  # [u, N]
    xt = xt.view(-1, n, p)[:, :, first:].reshape(xt.shape[0], -1)  # [u, n * (p - first)]
    logits = torch.addmm(model.unembed.b_U.detach()[:, None], W_U, xt)  # [d_vocab_out, ...]
    return logits.t().reshape(n, p - first, -1)
