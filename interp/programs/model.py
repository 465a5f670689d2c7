"""The trainable Transformer Program (Friedman, Wettig & Chen 2023): every discrete choice
(which variable a head or MLP reads, each predicate row, the attended key, each MLP output)
is a Gumbel-softmax sample at temperature `tau` while training and an argmax once `hard`.

All heads of a layer are computed together ([batch, pos, head, ...] tensors); nothing loops
over examples. `discretize()` returns the exact `DiscreteProgram` whose forward pass equals
this module's hard forward pass.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from interp.programs.program import (
    CatHead,
    DiscreteProgram,
    LookupMLP,
    NumHead,
    ProgramLayer,
    ProgramShape,
)
from interp.programs.spec import rank_matrix

# Scores of keys: log(match + eps) + a position bias in (-1, 0], divided by sqrt(d_var) as the
# paper's attention temperature: any match (>= -1) beats any non-match (log 1e-20 ~ -46).
_EPS = 1e-20


def _choose(logits: torch.Tensor, dim: int, tau: float, hard: bool) -> torch.Tensor:
    """One-hot argmax (hard) or a Gumbel-softmax sample (soft) along `dim`."""
    if hard:
        return F.one_hot(logits.argmax(dim), logits.shape[dim]).movedim(-1, dim).to(logits.dtype)
    # Gumbel noise as -log(-log U): the same distribution as F.gumbel_softmax's -log(Exp(1)), but
    # torch's exponential_ is slow on CPU (3.7 vs 0.6 ms for rand on sort's [512, 4, 8, 9] scores;
    # about 5% of a training step).
    uniform = torch.rand_like(logits).clamp_(min=_EPS)
    gumbels = -(-uniform.log()).log()
    return ((logits + gumbels) / tau).softmax(dim)


def _read(cat: torch.Tensor, reads: torch.Tensor) -> torch.Tensor:
    """Mixtures of variables: cat [b, n, V, d], reads [s, h, V] -> [s, b, n, h, d] (one GEMM)."""
    b, n, v, d = cat.shape
    s, h, _ = reads.shape
    out = cat.transpose(2, 3).reshape(b * n * d, v) @ reads.reshape(s * h, v).T  # [b*n*d, s*h]
    return out.view(b, n, d, s, h).permute(3, 0, 1, 4, 2)


class ProgramBlock(nn.Module):
    """One layer: categorical and counting heads, then categorical and numerical MLPs."""

    def __init__(self, shape: ProgramShape, layer: int):
        super().__init__()
        d, h_cat, h_num = shape.d_var, shape.n_cat_heads, shape.n_num_heads
        n_cat = shape.cat_vars_before(layer)
        n_cat_mid = shape.cat_vars_before(layer, after_attention=True)
        n_num_mid = shape.num_vars_before(layer, after_attention=True)
        m_cat, m_num, hidden = shape.n_cat_mlps, shape.n_num_mlps, shape.d_mlp

        def randn(*size: int) -> nn.Parameter:
            return nn.Parameter(torch.randn(*size) / math.sqrt(size[-1]))

        self.cat_reads = randn(3, h_cat, n_cat)  # q, k, v variable logits
        self.cat_predicate = randn(h_cat, d, d)  # [head, query value, key value]
        self.num_reads = randn(2, h_num, n_cat)
        self.num_predicate = randn(h_num, d, d)
        self.mlp_reads = randn(m_cat, 2, n_cat_mid)
        self.mlp_in = randn(m_cat, 2 * d, hidden)
        self.mlp_in_bias = nn.Parameter(torch.zeros(m_cat, hidden))
        self.mlp_out = randn(m_cat, hidden, d)
        self.mlp_out_bias = nn.Parameter(torch.zeros(m_cat, d))
        self.num_mlp_reads = randn(m_num, 2, n_num_mid)
        self.num_mlp_in = randn(m_num, 2, hidden)
        self.num_mlp_in_bias = nn.Parameter(torch.zeros(m_num, hidden))
        self.num_mlp_out = randn(m_num, hidden, d)
        self.num_mlp_out_bias = nn.Parameter(torch.zeros(m_num, d))
        self.n_ctx = shape.n_ctx
        self.attention_temp = math.sqrt(d)  # the paper's default, sqrt(d_head)

    def forward(
        self, cat: torch.Tensor, num: torch.Tensor, key_ok: torch.Tensor, bias: torch.Tensor,
        tau: float, hard: bool,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """cat [b, n, V, d], num [b, n, U] -> both with this layer's variables appended."""
        # ---- categorical heads
        if self.cat_reads.shape[1]:
            reads = _choose(self.cat_reads, -1, tau, hard)  # [3, h, V]
            q, k, v = _read(cat, reads)  # each [b, n, h, d]
            match = self._match(q, k, self.cat_predicate, tau, hard) * key_ok[:, None]  # [b, h, q, k]
            # No match -> BOS, as the paper's CatAttention does: BOS (key 0) gains a match of
            # relu(1 - s / (s + 1e-10)), s = the query's total match: 1 when s = 0, else ~1e-10 / s
            # (exactly 0 in float32 for a hard match, so the argmax model is the spec's).
            total = match.sum(-1, keepdim=True)  # [b, h, q, 1]
            at_bos = match[..., :1] + F.relu(1.0 - total / (total + 1e-10))
            match = torch.cat([at_bos, match[..., 1:]], -1)
            scores = ((match + _EPS).log() + bias) / self.attention_temp
            scores = scores.masked_fill(~key_ok[:, None], float("-inf"))
            pattern = _choose(scores, -1, tau, hard)  # [b, h, q, k]
            out = torch.einsum("bhqk,bkhd->bqhd", pattern, v)
            cat = torch.cat([cat, out], 2)
        # ---- counting heads (value = ones): RASP's SelectorWidth
        if self.num_reads.shape[1]:
            reads = _choose(self.num_reads, -1, tau, hard)
            q, k = _read(cat[:, :, : self.num_reads.shape[2]], reads)
            match = self._match(q, k, self.num_predicate, tau, hard) * key_ok[:, None]
            num = torch.cat([num, match.sum(-1).transpose(1, 2)], 2)
        # ---- MLPs (lookup tables once hard)
        outs = []
        if self.mlp_reads.shape[0]:
            reads = _choose(self.mlp_reads, -1, tau, hard)  # [m, 2, V]
            x = _read(cat, reads.transpose(0, 1)).permute(1, 2, 3, 0, 4).flatten(-2)  # [b, n, m, 2d]
            outs.append(self._mlp(x, self.mlp_in, self.mlp_in_bias, self.mlp_out, self.mlp_out_bias,
                                  tau, hard))
        if self.num_mlp_reads.shape[0]:
            reads = _choose(self.num_mlp_reads, -1, tau, hard)  # [m, 2, U]
            x = torch.einsum("bnu,miu->bnmi", num, reads)  # [b, n, m, 2]
            outs.append(self._mlp(x, self.num_mlp_in, self.num_mlp_in_bias, self.num_mlp_out,
                                  self.num_mlp_out_bias, tau, hard))
        if outs:
            cat = torch.cat([cat, *outs], 2)
        return cat, num

    @staticmethod
    def _match(q: torch.Tensor, k: torch.Tensor, predicate: torch.Tensor, tau: float, hard: bool):
        """[b, h, q, k] in [0, 1]: how much key k's value is the one the query's value asks for."""
        wanted = torch.einsum("bnhd,hde->bnhe", q, _choose(predicate, -1, tau, hard))
        return torch.einsum("bqhe,bkhe->bhqk", wanted, k)

    @staticmethod
    def _mlp(x, w_in, b_in, w_out, b_out, tau: float, hard: bool) -> torch.Tensor:
        hidden = torch.relu(torch.einsum("bnmi,mih->bnmh", x, w_in) + b_in)
        logits = torch.einsum("bnmh,mhd->bnmd", hidden, w_out) + b_out
        return _choose(logits.log_softmax(-1), -1, tau, hard)


class TransformerProgramModel(nn.Module):
    """Embeddings (one-hot tokens, one-hot positions, ones), blocks, linear read-out."""

    def __init__(self, shape: ProgramShape, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.shape = shape
        self.blocks = nn.ModuleList(ProgramBlock(shape, layer) for layer in range(shape.n_layers))
        n_cat, n_num = len(shape.cat_var_names()), len(shape.num_var_names())
        n_out = len(shape.labels)
        self.readout_cat = nn.Parameter(torch.randn(n_cat, shape.d_var, n_out) / math.sqrt(n_out))
        self.readout_num = nn.Parameter(torch.randn(n_num, n_out) / math.sqrt(n_out))
        self.readout_bias = nn.Parameter(torch.zeros(n_out))
        ranks = rank_matrix(shape.n_ctx).float()
        # About -1/n per step of distance, as the paper's fixed relative-position bias.
        self.register_buffer("position_bias", -ranks / (2 * shape.n_ctx + 1), persistent=False)
        self.tau = 3.0

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor, hard: bool = False) -> torch.Tensor:
        """Logits [batch, pos, n_labels] for token ids [batch, pos] (padded past `lengths`)."""
        shape = self.shape
        batch, n = tokens.shape
        d = shape.d_var
        positions = torch.arange(n)
        cat = torch.stack(
            [F.one_hot(tokens, d), F.one_hot(positions, d).expand(batch, n, d)], 2
        ).float()  # [b, n, 2, d]
        num = torch.ones(batch, n, 1)
        key_ok = positions[None, None, :] < lengths[:, None, None]
        if shape.causal:
            key_ok = key_ok & (positions[None, :] <= positions[:, None])[None]
        key_ok = key_ok.expand(batch, n, n)
        bias = self.position_bias[:n, :n]
        for block in self.blocks:
            cat, num = block(cat, num, key_ok, bias, self.tau, hard)
        logits = torch.einsum("bnvd,vdo->bno", cat, self.readout_cat)
        return logits + num @ self.readout_num + self.readout_bias

    @torch.no_grad()
    def discretize(self) -> DiscreteProgram:
        """The exact argmax program (its `run` equals `forward(hard=True)`)."""
        shape = self.shape
        layers = []
        for block in self.blocks:
            layer = ProgramLayer()
            q, k, v = block.cat_reads.argmax(-1).tolist()
            preds = block.cat_predicate.argmax(-1).tolist()
            layer.cat_heads = [CatHead(*args) for args in zip(q, k, v, preds)]
            q, k = block.num_reads.argmax(-1).tolist()
            preds = block.num_predicate.argmax(-1).tolist()
            layer.num_heads = [NumHead(*args) for args in zip(q, k, preds)]
            layer.cat_mlps = self._cat_tables(block)
            layer.num_mlps = self._num_tables(block)
            layers.append(layer)
        return DiscreteProgram(
            shape=shape,
            layers=layers,
            readout_cat=self.readout_cat.detach().clone(),
            readout_num=self.readout_num.detach().clone(),
            readout_bias=self.readout_bias.detach().clone(),
        )

    def _cat_tables(self, block: ProgramBlock) -> list[LookupMLP]:
        d = self.shape.d_var
        eye = torch.eye(d)
        # Every (a, b) value pair as concatenated one-hots: [d*d, 2d].
        grid = torch.cat([eye.repeat_interleave(d, 0), eye.repeat(d, 1)], 1)
        out = []
        for m, (a, b) in enumerate(block.mlp_reads.argmax(-1).tolist()):
            x = grid[None, :, None, :]  # [1, d*d, 1, 2d]
            table = ProgramBlock._mlp(x, block.mlp_in[m : m + 1], block.mlp_in_bias[m : m + 1],
                                      block.mlp_out[m : m + 1], block.mlp_out_bias[m : m + 1], 1.0, True)
            out.append(LookupMLP(a, b, table.argmax(-1).view(d, d).tolist()))
        return out

    def _num_tables(self, block: ProgramBlock) -> list[LookupMLP]:
        c = self.shape.n_counts
        values = torch.arange(c, dtype=torch.float32)
        grid = torch.stack([values.repeat_interleave(c), values.repeat(c)], 1)  # [c*c, 2]
        out = []
        for m, (a, b) in enumerate(block.num_mlp_reads.argmax(-1).tolist()):
            x = grid[None, :, None, :]
            table = ProgramBlock._mlp(x, block.num_mlp_in[m : m + 1], block.num_mlp_in_bias[m : m + 1],
                                      block.num_mlp_out[m : m + 1], block.num_mlp_out_bias[m : m + 1],
                                      1.0, True)
            out.append(LookupMLP(a, b, table.argmax(-1).view(c, c).tolist()))
        return out
