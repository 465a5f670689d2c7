"""Training Transformer Programs through the project's one training loop (interp.training):
Adam at a constant learning rate (the paper's 5e-2), the Gumbel temperature annealed
geometrically per step from 3.0 to 0.01 (a callback), and every epoch an evaluation of the
soft (Gumbel) AND the hard (argmax) model on the validation split (a callback), with the best
checkpoint selected on hard validation accuracy. Seeds, resumable checkpoints and progress
come from the loop.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from interp.errors import InputError
from interp.programs.data import Split, TaskData
from interp.programs.model import CONVENTIONS, TransformerProgramModel
from interp.programs.program import ProgramShape
from interp.training import Callback, TrainConfig, TrainState, train
from interp.training.loop import Sampler, eval_generator
from interp.training.rules import SEED, Field, check_fields, check_limit


@dataclass
class ProgramTrainConfig:
    """The paper's settings by default (src/run.py: 250 epochs, batch 512, lr 5e-2)."""

    epochs: int = 250
    batch_size: int = 512
    lr: float = 5e-2
    tau_init: float = 3.0
    tau_end: float = 0.01
    seed: int = 0
    # Gumbel samples per step (the paper's --gumbel_samples): the loss is averaged over this many
    # forward passes, each with fresh noise, so a step costs this many times one sample.
    gumbel_samples: int = 1
    # Batches: "replacement" draws each batch's rows at random (the project's loop); "epochs" goes
    # through the training split once per epoch in a fresh order, as the paper's
    # DataLoader(shuffle=True) does (the last batch of an epoch is then the remainder).
    batches: str = "replacement"
    # Samples while training: "soft" Gumbel-softmax (the paper's default `gumbel_soft`) or
    # "straight-through" (its `gumbel_hard`: one-hot forward, the soft sample's gradient).
    sampling: str = "soft"
    # Stop once the hard model is right on every validation example: selection keeps the earliest
    # best checkpoint, so no later epoch could be chosen; the result equals the full run's.
    stop_when_perfect: bool = True
    # "ours" or "paper": the paper code's conventions (model.CONVENTIONS: position bias, sampled
    # token embedding, no read-out bias) plus its loss (mean over a sequence's scored positions,
    # then over the batch) and its temperature schedule (geometric per epoch, smoothed within it).
    # benchmarks/tp_side_by_side.py shows this trainer then equals the paper's step for step.
    conventions: str = "ours"
    # At least this many optimizer steps per epoch: when the training split is small (a tiny
    # vocabulary or length: `hist --max-len 6 --vocab-size 5` has 291 training examples, one batch)
    # an epoch goes through it several times. The CLI's default is the paper's 32 (16,200 examples
    # in batches of 512), which leaves the paper's data sizes unchanged; 1: one pass per epoch.
    min_epoch_steps: int = 1


@dataclass
class ProgramTrainResult:
    model: TransformerProgramModel  # holds the best (hard validation) weights
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = -1
    best_val_hard: float = -1.0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # training CPU time over every session (nan: resumed from an older checkpoint)
    stop_reason: str = "completed"
    epochs_run: int = 0


def accuracy(model: TransformerProgramModel, split: Split, hard: bool, seed: int = 0,
             batch_size: int = 2048) -> float:
    """Fraction of scored positions predicted right (soft: one seeded Gumbel sample)."""
    correct = total = 0
    with torch.random.fork_rng(), torch.no_grad():  # evaluation must not move the training RNG
        torch.manual_seed(seed)
        for start in range(0, len(split), batch_size):
            tokens = split.tokens[start : start + batch_size]
            targets = split.targets[start : start + batch_size]
            predicted = model(tokens, split.lengths[start : start + batch_size], hard=hard).argmax(-1)
            scored = targets != -100
            correct += int((predicted[scored] == targets[scored]).sum())
            total += int(scored.sum())
    return correct / max(total, 1)


class AnnealTemperature(Callback):
    """tau(step) = tau_init * (tau_end / tau_init) ** (step / (steps - 1)), set before each step.

    With the paper's conventions: its src/run.py schedule, a geometric sequence over epochs
    (tau_init at the first, tau_end at the last) and within epoch e a geometric one from its value
    to epoch e + 1's; the last epoch keeps tau_end.
    """

    def __init__(self, model: TransformerProgramModel, config: ProgramTrainConfig, steps: int,
                 steps_per_epoch: int = 1):
        self.model, self.config, self.steps, self.steps_per_epoch = model, config, steps, steps_per_epoch
        self.model.tau = self.tau(0)

    def tau(self, step: int) -> float:
        c = self.config
        if c.conventions == "paper":
            return self._paper_tau(step)
        return c.tau_init * (c.tau_end / c.tau_init) ** (min(step, self.steps - 1) / max(self.steps - 1, 1))

    def _paper_tau(self, step: int) -> float:
        c, per = self.config, self.steps_per_epoch
        epochs = max(1, math.ceil(self.steps / per))
        epoch, index = divmod(min(step, self.steps - 1), per)
        ratio = c.tau_end / c.tau_init

        def at(e: int) -> float:
            return c.tau_init * ratio ** (e / max(epochs - 1, 1))

        if epoch + 1 >= epochs:
            return at(epochs - 1)
        return at(epoch) * (at(epoch + 1) / at(epoch)) ** (index / max(per - 1, 1))

    def on_step(self, state: TrainState) -> None:
        self.model.tau = self.tau(state.step)

    def state_dict(self) -> dict[str, Any]:
        return {"tau": self.model.tau}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.tau = state["tau"]


class EpochShuffledBatches(Callback):
    """A sampler that visits every training example once per epoch, in an order drawn from
    (seed, epoch) alone, so a resumed run sees the same batches. It is also a callback: the loop
    tells it the step after each one, and its checkpointed state is the next step to serve."""

    def __init__(self, split: Split, batch_size: int, seed: int):
        self.split, self.batch_size, self.seed = split, batch_size, seed
        self.steps_per_epoch = math.ceil(len(split) / batch_size)
        self.next_step = 0
        self._eval_seed = eval_generator(seed).initial_seed()
        self._order: tuple[int, torch.Tensor] | None = None  # (epoch, permutation) cache

    def __call__(self, n: int, generator: torch.Generator):
        if generator.initial_seed() == self._eval_seed:  # the loop's held-out set: any n rows
            rows = torch.randint(len(self.split), (n,), generator=generator)
        else:
            epoch, index = divmod(self.next_step, self.steps_per_epoch)
            if self._order is None or self._order[0] != epoch:
                shuffle = torch.Generator().manual_seed((self.seed * 1_000_003 + epoch) % 2**62)
                self._order = (epoch, torch.randperm(len(self.split), generator=shuffle))
            rows = self._order[1][index * self.batch_size : (index + 1) * self.batch_size]
        return self.split.tokens[rows], self.split.lengths[rows], self.split.targets[rows]

    def on_step(self, state: TrainState) -> None:
        self.next_step = state.step

    def state_dict(self) -> dict[str, Any]:
        return {"next_step": self.next_step}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.next_step = state["next_step"]


class HardAndSoftValidation(Callback):
    """Adds val_hard (argmax model) and val_soft (one Gumbel sample) to every evaluation."""

    def __init__(self, val: Split, steps_per_epoch: int,
                 on_epoch: Callable[[dict[str, float]], None] | None = None, stop_when_perfect: bool = False):
        self.val, self.steps_per_epoch, self.on_epoch = val, steps_per_epoch, on_epoch
        self.stop_when_perfect = stop_when_perfect

    def on_eval(self, state: TrainState, metrics: dict[str, float]) -> None:
        model = state.model
        metrics["epoch"] = state.step // self.steps_per_epoch
        metrics["tau"] = model.tau
        metrics["val_soft"] = accuracy(model, self.val, hard=False, seed=state.step)
        metrics["val_hard"] = accuracy(model, self.val, hard=True)
        if self.stop_when_perfect and metrics["val_hard"] == 1.0:
            state.should_stop, state.stop_reason = True, "perfect_validation"
        if self.on_epoch is not None:
            self.on_epoch(dict(metrics))


def _flushing_denormals() -> bool:
    return (torch.tensor([1e-39]) * 1.0).item() == 0.0  # 1e-39 is subnormal in float32


@contextmanager
def flush_denormals() -> Iterator[None]:
    """Flush subnormal floats to zero on the CPU while training, then restore the setting.

    Late in the anneal (tau below about 0.15) the Gumbel-softmax gives probabilities below
    float32's smallest normal number, and CPU arithmetic on those is slow: a Dyck-1 step of 512
    took 0.40-0.72 s at tau 0.1-0.02 against 0.135 s at tau 3 (one thread), and 0.135 s at every
    tau once flushed. The values flushed are below 1.2e-38, so no argmax and no hard pass changes.

    The CPU flag is per thread: this sets it on the calling thread, and torch's worker threads
    inherit it only if they are created afterwards (measured at 2 threads and tau 0.05: 0.43 s a
    step unflushed, 0.32 flushed after the workers exist, 0.09 flushed before). Entry points that
    train with several threads (`interp train-program`, the benchmark) therefore enter this
    before any parallel work; entering it again inside is harmless.
    """
    was_on = _flushing_denormals()
    torch.set_flush_denormal(True)  # returns False where the CPU cannot: then it is slow, not wrong
    try:
        yield
    finally:
        torch.set_flush_denormal(was_on)


# One row per ProgramTrainConfig field (a test checks every field has one).
CONFIG_RULES: dict[str, Field] = {
    "epochs": Field(int, minimum=1),
    "batch_size": Field(int, minimum=1, limit="batch_examples"),
    "lr": Field(float, above=0),
    "tau_init": Field(float, above=0),
    "tau_end": Field(float, above=0),
    "seed": SEED,
    "gumbel_samples": Field(int, minimum=1, maximum=1024),
    "batches": Field(str, choices=("replacement", "epochs")),
    "sampling": Field(str, choices=("soft", "straight-through")),
    "stop_when_perfect": Field(bool),
    "conventions": Field(str, choices=CONVENTIONS),
    "min_epoch_steps": Field(int, minimum=1, maximum=100_000),
}


def check_shape_size(shape: ProgramShape) -> None:
    """Refuse a program whose variables or layers are over the interp.limits caps, before the
    model (d_var x d_var predicates per head) is allocated."""
    check_limit("program: d_var (max of the vocabulary and max_len)", shape.d_var, "program_values")
    check_limit("program: labels", len(shape.labels), "program_values")
    check_limit("program: n_layers", shape.n_layers, "program_layers")
    for name in ("n_cat_heads", "n_num_heads", "n_cat_mlps", "n_num_mlps"):
        check_limit(f"program: {name}", getattr(shape, name), "program_components")


def train_program(
    data: TaskData, shape: ProgramShape, config: ProgramTrainConfig, out_dir: str | Path | None = None,
    resume: bool = False, progress: bool = True, on_epoch: Callable[[dict[str, float]], None] | None = None,
    overwrite: bool = False, initial_state: dict[str, torch.Tensor] | None = None,
    sample: Sampler | None = None, callbacks: Sequence[Callback] = (),
) -> ProgramTrainResult:
    """Train; return the weights with the best hard validation accuracy (ties: the earlier).

    For side-by-side runs (benchmarks/tp_side_by_side.py): `initial_state` replaces the seeded
    initial weights, `sample` the batches (a Callback too if it needs the step), and `callbacks`
    run after this trainer's own.
    """
    if config.gumbel_samples < 1:
        raise InputError(f"gumbel_samples must be at least 1, got {config.gumbel_samples}.")
    if config.batches not in ("replacement", "epochs"):
        raise InputError(f"batches must be 'replacement' or 'epochs', got {config.batches!r}.")
    if config.sampling not in ("soft", "straight-through"):
        raise InputError(f"sampling must be 'soft' or 'straight-through', got {config.sampling!r}.")
    check_fields("train-program config", CONFIG_RULES, asdict(config))
    check_shape_size(shape)
    model = TransformerProgramModel(shape, seed=config.seed, conventions=config.conventions)
    if initial_state is not None:
        model.load_state_dict(initial_state)
    model.straight_through = config.sampling == "straight-through"
    train_split = data.train
    per_pass = math.ceil(len(train_split) / config.batch_size)
    steps_per_epoch = passes_per_epoch(len(train_split), config) * per_pass
    steps = config.epochs * steps_per_epoch
    loop = TrainConfig(
        steps=steps, batch_size=config.batch_size, lr=config.lr, min_lr_ratio=1.0, grad_clip=None,
        eval_every=steps_per_epoch, eval_size=min(len(train_split), 1000), select_metric="val_hard",
        select_mode="max", checkpoint_every=steps_per_epoch, log_every=steps_per_epoch, seed=config.seed,
    )

    def sample_with_replacement(n: int, generator: torch.Generator):
        rows = torch.randint(len(train_split), (n,), generator=generator)
        return train_split.tokens[rows], train_split.lengths[rows], train_split.targets[rows]

    def loss(module: torch.nn.Module, batch) -> torch.Tensor:
        tokens, lengths, targets = batch
        reduce = per_sequence_ce if config.conventions == "paper" else per_position_ce
        losses = [reduce(module(tokens, lengths), targets) for _ in range(config.gumbel_samples)]
        return torch.stack(losses).mean()

    own: list[Callback] = [
        AnnealTemperature(model, config, steps, steps_per_epoch),
        HardAndSoftValidation(data.val, steps_per_epoch, on_epoch, config.stop_when_perfect),
    ]
    if sample is not None:
        if isinstance(sample, Callback):
            own.insert(0, sample)
    elif config.batches == "epochs":
        sample = EpochShuffledBatches(train_split, config.batch_size, config.seed)
        own.insert(0, sample)
    else:
        sample = sample_with_replacement
    callbacks = [*own, *callbacks]
    with flush_denormals():
        result = train(model, sample, loop, loss=loss, out_dir=out_dir, resume=resume, callbacks=callbacks,
                       restore_best=True, progress=progress, overwrite=overwrite,
                       identity=_identity(data, shape, config))
    return ProgramTrainResult(
        model=result.model, history=result.history,
        best_epoch=(result.best_step or 0) // steps_per_epoch, best_val_hard=result.best or 0.0,
        seconds=result.seconds, cpu_seconds=result.cpu_seconds, stop_reason=result.stop_reason,
        epochs_run=math.ceil(result.steps / steps_per_epoch),
    )


def passes_per_epoch(n_train: int, config: ProgramTrainConfig) -> int:
    """How many times an epoch goes through the training split: enough for at least
    `min_epoch_steps` optimizer steps (1 for the paper's data sizes)."""
    per_pass = math.ceil(n_train / config.batch_size)
    return max(1, math.ceil(config.min_epoch_steps / per_pass))


def per_position_ce(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy averaged over every scored position of the batch (targets -100: unscored)."""
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-100)


def per_sequence_ce(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The paper's loss_agg="per_token": each sequence's mean over its scored positions, then the
    batch mean (a sequence with fewer scored positions weighs each of them more)."""
    losses = F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=-100, reduction="none")  # [b, n]
    scored = (targets != -100).sum(-1).clamp(min=1)  # [b]
    return (losses.sum(-1) / scored).mean()


def _identity(data: TaskData, shape: ProgramShape, config: ProgramTrainConfig) -> dict[str, Any]:
    """What a run trains on, saved with its checkpoints: the task, its data (a digest of the
    training split) and shape, and the settings a resume must not change (epochs may grow)."""
    digest = hashlib.sha256()
    for tensor in (data.train.tokens, data.train.lengths, data.train.targets):
        digest.update(tensor.contiguous().numpy().tobytes())
    settings = {k: v for k, v in asdict(config).items() if k not in ("epochs", "stop_when_perfect")}
    if settings["conventions"] == "ours":  # runs saved before the option existed resume unchanged
        del settings["conventions"]
    del settings["min_epoch_steps"]  # what it changes is recorded as the passes per epoch
    passes = passes_per_epoch(len(data.train), config)
    if passes > 1:
        settings["passes_per_epoch"] = passes
    return {"task": data.name, "n_train": len(data.train), "train_sha256": digest.hexdigest(),
            "shape": asdict(shape), "program_config": settings}
