"""One forward pass of the subject on the user's input, as the views need it."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Any

import torch
from transformer_lens.ActivationCache import ActivationCache

from interp.app.display import show_value
from interp.app.subject import Subject
from interp.errors import InputError

# Models are cached and shared by every browser session (threads of one server), and
# ablation/discovery add hooks to a model while they run: one forward at a time.
MODEL_LOCK = threading.RLock()


@dataclass
class ModelRun:
    """The input, the model's positions, its cache and its decoded output."""

    inputs: list[Any]  # what the user typed, as vocabulary values (vector models: position names)
    positions: list[str]  # one name per model position (compiled models may add BOS)
    ids: torch.Tensor  # [1, pos]
    logits: torch.Tensor  # [1, pos, d_vocab_out]
    cache: ActivationCache
    output: list[str]  # decoded output, one per model position
    # Vector-input models: positions whose read-out is a prediction, the prompt's comparison
    # with the baselines (interp.evaluation.icl_prompt) and sampled prompts for mean ablation.
    scored: list[int] | None = None
    comparison: Any = None
    reference: torch.Tensor | None = None  # [batch, pos, d_input]
    source: Any = None  # the input as the subject reads it (tokens, or a prompt's points)

    @property
    def is_vector(self) -> bool:
        """The model read vectors (in-context regression), not tokens."""
        return self.ids.is_floating_point()

    @property
    def offset(self) -> int:
        """Model positions before the first input token (the compiler's BOS)."""
        return len(self.positions) - len(self.inputs)


def model_input(subject: Subject, inputs: Any) -> tuple[list[str], torch.Tensor]:
    """Position names and model input for `inputs` (the subject encodes: BOS or a sink first
    where the model reads one); InputError if invalid."""
    return subject.encode(inputs)


def decode_logits(subject: Subject, logits: torch.Tensor) -> list[str]:
    """Per-position output names (the subject decodes; '—' where the model reads no input)."""
    decoded = subject.decode(logits)
    return ["—"] * subject.prefix + [show_value(v) for v in decoded[subject.prefix:]]


def run_subject(subject: Subject, inputs: list[Any]) -> ModelRun:
    """Check `inputs`, run the model with a cache and decode its output."""
    if not inputs:
        raise InputError("the input is empty; type at least one token.")
    names, ids = model_input(subject, inputs)
    with MODEL_LOCK, torch.no_grad():
        logits, cache = subject.model.run_with_cache(ids)
    return ModelRun(inputs, names, ids, logits, cache, decode_logits(subject, logits), source=inputs)


def run_vectors(inputs: torch.Tensor, names: list[str], scored: list[int], subject: Subject,
                comparison: Any, reference: torch.Tensor, source: Any = None) -> ModelRun:
    """A vector-input model on one encoded prompt [1, pos, d_input], with its cache."""
    ids = subject.model.validate_inputs(inputs)
    with MODEL_LOCK, torch.no_grad():
        logits, cache = subject.model.run_with_cache(ids)
    output = [show_value(float(v)) if i in scored else "" for i, v in enumerate(logits[0, :, 0].tolist())]
    return ModelRun(names, names, ids, logits, cache, output, scored, comparison, reference, source)


def reference_batch(subject: Subject, run: ModelRun, size: int = 32, seed: int = 0) -> torch.Tensor:
    """Token ids [size, pos] of random valid inputs as long as `run` (for mean ablation); a
    vector-input run brings its own sampled prompts."""
    if run.reference is not None:
        return run.reference
    rng = random.Random(seed)
    rows = [run.ids[0]]
    for _ in range(20 * size):
        if len(rows) >= size:
            break
        sample = subject.sample(rng, len(run.inputs))[: len(run.inputs)]
        if len(sample) == len(run.inputs):
            rows.append(model_input(subject, sample)[1][0])
    return torch.stack(rows)
