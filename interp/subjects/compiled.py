"""A compiled RASP program as a subject: BOS-prefixed inputs, the compiler's decoder, its
layout's captions and the compiler's ground-truth circuit."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interp.errors import InputError
from interp.model.compiler_metadata import check_compiler_metadata
from interp.subjects.base import AnalysisInputs, Subject
from interp.subjects.programs import ProgramSource
from interp.subjects.text import input_lengths, uniform_sampler

if TYPE_CHECKING:
    import torch

    from interp.circuit import Circuit

__all__ = ["CompiledSubject", "check_compiler_metadata", "compile_subject", "load_compiled"]


class CompiledSubject(Subject):
    """A model compiled from RASP (in this process, or saved with its compiler metadata)."""

    kind = "compiled RASP program"
    prefix = 1  # BOS

    def __init__(self, compiled: Any, title: str, program: Any = None, library_name: str | None = None):
        super().__init__(compiled.model, title, list(compiled.vocab), compiled.max_seq_len)
        self.compiled = compiled  # rasp.compiler.CompiledModel
        self.program = program  # rasp.SOp when compiled in this process
        self.library_name = library_name  # set when the library's own vocabulary applies

    def sample(self, rng: random.Random, length: int | None = None) -> list[Any]:
        """A valid input: the library's sampler (e.g. balanced words), else uniform tokens."""
        if length is None:
            length = rng.randint(max(1, self.max_seq_len // 3), max(1, (2 * self.max_seq_len) // 3))
        if self.library_name is not None:
            from rasp.lib import PROGRAMS

            return PROGRAMS[self.library_name].sample(rng, length)[: self.max_seq_len]
        return uniform_sampler(self.vocab)(rng, length)

    def encode(self, inputs: Sequence[Any]) -> tuple[list[str], torch.Tensor]:
        import torch

        # The compiler checks tokens and length against the program's vocab and max_seq_len.
        ids = torch.tensor([self.compiled.encode(inputs)], dtype=torch.long)
        return [self.compiled.bos, *(str(t) for t in inputs)], self.model.validate_inputs(ids)

    def decode(self, logits: torch.Tensor) -> list[Any]:
        # Position 0 is the compiler's BOS, whose output means nothing.
        return [None, *self.compiled.decode(logits[0, 1:])]

    def answer_positions(self, n_positions: int) -> list[int]:
        return list(range(1, n_positions))  # every position but BOS

    def discovery_metric(self, positions: list[int] | None) -> Any:
        """The base metric on the positions after BOS when none are given: the BOS output is
        never decoded, so an edge that changes only it is not part of the program (sort's
        BOS key read moved it by 0.5 and ACDC kept the edge)."""
        metric = super().discovery_metric(positions)
        if positions is not None:
            return metric

        def after_bos(clean: torch.Tensor) -> Any:
            inner = metric(clean[:, 1:])
            return lambda logits: inner(logits[:, 1:])

        return after_bos

    def analysis_inputs(self, per_length: int, seed: int = 0) -> AnalysisInputs:
        """`per_length` inputs at each of `input_lengths(max_seq_len)`, zero ablation (the
        compiled circuit's edges carry exactly the program's values). A loop program's are
        at lengths its sampler makes and spread over the number of loop steps they need
        (interp/subjects/loop_inputs.py), so that every unrolled step acts on some input."""
        from rasp.compiler.batches import program_batches

        sample, lengths = self.sample, input_lengths(self.max_seq_len)
        if self.program is not None and getattr(self.model.cfg, "loop_steps", None):
            from interp.subjects.loop_inputs import makeable_lengths, spread_over_loop_steps

            lengths = makeable_lengths(sample, lengths, self.max_seq_len, seed)
            sample = spread_over_loop_steps(self.program, sample, per_length, self.compiled.causal)
        batches = program_batches(self.compiled, sample, lengths, per_length, seed)
        return AnalysisInputs(batches, None, "zero", None)

    def faithfulness_meaning(self) -> str:
        return "fraction of outputs the circuit alone gets the same as the full model"

    def ground_truth(self) -> Circuit:
        """The compiler's circuit less the edges that change no output on the truth inputs
        (interp/subjects/live_truth.py; `live_truth()` keeps the evidence). A loop model's
        hundreds of unrolled edges take a few CPU minutes (group testing)."""
        return self.live_truth().circuit

    def ground_truth_note(self) -> str:
        return "the compiler's circuit, less the edges that change no output on the truth inputs"

    def live_truth(self) -> Any:
        """`compiled.circuit()` split into live and inert edges (computed once: about a second
        to a minute, a few minutes for a loop model's hundreds of unrolled edges)."""
        if getattr(self, "_live_truth", None) is None:
            from interp.subjects.live_truth import program_truth

            domain = None
            if self.library_name is not None:
                from rasp.lib import PROGRAMS

                domain = PROGRAMS[self.library_name].sample_input  # its valid inputs, if it says
            self._live_truth = program_truth(self.compiled, self.program, self.sample, domain)
        return self._live_truth

    def _accepted(self, tokens: list[Any]) -> bool:
        """Whether the interpreter accepts `tokens` (the model is exact only there)."""
        from rasp.errors import RASPError
        from rasp.evaluate import evaluate

        try:
            evaluate(self.program, tokens, causal=self.compiled.causal)
        except RASPError:
            return False
        return True

    def captions(self) -> dict[str, str]:
        captions = self.compiled.layout.captions
        return {name: text.removeprefix(f"{name}: ") for name, text in captions.items()}

    def knows_empty_heads(self) -> bool:
        return True

    def placement(self) -> dict[str, list[str]]:
        layout = self.compiled.layout
        placed = {label: [component] for label, component in layout.embedded.items()}
        placed.update({label: list(components) for label, components in layout.component_of.items()})
        return placed

    def output_variable(self) -> str | None:
        return self.compiled.layout.output

    def rasp_program(self) -> Any:
        return self.program

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "compiler": self.compiled.stats()}


def compile_subject(source: ProgramSource, vocab: Sequence[Any] | None = None,
                    max_seq_len: int | None = None, **options: Any) -> CompiledSubject:
    """Compile `source` with its own vocabulary and length unless given (`options`: causal,
    attention_kind). A library sampler applies only with the library's own vocabulary."""
    from rasp.compiler import compile_program

    vocab = list(vocab) if vocab is not None else source.vocab
    max_seq_len = max_seq_len if max_seq_len is not None else source.max_seq_len
    if not vocab or max_seq_len is None:
        raise InputError(f"{source.name}: give a vocabulary and a maximum length (--vocab a,b,c "
                         "--max-len N) for a program outside the library.")
    compiled = compile_program(source.program, vocab, max_seq_len, **options)
    library = source.library_name if vocab == source.vocab else None
    title = source.name
    if source.library_name is not None:
        from rasp.lib import PROGRAMS

        title = f"{source.name} — {PROGRAMS[source.name].description}"
    return CompiledSubject(compiled, title, source.program, library)


def load_compiled(path: str | Path) -> Any:
    """A saved compiled RASP model (rasp.compiler.CompiledModel); CheckpointError if it is not one
    or its compiler metadata is corrupt (CompiledModel.load checks it before reading weights)."""
    from rasp.compiler import CompiledModel

    return CompiledModel.load(path)
