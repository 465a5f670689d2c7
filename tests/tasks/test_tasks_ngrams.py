"""In-context n-grams: the estimator against a per-sequence counting loop; sequences follow
their own kernels."""

from __future__ import annotations

import pytest
import torch

from interp.tasks import InContextNgrams
from interp.tasks.ngrams import in_context_ngram_loss, in_context_ngram_probs


def loop_estimate(row: list[int], symbols: int, n: int, alpha: float) -> list[list[float]]:
    """Brute force: for each position, count earlier continuations of the same context."""
    m, out = n - 1, []
    for p in range(m, len(row)):
        context = row[p - m:p]
        counts = [0] * symbols
        for i in range(m, p):
            if row[i - m:i] == context:
                counts[row[i]] += 1
        out.append([(c + alpha) / (sum(counts) + alpha * symbols) for c in counts])
    return out


@pytest.mark.parametrize("n, alpha", [(2, 1.0), (3, 0.5)])
def test_estimator_equals_counting_loop(n: int, alpha: float):
    task = InContextNgrams(symbols=3, n=n, alpha=alpha, seq_len=30)
    tokens = task.batch(5, seed=2)
    expected = torch.tensor([loop_estimate(row, 3, n, alpha) for row in tokens.tolist()], dtype=torch.float64)
    torch.testing.assert_close(in_context_ngram_probs(tokens, 3, n, alpha), expected)


def test_sequences_follow_their_own_kernel():
    task = InContextNgrams(symbols=3, n=2, alpha=0.3, seq_len=400)
    tokens, kernels = task.sample_with_kernels(20, torch.Generator().manual_seed(0))
    assert tokens.shape == (20, 400) and kernels.shape == (20, 3, 3)
    own = kernels[torch.arange(20)[:, None], tokens[:, :-1], tokens[:, 1:]].log().mean()
    other = kernels.roll(1, 0)[torch.arange(20)[:, None], tokens[:, :-1], tokens[:, 1:]].log().mean()
    assert own > other + 0.1
    # The in-context estimator beats the context-free uniform guess.
    assert in_context_ngram_loss(tokens, 3) < torch.log(torch.tensor(3.0)).item() - 0.1


def test_seeded():
    task = InContextNgrams()
    assert torch.equal(task.batch(4, seed=1), task.batch(4, seed=1))
    assert not torch.equal(task.batch(4, seed=1), task.batch(4, seed=2))
