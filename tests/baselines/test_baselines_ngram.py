"""The in-context bigram estimator (as listed in interp.baselines) against counting by hand."""

import pytest
import torch

from interp.baselines import in_context_ngram_probs


@pytest.mark.parametrize("alpha", [1.0, 0.1])
def test_bigram_estimator_equals_counting_by_hand(alpha):
    vocab = 3
    tokens = torch.randint(0, vocab, (4, 9), generator=torch.Generator().manual_seed(0))
    probs = in_context_ngram_probs(tokens, vocab, n=2, alpha=alpha)  # P(tokens[p] | tokens[:p]), p >= 1
    assert probs.shape == (4, 8, 3)
    for b in range(4):
        seq = tokens[b].tolist()
        for t in range(8):  # predicting seq[t + 1] from seq[: t + 1]
            counts = [0] * vocab
            for i in range(t):
                if seq[i] == seq[t]:
                    counts[seq[i + 1]] += 1
            expected = [(c + alpha) / (sum(counts) + vocab * alpha) for c in counts]
            assert probs[b, t].tolist() == pytest.approx(expected, abs=1e-6)
