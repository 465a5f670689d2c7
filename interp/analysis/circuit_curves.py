"""How much of a model's behaviour a circuit keeps: the faithfulness curve (metric vs number
of edges kept, top-scored first) and the effect of one ablation, per position."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from interp.analysis.ablate import ablate
from interp.analysis.batches import aligned, as_batches
from interp.analysis.metrics import agreement, distance_to
from interp.analysis.silent import silent_edges
from interp.circuit import Circuit, Edge
from interp.errors import InputError
from interp.model import HookedTransformer


@dataclass
class FaithfulnessCurve:
    """For each number of kept edges: agreement with the full model and distance to it."""

    kept: list[int]  # edges kept (the top-scored ones), increasing
    agreement: list[float]  # fraction of outputs equal to the full model's
    distance: list[float]  # KL (or squared error for one numerical output) to the full model


def curve_counts(n_edges: int, points: int = 12) -> list[int]:
    """About `points` edge counts from 0 to n_edges, denser near 0 (where circuits live)."""
    if n_edges <= points:
        return list(range(n_edges + 1))
    # Geometric spacing: the first few edges matter most, the tail changes little.
    counts = {0, n_edges} | {round(n_edges ** (i / (points - 1))) for i in range(points)}
    return sorted(c for c in counts if 0 <= c <= n_edges)


def faithfulness_curve(
    model: HookedTransformer,
    scores: Mapping[Edge, float],
    inputs: Any,
    kind: str = "zero",
    reference: Any = None,
    counts: Sequence[int] | None = None,
    seed: int = 0,
    positions: Sequence[int] | None = None,
) -> FaithfulnessCurve:
    """Keep the k highest-scoring edges (every other edge ablated) for each k in `counts`
    (default `curve_counts`); measure agreement and distance to the full model at
    `positions` (default all)."""
    candidates = Circuit.full(model.cfg).edges
    known = set(candidates)  # once: per score it made the check quadratic (7,811 edges: ~20 s)
    unknown = [e for e in scores if e not in known]
    if unknown:
        raise InputError(f"scores name edges the model does not have, e.g. {unknown[0]}.")
    # Unscored edges rank last; ties keep the model's edge order (deterministic).
    ranked = sorted(candidates, key=lambda e: -_finite(scores.get(e, -math.inf)))
    counts = list(counts) if counts is not None else curve_counts(len(ranked))
    if any(not 0 <= k <= len(ranked) for k in counts):
        raise InputError(f"edge counts must lie in 0..{len(ranked)}; got {counts}.")
    batches = as_batches(model, inputs)
    references = aligned(reference, len(batches), "reference")
    # Ablating a silent edge changes no number the model computes (interp.analysis.silent):
    # leaving them out gives the same curve, without hooks for most of a compiled model's edges.
    silent = silent_edges(model, candidates)
    agreements, distances = [], []
    with torch.no_grad():
        fulls = [model(batch) for batch in batches]
        total = sum(b.shape[0] for b in batches)
        for k in counts:
            outside = [e for e in ranked[k:] if e not in silent]
            agree, dist = 0.0, 0.0
            for batch, ref, full in zip(batches, references, fulls):
                ref = batch if ref is None and kind != "zero" else ref
                with ablate(model, edges=outside, kind=kind, reference=ref, seed=seed):
                    pruned = model(batch)
                weight = batch.shape[0] / total
                agree += weight * agreement(full, pruned, positions)
                dist += weight * float(distance_to(full, positions)(pruned))
            agreements.append(agree)
            distances.append(dist)
    return FaithfulnessCurve(counts, agreements, distances)


def _finite(score: float) -> float:
    """NaN scores rank last, like unscored edges (never first by accident)."""
    return -math.inf if math.isnan(score) else score


@dataclass
class AblationChange:
    """What an ablation did to one input: the metric and each position's answer logit."""

    distance: float  # KL (or squared error) of the ablated outputs to the clean ones
    agreement: float  # fraction of positions whose output is unchanged
    answer: list[int]  # the clean run's output token id per position
    clean_logit: list[float]  # logit of that answer per position, clean run
    ablated_logit: list[float]  # the same logit with the ablation
    ablated_logits: torch.Tensor  # [1, pos, d_vocab_out], to decode the ablated output


def ablation_change(model: HookedTransformer, inputs: torch.Tensor,
                    measured_at: Sequence[int] | None = None, **ablation: Any) -> AblationChange:
    """Run `inputs` [1, pos] (or vectors [1, pos, d_input]) clean and ablated (`ablation`:
    `ablate` arguments) and compare; the metric and agreement count positions `measured_at`
    only (default all; `positions` is `ablate`'s: where to ablate), the answer logits are given
    at every position."""
    if inputs.ndim not in (2, 3) or inputs.shape[0] != 1:
        raise InputError(f"ablation_change takes one input row [1, pos] (or [1, pos, d_input]); got shape "
                         f"{tuple(inputs.shape)}.")
    with torch.no_grad():
        clean = model(inputs)  # [1, pos, d_vocab_out]
        with ablate(model, **ablation):
            ablated = model(inputs)
    answer = clean[0].argmax(-1)  # [pos]
    positions = torch.arange(answer.shape[0])
    return AblationChange(
        distance=float(distance_to(clean, measured_at)(ablated)),
        agreement=agreement(clean, ablated, measured_at),
        answer=answer.tolist(),
        clean_logit=clean[0, positions, answer].tolist(),
        ablated_logit=ablated[0, positions, answer].tolist(),
        ablated_logits=ablated,
    )
