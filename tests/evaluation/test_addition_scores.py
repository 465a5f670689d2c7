"""score_addition against a hand-built logit table (independent of any model)."""

import math

import torch

from interp.evaluation.addition import score_addition
from interp.tasks.addition import Addition, digits_of


def test_perfect_and_one_wrong_digit():
    task = Addition(n_digits=2)
    tokens, _ = task.encode(digits_of([12, 15, 0], 2), digits_of([34, 7, 0], 2))
    logits = torch.zeros(3, task.seq_len, task.d_vocab_out)
    logits.scatter_(2, tokens.roll(-1, dims=1)[..., None], 10.0)  # the right next token everywhere
    first = task.answer_positions[0]
    logits[1, first] = 0.0
    logits[1, first, 5] = 10.0  # question 15+7=022: '5' instead of '0' as the first answer digit
    scores = score_addition(logits, tokens, task)
    assert scores.exact.tolist() == [True, False, True]
    assert scores.classes == ["no_carry", "simple_carry", "no_carry"]
    right = -torch.log_softmax(torch.tensor([10.0] + [0.0] * 11), 0)[0].item()
    assert math.isclose(scores.loss[1].item(), (math.log(math.exp(10) + 11) + 2 * right) / 3, rel_tol=1e-5)
    assert scores.by_class() == {"no_carry": 1.0, "simple_carry": 0.0, "cascade": None}
    assert scores.digit_correct[1].tolist() == [False, True, True]
