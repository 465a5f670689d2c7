"""Recipes: a task, a model shape and a train config under one name, so one command (and
its defaults) reproduces each shipped model. A JSON config file overrides any part:
{"task": {...task options}, "model": {...ModelConfig fields}, "train": {...TrainConfig fields},
 "init_std": 0.02}.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interp.errors import ConfigError, InputError
from interp.limits import current_limits
from interp.model import HookedTransformer, ModelConfig
from interp.tasks import make_task
from interp.tasks.base import Task
from interp.training.config import TrainConfig
from interp.training.rules import Field, check_limit

INIT_STD = Field(float, above=0)  # std of the initial weights

_TASK_DIMENSIONS = ("n_ctx", "d_vocab", "d_vocab_out", "vocab", "vocab_out", "causal", "d_input")


@dataclass
class Recipe:
    """Everything that defines a training run."""

    name: str
    task: str  # a name in interp.tasks.TASKS
    description: str
    task_options: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)  # ModelConfig fields the task does not fix
    train: dict[str, Any] = field(default_factory=dict)  # TrainConfig fields
    init_std: float = 0.02
    init_from: str | None = None  # continue from a trained model: a shipped name or a model directory

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (also the shape of a --config file)."""
        data = {"task": self.task_options, "model": self.model, "train": self.train_config().to_dict(),
                "init_std": self.init_std}
        return data if self.init_from is None else {**data, "init_from": self.init_from}

    def train_config(self) -> TrainConfig:
        """The validated TrainConfig."""
        return TrainConfig.from_dict(self.train)

    def build_task(self) -> Task:
        """The task with this recipe's options."""
        return make_task(self.task, **self.task_options)

    def build_model(self, task: Task) -> HookedTransformer:
        """A freshly initialised model shaped for `task` (seeded by the train seed)."""
        fixed = sorted(set(self.model) & set(_TASK_DIMENSIONS))
        if fixed:
            raise ConfigError(f"model fields {fixed} are set by the task; remove them from the config.")
        seed = self.train_config().seed
        cfg = ModelConfig.from_dict({
            "n_ctx": task.seq_len, "d_vocab": task.d_vocab, "d_vocab_out": task.d_vocab_out,
            "vocab": task.vocab, "vocab_out": task.vocab_out, "causal": task.causal, "seed": seed,
            "d_input": getattr(task, "d_input", None),  # vector-input tasks (in-context regression)
            **self.model,
        })
        check_model_size(cfg)
        metadata = {"producer": "train", "recipe": self.name, "task": self.task,
                    "task_options": self.task_options}
        model = HookedTransformer(cfg, metadata=metadata).init_weights(std=self.init_std, seed=seed)
        if self.init_from is not None:
            model.load_state_dict(self._initial_weights(cfg))
        return model

    def _initial_weights(self, cfg: ModelConfig) -> dict[str, Any]:
        """The weights of the `init_from` model, which must have this recipe's shape."""
        from interp.model import load_model
        from interp.shipped import resolve_model_path

        start = load_model(resolve_model_path(self.init_from))
        if start.cfg.to_dict() | {"seed": None} != cfg.to_dict() | {"seed": None}:
            raise ConfigError(f"init_from={self.init_from!r} has a different model config than recipe "
                              f"{self.name!r}; start from a model trained with the same shape.")
        return start.state_dict()

    def with_overrides(self, overrides: dict[str, Any]) -> Recipe:
        """A copy with a --config file's sections merged over this recipe's."""
        if not isinstance(overrides, dict):
            raise ConfigError("a config file must hold a JSON object with task/model/train sections.")
        unknown = sorted(set(overrides) - {"task", "model", "train", "init_std", "init_from"})
        if unknown:
            raise ConfigError(f"unknown config sections {unknown}; use task, model, train, init_std, "
                              "init_from.")
        for section in ("task", "model", "train"):
            if not isinstance(overrides.get(section, {}), dict):
                raise ConfigError(f"config section {section!r} must be a JSON object, got "
                                  f"{type(overrides[section]).__name__}.")
        INIT_STD.check("config", "init_std", overrides.get("init_std", self.init_std))
        init_from = overrides.get("init_from", self.init_from)
        if init_from is not None and not (isinstance(init_from, str) and init_from):
            raise ConfigError(f"config: init_from must be a model name or directory, got {init_from!r}.")
        merged = copy.deepcopy(self)
        merged.task_options = {**merged.task_options, **overrides.get("task", {})}
        merged.model = {**merged.model, **overrides.get("model", {})}
        merged.train = {**merged.train, **overrides.get("train", {})}
        merged.init_std = overrides.get("init_std", merged.init_std)
        merged.init_from = overrides.get("init_from", merged.init_from)
        merged.train_config()  # validate now, naming the bad field
        return merged


def check_model_size(cfg: ModelConfig) -> None:
    """Refuse a model over the model_layers / model_parameters caps before any weight is built."""
    limits = current_limits()
    check_limit("model: n_layers", cfg.n_layers, "model_layers")
    count = cfg.parameter_count()
    if count > limits.model_parameters:
        raise ConfigError(f"model: the config describes {count:,} parameters (d_model={cfg.d_model}, "
                          f"n_layers={cfg.n_layers}, d_mlp={cfg.d_mlp}, n_ctx={cfg.n_ctx}), over the "
                          f"model_parameters limit of {limits.model_parameters:,}; raise it with "
                          "interp.limits.set_limits(model_parameters=...) if the model is genuine.")


def read_config_file(path: str | Path) -> dict[str, Any]:
    """A --config JSON file as a dict (ConfigError naming the file when unreadable, over the
    config_bytes cap, or nested deeper than config_nesting)."""
    limits = current_limits()
    try:
        size = Path(path).stat().st_size
        if size > limits.config_bytes:
            raise ConfigError(f"{path}: {size:,} bytes, over the config_bytes limit of "
                              f"{limits.config_bytes:,}; a config is a few hundred bytes.")
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read the config file ({err}).") from err
    except RecursionError as err:
        raise ConfigError(f"{path}: nested too deeply to read (config_nesting limit "
                          f"{limits.config_nesting}).") from err
    depth = _nesting(data)
    if depth > limits.config_nesting:
        raise ConfigError(f"{path}: nested {depth} levels deep, over the config_nesting limit of "
                          f"{limits.config_nesting}.")
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the config file must hold a JSON object.")
    return data


def _nesting(value: object) -> int:
    """Depth of nested lists/objects in parsed JSON (iterative: no recursion to overflow)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


# Sized for the CPU share a shared 2-core machine gives (about 1 step/s at this size).
_ADDITION_TRAIN = dict(steps=5000, batch_size=64, lr=2e-3, warmup_steps=200, weight_decay=0.1,
                       min_lr_ratio=0.05, eval_every=500, eval_size=2000, checkpoint_every=250,
                       log_every=50, seed=0)

_ICL_GPT = {"n_layers": 3, "d_model": 64, "n_heads": 2, "d_mlp": 256, "act_fn": "gelu_new",
            "normalization_type": "LN"}

# One line per recipe; the shipped models are trained with exactly these defaults.
RECIPES: dict[str, Recipe] = {r.name: r for r in [
    Recipe("addition-1l", "addition", "5-digit addition, 1 layer, 3 heads (Quirke & Barez 2023)",
           {"n_digits": 5, "enrich": 0.1},
           {"n_layers": 1, "d_model": 96, "n_heads": 3, "d_mlp": 384, "act_fn": "gelu",
            "normalization_type": "LN"}, dict(_ADDITION_TRAIN)),
    Recipe("addition-2l", "addition", "5-digit addition, 2 layers, 3 heads (handles carry cascades)",
           {"n_digits": 5, "enrich": 0.1},
           {"n_layers": 2, "d_model": 96, "n_heads": 3, "d_mlp": 384, "act_fn": "gelu",
            "normalization_type": "LN"},
           # One schedule, 4x the examples of the first 99.80% model (4,500 steps of 64, two
           # commands): the last 0.1% of questions are learnt late, on a slow cosine tail.
           dict(_ADDITION_TRAIN, steps=9000, batch_size=128, warmup_steps=300)),
    Recipe("markov-switching", "markov", "binary switching chain p=0.5, q=0.8 (Makkuva et al. 2024)",
           {"kind": "switching", "p": 0.5, "q": 0.8, "seq_len": 64},
           {"n_layers": 1, "d_model": 32, "n_heads": 1, "d_mlp": 64, "normalization_type": "LN"},
           dict(steps=3000, batch_size=32, lr=1e-3, warmup_steps=100, eval_every=250, eval_size=1000,
                checkpoint_every=250, log_every=50, seed=0)),
    Recipe("icl-gpt-stage1", "regression", "in-context linear regression d=5, 11 points; GPT-2 style 3x64, "
           "2 heads (Garg et al. 2022): a short 4000-step schedule", {"d": 5, "n_points": 11}, dict(_ICL_GPT),
           dict(steps=4000, batch_size=64, lr=1e-3, warmup_steps=500, min_lr_ratio=0.05, eval_every=250,
                eval_size=2000, checkpoint_every=500, log_every=50, seed=0)),
    # The shipped model: one cosine cycle from scratch. No curriculum: at d = 5 and 11 points there
    # is nothing to grow (Garg et al. grow d and the prompt length up to 20 and 41); the warm-up
    # carries the model over the initial plateau (error ~1 for ~1000 steps). Batch 128: ~1.2x the
    # examples per CPU-second of batch 64 at this size.
    Recipe("icl-gpt", "regression", "in-context linear regression d=5, 11 points; GPT-2 style 3x64, "
           "2 heads (Garg et al. 2022)", {"d": 5, "n_points": 11}, dict(_ICL_GPT),
           dict(steps=5000, batch_size=128, lr=1e-3, warmup_steps=500, min_lr_ratio=0.05, eval_every=500,
                eval_size=2000, checkpoint_every=250, log_every=50, seed=0)),
    Recipe("icl-task-diversity", "regression", "in-context linear regression D=8, K=16, sigma^2=0.25 from a "
           "pool of M tasks (set task.pool_size; Raventos et al. 2023), 4x64, 2 heads",
           {"d": 8, "n_points": 16, "noise_std": 0.5}, dict(_ICL_GPT, n_layers=4),
           dict(steps=2000, batch_size=64, lr=1e-3, warmup_steps=100, min_lr_ratio=0.05, eval_every=250,
                eval_size=1000, checkpoint_every=500, log_every=50, seed=0)),
    Recipe("icl-lsa", "regression", "one linear self-attention layer, d=5, N=20 (von Oswald et al. 2023)",
           {"d": 5, "n_points": 21, "encoding": "oswald"},
           {"n_layers": 1, "d_model": 16, "n_heads": 1, "attention_kind": "linear",
            "positional_embedding": "none", "attn_scale": 1.0},
           dict(steps=3000, batch_size=512, lr=3e-3, warmup_steps=100, min_lr_ratio=0.01, eval_every=250,
                eval_size=20000, eval_batch_size=20000, checkpoint_every=1000, log_every=50, seed=0),
           init_std=0.3),
]}


def recipe_by_name(name: str) -> Recipe:
    """A recipe by name; a bare task name gets a default recipe."""
    if name in RECIPES:
        return copy.deepcopy(RECIPES[name])
    from interp.tasks import TASKS

    if name in TASKS:
        return Recipe(name, name, f"task {name!r} with a small default model",
                      model={"n_layers": 2, "d_model": 64, "n_heads": 2, "d_mlp": 128,
                             "normalization_type": "LN"},
                      train=dict(steps=2000, batch_size=64, lr=1e-3, warmup_steps=100, eval_every=200))
    raise InputError(f"unknown task or recipe {name!r}; recipes: {sorted(RECIPES)}, tasks: {sorted(TASKS)}.")
