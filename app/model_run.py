"""One forward pass of the subject on the user's input, as the views need it."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Any

import torch
from transformer_lens.ActivationCache import ActivationCache

from app.display import show_value
from app.subject import Subject
from interp.errors import InputError

# Models are cached and shared by every browser session (threads of one server), and
# ablation/discovery add hooks to a model while they run: one forward at a time.
MODEL_LOCK = threading.RLock()


@dataclass
class ModelRun:
    """The input, the model's positions, its cache and its decoded output."""

    inputs: list[Any]  # what the user typed, as vocabulary values
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

    @property
    def is_vector(self) -> bool:
        """The model read vectors (in-context regression), not tokens."""
        return self.ids.is_floating_point()

    @property
    def offset(self) -> int:
        """Model positions before the first input token (the compiler's BOS)."""
        return len(self.positions) - len(self.inputs)


def model_input(subject: Subject, inputs: list[Any]) -> tuple[list[str], torch.Tensor]:
    """Position names and token ids the model reads for `inputs`; InputError if invalid."""
    model = subject.model
    if subject.is_compiled:
        # The compiler checks tokens and length against the program's vocab and max_seq_len.
        ids = torch.tensor([subject.compiled.encode(inputs)], dtype=torch.long)
        names = [subject.compiled.bos] + [str(t) for t in inputs]
        return names, model.validate_inputs(ids)
    names = [*subject.prefix, *(str(t) for t in inputs)]  # a Transformer Program's sink first
    if model.cfg.vocab is None:
        if not all(n.lstrip("-").isdigit() for n in names):
            raise InputError(f"this model has no token names; type token ids 0..{model.cfg.d_vocab - 1}.")
        ids = torch.tensor([[int(n) for n in names]], dtype=torch.long)
    else:
        ids = model.to_tokens([names])  # a list of name lists: names verbatim, no BOS added
    # Same checks as forward: range and length (n_ctx), each raising InputError.
    return names, model.validate_inputs(ids)


def decode_logits(subject: Subject, logits: torch.Tensor) -> list[str]:
    """Per-position output names: the compiler's decoder, else the arg-max output token."""
    if subject.is_compiled:
        # Position 0 is the compiler's BOS, whose output means nothing.
        return ["—"] + [show_value(v) for v in subject.compiled.decode(logits[0, 1:])]
    vocab = subject.model.cfg.vocab_out or subject.model.cfg.vocab
    best = logits[0].argmax(-1).tolist()
    return [vocab[i] if vocab else str(i) for i in best]


def run_subject(subject: Subject, inputs: list[Any]) -> ModelRun:
    """Check `inputs`, run the model with a cache and decode its output."""
    if not inputs:
        raise InputError("the input is empty; type at least one token.")
    names, ids = model_input(subject, inputs)
    with MODEL_LOCK, torch.no_grad():
        logits, cache = subject.model.run_with_cache(ids)
    return ModelRun(inputs, names, ids, logits, cache, decode_logits(subject, logits))


def run_vectors(inputs: torch.Tensor, names: list[str], scored: list[int], subject: Subject,
                comparison: Any, reference: torch.Tensor) -> ModelRun:
    """A vector-input model on one encoded prompt [1, pos, d_input], with its cache."""
    ids = subject.model.validate_inputs(inputs)
    with MODEL_LOCK, torch.no_grad():
        logits, cache = subject.model.run_with_cache(ids)
    output = [show_value(float(v)) if i in scored else "" for i, v in enumerate(logits[0, :, 0].tolist())]
    return ModelRun(names, names, ids, logits, cache, output, scored, comparison, reference)


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
