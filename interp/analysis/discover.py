"""Circuit discovery over the component graph: ACDC (Conmy et al. 2023) and edge
attribution patching (EAP, Syed et al. 2023). Both return a `Circuit` whose `edges` are the
kept edges and whose `scores` hold every candidate edge's score.

Inputs are one batch [batch, pos(, d_input)] or a list of batches of different lengths
(compiled programs often depend on the input length, which one batch would hold fixed);
metrics and scores are averaged over all rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from tqdm.auto import tqdm

from interp.analysis.batches import aligned, as_batches
from interp.analysis.edges import StackedDeltas, edge_hooks, run_from_layer
from interp.analysis.metrics import Metric, cross_entropy_to_clean, distance_to
from interp.analysis.nodes import (
    component_hooks_enabled,
    first_layer,
    input_hook,
    node_output,
    output_hook_names,
    parse_node,
    writer_nodes,
)
from interp.analysis.replace import Fixed, check_kind, resample_rows
from interp.analysis.silent import silent_edges
from interp.circuit import Circuit, Edge, node_order
from interp.errors import InputError
from interp.model import HookedTransformer

MetricFactory = Callable[[torch.Tensor], Metric]


def corrupted_outputs(
    model: HookedTransformer,
    inputs: torch.Tensor,
    kind: str,
    reference: Any = None,
    corrupted: Any = None,
    seed: int = 0,
) -> dict[str, torch.Tensor]:
    """Each writer node's replacement output [batch, pos, d_model] for ablation `kind`:
    zeros, the per-position mean over `reference` (default: the inputs), or its output on
    `corrupted` inputs (default: the inputs' rows resampled from `reference`)."""
    check_kind(kind)
    nodes = writer_nodes(model)
    batch, seq = inputs.shape[:2]
    names = set(output_hook_names(model))
    with component_hooks_enabled(model), torch.no_grad():
        if kind == "zero":
            _, cache = model.run_with_cache(inputs[:1], names_filter=lambda n: n in names)
            return {
                n: torch.zeros_like(node_output(n, cache, model)).expand(batch, -1, -1) for n in nodes
            }
        if kind == "resample":
            corrupted = corrupted_inputs(model, inputs, reference, corrupted, seed)
        source = corrupted if kind == "resample" else (inputs if reference is None else reference)
        source = model.validate_inputs(source)
        _, cache = model.run_with_cache(source, names_filter=lambda n: n in names)
        out = {}
        for n in nodes:
            value = node_output(n, cache, model)
            if value.shape[1] < seq:
                raise InputError("the reference/corrupted inputs are shorter than the inputs.")
            value = value[:, :seq]
            if kind == "mean":
                value = value.mean(0, keepdim=True).expand(batch, -1, -1)
            elif value.shape[0] != batch:
                raise InputError("corrupted inputs must have the same batch size as the inputs.")
            out[n] = value
        return out


def corrupted_inputs(
    model: HookedTransformer, inputs: torch.Tensor, reference: Any, corrupted: Any, seed: int
) -> torch.Tensor:
    """The corrupted batch of a resample ablation: `corrupted` itself, or the inputs' rows
    resampled (seeded) from `reference` (default: the inputs), cut to the inputs' length."""
    if corrupted is not None:
        return model.validate_inputs(corrupted)
    pool = inputs if reference is None else model.validate_inputs(reference)
    return pool[resample_rows(pool.shape[0], inputs.shape[0], seed)][:, : inputs.shape[1]]


@dataclass
class _Batch:
    """One batch's clean cache, replacements and metric, for ACDC's repeated runs."""

    replacements: dict[str, Fixed]
    cache: Any
    known: dict[str, torch.Tensor]
    deltas: StackedDeltas
    measure: Metric
    weight: float
    clean: float = 0.0


def acdc(
    model: HookedTransformer,
    inputs: Any,
    threshold: float = 1e-4,
    ablation: str = "zero",
    reference: Any = None,
    corrupted: Any = None,
    metric: MetricFactory = distance_to,
    seed: int = 0,
    progress: bool | Callable[[int, int], None] = True,
) -> Circuit:
    """ACDC: from the logits backwards, remove each incoming edge of each node whose removal
    (on top of the edges already removed) raises the metric by less than `threshold`.

    threshold: finite and >= 0. At 0 every edge is kept (a superset of any true circuit);
    scores within float noise of 0 (|score| <= 1e-7 x max(1, |metric|)) count as exactly 0,
    so an edge whose removal changes nothing but rounding is never "helpful" to remove.

    metric: built from the full model's logits (default: KL divergence, or squared error
    for a single numerical output). An edge's score is the metric increase its removal
    caused when it was tried. Only the blocks from the current node's layer on are rerun:
    every earlier activation is still the clean one (nothing upstream has been cut yet).
    progress: a tqdm bar (True), none (False), or a callable(edges tried, edges in all),
    called after every edge (a caller's progress bar; raising from it stops the search).
    """
    _check_threshold(threshold)
    batches = as_batches(model, inputs)
    references = aligned(reference, len(batches), "reference")
    corrupteds = aligned(corrupted, len(batches), "corrupted")
    full = Circuit.full(model.cfg)
    incoming: dict[str, list[Edge]] = {}
    for edge in full.edges:
        incoming.setdefault(edge.dst, []).append(edge)
    n_layers = model.cfg.n_layers
    total = sum(b.shape[0] for b in batches)
    with component_hooks_enabled(model), torch.no_grad():
        states = [
            _prepare(model, batch, ablation, ref, cor, seed, metric, batch.shape[0] / total)
            for batch, ref, cor in zip(batches, references, corrupteds)
        ]

        def evaluate(trial: list[Edge], start: int) -> float:
            value = 0.0
            for s in states:
                hooks = edge_hooks(
                    model, trial, s.replacements, known_outputs=s.known, known_deltas=s.deltas
                )
                resid_pre = s.cache[f"blocks.{start}.hook_resid_pre"]
                value += s.weight * float(s.measure(run_from_layer(model, resid_pre, start, hooks)))
            return value

        current = sum(s.weight * s.clean for s in states)
        # Exact no-ops, decided without a run: edges the weights cannot carry (never put in
        # the hooks either), and edges from a source equal to its replacement on every row.
        silent = silent_edges(model, full.edges)
        idle = _idle_sources(states)
        removed: list[Edge] = []
        cut: set[Edge] = set()
        scores: dict[Edge, float] = {}
        readers = {n: 0 for n in node_order(model.cfg)}
        for edge in full.edges:
            readers[edge.src] += 1
        targets = [n for n in reversed(node_order(model.cfg)) if n in incoming]
        bar = tqdm(total=len(full.edges), desc="acdc", disable=progress is not True, leave=False)
        tried = 0
        for dst in targets:
            start = min(first_layer(dst), n_layers - 1)
            # Later sources first, as ACDC does: try to cut the most recent writers first.
            for edge in sorted(incoming[dst], key=lambda e: _source_rank(e, model), reverse=True):
                if (dst != "logits" and readers[dst] == 0) or edge in silent or edge.src in idle:
                    # Nothing reads dst any more, dst cannot read this edge, or the source
                    # equals its replacement: removing it changes nothing, so skip the run.
                    value = current
                else:
                    value = evaluate(removed + [edge], start)
                score = _denoised(value - current, current)
                scores[edge] = score
                if threshold > 0 and score < threshold:
                    if edge not in silent:
                        removed.append(edge)
                    cut.add(edge)
                    readers[edge.src] -= 1
                    current = value
                bar.update(1)
                tried += 1
                if callable(progress):
                    progress(tried, len(full.edges))
        bar.close()
    return _circuit([e for e in full.edges if e not in cut], scores)


# Relative size of a metric change that is float rounding, not an effect (see `acdc`).
NOISE = 1e-7


def _denoised(score: float, level: float) -> float:
    """`score`, or exactly 0.0 when it is within float noise of 0 at metric size `level`."""
    return 0.0 if abs(score) <= NOISE * max(1.0, abs(level)) else score


def _idle_sources(states: Sequence[_Batch]) -> set[str]:
    """Sources whose clean output equals their replacement on every row of every batch."""
    busy: set[str] = set()
    for s in states:
        differs = s.deltas.values.flatten(1).ne(0).any(1)  # [n_sources]
        busy |= {name for name, i in s.deltas.index.items() if bool(differs[i])}
    return set(states[0].deltas.index) - busy if states else set()


def _check_threshold(threshold: float | None) -> None:
    if threshold is not None and not (math.isfinite(threshold) and threshold >= 0):
        raise InputError(f"threshold={threshold!r}; give a finite number >= 0.")


def _prepare(
    model: HookedTransformer,
    batch: torch.Tensor,
    ablation: str,
    reference: Any,
    corrupted: Any,
    seed: int,
    metric: MetricFactory,
    weight: float,
) -> _Batch:
    """Clean cache, replacements and metric of one batch (component hooks enabled)."""
    outputs = set(output_hook_names(model))
    wanted = outputs | {f"blocks.{i}.hook_resid_pre" for i in range(model.cfg.n_layers)}
    values = corrupted_outputs(model, batch, ablation, reference, corrupted, seed)
    clean_logits, cache = model.run_with_cache(batch, names_filter=lambda n: n in wanted)
    measure = metric(clean_logits)
    # Clean minus replacement of every source, reused by every run that does not redo it.
    deltas = [node_output(n, cache, model) - v for n, v in values.items()]  # each [batch, pos, d_model]
    return _Batch(
        replacements={n: Fixed(v) for n, v in values.items()},
        cache=cache,
        known={name: cache[name] for name in outputs},
        deltas=StackedDeltas(list(values), torch.stack(deltas)),
        measure=measure,
        weight=weight,
        clean=float(measure(clean_logits)),
    )


def eap(
    model: HookedTransformer,
    inputs: Any,
    threshold: float | None = None,
    top_k: int | None = None,
    ablation: str = "zero",
    reference: Any = None,
    corrupted: Any = None,
    metric: MetricFactory | None = None,
    seed: int = 0,
    ig_steps: int = 0,
    progress: bool | Callable[[int, int], None] = False,
) -> Circuit:
    """Edge attribution patching: score(src -> dst.slot) = |(corrupted - clean) output of
    src . d metric / d (dst's input through slot)|, averaged over rows (absolute value per
    row, so effects of opposite sign on different rows do not cancel).

    metric: built per row from that row's clean logits (so scores do not depend on the batch
    size); default cross-entropy against the full model's own predictions (KL has zero
    gradient at the clean run), or the output itself for a single numerical output.
    ig_steps > 0: EAP-IG (Hanna et al. 2024), gradients averaged over that many points
    between the corrupted and the clean embeddings (ig_steps=1 is plain EAP, computed by us).
    With resample ablation, plain EAP gives TL's `attribution_patch(granularity="edge")`
    scores (summed over positions, absolute value per row).
    Kept edges: score > threshold, or the top_k highest, or (neither given) score > 1e-6.
    progress: a tqdm bar (True), none, or a callable(gradient passes done, in all).
    """
    _check_threshold(threshold)
    if ig_steps < 0:
        raise InputError(f"ig_steps={ig_steps}; give 0 (plain EAP) or a positive number of steps.")
    if top_k is not None and top_k < 0:
        raise InputError(f"top_k={top_k}; give the number of edges to keep (>= 0).")
    batches = as_batches(model, inputs)
    references = aligned(reference, len(batches), "reference")
    corrupteds = aligned(corrupted, len(batches), "corrupted")
    full = Circuit.full(model.cfg)
    total = sum(b.shape[0] for b in batches)
    scores = dict.fromkeys(full.edges, 0.0)
    # One tick per gradient pass (per interpolation step with EAP-IG): the bar's estimate.
    passes = len(batches) * max(1, ig_steps)
    bar = tqdm(total=passes, desc="eap-ig" if ig_steps else "eap", disable=progress is not True,
               leave=False)

    done = [0]

    def tick(n: int) -> None:
        bar.update(n)
        done[0] += n
        if callable(progress):
            progress(done[0], passes)  # a caller's bar (raising from it stops the run)

    for batch, ref, cor in zip(batches, references, corrupteds):
        part = _eap_scores(model, batch, full, ablation, ref, cor, metric, seed, ig_steps, tick)
        for edge, value in part.items():
            scores[edge] += value * batch.shape[0] / total
    bar.close()
    ranked = sorted(full.edges, key=lambda e: scores[e], reverse=True)
    if top_k is not None:
        kept = ranked[:top_k]
    else:
        cut = 1e-6 if threshold is None else threshold
        kept = [e for e in ranked if scores[e] > cut]
    return _circuit(kept, scores)


def _eap_scores(
    model: HookedTransformer,
    inputs: torch.Tensor,
    full: Circuit,
    ablation: str,
    reference: Any,
    corrupted: Any,
    metric: MetricFactory | None,
    seed: int,
    ig_steps: int = 0,
    tick: Callable[[int], Any] = lambda n: None,
) -> dict[Edge, float]:
    """EAP scores of every edge on one batch (mean over its rows); `tick(1)` after each
    gradient pass."""
    # Plain EAP with corrupted inputs equals TL's attribution_patch(granularity="edge")
    # (tests/interp/test_tl_parity.py, <= 1e-5), which runs one row at a time (18x slower on
    # dyck1); ours batches rows and also covers zero/mean ablation, EAP-IG and vector inputs.
    corrupted_out = corrupted_outputs(model, inputs, ablation, reference, corrupted, seed)
    dst_hooks = sorted({input_hook(e.dst, e.slot, model) for e in full.edges})
    captured: dict[str, torch.Tensor] = {}

    def capture(value: torch.Tensor, hook) -> torch.Tensor:
        captured[hook.name] = value
        return value

    with component_hooks_enabled(model), _gradients_on(model):
        names = set(output_hook_names(model))
        with model.hooks(fwd_hooks=[(h, capture) for h in dst_hooks]):
            logits, cache = model.run_with_cache(inputs, names_filter=lambda n: n in names)
        measure = _per_row_metric(metric, logits.detach())
        if ig_steps == 0:
            grads = _input_gradients(measure(logits), captured, dst_hooks)
            tick(1)
        else:
            # EAP-IG: average the gradients along the straight line from the corrupted to
            # the clean embeddings (a saturated softmax has ~0 gradient at the clean point).
            grads = {h: torch.zeros_like(captured[h]) for h in dst_hooks}
            for step in range(1, ig_steps + 1):
                alpha = step / ig_steps
                hooks = [(h, capture) for h in dst_hooks] + _embedding_mix(
                    model, corrupted_out, alpha
                )
                with model.hooks(fwd_hooks=hooks):
                    mixed = model(inputs)
                for h, g in _input_gradients(measure(mixed), captured, dst_hooks).items():
                    grads[h] += g / ig_steps
                tick(1)
    scores: dict[Edge, float] = {}
    # An edge the weights cannot carry scores exactly 0 (its delta meets only zero gradient).
    silent = silent_edges(model, full.edges)
    with torch.no_grad():
        for edge in full.edges:
            if edge in silent:
                scores[edge] = 0.0
                continue
            delta = corrupted_out[edge.src] - node_output(edge.src, cache, model)  # [batch, pos, d_model]
            grad = grads[input_hook(edge.dst, edge.slot, model)]  # [batch, pos, (n_heads,) d_model]
            head = parse_node(edge.dst, model).head
            if head is not None:
                grad = grad[:, :, head]
            scores[edge] = (delta * grad).sum(dim=(1, 2)).abs().mean().item()
    return scores


def _per_row_metric(metric: MetricFactory | None, clean_logits: torch.Tensor) -> Metric:
    """Sum over rows of each row's own metric (built from that row's clean logits), so that
    a row's gradient is its own metric's, whatever the batch size. Default: cross-entropy
    to the clean predictions, or the output itself for one numerical output."""
    if metric is None:
        metric = (lambda clean: _sum_metric) if clean_logits.shape[-1] == 1 else cross_entropy_to_clean
    measures = [metric(clean_logits[row : row + 1]) for row in range(clean_logits.shape[0])]

    def measure(logits: torch.Tensor) -> torch.Tensor:
        return sum(m(logits[row : row + 1]) for row, m in enumerate(measures))

    return measure


def _input_gradients(
    value: torch.Tensor, captured: dict[str, torch.Tensor], dst_hooks: list[str]
) -> dict[str, torch.Tensor]:
    """d value / d (each captured destination input); zeros where it is not used."""
    # Rows are independent, so the gradient of the batch metric at row b is row b's own.
    # allow_unused: hard attention has no gradient path through its queries and keys.
    raw = torch.autograd.grad(value, [captured[h] for h in dst_hooks], allow_unused=True)
    return {h: torch.zeros_like(captured[h]) if g is None else g for h, g in zip(dst_hooks, raw)}


def _embedding_mix(
    model: HookedTransformer, corrupted_out: dict[str, torch.Tensor], alpha: float
) -> list[tuple[str, Callable]]:
    """Hooks putting corrupted + alpha * (clean - corrupted) in place of the embeddings."""
    hooks = []
    for node in ("embed", "pos_embed"):
        if node not in corrupted_out:
            continue
        corrupt = corrupted_out[node]

        def mix(value: torch.Tensor, hook, corrupt: torch.Tensor = corrupt) -> torch.Tensor:
            return corrupt + alpha * (value - corrupt)

        hooks.append(("hook_embed" if node == "embed" else "hook_pos_embed", mix))
    return hooks


@contextmanager
def _gradients_on(model: HookedTransformer) -> Iterator[None]:
    """Gradients flow through every parameter, even in a frozen model; restored afterwards."""
    saved = [(p, p.requires_grad) for p in model.parameters()]
    for p, _ in saved:
        p.requires_grad_(True)
    try:
        with torch.enable_grad():
            yield
    finally:
        for p, flag in saved:
            p.requires_grad_(flag)


def _sum_metric(logits: torch.Tensor) -> torch.Tensor:
    return logits.sum()


def _source_rank(edge: Edge, model: HookedTransformer) -> int:
    return node_order(model.cfg).index(edge.src)


def _circuit(kept: Sequence[Edge], scores: dict[Edge, float]) -> Circuit:
    nodes = list(dict.fromkeys([e.src for e in kept] + [e.dst for e in kept]))
    return Circuit(nodes, sorted(kept, key=lambda e: (e.dst, e.src, e.slot)), scores)
