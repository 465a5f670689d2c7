"""The one interface every subject implements: a model plus what its own task says about it.

Each kind of model (compiled RASP program, Transformer Program, token-task model, in-context
regression model, plain saved model) is a small subclass in this package. The CLI and the
app only call these methods; they never ask which kind a subject is.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from interp.errors import InputError
from interp.subjects.text import parse_tokens

if TYPE_CHECKING:
    import torch

    from interp.circuit import Circuit
    from interp.model import HookedTransformer

Metric = Callable[["torch.Tensor"], "torch.Tensor"]  # logits -> scalar
MetricFactory = Callable[["torch.Tensor"], Metric]  # clean logits -> metric (discovery)
PatchMetric = Callable[["torch.Tensor", "torch.Tensor", Any], Metric]  # (clean, corrupted, positions)


@dataclass(frozen=True)
class AnalysisInputs:
    """What discovery, ablation and faithfulness run on: clean batches drawn from the
    subject's task, their task-aware corruptions (row-aligned), and the scored positions."""

    batches: list[Any]  # torch.Tensor [batch, pos] ids or [batch, pos, d_input] vectors
    corrupted: list[Any] | None  # same shapes; None: the ablation needs no corrupted inputs
    ablation: str  # the ablation these inputs are meant for (zero for compiled programs)
    positions: list[int] | None  # model positions the metric reads (None: all)


class Subject(ABC):
    """A model and its task: input format, samples, corruptions, metric, circuit, captions."""

    kind: ClassVar[str]  # a human-readable name of the kind, for `interp info` and `interp models`
    prefix: ClassVar[int] = 0  # model positions read before the input (a compiler's BOS, a sink)

    def __init__(self, model: HookedTransformer, title: str, vocab: list[Any], max_seq_len: int):
        self.model = model
        self.title = title
        self.vocab = vocab  # input values a user may type (matched by their str())
        self.max_seq_len = max_seq_len

    @property
    def identity(self) -> str:
        """Tells models apart (same program, other vocab = other model)."""
        return f"{self.title}|{self.vocab}|{self.max_seq_len}|{id(self.model)}"

    # ------------------------------------------------------------------ inputs
    @property
    def reads_vectors(self) -> bool:
        """Whether inputs are real vectors (in-context regression) rather than tokens."""
        return False

    def input_hint(self) -> str:
        """How to type an input, for a text box's label or `--input`'s help."""
        return (f"tokens separated by spaces; vocabulary: {' '.join(map(str, self.vocab))}; "
                f"at most {self.max_seq_len}")

    def parse_input(self, text: str) -> Any:
        """The user's text in the task's own format, as an input `encode` takes."""
        return parse_tokens(text, self.vocab)

    def format_input(self, inputs: Any) -> str:
        """The text `parse_input` reads back to `inputs`."""
        return " ".join(str(t) for t in inputs)

    def show_input(self, inputs: Any) -> str:
        """`inputs` for a person to read (numbers at 4 significant digits); `format_input` is exact."""
        return self.format_input(inputs)

    @abstractmethod
    def sample(self, rng: random.Random, length: int | None = None) -> Any:
        """A random input drawn from the model's own task (about `length` tokens when given)."""

    def default_input(self) -> Any:
        """The input a view starts from: a seeded sample of the task."""
        return self.sample(random.Random(0))

    @abstractmethod
    def encode(self, inputs: Any) -> tuple[list[str], torch.Tensor]:
        """(one name per model position, the model's input [1, pos(, d_input)]); InputError if
        the input is not one this model reads."""

    @abstractmethod
    def decode(self, logits: torch.Tensor) -> list[Any]:
        """The output at each model position of logits [1, pos, d_vocab_out] (None: none there)."""

    def run(self, inputs: Any) -> list[Any]:
        """The decoded output at each input position (positions before the input dropped)."""
        import torch

        _, ids = self.encode(inputs)
        with torch.no_grad():
            logits = self.model(ids)
        return self.decode(logits)[self.prefix:]

    def answer_positions(self, n_positions: int) -> list[int]:
        """Model positions whose output is an answer of the task (metrics read these)."""
        return list(range(n_positions))

    def limit_length(self, max_len: int) -> None:
        """Analyse inputs of at most `max_len` tokens (`--max-len`); InputError when the model
        fixes its own length (a compiled program, a task)."""
        raise InputError(f"{self.title}: --max-len does not apply (its inputs are {self.max_seq_len} "
                         "long, fixed when it was built); leave it out.")

    # ------------------------------------------------------------- corruptions
    def corruptions(self) -> dict[str, Callable[[Any, int], Any]]:
        """Named corruptions of one input, the task-aware default first: (input, seed) -> input."""
        from interp.analysis.corruptions import CORRUPTIONS

        vocab = self.vocab
        return {name: (lambda inputs, seed, f=name: _generic(f, inputs, vocab, seed)) for name in CORRUPTIONS}

    def corrupt(self, inputs: Any, seed: int = 0, how: str | None = None) -> Any:
        """Corruption `how` (default: the task-aware one) of `inputs`, seeded."""
        options = self.corruptions()
        name = next(iter(options)) if how is None else how
        if name not in options:
            raise InputError(f"unknown corruption {name!r}; choose one of {list(options)}.")
        return options[name](inputs, seed)

    # ----------------------------------------------------------------- metrics
    def patch_metrics(self) -> dict[str, PatchMetric]:
        """Patching metrics by name, the task's own first: (clean logits, corrupted logits,
        positions) -> metric."""
        from interp.analysis.patch_metrics import PATCH_METRICS

        return dict(PATCH_METRICS)

    def discovery_metric(self, positions: list[int] | None) -> MetricFactory:
        """Discovery's metric: KL to the clean outputs at `positions` (squared error for one
        numerical output)."""
        from interp.analysis.metrics import distance_to

        return lambda clean: distance_to(clean, positions)

    @abstractmethod
    def analysis_inputs(self, per_length: int, seed: int = 0) -> AnalysisInputs:
        """Inputs for discovery, ablation and faithfulness, drawn from the task (seeded)."""

    def faithfulness(self, circuit: Circuit, inputs: AnalysisInputs, ablation: str, seed: int = 0) -> float:
        """Fraction of answer outputs on which the circuit alone (every other edge ablated as
        discovery ablated it) agrees with the full model."""
        from interp.analysis import agreement

        total, agreeing = 0, 0.0
        for full, pruned in circuit_runs(self.model, circuit, inputs, ablation, seed):
            agreeing += agreement(full, pruned, inputs.positions) * full.shape[0]
            total += full.shape[0]
        return agreeing / total

    def output_change(self, full: torch.Tensor, changed: torch.Tensor,
                      positions: list[int] | None) -> tuple[str, str, float]:
        """How much an intervention changed the answers at `positions`: (JSON key, words, value);
        here the fraction of answer outputs whose arg-max stayed the same."""
        from interp.analysis import agreement

        return "unchanged", "fraction of answer outputs unchanged", agreement(full, changed, positions)

    def faithfulness_meaning(self) -> str:
        """What `faithfulness` measures, for a caption."""
        return "fraction of answer outputs (arg-max) the circuit alone gets the same as the full model"

    # ------------------------------------------------------- what is known
    def ground_truth(self) -> Circuit | None:
        """The true circuit when the model was built from a program (else None)."""
        return None

    def ground_truth_note(self) -> str:
        """What `ground_truth()` is, in a few words for a caption (empty when there is none)."""
        return ""

    def captions(self) -> dict[str, str]:
        """Component (`L0H1`, `MLP2`) -> what it computes, when known."""
        return {}

    def knows_empty_heads(self) -> bool:
        """Whether a head without a caption is known to do nothing (programs say so)."""
        return False

    def placement(self) -> dict[str, list[str]]:
        """Program variable -> the components computing it (compiled programs)."""
        return {}

    def variables(self) -> list[str]:
        """Named variables the residual stream is labelled with (empty when unlabelled)."""
        labels = self.model.residual_labels
        return labels.variables() if labels is not None else []

    def output_variable(self) -> str | None:
        """The variable holding the output, when the residual stream is labelled."""
        variables = self.variables()
        return variables[-1] if variables else None

    def rasp_program(self) -> Any:
        """The RASP program (rasp.SOp) the model was compiled from in this process, or None."""
        return None

    def discrete_programs(self) -> tuple[Any, Any] | None:
        """A Transformer Program's (exact, simplified) discrete programs, or None."""
        return None

    def describe(self) -> dict[str, Any]:
        """A summary for `interp info`: the kind, title, shape and task."""
        cfg = self.model.cfg
        return {"kind": self.kind, "title": self.title, "n_layers": cfg.n_layers, "d_model": cfg.d_model,
                "n_heads": cfg.n_heads, "d_head": cfg.d_head, "d_mlp": cfg.d_mlp or 0, "n_ctx": cfg.n_ctx,
                "d_vocab": cfg.d_vocab, "attention_kind": cfg.attention_kind,
                "params": self.model.n_params(), "input": self.input_hint(),
                "example_input": self.format_input(self.default_input()),
                "corruptions": list(self.corruptions()), "patch_metrics": list(self.patch_metrics()),
                "labelled_variables": self.variables(), "metadata": self.model.metadata}


def circuit_runs(model: HookedTransformer, circuit: Circuit, inputs: AnalysisInputs, ablation: str,
                 seed: int = 0) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(full logits, circuit-only logits) per batch. Resample ablation with corrupted inputs
    replaces each cut edge's source by its output on the row's own corruption (as ACDC did);
    other ablations as `interp.analysis.ablate`."""
    import torch

    from interp.analysis import ablate, corrupted_outputs, edge_hooks
    from interp.analysis.nodes import component_hooks_enabled
    from interp.analysis.replace import Fixed
    from interp.circuit import Circuit as Graph

    outside = sorted(Graph.full(model.cfg).edge_set() - circuit.edge_set())
    corrupted = inputs.corrupted or [None] * len(inputs.batches)
    runs = []
    with torch.no_grad():
        for batch, bad in zip(inputs.batches, corrupted):
            full = model(batch)
            if ablation == "resample" and bad is not None:
                replaced = corrupted_outputs(model, batch, "resample", corrupted=bad, seed=seed)
                sources = {e.src: Fixed(replaced[e.src]) for e in outside}
                with component_hooks_enabled(model):
                    with model.hooks(fwd_hooks=edge_hooks(model, outside, sources)):
                        pruned = model(batch)
            else:
                with ablate(model, edges=outside, kind=ablation, reference=batch, seed=seed):
                    pruned = model(batch)
            runs.append((full, pruned))
    return runs


def _generic(name: str, inputs: list[Any], vocab: list[Any], seed: int) -> list[Any]:
    from interp.analysis.corruptions import corrupt

    return corrupt(name, inputs, vocab, seed=seed)


def token_ids(model: HookedTransformer, names: list[str]) -> torch.Tensor:
    """Ids [1, pos] of token names (or of typed ids when the model has no token names),
    checked for range and length (InputError)."""
    import torch

    if model.cfg.vocab is None:
        if not all(n.lstrip("-").isdigit() for n in names):
            raise InputError(f"this model has no token names; type token ids 0..{model.cfg.d_vocab - 1}.")
        ids = [int(n) for n in names]
    else:
        index = {name: i for i, name in enumerate(model.cfg.vocab)}
        for position, name in enumerate(names):
            if name not in index:
                raise InputError(f"token {name!r} at position {position} is not in the vocabulary "
                                 f"{list(model.cfg.vocab)}.")
        ids = [index[name] for name in names]
    return model.validate_inputs(torch.tensor([ids], dtype=torch.long))


def argmax_names(model: HookedTransformer, logits: torch.Tensor) -> list[Any]:
    """The arg-max output token's name at each position of logits [1, pos, d_vocab_out]."""
    vocab = model.cfg.vocab_out or model.cfg.vocab
    best = logits[0].argmax(-1).tolist()
    return [vocab[i] if vocab else str(i) for i in best]
