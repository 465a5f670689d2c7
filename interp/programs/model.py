"""The trainable Transformer Program (Friedman, Wettig & Chen 2023): every discrete choice
(which variable a head or MLP reads, each predicate row, the attended key, each MLP output)
is a Gumbel-softmax sample at temperature `tau` while training and an argmax once `hard`.

All heads of a layer are computed together ([head, batch, pos, ...] tensors); nothing loops
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
# Straight-through samples make non-matching keys' match, and a query's total match, exactly 0,
# where the gradients of log(match + 1e-20) and of total / (total + 1e-10) (the BOS default)
# overflow: measured inf within 1-4 steps on reverse and induction. Training with them uses 1e-3
# for both: a non-match scores log(1e-3) ~ -6.9, still below any match (>= -1), and BOS gains
# at most 1e-3 when something matches. Hard (argmax) passes keep the exact constants above.
_STRAIGHT_THROUGH_EPS = 1e-3


def _one_hot_argmax(logits: torch.Tensor, dim: int) -> torch.Tensor:
    return F.one_hot(logits.argmax(dim), logits.shape[dim]).movedim(-1, dim).to(logits.dtype)


def _choose(logits: torch.Tensor, dim: int, tau: float, hard: bool,
            straight_through: bool = False) -> torch.Tensor:
    """One-hot argmax (hard) or a Gumbel-softmax sample (soft) along `dim`.

    straight_through: the sample's one-hot argmax forward, the soft sample's gradient backward
    (the paper's `gumbel_hard`, torch's gumbel_softmax(hard=True)).
    """
    if hard:
        return _one_hot_argmax(logits, dim)
    # Gumbel noise as -log(-log U): the same distribution as F.gumbel_softmax's -log(Exp(1)), but
    # torch's exponential_ is slow on CPU (3.7 vs 0.6 ms for rand on sort's [512, 4, 8, 9] scores;
    # about 5% of a training step).
    uniform = torch.rand_like(logits).clamp_(min=_EPS)
    gumbels = -(-uniform.log()).log()
    sample = ((logits + gumbels) / tau).softmax(dim)
    if straight_through:
        return _one_hot_argmax(sample, dim) + (sample - sample.detach())  # exactly one-hot forward
    return sample


def _read(cat: torch.Tensor, reads: torch.Tensor) -> torch.Tensor:
    """Mixtures of variables: cat [V, b, n, d], reads [r, V] -> [r, b, n, d] (one GEMM, no copy)."""
    v, b, n, d = cat.shape
    return (reads @ cat.reshape(v, b * n * d)).view(reads.shape[0], b, n, d)


class ProgramBlock(nn.Module):
    """One layer: categorical and counting heads, then categorical and numerical MLPs.

    The residual stream is kept variable-major (cat [V, b, n, d], num [U, b, n]) so that every
    read is one GEMM and every write one concatenation along dim 0, with no transposed copies.
    """

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
        tau: float, hard: bool, straight: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """cat [V, b, n, d], num [U, b, n] -> both with this layer's variables appended.

        straight: straight-through samples (one-hot forward, soft gradient) instead of soft ones.
        """
        _, b, n, d = cat.shape
        # ---- categorical heads
        h = self.cat_reads.shape[1]
        if h:
            reads = _choose(self.cat_reads, -1, tau, hard, straight)  # [3, h, V]
            q, k, v = _read(cat, reads.flatten(0, 1)).view(3, h, b, n, d).unbind(0)  # each [h, b, n, d]
            match = self._match(q, k, self.cat_predicate, tau, hard, straight) * key_ok  # [h, b, q, k]
            # No match -> BOS, as the paper's CatAttention does: BOS (key 0) gains a match of
            # relu(1 - s / (s + 1e-10)), s = the query's total match: 1 when s = 0, else ~1e-10 / s
            # (exactly 0 in float32 for a hard match, so the argmax model is the spec's).
            eps, bos_eps = (_STRAIGHT_THROUGH_EPS, _STRAIGHT_THROUGH_EPS) if straight else (_EPS, 1e-10)
            total = match.sum(-1, keepdim=True)  # [h, b, q, 1]
            at_bos = match[..., :1] + F.relu(1.0 - total / (total + bos_eps))
            match = torch.cat([at_bos, match[..., 1:]], -1)
            scores = ((match + eps).log() + bias) / self.attention_temp
            scores = scores.masked_fill(~key_ok, float("-inf"))
            pattern = _choose(scores, -1, tau, hard, straight)  # [h, b, q, k]
            cat = torch.cat([cat, pattern @ v], 0)  # + [h, b, q, d]
        # ---- counting heads (value = ones): RASP's SelectorWidth
        h = self.num_reads.shape[1]
        if h:
            reads = _choose(self.num_reads, -1, tau, hard, straight)  # [2, h, V_before]
            q, k = _read(cat[: self.num_reads.shape[2]], reads.flatten(0, 1)).view(2, h, b, n, d).unbind(0)
            match = self._match(q, k, self.num_predicate, tau, hard, straight) * key_ok  # [h, b, q, k]
            num = torch.cat([num, match.sum(-1)], 0)  # + [h, b, q]
        # ---- MLPs (lookup tables once hard)
        outs = []
        m = self.mlp_reads.shape[0]
        if m:
            reads = _choose(self.mlp_reads, -1, tau, hard, straight)  # [m, 2, V]
            x = _read(cat, reads.flatten(0, 1)).view(m, 2, b * n, d).transpose(1, 2).reshape(m, b * n, 2 * d)
            outs.append(self._mlp(x, self.mlp_in, self.mlp_in_bias, self.mlp_out, self.mlp_out_bias,
                                  tau, hard, straight).view(m, b, n, d))
        m = self.num_mlp_reads.shape[0]
        if m:
            reads = _choose(self.num_mlp_reads, -1, tau, hard, straight)  # [m, 2, U]
            x = (reads.flatten(0, 1) @ num.reshape(num.shape[0], b * n)).view(m, 2, b * n)
            outs.append(self._mlp(x.transpose(1, 2), self.num_mlp_in, self.num_mlp_in_bias, self.num_mlp_out,
                                  self.num_mlp_out_bias, tau, hard, straight).view(m, b, n, d))
        if outs:
            cat = torch.cat([cat, *outs], 0)
        return cat, num

    @staticmethod
    def _match(q: torch.Tensor, k: torch.Tensor, predicate: torch.Tensor, tau: float, hard: bool,
               straight: bool = False):
        """[h, b, q, k] in [0, 1]: how much key k's value is the one the query's value asks for."""
        h, b, n, d = q.shape
        wanted = (q.reshape(h, b * n, d) @ _choose(predicate, -1, tau, hard, straight)).view(h, b, n, d)
        return wanted @ k.transpose(-1, -2)

    @staticmethod
    def _mlp(x, w_in, b_in, w_out, b_out, tau: float, hard: bool, straight: bool = False) -> torch.Tensor:
        """x [m, rows, inputs] -> one-hot (hard) or sampled outputs [m, rows, d]."""
        hidden = torch.relu(torch.baddbmm(b_in[:, None], x, w_in))  # [m, rows, d_mlp]
        logits = torch.baddbmm(b_out[:, None], hidden, w_out)  # [m, rows, d]
        return _choose(logits.log_softmax(-1), -1, tau, hard, straight)


def paper_position_bias(n_ctx: int) -> torch.Tensor:
    """The paper's FixedRelPosBias as a [query, key] matrix: 0 for the nearest earlier key, then
    -1/(n-1) per further step back, -(d-1)/(n-2) for a later key d steps ahead, -2 for the query
    itself. Its order is the spec's rank order (the two keys at distance 1 tie at 0; an argmax
    takes the earlier one, as the spec does), so the argmax program is the same."""
    n = n_ctx
    offsets = torch.arange(n)[None, :] - torch.arange(n)[:, None]  # k - q
    earlier = (-n + (n + offsets) * n / max(n - 1, 1)) / n  # offsets < 0: the paper's second linspace
    later = -(offsets - 1).clamp(min=0) / max(n - 2, 1)  # offsets > 0: its first linspace
    bias = torch.where(offsets < 0, earlier, later)
    return bias.masked_fill(offsets == 0, -2.0).float()


# Training conventions: "ours" (the project's) or "paper" (princeton-nlp/TransformerPrograms'
# src/models/programs.py, as in benchmarks/tp_side_by_side.py): the paper's position bias, a
# Gumbel-softmaxed token embedding (logits +-10, one sample per forward pass) and no read-out bias
# (its `ones` variable's read-out row is the only bias; ours adds a second, which Adam moves as
# fast as the first, so the bias direction moves twice as fast). The argmax program is the same.
CONVENTIONS = ("ours", "paper")


class TransformerProgramModel(nn.Module):
    """Embeddings (one-hot tokens, one-hot positions, ones), blocks, linear read-out."""

    def __init__(self, shape: ProgramShape, seed: int = 0, conventions: str = "ours"):
        super().__init__()
        torch.manual_seed(seed)
        self.shape = shape
        self.conventions = conventions
        self.blocks = nn.ModuleList(ProgramBlock(shape, layer) for layer in range(shape.n_layers))
        n_cat, n_num = len(shape.cat_var_names()), len(shape.num_var_names())
        n_out = len(shape.labels)
        self.readout_cat = nn.Parameter(torch.randn(n_cat, shape.d_var, n_out) / math.sqrt(n_out))
        self.readout_num = nn.Parameter(torch.randn(n_num, n_out) / math.sqrt(n_out))
        self.readout_bias = nn.Parameter(torch.zeros(n_out), requires_grad=conventions == "ours")
        if conventions == "paper":
            position_bias = paper_position_bias(shape.n_ctx)
        else:
            # About -1/n per step of distance, as the paper's fixed relative-position bias.
            position_bias = -rank_matrix(shape.n_ctx).float() / (2 * shape.n_ctx + 1)
        self.register_buffer("position_bias", position_bias, persistent=False)
        # The paper's one-hot embedding logits (CatEmbed, one_hot_embed): [n_tokens, d_var].
        embed_logits = torch.eye(shape.d_var)[: len(shape.tokens)] * 20.0 - 10.0
        self.register_buffer("embed_logits", embed_logits, persistent=False)
        self.tau = 3.0
        # Training samples: soft Gumbel-softmax (the paper's default `gumbel_soft`) or
        # straight-through (`gumbel_hard`: one-hot forward, soft gradient). Hard passes ignore it.
        self.straight_through = False

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor, hard: bool = False) -> torch.Tensor:
        """Logits [batch, pos, n_labels] for token ids [batch, pos] (padded past `lengths`)."""
        shape = self.shape
        batch, n = tokens.shape
        d = shape.d_var
        positions = torch.arange(n)
        if self.conventions == "paper" and not hard:
            # One sample of every token's embedding per pass, shared by all its occurrences.
            embed = _choose(self.embed_logits, -1, self.tau, False, self.straight_through)  # [n_tokens, d]
            token_values = embed[tokens]  # [b, n, d]
        else:
            token_values = F.one_hot(tokens, d).float()
        cat = torch.stack(
            [token_values, F.one_hot(positions, d).float().expand(batch, n, d)]
        )  # [2, b, n, d]
        num = torch.ones(1, batch, n)
        key_ok = positions[None, None, :] < lengths[:, None, None]
        if shape.causal:
            key_ok = key_ok & (positions[None, :] <= positions[:, None])[None]
        key_ok = key_ok.expand(batch, n, n)
        bias = self.position_bias[:n, :n]
        for block in self.blocks:
            cat, num = block(cat, num, key_ok, bias, self.tau, hard, self.straight_through)
        v = cat.shape[0]
        logits = (cat.reshape(v, batch * n, d) @ self.readout_cat).sum(0)  # [b*n, n_labels]
        logits = logits + num.reshape(num.shape[0], batch * n).T @ self.readout_num + self.readout_bias
        return logits.view(batch, n, -1)

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
            x = grid[None]  # [1, d*d, 2d]
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
            x = grid[None]  # [1, c*c, 2]
            table = ProgramBlock._mlp(x, block.num_mlp_in[m : m + 1], block.num_mlp_in_bias[m : m + 1],
                                      block.num_mlp_out[m : m + 1], block.num_mlp_out_bias[m : m + 1],
                                      1.0, True)
            out.append(LookupMLP(a, b, table.argmax(-1).view(c, c).tolist()))
        return out
