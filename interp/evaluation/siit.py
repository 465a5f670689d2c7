"""Interchange-intervention measures of a model trained by SIIT (interp.training.siit):
accuracy, interchange-intervention accuracy (IIA) and strict IIA on held-out pairs, all
per scored token (every position after BOS) against the exact compiled model."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from interp.tasks.base import IGNORE
from interp.tasks.siit_task import SiitTask, activation, patch_hooks, swap_batch

NEAR_ZERO = 1e-3  # |weight| below this counts as near zero (the sparsity measure)


def counterfactual_targets(task: SiitTask, base: torch.Tensor, source: torch.Tensor,
                           component: str) -> torch.Tensor:
    """The compiled (high-level) model's classes on `base` with `component` taken from `source`."""
    if component in task.unaligned:
        return task.targets(base)  # not a node of the program: the high level is unchanged
    with torch.no_grad():
        source_value = activation(task.compiled.model, source, component)
    return task.targets(base, patch_hooks(component, source_value))


@torch.no_grad()
def counterfactual_batch(task: SiitTask, base: torch.Tensor, source: torch.Tensor,
                         components: list[str] | tuple[str, ...]) -> torch.Tensor:
    """The compiled model's classes [(1+C)*n, seq]: on `base` (chunk 0), then on `base` with
    components[k] from `source` (chunk k+1; an unaligned component leaves the program as is),
    the aligned ones in one batched run (interp.tasks.siit_task.swap_batch)."""
    n = base.shape[0]
    plain = task.targets(base)  # [n, seq]
    aligned = [c for c in components if c not in task.unaligned]
    tokens, hooks = swap_batch(task.compiled.model, base, source, aligned)
    patched = task.targets(tokens, hooks)[n:]  # [A*n, seq]
    chunks, k = [plain], 0
    for component in components:
        if component in task.unaligned:
            chunks.append(plain)
        else:
            chunks.append(patched[k * n:(k + 1) * n])
            k += 1
    return torch.cat(chunks)


def patched_logits(model: nn.Module, base: torch.Tensor, source: torch.Tensor, component: str,
                   detach_source: bool = True) -> torch.Tensor:
    """The model's logits [n, seq, d_out] on `base` with `component`'s activation from `source`."""
    source_value = activation(model, source, component)
    if detach_source:
        source_value = source_value.detach()
    return model.run_with_hooks(base, fwd_hooks=patch_hooks(component, source_value))


def agreement(logits: torch.Tensor, targets: torch.Tensor) -> tuple[int, int]:
    """(positions whose arg-max equals the target, scored positions)."""
    scored = targets != IGNORE
    return int(((logits.argmax(-1) == targets) & scored).sum()), int(scored.sum())


@torch.no_grad()
def siit_measures(model: nn.Module, task: SiitTask, base: torch.Tensor, source: torch.Tensor
                  ) -> dict[str, Any]:
    """accuracy on `base`; IIA over every aligned component and strict IIA over every
    unaligned one, each pooled over the pairs (base[i], source[i]) and scored tokens."""
    model.eval()
    n = base.shape[0]
    components = [*task.aligned, *task.unaligned]
    tokens, hooks = swap_batch(model, base, source, components)
    logits = model.run_with_hooks(tokens, fwd_hooks=hooks)  # [(1+C)*n, seq, d_out]
    targets = counterfactual_batch(task, base, source, components)  # [(1+C)*n, seq]
    right, total = agreement(logits[:n], targets[:n])
    out: dict[str, Any] = {"accuracy": right / total}
    counts = {c: agreement(logits[(k + 1) * n:(k + 2) * n], targets[(k + 1) * n:(k + 2) * n])
              for k, c in enumerate(components)}
    per_node = {c: counts[c][0] / counts[c][1] for c in task.aligned}
    per_free = {c: counts[c][0] / counts[c][1] for c in task.unaligned}
    iia_right, iia_total = (sum(counts[c][i] for c in task.aligned) for i in (0, 1))
    strict_right, strict_total = (sum(counts[c][i] for c in task.unaligned) for i in (0, 1))
    out["iia"] = iia_right / iia_total if iia_total else None
    # No unaligned component: nothing may change the output, so strictness holds vacuously (null, not 1).
    out["strict_iia"] = strict_right / strict_total if strict_total else None
    out["iia_by_component"] = per_node
    out["strict_iia_by_component"] = per_free
    # A swap that leaves the program's output as it was is passed by a model that ignores the
    # swapped component (at a fixed length, e.g., every node computing the length is constant):
    # IIA over only the positions whose counterfactual differs tells how much IIA is earned.
    changed = {c: changed_agreement(logits[(k + 1) * n:(k + 2) * n], targets[(k + 1) * n:(k + 2) * n],
                                    targets[:n]) for k, c in enumerate(task.aligned)}
    out["iia_changed"] = _ratio(sum(r for r, _ in changed.values()), sum(t for _, t in changed.values()))
    out["changed_fraction_by_component"] = {c: changed[c][1] / counts[c][1] for c in task.aligned}
    out["iia_changed_by_component"] = {c: _ratio(*changed[c]) for c in task.aligned}
    return out


def changed_agreement(logits: torch.Tensor, targets: torch.Tensor, base_targets: torch.Tensor
                      ) -> tuple[int, int]:
    """(right, scored) over the positions whose counterfactual target differs from base's."""
    scored = (targets != IGNORE) & (targets != base_targets)
    return int(((logits.argmax(-1) == targets) & scored).sum()), int(scored.sum())


def _ratio(right: int, total: int) -> float | None:
    return right / total if total else None  # nothing changed: undefined, not 1


def near_zero_fraction(model: nn.Module, threshold: float = NEAR_ZERO) -> float:
    """Fraction of weight-matrix entries (no biases, no LayerNorm) with |w| < threshold."""
    small = total = 0
    for param in model.parameters():
        if param.dim() < 2:
            continue
        small += int((param.abs() < threshold).sum())
        total += param.numel()
    return small / max(total, 1)


def siit_report(model: nn.Module, task: SiitTask, seed: int, n: int = 1000) -> dict[str, Any]:
    """The held-out report of a SIIT model: n fresh (base, source) pairs drawn with `seed`."""
    generator = torch.Generator().manual_seed(seed)
    base = task.draw_inputs(n, generator)
    source = task.draw_inputs(n, generator)
    measures = siit_measures(model, task, base, source)
    return {"task": task.name, "program": task.program, "pairs": n, "scored": "tokens after BOS",
            "reference": "compiled one_per_op model (exact)", **measures,
            "aligned_components": list(task.aligned), "unaligned_components": list(task.unaligned),
            "near_zero_weights": near_zero_fraction(model), "near_zero_threshold": NEAR_ZERO}
