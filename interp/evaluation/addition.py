"""Per-question scores of an addition model (loss, exact match, correct digits) and their
means by carry class: what the addition-circuits study tabulates under each ablation."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from interp.tasks.addition import CARRY_CLASSES, Addition, carry_class


@dataclass
class AdditionScores:
    """Scores of one batch of questions, one entry per question."""

    loss: torch.Tensor  # [n] mean cross-entropy over the answer digits (nats)
    exact: torch.Tensor  # [n] bool: every answer digit is the argmax
    digit_correct: torch.Tensor  # [n, n_digits + 1] bool, in answer order
    classes: list[str]  # carry class per question

    def by_class(self, values: torch.Tensor | None = None) -> dict[str, float | None]:
        """Mean of `values` (default: exact match) per carry class; None for an empty class."""
        values = self.exact if values is None else values
        out: dict[str, float | None] = {}
        for name in CARRY_CLASSES:
            mask = torch.tensor([c == name for c in self.classes], dtype=torch.bool)
            out[name] = values[mask].float().mean().item() if mask.any() else None
        return out


def score_addition(logits: torch.Tensor, tokens: torch.Tensor, task: Addition) -> AdditionScores:
    """Scores of `logits` [n, seq, vocab] on the questions `tokens` [n, seq] (teacher forced)."""
    positions = task.answer_positions
    answer_logits = logits[:, positions].log_softmax(-1)  # [n, digits + 1, vocab]
    answers = tokens[:, [p + 1 for p in positions]]  # [n, digits + 1]
    nll = -answer_logits.gather(-1, answers[..., None])[..., 0]  # [n, digits + 1]
    correct = answer_logits.argmax(-1) == answers
    a, b = task.operands_from_tokens(tokens)
    return AdditionScores(nll.mean(1), correct.all(1), correct, carry_class(a, b))
