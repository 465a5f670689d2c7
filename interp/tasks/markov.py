"""Markov sources over k symbols of order m (Makkuva et al. 2024; Rajaraman et al. 2024) with
their exact entropy rate and unigram entropy, and the next-token task they define.

A chain of order m has one row of transition probabilities per context (the last m symbols,
most recent last, read as a base-k number). Entropies are in nats.
"""

from __future__ import annotations

import numpy as np
import torch

from interp.errors import InputError
from interp.tasks.base import Task


class MarkovChain:
    """An order-m chain over symbols 0..k-1 with kernel [k**m, k] (rows sum to 1)."""

    def __init__(self, kernel: np.ndarray | list, order: int = 1):
        kernel = np.asarray(kernel, dtype=np.float64)
        if kernel.ndim != 2 or kernel.shape[1] < 2:
            raise InputError(f"a kernel must be [contexts, symbols] with >= 2 symbols, got {kernel.shape}.")
        symbols = kernel.shape[1]
        if not isinstance(order, int) or order < 1 or kernel.shape[0] != symbols**order:
            raise InputError(f"an order-{order} chain over {symbols} symbols needs {symbols}**{order} rows, "
                             f"got {kernel.shape[0]}.")
        if (kernel < 0).any() or not np.allclose(kernel.sum(1), 1.0, atol=1e-9):
            raise InputError("every kernel row must be a probability distribution (>= 0, summing to 1).")
        self.kernel, self.order, self.symbols = kernel, order, symbols

    @classmethod
    def switching(cls, p: float, q: float, order: int = 1) -> MarkovChain:
        """Binary switching chain on the symbol `order` steps back: P(x_t = 1 | x_{t-order} = 0) = p,
        P(x_t = 0 | x_{t-order} = 1) = q. Order 1 is the two-state chain; order k > 1 is Rajaraman
        et al.'s k-th order switching source (same entropy rate, but the informative symbol is k back)."""
        if not (0 < p <= 1 and 0 < q <= 1):
            raise InputError(f"switching chain needs 0 < p, q <= 1, got p={p}, q={q}.")
        if not isinstance(order, int) or order < 1:
            raise InputError(f"switching chain needs an integer order >= 1, got {order!r}.")
        # Contexts are read most recent last, so the context's leading bit is x_{t-order}.
        rows = [[1 - p, p] if context >> (order - 1) == 0 else [q, 1 - q] for context in range(2**order)]
        return cls(rows, order=order)

    @classmethod
    def dirichlet(cls, symbols: int, order: int, alpha: float, seed: int) -> MarkovChain:
        """Random kernel: each row drawn from Dirichlet(alpha, ..., alpha) (seeded)."""
        if alpha <= 0:
            raise InputError(f"alpha must be > 0, got {alpha}.")
        rng = np.random.default_rng(seed)
        return cls(rng.dirichlet([alpha] * symbols, size=symbols**order), order=order)

    def context_transitions(self) -> np.ndarray:
        """Transition matrix between contexts [k**m, k**m] (context c -> (c[1:], x))."""
        contexts, k = self.kernel.shape
        matrix = np.zeros((contexts, contexts))
        for context in range(contexts):
            for symbol in range(k):
                matrix[context, (context * k) % contexts + symbol] += self.kernel[context, symbol]
        return matrix

    def stationary(self) -> np.ndarray:
        """Stationary distribution over contexts (the unique one; InputError if not unique)."""
        matrix = self.context_transitions()
        n = matrix.shape[0]
        system = np.vstack([matrix.T - np.eye(n), np.ones((1, n))])
        rhs = np.zeros(n + 1)
        rhs[-1] = 1.0
        pi, _, rank, _ = np.linalg.lstsq(system, rhs, rcond=None)
        if rank < n:
            raise InputError("the chain has several stationary distributions (it is reducible).")
        return np.clip(pi, 0.0, None) / np.clip(pi, 0.0, None).sum()

    def entropy_rate(self) -> float:
        """H(X_t | X_{t-m..t-1}) under the stationary distribution, in nats."""
        return float(self.stationary() @ _entropy_rows(self.kernel))

    def unigram(self) -> np.ndarray:
        """Stationary distribution of single symbols [k]."""
        return self.stationary() @ self.kernel

    def unigram_entropy(self) -> float:
        """Entropy of the stationary symbol distribution, in nats (the best context-free loss)."""
        return float(_entropy_rows(self.unigram()[None])[0])

    def sample(self, n: int, length: int, generator: torch.Generator) -> torch.Tensor:
        """n sequences [n, length] started in the stationary distribution."""
        k, m = self.symbols, self.order
        # All uniforms in one draw; the loop runs in numpy, whose small operations are cheap.
        u = torch.rand(n, max(length, m), generator=generator, dtype=torch.float64).numpy()
        start = (u[:, :1] >= np.cumsum(self.stationary())[None, :-1]).sum(axis=1)  # a context
        out = np.zeros((n, max(length, m)), dtype=np.int64)
        for i in range(m):  # the context's symbols, oldest first
            out[:, i] = (start // k ** (m - 1 - i)) % k
        cdf = np.cumsum(self.kernel, axis=1)[:, :-1]  # [contexts, k - 1]
        context = start
        for t in range(m, length):
            out[:, t] = (u[:, t:t + 1] >= cdf[context]).sum(axis=1)
            context = (context * k) % (k**m) + out[:, t]
        return torch.from_numpy(out[:, :length])

    def log_probs(self, tokens: torch.Tensor) -> torch.Tensor:
        """log P(x_t | previous m symbols) for t >= m: [n, length - m] (the Bayes-optimal loss terms)."""
        k, m = self.symbols, self.order
        n, length = tokens.shape
        context = torch.zeros(n, length - m, dtype=torch.long)
        for i in range(m):
            context = context * k + tokens[:, i:length - m + i]
        return torch.as_tensor(np.log(self.kernel))[context, tokens[:, m:]]


class MarkovTask(Task):
    """Next-token prediction on sequences from one fixed Markov chain (the model learns the chain).

    kind: "switching" (p, q, order), "dirichlet" (symbols, order, alpha, chain_seed),
    "kernel" (kernel, order).
    """

    loss = "next_token_ce"
    causal = True

    def __init__(self, kind: str = "switching", p: float = 0.5, q: float = 0.8, symbols: int = 2,
                 order: int = 1, alpha: float = 1.0, chain_seed: int = 0, kernel: list | None = None,
                 seq_len: int = 64):
        if kind == "switching":
            self.chain = MarkovChain.switching(p, q, order)
        elif kind == "dirichlet":
            self.chain = MarkovChain.dirichlet(symbols, order, alpha, chain_seed)
        elif kind == "kernel":
            if kernel is None:
                raise InputError("kind='kernel' needs kernel=[[...], ...].")
            self.chain = MarkovChain(kernel, order)
        else:
            raise InputError(f"unknown Markov source kind {kind!r}; use switching, dirichlet or kernel.")
        if not isinstance(seq_len, int) or seq_len <= self.chain.order:
            raise InputError(f"seq_len must exceed the chain order {self.chain.order}, got {seq_len!r}.")
        self.name, self.seq_len = f"markov-{kind}", seq_len
        self.d_vocab = self.d_vocab_out = self.chain.symbols
        self.vocab = self.vocab_out = [str(s) for s in range(self.chain.symbols)]

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """Token sequences [n, seq_len] (the targets are the next tokens)."""
        return self.chain.sample(n, self.seq_len, generator)


def _entropy_rows(probs: np.ndarray) -> np.ndarray:
    """Entropy in nats of each row."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(probs > 0, -probs * np.log(probs), 0.0)
    return terms.sum(axis=1)
