"""Scoring a discovered circuit against the ground truth: ROC AUC over edge scores,
precision/recall of the kept edges, and faithfulness of the circuit-only model."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import torch

from interp.analysis.ablate import ablate
from interp.analysis.batches import aligned, as_batches
from interp.analysis.metrics import agreement
from interp.circuit import Circuit, Edge
from interp.errors import InputError
from interp.model import HookedTransformer


def roc_auc(scores: Mapping[Edge, float], truth: Iterable[Edge], candidates: Iterable[Edge]) -> float:
    """Area under the ROC curve of ranking `candidates` by score (higher = more likely in
    the circuit); edges in `truth` are positives, all other candidates negatives. Ties
    count one half (the Mann-Whitney statistic). Unscored candidates rank lowest."""
    candidates = list(dict.fromkeys(candidates))
    truth = set(truth)
    missing = truth - set(candidates)
    if missing:
        raise InputError(f"ground-truth edges {sorted(map(str, missing))[:5]} are not candidates.")
    values = [scores.get(e, float("-inf")) for e in candidates]
    labels = [e in truth for e in candidates]
    n_pos = sum(labels)
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise InputError(f"AUC needs positives and negatives (got {n_pos} and {n_neg}).")
    ranks = _average_ranks(values)
    rank_sum = sum(r for r, positive in zip(ranks, labels) if positive)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def _average_ranks(values: list[float]) -> list[float]:
    """1-based ranks, ties sharing their average rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def roc_points(
    scores: Mapping[Edge, float], truth: Iterable[Edge], candidates: Iterable[Edge]
) -> list[tuple[float, float]]:
    """(false-positive rate, true-positive rate) for every threshold, from (0,0) to (1,1)."""
    candidates = list(dict.fromkeys(candidates))
    truth = set(truth)
    n_pos = sum(e in truth for e in candidates)
    n_neg = len(candidates) - n_pos
    thresholds = sorted({scores.get(e, float("-inf")) for e in candidates}, reverse=True)
    points = [(0.0, 0.0)]
    for t in thresholds:
        kept = [e for e in candidates if scores.get(e, float("-inf")) >= t]
        tp = sum(e in truth for e in kept)
        points.append(((len(kept) - tp) / max(n_neg, 1), tp / max(n_pos, 1)))
    return points


def precision_recall(found: Iterable[Edge], truth: Iterable[Edge]) -> tuple[float, float]:
    """Precision and recall of the found edges against the true ones (1.0 when empty)."""
    found, truth = set(found), set(truth)
    hits = len(found & truth)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(truth) if truth else 1.0
    return precision, recall


def faithfulness(
    model: HookedTransformer,
    circuit: Circuit,
    inputs: Any,
    kind: str = "zero",
    reference: Any = None,
    seed: int = 0,
    positions: Sequence[int] | None = None,
) -> float:
    """Fraction of outputs (at `positions`, default all) on which the circuit-only model
    (every edge outside the circuit ablated) agrees with the full model; inputs may be a
    list of batches."""
    outside = sorted(Circuit.full(model.cfg).edge_set() - circuit.edge_set())
    batches = as_batches(model, inputs)
    total, agreeing = 0, 0.0
    with torch.no_grad():
        for batch, ref in zip(batches, aligned(reference, len(batches), "reference")):
            full = model(batch)
            ref = batch if ref is None and kind != "zero" else ref
            with ablate(model, edges=outside, kind=kind, reference=ref, seed=seed):
                pruned = model(batch)
            agreeing += agreement(full, pruned, positions) * batch.shape[0]
            total += batch.shape[0]
    return agreeing / total


def inert_edges(
    model: HookedTransformer,
    edges: Iterable[Edge],
    inputs: Any,
    kind: str = "zero",
    tolerance: float | None = None,
) -> set[Edge]:
    """Edges whose removal alone (everything else intact) changes no output on `inputs`:
    connections the weights have but the behaviour never uses, which no behavioural method
    can find (e.g. a query reading a constant). "No output": the same arg-max (or, for one
    numerical output, the same value to 1e-3) at every position; with `tolerance`, no logit
    moving by more than it."""
    batches = as_batches(model, inputs)
    inert = set()
    with torch.no_grad():
        fulls = [model(batch) for batch in batches]
        for edge in edges:
            unchanged = True
            for batch, full in zip(batches, fulls):
                with ablate(model, edges=[edge], kind=kind, reference=batch):
                    ablated = model(batch)
                if tolerance is None:
                    unchanged &= agreement(full, ablated) == 1.0
                else:
                    unchanged &= (ablated - full).abs().max().item() <= tolerance
                if not unchanged:
                    break
            if unchanged:
                inert.add(edge)
    return inert
