"""Models trained on a token task (interp.tasks) as subjects: inputs drawn from the task the
model's metadata names, the task's own corruption, metrics on the answer positions.

- addition: the question's text format (`12345+67890=`, optionally with answer digits);
  corruption changes one operand digit (the answer digits written follow the new sum).
- Markov chains: corruption resamples the first half of the sequence from the chain.
- any other token task: corruption replaces one random token.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from interp.errors import InputError
from interp.subjects.base import AnalysisInputs, Subject, argmax_names, token_ids

if TYPE_CHECKING:
    import torch

    from interp.model import HookedTransformer
    from interp.tasks import Task

ROWS_PER_LENGTH = 8  # task models read one length: per_length x this many rows


class TaskSubject(Subject):
    """A model trained by `interp train` on a token task (its metadata names the task)."""

    kind = "token-task model"

    def __init__(self, model: HookedTransformer, task: Task, title: str):
        vocab = list(model.cfg.vocab) if model.cfg.vocab else list(range(model.cfg.d_vocab))
        super().__init__(model, title, vocab, min(task.seq_len, model.cfg.n_ctx))
        self.task = task

    def input_hint(self) -> str:
        return (f"tokens separated by spaces (or written together when each is one character); "
                f"vocabulary: {' '.join(map(str, self.vocab))}; at most {self.max_seq_len}")

    def parse_input(self, text: str) -> list[Any]:
        """Space-separated tokens, or one token per character when every token is one character."""
        from interp.subjects.text import parse_tokens

        words = text.split()
        if len(words) == 1 and all(len(str(v)) == 1 for v in self.vocab):
            words = list(words[0])
        return parse_tokens(" ".join(words), self.vocab)

    def _rows(self, n: int, seed: int) -> torch.Tensor:
        """n task inputs [n, seq_len] (token ids), seeded."""
        batch = self.task.batch(n, seed)
        return batch[0] if isinstance(batch, tuple) else batch

    def sample(self, rng: random.Random, length: int | None = None) -> list[Any]:
        row = self._rows(1, rng.randrange(2**31))[0, : self.max_seq_len]
        return [self.vocab[i] for i in row.tolist()]

    def encode(self, inputs: list[Any]) -> tuple[list[str], torch.Tensor]:
        if not inputs:
            raise InputError("the input is empty; give at least one token.")
        names = [str(t) for t in inputs]
        return names, token_ids(self.model, names)

    def decode(self, logits: torch.Tensor) -> list[Any]:
        return argmax_names(self.model, logits)

    def answer_positions(self, n_positions: int) -> list[int]:
        """Positions the task scores (targets not ignored), within the input."""
        batch = self.task.batch(1, 0)
        if not isinstance(batch, tuple):  # next-token tasks: every position is scored
            return list(range(n_positions))
        from interp.tasks.base import IGNORE

        return [p for p in (batch[1][0] != IGNORE).nonzero().flatten().tolist() if p < n_positions]

    # ---------------------------------------------------------------- corruption
    def corrupt_rows(self, rows: torch.Tensor, seed: int) -> torch.Tensor:
        """The task-aware corruption of each row of ids [n, pos] (same shape), seeded."""
        import torch

        generator = torch.Generator().manual_seed(seed)
        n, length = rows.shape
        out = rows.clone()
        where = torch.randint(0, length, (n,), generator=generator)
        shift = torch.randint(1, max(2, self.model.cfg.d_vocab), (n,), generator=generator)
        out[torch.arange(n), where] = (rows[torch.arange(n), where] + shift) % self.model.cfg.d_vocab
        return out

    corruption_name = "replace one random token"

    def corruptions(self) -> dict[str, Any]:
        # The task's own first; a generic one of the same name must not replace it.
        generic = {k: v for k, v in super().corruptions().items() if k != self.corruption_name}
        return {self.corruption_name: self._corrupt_one, **generic}

    def _corrupt_one(self, inputs: list[Any], seed: int) -> list[Any]:
        _, ids = self.encode(inputs)
        return [self.vocab[i] for i in self.corrupt_rows(ids, seed)[0].tolist()]

    def analysis_inputs(self, per_length: int, seed: int = 0) -> AnalysisInputs:
        """Task inputs at the task's length and their corruptions, for resample ablation."""
        rows = self._rows(ROWS_PER_LENGTH * per_length, seed)[:, : self.max_seq_len]
        corrupted = self.corrupt_rows(rows, seed + 1)
        return AnalysisInputs([rows], [corrupted], "resample", self.answer_positions(rows.shape[1]))

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "task": self.task.name}


class AdditionSubject(TaskSubject):
    """An addition model: questions `a+b=` in the task's digits, answers scored digit by digit."""

    kind = "addition model"
    corruption_name = "change one operand digit"

    def input_hint(self) -> str:
        n = self.task.n_digits
        return (f"a question a+b= with {n}-digit operands (zero-padded), e.g. {'1' * n}+{'2' * n}=, "
                f"optionally followed by answer digits (at most {self.max_seq_len} characters)")

    def format_input(self, inputs: list[Any]) -> str:
        return "".join(str(t) for t in inputs)

    def parse_input(self, text: str) -> list[Any]:
        compact = "".join(text.split())
        tokens = super().parse_input(compact) if compact else super().parse_input(text)
        n = self.task.n_digits
        question = "".join(map(str, tokens[: 2 * n + 2]))
        digits = [str(d) for d in range(10)]
        well_formed = (len(tokens) >= 2 * n + 2 and tokens[n] == "+" and tokens[2 * n + 1] == "="
                       and all(t in digits for i, t in enumerate(tokens) if i not in (n, 2 * n + 1)))
        if not well_formed:
            raise InputError(f"{compact!r} is not an addition question of this model: write a+b= with "
                             f"{n}-digit operands, e.g. {'1' * n}+{'2' * n}= (got {question!r}).")
        return tokens

    def answer_positions(self, n_positions: int) -> list[int]:
        return [p for p in self.task.answer_positions if p < n_positions]

    def corrupt_rows(self, rows: torch.Tensor, seed: int) -> torch.Tensor:
        """One operand digit changed per row; answer digits rewritten for the new sum."""
        import torch

        task, n_rows, length = self.task, rows.shape[0], rows.shape[1]
        generator = torch.Generator().manual_seed(seed)
        a, b = task.operands_from_tokens(rows)  # least significant first, [n, digits]
        operand = torch.randint(0, 2, (n_rows,), generator=generator)
        column = torch.randint(0, task.n_digits, (n_rows,), generator=generator)
        shift = torch.randint(1, 10, (n_rows,), generator=generator)  # never the same digit
        a, b = a.clone(), b.clone()
        index = torch.arange(n_rows)
        a[index, column] = torch.where(operand == 0, (a[index, column] + shift) % 10, a[index, column])
        b[index, column] = torch.where(operand == 1, (b[index, column] + shift) % 10, b[index, column])
        tokens, _ = task.encode(a, b)  # [n, seq_len]
        return tokens[:, :length]


class MarkovSubject(TaskSubject):
    """A model of one Markov chain: sequences sampled from the chain."""

    kind = "Markov-chain model"
    corruption_name = "resample the first half from the chain"

    def patch_metrics(self) -> dict[str, Any]:
        """KL to the clean next-token distribution first: the chain's most likely next symbol is
        often the same after every state (p=0.5, q=0.8: 0 both times), so a difference of the
        arg-max answers' logits would see no effect where the distributions do change."""
        metrics = super().patch_metrics()
        return {"KL to clean": metrics.pop("KL to clean"), **metrics}

    def corrupt_rows(self, rows: torch.Tensor, seed: int) -> torch.Tensor:
        """The first half of each row (at least one token) drawn afresh from the chain."""
        import torch

        prefix = max(1, rows.shape[1] // 2)
        fresh = self.task.chain.sample(rows.shape[0], max(prefix, self.task.chain.order + 1),
                                       torch.Generator().manual_seed(seed))
        return torch.cat([fresh[:, :prefix].to(rows.dtype), rows[:, prefix:]], dim=1)


def task_subject(model: HookedTransformer, task: Task, title: str) -> Subject:
    """The subject class that fits `task` (regression models read vectors); CheckpointError when
    the task the metadata names does not fit the model (its inputs would be wrong)."""
    from interp.tasks import Addition, MarkovTask
    from interp.tasks.regression import RegressionTask

    check_task_fits(model, task, title)

    if isinstance(task, RegressionTask):
        from interp.subjects.regression import RegressionSubject

        return RegressionSubject(model, task, title)
    if isinstance(task, Addition):
        return AdditionSubject(model, task, title)
    if isinstance(task, MarkovTask):
        return MarkovSubject(model, task, title)
    from interp.tasks.siit_task import SiitTask

    if isinstance(task, SiitTask):  # BOS added, only the trained length (interp.subjects.siit)
        from interp.subjects.siit import SiitSubject

        return SiitSubject(model, task, title)
    return TaskSubject(model, task, title)


def check_task_fits(model: HookedTransformer, task: Task, title: str) -> None:
    """CheckpointError naming the first size where the model's task and the model disagree."""
    from interp.errors import CheckpointError

    cfg = model.cfg
    checks = [("d_vocab_out", task.d_vocab_out, cfg.d_vocab_out),
              ("seq_len <= n_ctx", True, task.seq_len <= cfg.n_ctx)]
    checks.append(("d_input", getattr(task, "d_input", None), cfg.d_input) if cfg.d_input is not None
                  else ("d_vocab", task.d_vocab, cfg.d_vocab))
    for what, expected, got in checks:
        if expected != got:
            raise CheckpointError(f"{title}: its metadata names the task {task.name!r} "
                                  f"({model.metadata.get('task_options', {})}), which does not fit the model "
                                  f"({what}: task {expected!r}, model {got!r}); fix metadata.task_options.")
