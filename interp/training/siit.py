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
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from interp.errors import InputError
from interp.evaluation.siit import counterfactual_targets, patched_logits, siit_measures
from interp.model import HookedTransformer, ModelConfig
from interp.tasks.base import IGNORE
from interp.tasks.siit_task import SiitTask

HELD_OUT_SEED = 2**41 + 5  # the held-out pairs' stream; training batches use (seed, step)


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
    over the components given (none given: that loss is 0)."""
    base_targets = task.targets(base)  # [n, seq]
    zero = torch.zeros(())
    losses = {"behaviour": ce(model(base), base_targets), "iit": zero, "strict": zero}
    # The source runs keep their graph: the swapped-in activation is the only way the
    # patched component itself gets a gradient from these losses.
    if aligned:
        losses["iit"] = torch.stack([
            ce(patched_logits(model, base, source, c, detach_source=False),
               counterfactual_targets(task, base, source, c)) for c in aligned]).mean()
    if unaligned:
        losses["strict"] = torch.stack([
            ce(patched_logits(model, base, source, c, detach_source=False), base_targets)
            for c in unaligned]).mean()
    return losses


def held_out_pairs(task: SiitTask, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed held-out (base, source) pairs of a run."""
    generator = torch.Generator().manual_seed(HELD_OUT_SEED)
    return task.draw_inputs(n, generator), task.draw_inputs(n, generator)


def train_siit(config: SiitConfig, progress: Any = None) -> SiitResult:
    """Train a student toward `config.program` by SIIT; `progress(step, measures)` after each check."""
    if config.steps < 1 or config.batch_size < 1 or config.eval_every < 1:
        raise InputError("steps, batch_size and eval_every must be positive integers.")
    task = SiitTask(config.program, config.seq_len, config.extra_heads)
    torch.manual_seed(config.seed)
    model = build_student(task, config)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    held_base, held_source = held_out_pairs(task, config.eval_pairs)
    history: list[dict[str, Any]] = []
    start = time.perf_counter()
    measures: dict[str, Any] = {}
    step = 0
    for step in range(1, config.steps + 1):
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
            if progress is not None:
                progress(step, history[-1])
            if all(measures[k] is None or measures[k] >= config.target
                   for k in ("accuracy", "iia", "strict_iia")):
                break
    model.eval()
    return SiitResult(model, task, step, time.perf_counter() - start, measures, history)


def _summary(measures: dict[str, Any]) -> dict[str, Any]:
    return {k: measures[k] for k in ("accuracy", "iia", "strict_iia")}
