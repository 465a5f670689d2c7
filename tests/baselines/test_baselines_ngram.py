"""The in-context bigram estimator against a per-sequence counting loop."""

import pytest
import torch

from interp.baselines import bigram_predictive
from interp.errors import InputError


@pytest.mark.parametrize("alpha", [1.0, 0.1])
def test_bigram_predictive_equals_counting_by_hand(alpha):
    vocab = 3
    tokens = torch.randint(0, vocab, (4, 9), generator=torch.Generator().manual_seed(0))
    probs = bigram_predictive(tokens, vocab, alpha)
    assert probs.shape == (4, 9, 3) and probs.dtype == torch.float32
    for b in range(4):
        seq = tokens[b].tolist()
        for t in range(9):
            counts = [0] * vocab
            for i in range(t):
                if seq[i] == seq[t]:
                    counts[seq[i + 1]] += 1
            expected = [(c + alpha) / (sum(counts) + vocab * alpha) for c in counts]
            assert probs[b, t].tolist() == pytest.approx(expected, abs=1e-6)


def test_bigram_predictive_rejects_bad_tokens():
    with pytest.raises(InputError, match=r"\[0, 2\)"):
        bigram_predictive(torch.tensor([[0, 2]]), 2)
