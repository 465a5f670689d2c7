"""Previous-token and induction scores, checked against brute-force loops and the hand-built
model whose L0H0 is a previous-token head by construction."""

from __future__ import annotations

import pytest
import torch
from conftest import random_model

from interp.analysis.head_scores import (
    attention_mass,
    induction_mask,
    previous_token_mask,
    score_heads,
    uniform_attention_mass,
)
from interp.errors import InputError

TOKENS = torch.randint(0, 3, (4, 9), generator=torch.Generator().manual_seed(0))


def _brute_induction_mask(tokens: torch.Tensor) -> torch.Tensor:
    batch, length = tokens.shape
    mask = torch.zeros(batch, length, length, dtype=torch.bool)
    for b in range(batch):
        for q in range(length):
            for k in range(1, q + 1):
                mask[b, q, k] = bool(tokens[b, k - 1] == tokens[b, q])
    return mask


def _brute_mass(patterns: torch.Tensor, mask: torch.Tensor) -> list[float]:
    out = []
    for h in range(patterns.shape[1]):
        values = [sum(patterns[b, h, q, k].item() for k in range(mask.shape[2]) if mask[b, q, k])
                  for b in range(mask.shape[0]) for q in range(mask.shape[1]) if mask[b, q].any()]
        out.append(sum(values) / len(values))
    return out


def test_induction_mask_matches_a_loop():
    assert torch.equal(induction_mask(TOKENS), _brute_induction_mask(TOKENS))


def test_previous_token_mask_marks_the_key_before_each_query():
    mask = previous_token_mask(TOKENS)
    assert mask.shape == (4, 9, 9)
    assert mask[:, 0].sum() == 0
    assert all(mask[b, q, q - 1] and mask[b, q].sum() == 1 for b in range(4) for q in range(1, 9))


def test_attention_mass_matches_a_loop():
    patterns = torch.rand(4, 3, 9, 9, generator=torch.Generator().manual_seed(1)).tril()
    patterns = patterns / patterns.sum(-1, keepdim=True)
    mask = induction_mask(TOKENS)
    torch.testing.assert_close(attention_mass(patterns, mask), torch.tensor(_brute_mass(patterns, mask)))


def test_uniform_attention_mass_of_the_previous_token_is_the_mean_of_one_over_q_plus_one():
    expected = sum(1 / (q + 1) for q in range(1, 9)) / 8
    assert uniform_attention_mass(previous_token_mask(TOKENS)) == pytest.approx(expected)


def test_handbuilt_l0h0_is_a_previous_token_head(handbuilt, tokens):
    scores = score_heads(handbuilt, tokens, "previous_token")  # [layers, heads]
    assert scores.shape == (2, 2)
    assert scores[0, 0].item() == pytest.approx(1.0)
    assert scores[1, 0].item() == pytest.approx(0.0)  # L1H0 attends to its own position


def test_head_scores_are_probabilities_on_a_random_causal_model():
    model = random_model(causal=True)
    scores = score_heads(model, TOKENS[:, :6], "induction")
    assert scores.shape == (2, 2) and bool(((scores >= 0) & (scores <= 1)).all())


def test_bad_kind_and_no_target_are_refused():
    with pytest.raises(InputError, match="unknown head score"):
        score_heads(random_model(), TOKENS[:, :6], "copying")
    with pytest.raises(InputError, match="no query has a target"):
        attention_mass(torch.ones(1, 1, 3, 3), induction_mask(torch.tensor([[0, 1, 2]])))
