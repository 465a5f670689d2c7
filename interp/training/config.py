"""`TrainConfig`: every knob of the training loop, as a plain dataclass saved as JSON."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interp.errors import ConfigError
from interp.training.rules import SEED, Field, check_fields

DEVICES = ("cpu", "cuda", "auto")
SELECT_MODES = ("min", "max")


@dataclass
class TrainConfig:
    """Optimiser, schedule, evaluation, early stopping and checkpointing of one run.

    batch_size is the global batch: under torchrun each of N processes takes batch_size / N
    examples of the same global batch, so the run equals the single-process one.
    """

    steps: int = 1000
    batch_size: int = 64
    lr: float = 1e-3
    min_lr_ratio: float = 0.1  # cosine decays from lr to lr * min_lr_ratio
    warmup_steps: int = 0  # linear warm-up from 0 to lr
    weight_decay: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.999
    grad_clip: float | None = 1.0  # max global gradient norm; None: no clipping
    eval_every: int = 100  # steps between held-out evaluations (0: only at the end)
    eval_size: int = 1000  # examples in the held-out set
    eval_batch_size: int = 1000  # evaluation chunk size (memory only; the result does not depend on it)
    select_metric: str = "loss"  # held-out metric used for the best checkpoint and early stopping
    select_mode: str = "min"
    patience: int | None = None  # evaluations without improvement before stopping; None: never
    min_delta: float = 0.0  # improvement smaller than this does not reset the patience
    checkpoint_every: int = 500  # steps between resumable checkpoints (0: only at the end)
    log_every: int = 10  # steps between log lines (log.jsonl)
    seed: int = 0
    device: str = "cpu"  # "cpu", "cuda" or "auto" (cuda when available)

    def __post_init__(self) -> None:
        check_fields("train config", FIELD_RULES, self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Build from a dict; unknown keys are an error (a typo must not be ignored)."""
        if not isinstance(data, dict):
            raise ConfigError(f"train config must be a JSON object, got {type(data).__name__}.")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown train config fields {unknown}; known fields: {sorted(known)}.")
        return cls(**data)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed (validated again)."""
        return TrainConfig.from_dict({**self.to_dict(), **changes})

    def save(self, path: str | Path) -> None:
        """Write as JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> TrainConfig:
        """Read a JSON file written by `save` (or by hand)."""
        try:
            return cls.from_dict(json.loads(Path(path).read_text()))
        except (OSError, json.JSONDecodeError) as err:
            raise ConfigError(f"{path}: cannot read the train config ({err}).") from err


# One row per TrainConfig field (a test checks that every field has one).
FIELD_RULES: dict[str, Field] = {
    "steps": Field(int, minimum=1),
    "batch_size": Field(int, minimum=1, limit="batch_examples"),
    "lr": Field(float, above=0),
    "min_lr_ratio": Field(float, minimum=0, maximum=1),
    "warmup_steps": Field(int, minimum=0),
    "weight_decay": Field(float, minimum=0),
    "beta1": Field(float, minimum=0, below=1),
    "beta2": Field(float, minimum=0, below=1),
    "grad_clip": Field(float, optional=True, above=0),
    "eval_every": Field(int, minimum=0),
    "eval_size": Field(int, minimum=1, limit="batch_examples"),
    "eval_batch_size": Field(int, minimum=1),  # a chunk of the held-out set: bounded by eval_size
    "select_metric": Field(str),
    "select_mode": Field(str, choices=SELECT_MODES),
    "patience": Field(int, optional=True, minimum=1),
    "min_delta": Field(float, minimum=0),
    "checkpoint_every": Field(int, minimum=0),
    "log_every": Field(int, minimum=1),
    "seed": SEED,
    "device": Field(str, choices=DEVICES),
}
