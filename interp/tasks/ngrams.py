"""In-context n-grams (Edelman et al. 2024): every sequence comes from its own random Markov
chain (rows ~ Dirichlet(alpha)), so the model must estimate transitions in context, and the
in-context n-gram estimator (add-alpha counts over the prefix) is the Bayes-optimal baseline."""

from __future__ import annotations

import torch

from interp.errors import InputError
from interp.tasks.base import Task, uniform


class InContextNgrams(Task):
    """Next-token prediction; sequence i is drawn from a kernel [k**(n-1), k] sampled for it."""

    loss = "next_token_ce"
    causal = True

    def __init__(self, symbols: int = 3, n: int = 2, alpha: float = 1.0, seq_len: int = 64):
        if not isinstance(symbols, int) or symbols < 2:
            raise InputError(f"symbols must be an integer >= 2, got {symbols!r}.")
        if not isinstance(n, int) or n < 2:
            raise InputError(f"n must be an integer >= 2 (2 = bigrams), got {n!r}.")
        if not alpha > 0:
            raise InputError(f"alpha must be > 0, got {alpha!r}.")
        if not isinstance(seq_len, int) or seq_len < n:
            raise InputError(f"seq_len must be an integer >= n={n}, got {seq_len!r}.")
        self.symbols, self.n, self.alpha, self.seq_len = symbols, n, alpha, seq_len
        self.name = f"icl-{n}gram"
        self.d_vocab = self.d_vocab_out = symbols
        self.vocab = self.vocab_out = [str(s) for s in range(symbols)]

    def sample_kernels(self, count: int, generator: torch.Generator) -> torch.Tensor:
        """count kernels [count, k**(n-1), k], rows ~ Dirichlet(alpha) (normalised Gammas)."""
        k, contexts = self.symbols, self.symbols ** (self.n - 1)
        rates = torch.full((count, contexts, k), float(self.alpha), dtype=torch.float64)
        gammas = torch._standard_gamma(rates, generator=generator)
        return gammas / gammas.sum(dim=-1, keepdim=True)

    def sample_with_kernels(self, count: int, generator: torch.Generator
                            ) -> tuple[torch.Tensor, torch.Tensor]:
        """Sequences [count, seq_len] and the kernel each came from [count, k**(n-1), k]."""
        k, m = self.symbols, self.n - 1
        kernels = self.sample_kernels(count, generator)
        rows = torch.arange(count)
        # The first n-1 tokens are uniform (the chain has no stationary start here).
        first = (uniform(count * m, generator).view(count, m) * k).long().clamp(max=k - 1)
        out = [first]
        context = torch.zeros(count, dtype=torch.long)
        for i in range(m):
            context = context * k + first[:, i]
        for _ in range(self.seq_len - m):
            probs = kernels[rows, context]  # [count, k]
            u = uniform(count, generator)[:, None]
            symbol = (u >= probs.cumsum(dim=1)[:, :-1]).sum(dim=1)
            out.append(symbol[:, None])
            context = (context * k) % (k**m) + symbol
        return torch.cat(out, dim=1), kernels

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """Token sequences [n, seq_len] (the targets are the next tokens)."""
        return self.sample_with_kernels(n, generator)[0]


def in_context_ngram_probs(tokens: torch.Tensor, symbols: int, n: int = 2, alpha: float = 1.0
                           ) -> torch.Tensor:
    """P(x_p = s | x_<p) for p = n-1 .. pos-1 from add-alpha counts of what followed the current
    context (the last n-1 tokens) earlier in the same sequence: [batch, pos - (n-1), symbols].
    This is the posterior mean under the task's Dirichlet(alpha) prior."""
    batch, length = tokens.shape
    m = n - 1
    context = torch.zeros(batch, length - m, dtype=torch.long)  # context[:, j] = tokens[j : j+m]
    for i in range(m):
        context = context * symbols + tokens[:, i:length - m + i]
    following = tokens[:, m:]  # the token each context predicts
    events = torch.zeros(batch, length - m, symbols**m, symbols, dtype=torch.float64)
    events[torch.arange(batch)[:, None], torch.arange(length - m)[None], context, following] = 1.0
    before = events.cumsum(dim=1) - events  # counts strictly before each prediction
    counts = before[torch.arange(batch)[:, None], torch.arange(length - m)[None], context]  # [b, p, k]
    return (counts + alpha) / (counts.sum(-1, keepdim=True) + alpha * symbols)


def in_context_ngram_loss(tokens: torch.Tensor, symbols: int, n: int = 2, alpha: float = 1.0) -> float:
    """Mean cross-entropy (nats) of the in-context n-gram estimator on positions n-1 .. pos-1."""
    probs = in_context_ngram_probs(tokens, symbols, n, alpha)
    picked = probs.gather(-1, tokens[:, n - 1:, None]).squeeze(-1)
    return float(-picked.log().mean())
