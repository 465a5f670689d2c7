"""The training loop: AdamW, warm-up + cosine decay, gradient clipping, held-out evaluation,
early stopping, resumable checkpoints, data parallelism under torchrun.

Determinism: the batch of step s is drawn from a generator seeded by (seed, s), the
held-out set from its own generator, and the checkpoint holds weights, optimizer, step and
RNG state, so the same seed gives the same numbers and a resumed run equals an
uninterrupted one (bit for bit on CPU).
"""

from __future__ import annotations

import json
import math
import shutil
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from interp.errors import ConfigError, TrainingDiverged
from interp.training import distributed as dist_utils
from interp.training.config import TrainConfig
from interp.training.losses import Batch, LossFn, per_position_ce
from interp.training.rules import check_limit
from interp.training.schedule import learning_rate
from interp.training.state import (
    load_training_state,
    load_weights,
    save_training_state,
    save_weights,
)

Sampler = Callable[[int, torch.Generator], Batch]  # (n, generator) -> batch of n examples
MetricsFn = Callable[[nn.Module, Batch], dict[str, float]]  # per-example means over a batch

CHECKPOINT_DIR = "checkpoint"
MODEL_DIR = "model"
BEST_DIR = "best"
LOG_FILE = "log.jsonl"
CONFIG_FILE = "train_config.json"
RESULT_FILE = "result.json"
_EVAL_STREAM = 0x5EED_E7A1  # keeps the held-out set apart from every training batch


def step_generator(seed: int, step: int) -> torch.Generator:
    """The generator of step `step`'s global batch (a pure function of seed and step)."""
    return torch.Generator().manual_seed((seed * 1_000_003 + step) % 2**62)


def eval_generator(seed: int) -> torch.Generator:
    """The generator of the held-out set."""
    return torch.Generator().manual_seed((seed * 1_000_003 + _EVAL_STREAM) % 2**62 + 2**62)


@dataclass
class TrainState:
    """What callbacks see: the live loop state (set `should_stop` to end the run cleanly)."""

    model: nn.Module  # the unwrapped model
    optimizer: torch.optim.Optimizer
    config: TrainConfig
    step: int = 0  # optimizer steps done
    loss: float = float("nan")  # last training loss (this process's shard)
    lr: float = 0.0
    metrics: dict[str, float] = field(default_factory=dict)  # last held-out metrics
    best: float | None = None
    best_step: int | None = None
    bad_evals: int = 0
    history: list[dict[str, float]] = field(default_factory=list)  # one record per evaluation
    seconds: float = 0.0  # training wall time, summed over resumed sessions
    cpu_seconds: float = 0.0  # this process's CPU time in training, summed over resumed sessions
    should_stop: bool = False
    stop_reason: str | None = None
    rank: int = 0
    world_size: int = 1
    identity: dict[str, Any] = field(default_factory=dict)  # what is trained (see run_identity)


class Callback:
    """Hooks into the loop; override what you need. `state_dict` must be JSON-able and is
    saved in checkpoints, so a stateful callback resumes too."""

    def on_step(self, state: TrainState) -> None:
        """After each optimizer step (state.step already counts it)."""

    def on_eval(self, state: TrainState, metrics: dict[str, float]) -> None:
        """After each held-out evaluation; may add entries to `metrics` (e.g. a hard-model
        accuracy) before the best checkpoint and early stopping read them."""

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict` returned."""


@dataclass
class TrainResult:
    """What a run produced."""

    model: nn.Module  # final weights (or the best ones with restore_best), eval mode, on CPU
    steps: int
    metrics: dict[str, float]  # held-out metrics of the returned weights
    best: float | None
    best_step: int | None
    history: list[dict[str, float]]
    seconds: float
    cpu_seconds: float  # this process's CPU time in training over every session (nan if unknown)
    examples_per_second: float
    stop_reason: str  # "completed", "early_stopping" or "interrupted"

    def to_json(self) -> dict[str, Any]:
        """The JSON-able summary (everything but the model)."""
        return {
            "steps": self.steps, "metrics": self.metrics, "best": self.best, "best_step": self.best_step,
            "seconds": round(self.seconds, 3),
            "cpu_seconds": None if math.isnan(self.cpu_seconds) else round(self.cpu_seconds, 3),
            "examples_per_second": round(self.examples_per_second, 1),
            "stop_reason": self.stop_reason, "history": self.history,
        }


def evaluate(model: nn.Module, batch: Batch, metrics: MetricsFn, chunk: int) -> dict[str, float]:
    """Held-out metrics, computed in chunks and averaged weighted by chunk size."""
    n = _batch_len(batch)
    totals: dict[str, float] = {}
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for start in range(0, n, chunk):
            part = _slice(batch, start, min(n, start + chunk))
            size = _batch_len(part)
            for key, value in metrics(model, part).items():
                totals[key] = totals.get(key, 0.0) + float(value) * size
    model.train(was_training)
    return {key: total / n for key, total in totals.items()}


def train(
    model: nn.Module,
    sample: Sampler,
    config: TrainConfig,
    loss: LossFn = per_position_ce,
    metrics: MetricsFn | None = None,
    out_dir: str | Path | None = None,
    resume: bool = False,
    callbacks: Sequence[Callback] = (),
    restore_best: bool = False,
    progress: bool = True,
    overwrite: bool = False,
    identity: dict[str, Any] | None = None,
) -> TrainResult:
    """Train `model` on batches from `sample` with `loss`; evaluate `metrics` (default: the loss)
    on a held-out set; checkpoint into `out_dir`; continue a stopped run with `resume=True`.

    An `out_dir` that already holds a run is refused unless `resume` (continue it) or `overwrite`
    (delete it first). `identity` (JSON-able: recipe, task parameters, data) is saved with every
    checkpoint next to the model's architecture, and a resume that changes either is refused.
    """
    metrics = metrics or (lambda m, b: {"loss": loss(m, b).item()})
    out = Path(out_dir) if out_dir is not None else None
    if resume and out is None:
        raise ConfigError("resume=True needs out_dir (the directory holding the checkpoint).")
    if resume and overwrite:
        raise ConfigError("resume and overwrite exclude each other: continue the run or replace it.")
    if out is not None:
        check_out_dir(out, resume, overwrite)
    _check_batch_size(sample, config)
    place = dist_utils.setup(config.device)
    try:
        return _run(model, sample, config, loss, metrics, out, resume, callbacks, restore_best,
                    progress, place, overwrite, run_identity(model, identity))
    finally:
        dist_utils.teardown(place)


# What a training run writes into its directory; one of them present = a run is there.
RUN_FILES = (LOG_FILE, CONFIG_FILE, RESULT_FILE)
RUN_DIRS = (CHECKPOINT_DIR, CHECKPOINT_DIR + ".old", CHECKPOINT_DIR + ".tmp", MODEL_DIR, BEST_DIR)


def holds_run(out: Path) -> bool:
    """Whether `out` holds (part of) a training run."""
    return out.is_dir() and any((out / name).exists() for name in RUN_FILES + RUN_DIRS)


def check_out_dir(out: Path, resume: bool, overwrite: bool) -> None:
    """Refuse an output directory that is a file, sits under a file, or already holds a run that
    would be overwritten (pass resume or overwrite), before anything is trained."""
    for parent in [out, *out.parents]:
        if parent.exists() and not parent.is_dir():
            raise ConfigError(f"--out {out}: {parent} is a file, not a directory; choose another --out.")
        if parent.exists():
            break
    if resume:
        return
    if holds_run(out) and not overwrite:
        raise ConfigError(
            f"--out {out} already holds a training run ({', '.join(_present(out))}); continue it with "
            "--resume, replace it with --overwrite, or choose another --out."
        )


def _present(out: Path) -> list[str]:
    return [name for name in RUN_FILES + RUN_DIRS if (out / name).exists()]


def _clear_run(out: Path) -> None:
    """Delete the files of the run in `out` (overwrite=True); other files are left alone."""
    for name in RUN_DIRS:
        shutil.rmtree(out / name, ignore_errors=True)
    for name in RUN_FILES:
        (out / name).unlink(missing_ok=True)


def _make_out_dir(out: Path) -> None:
    """Create `out` and prove it writable, as a ConfigError naming it if not."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        raise ConfigError(f"--out {out}: cannot write there ({err.strerror or err}); choose another "
                          "--out.") from err


def _check_batch_size(sample: Sampler, config: TrainConfig) -> None:
    """Refuse a batch or held-out set over the batch_elements cap, measured on one example."""
    probe = sample(1, torch.Generator().manual_seed(0))
    parts = probe if isinstance(probe, (tuple, list)) else [probe]
    per_example = max(1, sum(part.numel() for part in parts) // max(1, _batch_len(probe)))
    for name in ("batch_size", "eval_size"):
        check_limit(f"train config: {name} x {per_example} numbers per example",
                    getattr(config, name) * per_example, "batch_elements")


def run_identity(model: nn.Module, identity: dict[str, Any] | None) -> dict[str, Any]:
    """What a run trains, as JSON: the architecture (every parameter's shape; a hooked transformer's
    config and metadata, which name the recipe and task parameters) and the caller's `identity`."""
    described: dict[str, Any] = {
        "parameters": {name: list(t.shape) for name, t in model.state_dict().items()},
    }
    cfg = getattr(model, "cfg", None)
    if hasattr(cfg, "to_dict"):
        # The init seed is not what is trained: the resumed weights replace the initial ones.
        described["model_config"] = {k: v for k, v in cfg.to_dict().items() if k != "seed"}
    if isinstance(getattr(model, "metadata", None), dict):
        described["metadata"] = model.metadata
    if identity:
        described["run"] = identity
    return json.loads(json.dumps(described))  # the form it has once saved (tuples -> lists)


def _run(model: nn.Module, sample: Sampler, config: TrainConfig, loss: LossFn, metrics: MetricsFn,
         out: Path | None, resume: bool, callbacks: Sequence[Callback], restore_best: bool,
         progress: bool, place: dist_utils.Placement, overwrite: bool, identity: dict[str, Any]
         ) -> TrainResult:
    if config.batch_size % place.world_size:
        raise ConfigError(f"batch_size={config.batch_size} is not divisible by the {place.world_size} "
                          "torchrun processes; choose a multiple.")
    torch.manual_seed(config.seed)
    model.to(place.device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay,
                                  betas=(config.beta1, config.beta2))
    state = TrainState(model=model, optimizer=optimizer, config=config, rank=place.rank,
                       world_size=place.world_size, identity=identity)
    best_weights: dict[str, torch.Tensor] | None = None
    if resume:
        best_weights = _resume(out, state, callbacks)
    elif out is not None and place.is_main:
        _make_out_dir(out)
        if overwrite:
            _clear_run(out)
        config.save(out / CONFIG_FILE)
        (out / LOG_FILE).write_text("")
    dist_utils.barrier(place)  # the directory exists (and an overwritten run is gone) on every rank
    trained = DistributedDataParallel(model) if place.world_size > 1 else model
    held_out = dist_utils.to_device(sample(config.eval_size, eval_generator(config.seed)), place.device)
    if state.step == 0 and not state.history:
        best_weights = _evaluate(state, held_out, metrics, callbacks, best_weights, out, place)

    bar = tqdm(total=config.steps, initial=state.step, desc="train", disable=not (progress and place.is_main),
               dynamic_ncols=True)
    stop_requests = _StopOnSigint()
    local_batch = config.batch_size // place.world_size
    session_start, session_steps = time.perf_counter(), 0
    with stop_requests:
        while state.step < config.steps and not state.should_stop:
            step_start, step_cpu_start = time.perf_counter(), time.process_time()
            global_batch = sample(config.batch_size, step_generator(config.seed, state.step))
            batch = dist_utils.to_device(dist_utils.shard(global_batch, place.rank, place.world_size),
                                         place.device)
            state.lr = learning_rate(state.step, config)
            for group in optimizer.param_groups:
                group["lr"] = state.lr
            value = loss(trained, batch)
            optimizer.zero_grad(set_to_none=True)
            value.backward()
            grads = [p.grad for p in model.parameters() if p.grad is not None]
            grad_norm = torch.nn.utils.get_total_norm(grads) if grads else value.new_zeros(())
            _refuse_non_finite(value, grad_norm, state.step, place)
            if config.grad_clip is not None:  # clip_grad_norm_ split in two, so the norm is computed once
                torch.nn.utils.clip_grads_with_norm_(model.parameters(), config.grad_clip, grad_norm)
            optimizer.step()
            state.step += 1
            session_steps += 1
            state.loss = value.item()
            for callback in callbacks:
                callback.on_step(state)
            if state.step % config.log_every == 0 or state.step == config.steps:
                _log_train(state, local_batch, session_steps, session_start, bar, out, place)
            if (config.eval_every and state.step % config.eval_every == 0) or state.step == config.steps:
                best_weights = _evaluate(state, held_out, metrics, callbacks, best_weights, out, place)
            if dist_utils.all_max(stop_requests.requested and not state.should_stop, place):
                state.should_stop, state.stop_reason = True, "interrupted"
            done = state.step == config.steps or state.should_stop
            if out is not None and (done or (config.checkpoint_every
                                             and state.step % config.checkpoint_every == 0)):
                _checkpoint(out, state, callbacks, best_weights, place)
            state.seconds += time.perf_counter() - step_start  # wall time, evaluation and saving included
            state.cpu_seconds += time.process_time() - step_cpu_start
            bar.update(1)
    bar.close()
    return _finish(state, held_out, metrics, best_weights, restore_best, out, place)


def _refuse_non_finite(value: torch.Tensor, norm: torch.Tensor, step: int,
                       place: dist_utils.Placement) -> None:
    """Raise before the optimizer step when the loss or the gradient norm is nan/inf, so no weight is
    ever non-finite: a diverged run would otherwise go on, and its argmax or loss would be reported."""
    # The loss is this process's shard: agree on every process before raising, or the others hang.
    bad = dist_utils.all_max(not bool(torch.isfinite(value.detach() + norm)), place)
    if bad:
        raise TrainingDiverged(
            f"training diverged at step {step}: the loss ({value.item():.4g}) or gradient norm "
            f"({norm.item():.4g}) is not finite; no weight was changed by this step (the last "
            "checkpoint is intact). Lower the learning rate, clip gradients, or change the loss."
        )


def _evaluate(state: TrainState, held_out: Batch, metrics: MetricsFn, callbacks: Sequence[Callback],
              best_weights: dict[str, torch.Tensor] | None, out: Path | None,
              place: dist_utils.Placement) -> dict[str, torch.Tensor] | None:
    """Evaluate, let callbacks add metrics, track the best weights and early stopping."""
    config = state.config
    values = evaluate(state.model, held_out, metrics, config.eval_batch_size)
    for callback in callbacks:
        callback.on_eval(state, values)
    if config.select_metric not in values:
        raise ConfigError(f"select_metric={config.select_metric!r} is not among the held-out metrics "
                          f"{sorted(values)}; set select_metric to one of them.")
    state.metrics = values
    record = {"step": state.step, **values}
    state.history.append(record)
    score = values[config.select_metric]
    sign = 1.0 if config.select_mode == "min" else -1.0
    if state.best is None or sign * (state.best - score) > config.min_delta:
        state.best, state.best_step, state.bad_evals = score, state.step, 0
        best_weights = {k: v.detach().cpu().clone() for k, v in state.model.state_dict().items()}
        if out is not None and place.is_main:
            save_weights(state.model, out / BEST_DIR)
    elif state.step > 0:
        state.bad_evals += 1
        if config.patience is not None and state.bad_evals >= config.patience:
            state.should_stop, state.stop_reason = True, "early_stopping"
    if out is not None and place.is_main:
        _append_log(out, {"eval": record})
    return best_weights


def _log_train(state: TrainState, local_batch: int, session_steps: int, session_start: float,
               bar: tqdm, out: Path | None, place: dist_utils.Placement) -> None:
    loss = dist_utils.all_mean(state.loss, place)
    rate = session_steps * local_batch * place.world_size / max(1e-9, time.perf_counter() - session_start)
    bar.set_postfix(loss=f"{loss:.4f}", lr=f"{state.lr:.2e}", ex_s=f"{rate:.0f}")
    if out is not None and place.is_main:
        _append_log(out, {"step": state.step, "loss": loss, "lr": state.lr, "examples_per_second": rate})


def _checkpoint(out: Path, state: TrainState, callbacks: Sequence[Callback],
                best_weights: dict[str, torch.Tensor] | None, place: dist_utils.Placement) -> None:
    if place.is_main:
        loop = {
            "step": state.step, "best": state.best, "best_step": state.best_step,
            "bad_evals": state.bad_evals, "history": state.history, "metrics": state.metrics,
            "seconds": state.seconds, "cpu_seconds": state.cpu_seconds, "config": state.config.to_dict(),
            "callbacks": [callback.state_dict() for callback in callbacks],
            "trained_on": state.identity,
        }
        save_training_state(out / CHECKPOINT_DIR, state.model, state.optimizer, loop, best_weights)
    dist_utils.barrier(place)


def _resume(out: Path, state: TrainState, callbacks: Sequence[Callback]) -> dict[str, torch.Tensor] | None:
    loop, best_weights = load_training_state(out / CHECKPOINT_DIR, state.model, state.optimizer,
                                             expected=state.identity)
    # The device may change; so may `steps`, to extend a run (the schedule then continues as
    # if the run had been planned that long, so the result differs from an uninterrupted run).
    saved = dict(loop["config"], device=state.config.device, steps=state.config.steps)
    current = state.config.to_dict()
    changed = sorted(key for key in current if saved.get(key) != current[key])
    if changed:
        raise ConfigError(f"the checkpoint in {out} was made with a different train config "
                          f"(fields {changed}); resume with the same config or start a new run.")
    if state.config.steps < loop["step"]:
        raise ConfigError(f"the checkpoint in {out} is at step {loop['step']}; steps={state.config.steps} "
                          "cannot be resumed to (use a larger value).")
    if len(loop["callbacks"]) != len(callbacks) and any(loop["callbacks"]):
        raise ConfigError(f"the checkpoint has {len(loop['callbacks'])} callback states but "
                          f"{len(callbacks)} callbacks were given.")
    if len(loop["callbacks"]) == len(callbacks):
        for callback, saved_state in zip(callbacks, loop["callbacks"]):
            callback.load_state_dict(saved_state)
    state.step, state.best, state.best_step = loop["step"], loop["best"], loop["best_step"]
    state.bad_evals, state.history = loop["bad_evals"], loop["history"]
    state.metrics, state.seconds = loop["metrics"], loop["seconds"]
    state.cpu_seconds = loop.get("cpu_seconds", float("nan"))  # nan: saved before CPU time was recorded
    if state.config.patience is not None and state.bad_evals >= state.config.patience:
        state.should_stop, state.stop_reason = True, "early_stopping"
    return best_weights


def _finish(state: TrainState, held_out: Batch, metrics: MetricsFn,
            best_weights: dict[str, torch.Tensor] | None, restore_best: bool, out: Path | None,
            place: dist_utils.Placement) -> TrainResult:
    model = state.model
    final_metrics = state.metrics
    if restore_best and best_weights is not None and state.best_step != state.step:
        model.load_state_dict(best_weights)
        final_metrics = evaluate(model, held_out, metrics, state.config.eval_batch_size)
    model.to("cpu").eval()
    reason = state.stop_reason or "completed"
    result = TrainResult(
        model=model, steps=state.step, metrics=final_metrics, best=state.best, best_step=state.best_step,
        history=state.history, seconds=state.seconds, cpu_seconds=state.cpu_seconds,
        examples_per_second=state.step * state.config.batch_size / max(1e-9, state.seconds),
        stop_reason=reason,
    )
    if out is not None and place.is_main:
        save_weights(model, out / MODEL_DIR)
        (out / RESULT_FILE).write_text(json.dumps(result.to_json(), indent=1) + "\n")
    dist_utils.barrier(place)
    return result


def load_best(model: nn.Module, out_dir: str | Path) -> nn.Module:
    """Load the best weights a run saved into `model` (same architecture)."""
    load_weights(model, Path(out_dir) / BEST_DIR / "model.safetensors")
    return model


class _StopOnSigint:
    """Turn the first Ctrl-C into a clean stop at the next step boundary (checkpoint saved);
    a second Ctrl-C interrupts at once."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def __enter__(self) -> _StopOnSigint:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True


def _append_log(out: Path, record: dict[str, Any]) -> None:
    with (out / LOG_FILE).open("a") as handle:
        handle.write(json.dumps(record) + "\n")


def _batch_len(batch: Batch) -> int:
    return (batch[0] if isinstance(batch, (tuple, list)) else batch).shape[0]


def _slice(batch: Batch, start: int, stop: int) -> Batch:
    if isinstance(batch, (tuple, list)):
        return type(batch)(part[start:stop] for part in batch)
    return batch[start:stop]
