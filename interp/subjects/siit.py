"""A SIIT model (interp.training.siit) as a subject: it reads BOS followed by exactly the
number of tokens it was trained on, so BOS is added here and any other length is refused (on
an untrained length its outputs mean nothing, and nothing in the model says so)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from interp.errors import InputError
from interp.subjects.base import AnalysisInputs
from interp.subjects.tasks import ROWS_PER_LENGTH, TaskSubject

if TYPE_CHECKING:
    import random

    import torch

    from interp.circuit import Circuit

BOS = "BOS"  # the SIIT task's token 0, as in the compiled model it was trained against


class SiitSubject(TaskSubject):
    """A shipped or trained SIIT model: program tokens in, BOS added, outputs after BOS."""

    prefix = 1  # BOS

    def __init__(self, model: Any, task: Any, title: str):
        super().__init__(model, task, title)
        self.n_tokens = task.n_tokens
        # What a user types: every token but id 0, the model's BOS. A program may have a BOS
        # token of its own (hist_bos: id 5, also named BOS), which the user does type.
        self.vocab = self.vocab[1:]
        self.max_seq_len = self.n_tokens

    def input_hint(self) -> str:
        return (f"exactly {self.n_tokens} tokens (the length it was trained on; BOS is added), separated by "
                f"spaces or written together; vocabulary: {' '.join(map(str, self.vocab))}")

    def parse_input(self, text: str) -> list[Any]:
        words = text.split()
        if len(words) == self.n_tokens + 1 and words[0] == BOS:
            words = words[1:]  # the model's BOS written out, as `interp info` used to show it
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
        import torch

        tokens = [str(t) for t in inputs]
        if len(tokens) == self.n_tokens + 1 and tokens[0] == BOS:
            tokens = tokens[1:]  # the model's BOS written out
        self._checked(tokens)
        # Id 0 is the model's BOS, added here; names are looked up among the other ids only, so a
        # program's own BOS token (hist_bos) is not taken for it.
        index = {name: i for i, name in enumerate(self.model.cfg.vocab) if i > 0}
        for position, name in enumerate(tokens):
            if name == BOS and name not in index:
                raise InputError(f"{BOS} may only come first (it is added for you).")
            if name not in index:
                raise InputError(f"token {name!r} at position {position} is not in the vocabulary "
                                 f"{self.vocab} (the model's {BOS} is added for you).")
        ids = torch.tensor([[0, *(index[name] for name in tokens)]], dtype=torch.long)  # [1, 1 + n]
        return [BOS, *tokens], self.model.validate_inputs(ids)

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

    corruption_name = "change one token so the program's output changes"

    def _corrupt_one(self, inputs: list[Any], seed: int) -> list[Any]:
        """One token replaced: the first, in seeded order, after which the compiled program (the
        task's target) outputs something else, so patching has an effect to attribute; any one
        replacement when none changes the output."""
        import random

        import torch

        names = list(self.model.cfg.vocab)  # id 0 is BOS
        _, ids = self.encode(inputs)  # [1, 1 + n_tokens]
        options = [(p, i) for p in range(1, ids.shape[1]) for i in range(1, len(names))
                   if i != int(ids[0, p])]
        random.Random(seed).shuffle(options)
        rows = ids.repeat(len(options), 1)  # [n_options, 1 + n_tokens]
        for k, (p, i) in enumerate(options):
            rows[k, p] = i
        targets = self.task.targets(torch.cat([ids, rows]))  # [1 + n_options, 1 + n_tokens]
        changed = (targets[1:] != targets[:1]).any(dim=-1)
        pick = int(changed.nonzero()[0, 0]) if bool(changed.any()) else 0
        return [names[i] for i in rows[pick, 1:].tolist()]

    def ground_truth(self) -> Circuit:
        """The circuit SIIT trained the model to implement: the minimal truth of its program
        compiled one component per operation (interp/subjects/live_truth.py: the compiled
        circuit less the edges that change no output), on inputs of the one length the model
        reads, on the same component names (InterpBench's convention, and the truth
        `interp circuit-bench` scores SIIT models against)."""
        return self.live_truth().circuit

    def live_truth(self) -> Any:
        """The one-per-op compile's circuit split into live and inert edges on inputs of the
        trained length, with the evidence (computed once, about a second)."""
        if getattr(self, "_live_truth", None) is None:
            from interp.subjects.live_truth import program_truth
            from interp.tasks.siit_programs import library_program

            entry = library_program(self.task.program)
            self._live_truth = program_truth(self.task.compiled, entry.build(), entry.sample,
                                             entry.sample_input, lengths=[self.n_tokens])
        return self._live_truth

    def ground_truth_note(self) -> str:
        return ("the circuit SIIT trained it to implement: its program compiled one component per "
                "operation, less the edges that change no output")

    def analysis_inputs(self, per_length: int, seed: int = 0) -> AnalysisInputs:
        rows = self._rows(ROWS_PER_LENGTH * per_length, seed)  # [n, 1 + n_tokens]
        corrupted = self.corrupt_rows(rows, seed + 1)
        return AnalysisInputs([rows], [corrupted], "resample", self.answer_positions(rows.shape[1]))
