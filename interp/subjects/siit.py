"""A SIIT model (interp.training.siit) as a subject: it reads BOS followed by exactly the
number of tokens it was trained on, so BOS is added here and any other length is refused (on
an untrained length its outputs mean nothing, and nothing in the model says so)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from interp.errors import InputError
from interp.subjects.base import AnalysisInputs, token_ids
from interp.subjects.tasks import ROWS_PER_LENGTH, TaskSubject

if TYPE_CHECKING:
    import random

    import torch

BOS = "BOS"  # the SIIT task's token 0, as in the compiled model it was trained against


class SiitSubject(TaskSubject):
    """A shipped or trained SIIT model: program tokens in, BOS added, outputs after BOS."""

    prefix = 1  # BOS

    def __init__(self, model: Any, task: Any, title: str):
        super().__init__(model, task, title)
        self.n_tokens = task.n_tokens
        self.vocab = [v for v in self.vocab if v != BOS]  # what a user types
        self.max_seq_len = self.n_tokens

    def input_hint(self) -> str:
        return (f"exactly {self.n_tokens} tokens (the length it was trained on; BOS is added), separated by "
                f"spaces or written together; vocabulary: {' '.join(map(str, self.vocab))}")

    def parse_input(self, text: str) -> list[Any]:
        words = text.split()
        if words and words[0] == BOS:
            words = words[1:]  # BOS written out, as `interp info` used to show it
        return self._checked(super().parse_input(" ".join(words)) if words else [])

    def _checked(self, inputs: list[Any]) -> list[Any]:
        if len(inputs) != self.n_tokens:
            raise InputError(f"{self.title} reads exactly {self.n_tokens} tokens (the length it was "
                             f"trained on; BOS is added), got {len(inputs)}; its outputs on other lengths "
                             "mean nothing.")
        return inputs

    def sample(self, rng: random.Random, length: int | None = None) -> list[Any]:
        row = self._rows(1, rng.randrange(2**31))[0]  # [seq_len], BOS first
        return [self.model.cfg.vocab[i] for i in row.tolist()[1:]]

    def encode(self, inputs: list[Any]) -> tuple[list[str], torch.Tensor]:
        inputs = list(inputs)
        if inputs and str(inputs[0]) == BOS:
            inputs = inputs[1:]
        names = [BOS, *(str(t) for t in self._checked(inputs))]
        if BOS in names[1:]:
            raise InputError(f"{BOS} may only come first (it is added for you).")
        return names, token_ids(self.model, names)

    def corrupt_rows(self, rows: torch.Tensor, seed: int) -> torch.Tensor:
        """One token after BOS replaced by another non-BOS token per row [n, pos] (same shape)."""
        import torch

        generator = torch.Generator().manual_seed(seed)
        n, length = rows.shape
        out = rows.clone()
        where = torch.randint(1, length, (n,), generator=generator)
        shift = torch.randint(1, max(2, self.model.cfg.d_vocab - 1), (n,), generator=generator)
        old = rows[torch.arange(n), where]
        out[torch.arange(n), where] = 1 + (old - 1 + shift) % (self.model.cfg.d_vocab - 1)  # ids 1.. only
        return out

    def analysis_inputs(self, per_length: int, seed: int = 0) -> AnalysisInputs:
        rows = self._rows(ROWS_PER_LENGTH * per_length, seed)  # [n, 1 + n_tokens]
        corrupted = self.corrupt_rows(rows, seed + 1)
        return AnalysisInputs([rows], [corrupted], "resample", self.answer_positions(rows.shape[1]))
