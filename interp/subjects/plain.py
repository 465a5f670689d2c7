"""A model with no task attached (a saved model `interp train` did not write, an upload, the
app's random model): uniform random tokens (or vectors), KL on every position."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from interp.errors import InputError
from interp.subjects.base import AnalysisInputs, Subject, argmax_names, token_ids
from interp.subjects.text import uniform_sampler

if TYPE_CHECKING:
    import torch

    from interp.model import HookedTransformer

ROWS_PER_LENGTH = 8


class PlainSubject(Subject):
    """A saved model known only by its weights and token names."""

    kind = "saved model (no task)"

    def __init__(self, model: HookedTransformer, title: str, max_seq_len: int | None = None):
        vocab = list(model.cfg.vocab) if model.cfg.vocab else list(range(model.cfg.d_vocab))
        super().__init__(model, title, vocab, max_seq_len or model.cfg.n_ctx)

    def limit_length(self, max_len: int) -> None:
        if max_len > self.model.cfg.n_ctx:
            raise InputError(f"{self.title}: --max-len {max_len} exceeds the model's context "
                             f"n_ctx={self.model.cfg.n_ctx}.")
        self.max_seq_len = max_len

    @property
    def reads_vectors(self) -> bool:
        return self.model.cfg.d_input is not None

    def sample(self, rng: random.Random, length: int | None = None) -> Any:
        if length is None:
            length = rng.randint(max(1, self.max_seq_len // 3), max(1, (2 * self.max_seq_len) // 3))
        if self.reads_vectors:
            import torch

            return torch.randn(length, self.model.cfg.d_input,
                               generator=torch.Generator().manual_seed(rng.randrange(2**31)))
        return uniform_sampler(self.vocab)(rng, length)

    def parse_input(self, text: str) -> Any:
        if self.reads_vectors:
            raise InputError("this model reads vectors and has no task to say what they mean; "
                             "its analyses use sampled input.")
        return super().parse_input(text)

    def format_input(self, inputs: Any) -> str:
        if self.reads_vectors:
            return f"{len(inputs)} random vectors of width {self.model.cfg.d_input}"
        return super().format_input(inputs)

    def encode(self, inputs: Any) -> tuple[list[str], torch.Tensor]:
        if self.reads_vectors:
            return [f"v{i}" for i in range(len(inputs))], self.model.validate_inputs(inputs[None])
        if not inputs:
            raise InputError("the input is empty; give at least one token.")
        names = [str(t) for t in inputs]
        return names, token_ids(self.model, names)

    def decode(self, logits: torch.Tensor) -> list[Any]:
        if logits.shape[-1] == 1:
            return [float(v) for v in logits[0, :, 0].tolist()]
        return argmax_names(self.model, logits)

    def analysis_inputs(self, per_length: int, seed: int = 0) -> AnalysisInputs:
        """One batch of random token ids (or vectors) at full length, zero ablation."""
        import torch

        generator = torch.Generator().manual_seed(seed)
        cfg, n = self.model.cfg, ROWS_PER_LENGTH * per_length
        if cfg.d_input is not None:
            batch = torch.randn(n, self.max_seq_len, cfg.d_input, generator=generator)
        else:
            batch = torch.randint(0, cfg.d_vocab, (n, self.max_seq_len), generator=generator)
        return AnalysisInputs([batch], None, "zero", None)

    def corruptions(self) -> dict[str, Any]:
        if self.reads_vectors:
            return {"resample every vector":
                    lambda inputs, seed: self.sample(random.Random(seed), len(inputs))}
        return super().corruptions()

    def patch_metrics(self) -> dict[str, Any]:
        if self.model.cfg.d_vocab_out == 1:
            from interp.subjects.regression import _squared_error_patch

            return {"squared error to the clean prediction": _squared_error_patch}
        return super().patch_metrics()
