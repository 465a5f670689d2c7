"""Markov sources: exact entropy rate and unigram entropy against closed forms and against
brute-force estimates from long samples."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from interp.errors import InputError
from interp.tasks import MarkovChain, MarkovTask, make_task


def binary_entropy(p: float) -> float:
    return -p * math.log(p) - (1 - p) * math.log(1 - p)


@pytest.mark.parametrize("p, q, rate, unigram", [(0.5, 0.8, 0.619, 0.666), (0.8, 0.8, 0.500, 0.693)])
def test_switching_chain_closed_form(p: float, q: float, rate: float, unigram: float):
    chain = MarkovChain.switching(p, q)
    pi0 = q / (p + q)  # stationary P(0) of the two-state chain
    assert chain.entropy_rate() == pytest.approx(pi0 * binary_entropy(p) + (1 - pi0) * binary_entropy(q))
    assert chain.unigram_entropy() == pytest.approx(binary_entropy(pi0))
    # The papers' numbers (Makkuva et al.; Rajaraman et al.), to three decimals.
    assert round(chain.entropy_rate(), 3) == rate and round(chain.unigram_entropy(), 3) == unigram


def test_order_k_switching_reads_the_symbol_k_back():
    chain, first = MarkovChain.switching(0.8, 0.6, order=3), MarkovChain.switching(0.8, 0.6)
    # k interleaved copies of the two-state chain: the same entropies as order 1.
    assert chain.entropy_rate() == pytest.approx(first.entropy_rate())
    assert chain.unigram_entropy() == pytest.approx(first.unigram_entropy())
    tokens = chain.sample(20, 2000, torch.Generator().manual_seed(0)).numpy()
    now, back3, back1 = tokens[:, 3:], tokens[:, :-3], tokens[:, 2:-1]
    assert abs((now[back3 == 0] == 1).mean() - 0.8) < 0.02
    assert abs((now[back3 == 1] == 0).mean() - 0.6) < 0.02
    # The symbol one step back says nothing: P(x_t = 1 | x_{t-1} = 0) is the stationary P(1) = p / (p + q).
    assert abs((now[back1 == 0] == 1).mean() - 0.8 / 1.4) < 0.02
    with pytest.raises(InputError, match="order must be >= 1"):
        MarkovChain.switching(0.8, 0.8, order=0)


def plug_in_conditional_entropy(tokens: np.ndarray, symbols: int, order: int) -> float:
    """Empirical H(X_t | previous `order` symbols) from counts over all sequences (no kernel used)."""
    counts: dict[tuple, np.ndarray] = {}
    for row in tokens:
        for t in range(order, len(row)):
            context = tuple(row[t - order:t])
            counts.setdefault(context, np.zeros(symbols))[row[t]] += 1
    total = sum(c.sum() for c in counts.values())
    entropy = 0.0
    for c in counts.values():
        p = c[c > 0] / c.sum()
        entropy -= c.sum() / total * (p * np.log(p)).sum()
    return entropy


@pytest.mark.parametrize("symbols, order, alpha", [(2, 1, 1.0), (3, 2, 0.5), (2, 3, 1.0)])
def test_exact_entropies_match_long_sample(symbols: int, order: int, alpha: float):
    chain = MarkovChain.dirichlet(symbols, order, alpha, seed=7)
    sequences, length = 40, 2500
    tokens = chain.sample(sequences, length, torch.Generator().manual_seed(1)).numpy()
    n = sequences * (length - order)
    estimate = plug_in_conditional_entropy(tokens, symbols, order)
    per_sequence = [plug_in_conditional_entropy(row[None], symbols, order) for row in tokens]
    # Tolerance from the sample: 5 standard errors (independent sequences) + the plug-in bias bound.
    tolerance = 5 * np.std(per_sequence) / math.sqrt(sequences) + symbols**order * (symbols - 1) / (2 * n)
    assert abs(estimate - chain.entropy_rate()) < tolerance
    freq = np.bincount(tokens.ravel(), minlength=symbols) / tokens.size
    unigram = -(freq * np.log(freq)).sum()
    per_sequence_u = [-(f * np.log(np.clip(f, 1e-12, None))).sum()
                      for f in (np.bincount(r, minlength=symbols) / r.size for r in tokens)]
    assert abs(unigram - chain.unigram_entropy()) < 5 * np.std(per_sequence_u) / math.sqrt(sequences) + 1e-3


def test_log_probs_are_the_kernel_terms():
    chain = MarkovChain.dirichlet(3, 2, 1.0, seed=0)
    tokens = chain.sample(2, 6, torch.Generator().manual_seed(0))
    expected = [[math.log(chain.kernel[3 * row[t - 2] + row[t - 1], row[t]]) for t in range(2, 6)]
                for row in tokens.tolist()]
    torch.testing.assert_close(chain.log_probs(tokens), torch.tensor(expected, dtype=torch.float64))


def test_task_shapes_and_seeds():
    task = make_task("markov", kind="dirichlet", symbols=4, order=2, seq_len=32)
    batch = task.batch(8, seed=3)
    assert batch.shape == (8, 32) and batch.dtype == torch.long and batch.max() < 4
    assert torch.equal(batch, task.batch(8, seed=3)) and not torch.equal(batch, task.batch(8, seed=4))
    assert isinstance(task, MarkovTask) and task.loss == "next_token_ce" and task.causal


def test_bad_chains():
    with pytest.raises(InputError, match="probability distribution"):
        MarkovChain([[0.5, 0.6], [0.5, 0.5]])
    with pytest.raises(InputError, match="rows"):
        MarkovChain([[0.5, 0.5]], order=1)
    with pytest.raises(InputError, match="several stationary"):
        MarkovChain([[1.0, 0.0], [0.0, 1.0]]).entropy_rate()
    with pytest.raises(InputError, match="kind"):
        MarkovTask(kind="hidden")
