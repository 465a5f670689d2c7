"""Resource caps for loading models and user files (checkpoints, uploads), and for what a
training run, a task or a Transformer Program may allocate from its config.

The one place that defines them for `interp` and the app (RASP parsing and compilation
have theirs in `rasp/limits.py`, since `rasp` imports nothing of ours). Each cap is
overridable per call (`limits=`) or process-wide (`set_limits`), and every error a cap
raises names the field to raise.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Caps on what loading a user's file may allocate. Field names appear in errors."""

    model_parameters: int = 200_000_000  # parameters a checkpoint's config may describe
    model_layers: int = 1_024  # blocks a checkpoint's config may describe (each is a module)
    config_bytes: int = 1_000_000  # size of a config.json / metadata file
    config_nesting: int = 32  # nesting depth of a config.json
    upload_bytes: int = 512 * 2**20  # uncompressed bytes one app upload may expand to
    # Training and tasks: checked from the config before anything is allocated. The defaults are
    # far above every shipped recipe (largest: batch 512, held-out 20,000, 64 positions) and stop
    # a typo (1e9) from asking for gigabytes.
    batch_examples: int = 1_000_000  # examples in one training batch, held-out set or eval chunk
    batch_elements: int = 100_000_000  # numbers one sampled batch or held-out set holds (400 MB f32)
    sequence_length: int = 65_536  # positions of one task sequence (the model's n_ctx)
    task_table_entries: int = 16_777_216  # entries of a task's transition table or task pool
    vocab_size: int = 1_000_000  # tokens of a task's vocabulary or a trained tokenizer
    # Transformer Programs: every variable has max(vocabulary, max_len) values and the model holds
    # d_var x d_var predicates per head (the paper uses 8-16; 256 trains in minutes on a CPU).
    program_values: int = 256  # d_var: tokens, labels and positions of one Transformer Program
    program_examples: int = 1_000_000  # --size: examples drawn for train-program
    program_layers: int = 64  # layers of one Transformer Program (each holds every head's tables)
    program_components: int = 256  # heads, or MLPs, of one kind per layer
    program_file_bytes: int = 64 * 2**20  # one saved program.json / simplified.json
    # Not a refusal: a Transformer Program whose task has at most this many inputs is verified
    # on every one of them before anything calls it exact (above it: on the sampled inputs only).
    exhaustive_inputs: int = 1_000_000


DEFAULT_LIMITS = Limits()
_current = DEFAULT_LIMITS


def current_limits() -> Limits:
    """The caps in force for this process."""
    return _current


def set_limits(**changes: int) -> Limits:
    """Change caps process-wide (e.g. `set_limits(model_parameters=10**9)`); returns the new caps."""
    global _current
    _current = dataclasses.replace(_current, **changes)
    return _current
