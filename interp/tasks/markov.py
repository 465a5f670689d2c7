"""Markov sources over k symbols of order m (Makkuva et al. 2024; Rajaraman et al. 2024) with
their exact entropy rate and unigram entropy, and the next-token task they define.

A chain of order m has one row of transition probabilities per context (the last m symbols,
most recent last, read as a base-k number). Entropies are in nats.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from interp.errors import InputError
from interp.limits import current_limits
from interp.tasks.base import Task
from interp.tasks.checks import integer, number


class MarkovChain:
    """An order-m chain over symbols 0..k-1 with kernel [k**m, k] (rows sum to 1)."""

    def __init__(self, kernel: np.ndarray | list, order: int = 1):
        integer("order", order, minimum=1)
        try:
            kernel = np.asarray(kernel, dtype=np.float64)
        except (ValueError, TypeError) as err:
            raise InputError(f"a kernel must be a [contexts, symbols] table of numbers ({err}).") from None
        if kernel.ndim != 2 or kernel.shape[1] < 2:
            raise InputError(f"a kernel must be [contexts, symbols] with >= 2 symbols, got {kernel.shape}.")
        symbols = kernel.shape[1]
        if kernel.shape[0] != check_contexts(symbols, order):
            raise InputError(f"an order-{order} chain over {symbols} symbols needs {symbols}**{order} rows, "
                             f"got {kernel.shape[0]}.")
        if not np.isfinite(kernel).all():
            raise InputError("every kernel entry must be a finite probability (NaN or inf found).")
        if (kernel < 0).any() or not np.allclose(kernel.sum(1), 1.0, atol=1e-9):
            raise InputError("every kernel row must be a probability distribution (>= 0, summing to 1).")
        self.kernel, self.order, self.symbols = kernel, order, symbols

    @classmethod
    def switching(cls, p: float, q: float, order: int = 1) -> MarkovChain:
        """Binary switching chain on the symbol `order` steps back: P(x_t = 1 | x_{t-order} = 0) = p,
        P(x_t = 0 | x_{t-order} = 1) = q. Order 1 is the two-state chain; order k > 1 is Rajaraman
        et al.'s k-th order switching source (same entropy rate, but the informative symbol is k back)."""
        number("p", p, above=0, maximum=1)
        number("q", q, above=0, maximum=1)
        check_contexts(2, order)  # before the 2**order rows are built
        # Contexts are read most recent last, so the context's leading bit is x_{t-order}.
        rows = [[1 - p, p] if context >> (order - 1) == 0 else [q, 1 - q] for context in range(2**order)]
        return cls(rows, order=order)

    @classmethod
    def dirichlet(cls, symbols: int, order: int, alpha: float, seed: int) -> MarkovChain:
        """Random kernel: each row drawn from Dirichlet(alpha, ..., alpha) (seeded)."""
        integer("symbols", symbols, minimum=2)
        number("alpha", alpha, above=0)
        integer("chain_seed", seed, minimum=0)
        check_contexts(symbols, order)
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
            closed = closed_classes(self.kernel)
            if closed > 1:
                raise InputError(f"the chain is reducible: it has {closed} closed classes of contexts, so "
                                 "several stationary distributions; make every context reachable.")
            raise InputError("the chain is irreducible, but its stationary distribution cannot be resolved "
                             "in float64 (transition probabilities too close to 0 or 1); move them away "
                             "from 0 and 1.")
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
        integer("seq_len", seq_len, minimum=self.chain.order + 1, limit="sequence_length")
        self.name, self.seq_len = f"markov-{kind}", seq_len
        self.d_vocab = self.d_vocab_out = self.chain.symbols
        self.vocab = self.vocab_out = [str(s) for s in range(self.chain.symbols)]

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """Token sequences [n, seq_len] (the targets are the next tokens)."""
        return self.chain.sample(n, self.seq_len, generator)


def check_contexts(symbols: int, order: int) -> int:
    """symbols**order contexts, refused (before any table is built) when the dense context
    transition matrix the stationary distribution needs, contexts^2, is over task_table_entries."""
    integer("order", order, minimum=1)
    cap = current_limits().task_table_entries
    # Compared in logs first, so order 10**9 is refused without computing symbols**order.
    if order * math.log2(symbols) * 2 > math.log2(cap) + 1e-9 or (symbols**order) ** 2 > cap:
        raise InputError(f"an order-{order} chain over {symbols} symbols has {symbols}**{order} contexts; "
                         "its "
                         f"context transition matrix (contexts^2) is over the task_table_entries limit of "
                         f"{cap:,}; lower the order, or raise it with interp.limits.set_limits("
                         "task_table_entries=...).")
    return symbols**order


def closed_classes(kernel: np.ndarray) -> int:
    """Number of closed communicating classes of the context chain (1 = a unique stationary
    distribution); iterative Tarjan over the positive transitions, so no recursion limit."""
    contexts, k = kernel.shape
    successors = [[(c * k) % contexts + s for s in range(k) if kernel[c, s] > 0] for c in range(contexts)]
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    component = [-1] * contexts
    stack: list[int] = []
    on_stack = [False] * contexts
    count = 0
    for root in range(contexts):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack[node] = True
            if i < len(successors[node]):
                work.append((node, i + 1))
                nxt = successors[node][i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif on_stack[nxt]:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    on_stack[member] = False
                    component[member] = count
                    if member == node:
                        break
                count += 1
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    leaves = [c for c in range(contexts) for s in successors[c] if component[s] != component[c]]
    return count - len({component[c] for c in leaves})


def _entropy_rows(probs: np.ndarray) -> np.ndarray:
    """Entropy in nats of each row."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(probs > 0, -probs * np.log(probs), 0.0)
    return terms.sum(axis=1)
