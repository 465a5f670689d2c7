"""In-context n-grams (Edelman et al. 2024): every sequence comes from its own random Markov
chain (rows ~ Dirichlet(alpha)), so the model must estimate transitions in context, and the
in-context n-gram estimator (add-alpha counts over the prefix) is the Bayes-optimal baseline."""

from __future__ import annotations

import math

import numpy as np
import torch

from interp.errors import InputError
from interp.limits import current_limits
from interp.tasks.base import Task
from interp.tasks.checks import integer, number, under_limit


class InContextNgrams(Task):
    """Next-token prediction; sequence i is drawn from a kernel [k**(n-1), k] sampled for it."""

    loss = "next_token_ce"
    causal = True

    def __init__(self, symbols: int = 3, n: int = 2, alpha: float = 1.0, seq_len: int = 64):
        integer("symbols", symbols, minimum=2, limit="vocab_size")
        integer("n", n, minimum=2)
        number("alpha", alpha, above=0)
        integer("seq_len", seq_len, minimum=n, limit="sequence_length")
        kernel_entries(symbols, n)
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
        under_limit(f"{count} sequences x {kernel_entries(self.symbols, self.n)} kernel entries",
                    count * kernel_entries(self.symbols, self.n), "batch_elements")
        k, m = self.symbols, self.n - 1
        kernels = self.sample_kernels(count, generator)
        # All uniforms in one draw; the loop runs in numpy, whose small operations are cheap.
        u = torch.rand(count, self.seq_len, generator=generator, dtype=torch.float64).numpy()
        out = np.zeros((count, self.seq_len), dtype=np.int64)
        out[:, :m] = np.minimum((u[:, :m] * k).astype(np.int64), k - 1)  # uniform first n-1 tokens
        context = np.zeros(count, dtype=np.int64)
        for i in range(m):
            context = context * k + out[:, i]
        cdf = kernels.cumsum(dim=-1)[..., :-1].numpy()  # [count, contexts, k - 1]
        rows = np.arange(count)
        for t in range(m, self.seq_len):
            out[:, t] = (u[:, t:t + 1] >= cdf[rows, context]).sum(axis=1)
            context = (context * k) % (k**m) + out[:, t]
        return torch.from_numpy(out), kernels

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """Token sequences [n, seq_len] (the targets are the next tokens)."""
        return self.sample_with_kernels(n, generator)[0]


def kernel_entries(symbols: int, n: int) -> int:
    """Entries of one n-gram kernel, symbols**(n-1) x symbols, refused over task_table_entries
    (compared in logs first, so a huge n is refused without computing the power)."""
    cap = current_limits().task_table_entries
    if n * math.log2(symbols) > math.log2(cap) + 1e-9 or symbols**n > cap:
        raise InputError(f"{n}-grams over {symbols} symbols need kernels of {symbols}**{n} entries, over the "
                         f"task_table_entries limit of {cap:,}; lower n or symbols, or raise it with "
                         "interp.limits.set_limits(task_table_entries=...).")
    return symbols**n


def in_context_ngram_probs(tokens: torch.Tensor, symbols: int, n: int = 2, alpha: float = 1.0
                           ) -> torch.Tensor:
    """P(x_p = s | x_<p) for p = n-1 .. pos-1 from add-alpha counts of what followed the current
    context (the last n-1 tokens) earlier in the same sequence: [batch, pos - (n-1), symbols].
    This is the posterior mean under the task's Dirichlet(alpha) prior."""
    integer("symbols", symbols, minimum=2, limit="vocab_size")
    integer("n", n, minimum=2)
    number("alpha", alpha, above=0)
    if not isinstance(tokens, torch.Tensor) or tokens.dim() != 2 or tokens.dtype.is_floating_point \
            or tokens.dtype == torch.bool:
        what = getattr(tokens, "dtype", type(tokens).__name__)
        raise InputError(f"tokens must be an integer tensor [batch, pos], got {what} "
                         f"{tuple(getattr(tokens, 'shape', ()))}.")
    batch, length = tokens.shape
    m = n - 1
    if length < n:
        raise InputError(f"tokens have {length} positions; the {n}-gram estimator needs at least n={n}.")
    if tokens.numel() and (int(tokens.min()) < 0 or int(tokens.max()) >= symbols):
        raise InputError(f"tokens must lie in 0..{symbols - 1} (symbols={symbols}), got "
                         f"{int(tokens.min())}..{int(tokens.max())}.")
    # The counts table below is [batch, positions, contexts, symbols] float64.
    under_limit("tokens: batch x positions x kernel entries",
                batch * (length - m) * kernel_entries(symbols, n), "batch_elements")
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
