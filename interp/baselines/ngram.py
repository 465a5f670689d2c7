"""The in-context bigram estimator (Edelman et al. 2024): next-token probabilities from the
transition counts seen so far in the same sequence."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from interp.errors import InputError


def bigram_predictive(tokens: torch.Tensor, vocab_size: int, alpha: float = 1.0) -> torch.Tensor:
    """P(next token | prefix) at every position: [batch, pos, vocab_size].

    At position t with current token a: (count(a -> c in tokens[:t+1]) + alpha) /
    (count(a -> . in tokens[:t+1]) + vocab_size alpha), the posterior predictive of a
    Dirichlet(alpha) prior on each transition row (alpha = 1: Laplace's add-one rule).
    """
    if tokens.dim() != 2 or tokens.dtype.is_floating_point:
        raise InputError(f"expected integer tokens [batch, pos], got {tokens.dtype} {tuple(tokens.shape)}.")
    if tokens.numel() and (tokens.min() < 0 or tokens.max() >= vocab_size):
        raise InputError(f"tokens must lie in [0, {vocab_size}); got values in "
                         f"[{tokens.min().item()}, {tokens.max().item()}].")
    if alpha <= 0:
        raise InputError(f"alpha must be > 0, got {alpha}.")
    batch, length = tokens.shape
    pair_ids = tokens[:, :-1] * vocab_size + tokens[:, 1:]  # [b, pos-1]: transition t -> t+1
    pairs = F.one_hot(pair_ids, vocab_size * vocab_size).to(torch.float64)  # [b, pos-1, V*V]
    # counts[:, t] = transitions that ended at or before position t (none at t = 0).
    counts = torch.cat([torch.zeros(batch, 1, vocab_size * vocab_size, dtype=torch.float64),
                        pairs.cumsum(1)], dim=1).view(batch, length, vocab_size, vocab_size)
    rows = counts.gather(2, tokens.view(batch, length, 1, 1).expand(-1, -1, 1, vocab_size)).squeeze(2)
    return ((rows + alpha) / (rows.sum(-1, keepdim=True) + vocab_size * alpha)).to(torch.float32)
