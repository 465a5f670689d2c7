"""Strict Interchange Intervention Training (SIIT; Gupta et al. 2024, InterpBench): train an
ordinary HookedTransformer (LayerNorm, random init, a stated width; the compiled model's
layers and heads, so each compiled component has a namesake) so that its components
implement a compiled RASP program's.

Per step, on a batch of (base, source) input pairs:
- behaviour: cross-entropy against the compiled model's classes on base;
- interchange intervention: for every aligned component c, the model run on base with c's
  activation taken from its own run on source must give the compiled model's output on base
  with c taken from source (the exact high-level counterfactual); InterpBench draws one
  node per step, we average over all of them (fewer steps on a CPU for the same IIA);
- strictness: for every unaligned component, the same swap must leave the compiled
  model's output on base unchanged.
A small explicit loop (Adam, seeded batches, held-out checks every `eval_every` steps,
stop once all three held-out measures reach `target`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from interp.errors import InputError
from interp.evaluation.siit import counterfactual_batch, siit_measures
from interp.model import HookedTransformer, ModelConfig
from interp.tasks.base import IGNORE
from interp.tasks.siit_task import SiitTask, swap_batch

CHECKPOINT_FILE = "checkpoint.pt"  # inside a run's --out while it trains (interp train-siit --resume)
HELD_OUT_SEED = 2**41 + 5  # the held-out pairs' stream; training batches use (seed, step)
MEASURES = ("accuracy", "iia", "strict_iia", "iia_changed")  # all must reach the target to stop early


@dataclass
class SiitConfig:
    """A SIIT run: the program, the student's shape and the optimisation."""

    program: str = "reverse"
    seq_len: int = 4
    extra_heads: int = 0  # unaligned heads per layer beyond the compiled model's
    d_model: int = 64
    d_head: int = 16
    d_mlp: int = 128
    steps: int = 2000
    batch_size: int = 64
    lr: float = 1e-3
    seed: int = 0
    behaviour_weight: float = 1.0
    iit_weight: float = 1.0
    strict_weight: float = 1.0
    eval_every: int = 200
    eval_pairs: int = 200
    target: float = 0.995  # stop when accuracy, IIA and strict IIA on the held-out pairs all reach it
    init_std: float = 0.02

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SiitResult:
    """The trained model, its final held-out measures and the run's history."""

    model: HookedTransformer
    task: SiitTask
    steps: int
    seconds: float
    held_out: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)


def build_student(task: SiitTask, config: SiitConfig) -> HookedTransformer:
    """A randomly initialised LayerNorm transformer with the compiled model's layers and heads."""
    compiled_cfg = task.compiled.model.cfg
    cfg = ModelConfig(
        n_layers=compiled_cfg.n_layers, d_model=config.d_model, n_ctx=task.seq_len, d_vocab=task.d_vocab,
        n_heads=task.n_heads, d_head=config.d_head,
        d_mlp=config.d_mlp if compiled_cfg.d_mlp else None, d_vocab_out=task.d_vocab_out,
        normalization_type="LN", vocab=task.vocab, vocab_out=task.vocab_out, bos_token="BOS",
        seed=config.seed)
    metadata = {"producer": "train-siit", "recipe": "siit", "task": "siit", "task_options": task.options(),
                "siit": {"aligned": list(task.aligned), "unaligned": list(task.unaligned),
                         "high_level": f"compile_program(rasp.lib {task.program}, one_per_op=True)"}}
    return HookedTransformer(cfg, metadata=metadata).init_weights(std=config.init_std, seed=config.seed)


def ce(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over scored positions (logits [n, seq, d_out], targets [n, seq])."""
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=IGNORE)


def siit_losses(model: nn.Module, task: SiitTask, base: torch.Tensor, source: torch.Tensor,
                aligned: Sequence[str], unaligned: Sequence[str]) -> dict[str, torch.Tensor]:
    """The three SIIT losses on one batch of pairs: interchange and strictness each the mean
    over the components given (none given: that loss is 0).

    Two forward passes of the student in all (a CPU is dominated by per-call overhead at
    these sizes): one on `source` keeping every component's activation, with its graph (the
    swapped-in activation is the only way the patched component itself gets a gradient from
    these losses), then one on `base` repeated once per component plus once unpatched."""
    components = [*aligned, *unaligned]
    n = base.shape[0]
    tokens, hooks = swap_batch(model, base, source, components)
    logits = model.run_with_hooks(tokens, fwd_hooks=hooks)  # [(1+C)*n, seq, d_out]
    targets = counterfactual_batch(task, base, source, components)  # [(1+C)*n, seq]
    zero = torch.zeros(())
    losses = {"behaviour": ce(logits[:n], targets[:n]), "iit": zero, "strict": zero}
    per = [ce(logits[(k + 1) * n:(k + 2) * n], targets[(k + 1) * n:(k + 2) * n])
           for k in range(len(components))]
    if aligned:
        losses["iit"] = torch.stack(per[:len(aligned)]).mean()
    if unaligned:
        losses["strict"] = torch.stack(per[len(aligned):]).mean()
    return losses


def held_out_pairs(task: SiitTask, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed held-out (base, source) pairs of a run."""
    generator = torch.Generator().manual_seed(HELD_OUT_SEED)
    return task.draw_inputs(n, generator), task.draw_inputs(n, generator)


def train_siit(config: SiitConfig, progress: Any = None, checkpoint: str | Path | None = None
               ) -> SiitResult:
    """Train a student toward `config.program` by SIIT; `progress(step, measures)` after each
    check. With `checkpoint` (a file path), the model, optimiser and history are saved there
    at every check and a run with the same config picks up from it (batches are seeded by
    (seed, step), so a resumed run draws what the uninterrupted one would have)."""
    if config.steps < 1 or config.batch_size < 1 or config.eval_every < 1:
        raise InputError("steps, batch_size and eval_every must be positive integers.")
    task = SiitTask(config.program, config.seq_len, config.extra_heads)
    torch.manual_seed(config.seed)
    model = build_student(task, config)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    held_base, held_source = held_out_pairs(task, config.eval_pairs)
    history: list[dict[str, Any]] = []
    first, spent = 1, 0.0
    if checkpoint is not None and Path(checkpoint).is_file():
        first, spent, history = _resume(Path(checkpoint), config, model, optimizer)
    start = time.perf_counter() - spent
    measures: dict[str, Any] = history[-1] if history else {}
    step = first - 1
    for step in range(first, config.steps + 1):
        if _done(measures, config.target):
            step -= 1
            break
        model.train()
        generator = torch.Generator().manual_seed(config.seed * 1_000_003 + step)
        base = task.draw_inputs(config.batch_size, generator)
        source = task.draw_inputs(config.batch_size, generator)
        aligned = task.aligned if config.iit_weight else ()
        unaligned = task.unaligned if config.strict_weight else ()
        losses = siit_losses(model, task, base, source, aligned, unaligned)
        loss = (config.behaviour_weight * losses["behaviour"] + config.iit_weight * losses["iit"]
                + config.strict_weight * losses["strict"])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % config.eval_every == 0 or step == config.steps:
            measures = _summary(siit_measures(model, task, held_base, held_source))
            history.append({"step": step, "loss": loss.item(), **measures})
            if checkpoint is not None:
                _save(Path(checkpoint), config, model, optimizer, step, time.perf_counter() - start, history)
            if progress is not None:
                progress(step, history[-1])
            if _done(measures, config.target):
                break
    model.eval()
    held_out = _summary(measures) if measures else measures
    return SiitResult(model, task, step, time.perf_counter() - start, held_out, history)


def _done(measures: dict[str, Any], target: float) -> bool:
    """Every held-out measure at or above target (one that is None holds vacuously). IIA over
    the swaps that change the output counts too: where few swaps change it (a rare output),
    plain IIA passes the target before the model implements the swapped nodes."""
    return bool(measures) and all(measures.get(k) is None or measures[k] >= target for k in MEASURES)


def _save(path: Path, config: SiitConfig, model: nn.Module, optimizer: torch.optim.Optimizer,
          step: int, seconds: float, history: list[dict[str, Any]]) -> None:
    """Write the resumable state atomically (a kill mid-write leaves the previous one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save({"config": config.to_dict(), "step": step, "seconds": seconds, "history": history,
                "model": model.state_dict(), "optimizer": optimizer.state_dict()}, partial)
    partial.replace(path)


def _resume(path: Path, config: SiitConfig, model: nn.Module, optimizer: torch.optim.Optimizer
            ) -> tuple[int, float, list[dict[str, Any]]]:
    """Load a checkpoint of the same run into model and optimizer: (next step, seconds, history)."""
    state = torch.load(path, weights_only=False)
    saved = dict(state["config"])
    # Only the step budget may differ (resume to train longer); anything else is another run.
    different = sorted(k for k in saved if k != "steps" and saved[k] != config.to_dict().get(k))
    if different:
        raise InputError(f"{path} is a checkpoint of another SIIT run (different {', '.join(different)}); "
                         "pass the same options, or another --out.")
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    return state["step"] + 1, state["seconds"], state["history"]


def _summary(measures: dict[str, Any]) -> dict[str, Any]:
    return {k: measures[k] for k in MEASURES}
