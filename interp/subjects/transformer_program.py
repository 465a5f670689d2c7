"""A Transformer Program (interp.programs) as a subject: its lossless hooked model reads
[<sink>] + the program's tokens (BOS first, EOS last for sort/reverse); inputs are drawn as
the task draws them, corrupted by replacing one body token, and scored where the task has
labels (not the sink, BOS or EOS)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interp.errors import InputError
from interp.subjects.base import AnalysisInputs, Subject, argmax_names, token_ids
from interp.subjects.text import parse_tokens

if TYPE_CHECKING:
    import torch

    from interp.circuit import Circuit

ROWS_PER_LENGTH = 8  # full-length inputs per `per_length`
TRUTH_PER_LENGTH = 8  # the truth's inputs: analysis_inputs(8) rows (64), ...
TRUTH_SEED = 12345  # ... with a seed that is not discovery's (0)
TRUTH_FILE = "truth.json"  # the truth, stored beside program.json (shipped programs have one)


class ProgramSubject(Subject):
    """A trained Transformer Program: the exact discrete program and its hooked model."""

    kind = "Transformer Program"
    prefix = 1  # the sink

    def __init__(self, exact: Any, simplified: Any, title: str, metadata: dict[str, Any] | None = None,
                 folder: Path | None = None):
        from interp.programs.convert import SINK, to_hooked

        model = to_hooked(exact)
        model.metadata.update(metadata or {})
        shape = exact.shape
        super().__init__(model, title, list(shape.tokens), shape.n_ctx)
        self.exact, self.simplified = exact, simplified
        self.folder = folder  # the program's directory, where its truth.json may be
        self.sink = SINK

    def _special(self) -> set[str]:
        from interp.programs.program import BOS, EOS

        return {BOS, EOS}

    def sample(self, rng: random.Random, length: int | None = None) -> list[str]:
        from interp.programs.views import input_sampler

        return input_sampler(self.vocab, self.max_seq_len)(rng, length)

    def encode(self, inputs: list[Any]) -> tuple[list[str], torch.Tensor]:
        if not inputs:
            raise InputError("the input is empty; give at least one token.")
        names = [self.sink, *(str(t) for t in inputs)]  # the sink is read before the input
        return names, token_ids(self.model, names)

    def decode(self, logits: torch.Tensor) -> list[Any]:
        return [None, *argmax_names(self.model, logits)[1:]]

    def parse_input(self, text: str) -> list[Any]:
        return parse_tokens(text, self.vocab)

    def answer_positions(self, n_positions: int) -> list[int]:
        """Model positions after the sink and BOS, EOS excluded when the vocabulary has one."""
        from interp.programs.program import EOS

        last = n_positions - 1 if EOS in self.vocab else n_positions
        return list(range(2, last))

    def corruptions(self) -> dict[str, Any]:
        return {"replace one input token": self._replace_one, **super().corruptions()}

    def _replace_one(self, inputs: list[Any], seed: int) -> list[Any]:
        rng = random.Random(seed)
        body = [i for i, t in enumerate(inputs) if t not in self._special()]
        choices = [t for t in self.vocab if t not in self._special()]
        if not body or len(choices) < 2:
            raise InputError("the input has no token besides BOS/EOS to replace.")
        i = rng.choice(body)
        out = list(inputs)
        out[i] = rng.choice([t for t in choices if t != inputs[i]])
        return out

    def analysis_inputs(self, per_length: int, seed: int = 0) -> AnalysisInputs:
        """Full-length task inputs (the answer positions are the same in every row) and each
        with one body token replaced, for resample ablation."""
        import torch

        rng = random.Random(seed)
        rows = [self.sample(rng, self.max_seq_len) for _ in range(ROWS_PER_LENGTH * per_length)]
        clean = torch.cat([self.encode(r)[1] for r in rows])
        corrupted = torch.cat([self.encode(self._replace_one(r, seed + i))[1] for i, r in enumerate(rows)])
        return AnalysisInputs([clean], [corrupted], "resample", self.answer_positions(clean.shape[1]))

    def captions(self) -> dict[str, str]:
        from interp.programs.views import component_roles

        if not hasattr(self, "_roles"):
            self._roles = component_roles(self.exact)  # fixed per program: computed once
        return self._roles

    def knows_empty_heads(self) -> bool:
        return True

    def output_variable(self) -> str | None:
        """The computed variable the output equals most often on the task's inputs (the output
        is a linear read-out of every variable, so none holds it exactly; see
        `interp.programs.views.output_variable`), not the last residual label (a scratch one)."""
        if not hasattr(self, "_output_match"):
            from interp.programs.views import output_variable

            self._output_match = output_variable(self.exact, self.sample)  # fixed per program
        return self._output_match.variable if self._output_match is not None else None

    def discrete_programs(self) -> tuple[Any, Any]:
        return self.exact, self.simplified

    def ground_truth(self) -> Circuit:
        """The edges the program's computation needs on its task's inputs: the non-silent
        edges (the residual stream is disentangled, so every other edge carries nothing,
        interp/analysis/silent.py) pruned to a faithful, minimal set by zero ablation on
        `analysis_inputs(TRUTH_PER_LENGTH, TRUTH_SEED)` scored at the answer positions
        (interp/analysis/minimal_circuit.py; a logit moving by more than 1e-2 counts). Exact
        on those inputs, not a proof for every input. Computed once (about 15 CPU s for
        program:sort's 232 non-silent edges), or read from the program folder's `truth.json`
        when that was written for this very program (`save_truth`; the shipped ones have it)."""
        stored = self._stored_truth()
        return stored if stored is not None else self.live_truth()[0]

    def _stored_truth(self) -> Circuit | None:
        """`truth.json` of the program's folder, if its program hash is this program's."""
        import json

        from interp.circuit import Circuit

        path = self.folder / TRUTH_FILE if self.folder is not None else None
        if path is None or not path.is_file():
            return None
        stored = json.loads(path.read_text())
        if stored.get("program_sha256") != self._program_hash():
            return None  # written for another program: computed again instead
        return Circuit.from_json(stored["circuit"])

    def _program_hash(self) -> str:
        import hashlib

        return hashlib.sha256((self.folder / "program.json").read_bytes()).hexdigest()

    def save_truth(self) -> Path:
        """Compute the truth and write it to the program folder's `truth.json` (its edges, the
        hash of the program.json it holds for, and how it was made)."""
        import json

        if self.folder is None:
            raise InputError("this Transformer Program has no folder to write its truth into.")
        truth = self.live_truth()[0]
        path = self.folder / TRUTH_FILE
        path.write_text(json.dumps({"program_sha256": self._program_hash(), "made": self.ground_truth_note(),
                                    "circuit": truth.to_json()}, indent=1) + "\n")
        return path

    def ground_truth_note(self) -> str:
        return (f"the program's non-silent edges, less those that change no output on "
                f"{ROWS_PER_LENGTH * TRUTH_PER_LENGTH} sampled full-length task inputs, zero ablation")

    def live_truth(self) -> tuple[Circuit, Any, list[torch.Tensor]]:
        """The truth, the pruning's evidence (`Pruned`: dropped edges, witness rows) and the
        batches the witnesses index."""
        if getattr(self, "_live_truth", None) is None:
            import copy

            from interp.analysis.minimal_circuit import prune_edges
            from interp.analysis.silent import silent_edges
            from interp.circuit import Circuit
            from interp.subjects.live_truth import TOLERANCE, _pruning_order

            full = Circuit.full(self.model.cfg)
            silent = silent_edges(self.model, full.edges)
            candidates = [e for e in full.edges if e not in silent]
            inputs = self.analysis_inputs(TRUTH_PER_LENGTH, TRUTH_SEED)
            # A private copy: the pruning's hooks stay off the model the dashboard shares.
            pruned = prune_edges(copy.deepcopy(self.model), candidates, inputs.batches, _pruning_order,
                                 TOLERANCE, positions=lambda n: list(inputs.positions or range(n)))
            kept = set(pruned.kept)
            truth = Circuit.of_edges([e for e in full.edges if e in kept], full.nodes)
            self._live_truth = (truth, pruned, list(inputs.batches))
        return self._live_truth


def program_dir_subject(directory: str | Path, title: str | None = None,
                        metadata: dict[str, Any] | None = None) -> ProgramSubject:
    """A Transformer Program directory (`interp train-program --out`, or a shipped one)."""
    from interp.programs.pipeline import load_discrete_program

    exact = load_discrete_program(directory, simplified=False)
    try:
        simplified = load_discrete_program(directory, simplified=True)
    except InputError:  # written without a simplified form
        simplified = None
    return ProgramSubject(exact, simplified, title or f"Transformer Program: {directory}", metadata,
                          folder=Path(directory))


def shipped_program_subject(name: str) -> ProgramSubject:
    """A shipped Transformer Program (interp/shipped/programs) as its lossless hooked model."""
    from interp.shipped.program_index import shipped_program_dir, shipped_programs

    entry = shipped_programs()[name] if name in shipped_programs() else {}
    task = entry.get("task", name)
    return program_dir_subject(shipped_program_dir(name), f"Transformer Program: {name} (task {task})",
                               {"program": name, **entry})
