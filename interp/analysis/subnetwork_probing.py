"""Subnetwork probing (Cao, Sanh & Rush 2021; edgewise as in Conmy et al. 2023 and
InterpBench): learn a hard-concrete mask per edge (or per node) of the component graph,
minimising the distance of the masked model's output to the full model's plus an expected-L0
sparsity penalty. A mask z in [0, 1] on edge src -> dst.slot feeds dst
`input - (1 - z) * (src output - src replacement)`: z = 1 keeps the edge, z = 0 ablates it
(zero, mean or resample, as every discovery method here).

Edges the weights cannot carry (`interp.analysis.silent`) get no mask: they score 0.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import torch
from tqdm.auto import tqdm

from interp.analysis.batches import aligned, as_batches
from interp.analysis.edges import temporary_hooks
from interp.analysis.metrics import distance_to
from interp.analysis.nodes import (
    component_hooks_enabled,
    input_hook,
    output_hook,
    parse_node,
    select_output,
)
from interp.analysis.silent import silent_edges
from interp.circuit import Circuit, Edge
from interp.errors import InputError
from interp.model import HookedTransformer

MetricFactory = Callable[[torch.Tensor], Callable[[torch.Tensor], torch.Tensor]]

# Hard-concrete stretch and temperature (Louizos, Welling & Kingma 2018, as Cao et al. use).
BETA, GAMMA, ZETA = 2 / 3, -0.1, 1.1
SP_STEPS = 150  # optimisation steps (each one pass over every batch)
SP_SPARSITY = 0.1  # weight of the mean expected L0 norm beside the metric
SP_ROWS = 16  # rows of each batch one step trains on
SP_THRESHOLD = 0.5  # kept edges: deterministic mask above this
LEVELS = ("edge", "node")


def subnetwork_probing(
    model: HookedTransformer,
    inputs: Any,
    threshold: float | None = None,
    ablation: str = "zero",
    reference: Any = None,
    corrupted: Any = None,
    metric: MetricFactory | None = None,
    seed: int = 0,
    steps: int = SP_STEPS,
    level: str = "edge",
    sparsity: float = SP_SPARSITY,
    lr: float = 0.1,
    progress: bool | Callable[[int, int], None] = False,
    skip_silent: bool = True,
) -> Circuit:
    """Learned edge (or node) masks. Scores: each edge's sigmoid(log alpha) in (0, 1) (node
    level: the smaller of its two nodes', logits counting 1; unreadable edges 0); kept edges:
    score > `threshold` (default 0.5: where the noise-free hard-concrete mask is above 1/2).
    The loss is `metric` built from the full model's logits (default: KL divergence, or
    squared error for one numerical output) plus `sparsity` x the mean expected L0 norm of
    the masks. Seeded: the same arguments give the same circuit.

    progress: a tqdm bar over the steps (True), none, or a callable(steps done, steps).
    skip_silent: give edges the weights cannot carry no mask and score 0 (their removal
    changes nothing, so a mask would only learn the penalty); False masks every edge."""
    from interp.analysis.discover import _check_threshold, _circuit, corrupted_outputs

    _check_threshold(threshold)
    if level not in LEVELS:
        raise InputError(f"level={level!r}; subnetwork probing masks one of {list(LEVELS)}.")
    if not (isinstance(steps, int) and steps >= 1):
        raise InputError(f"steps={steps!r}; give a positive number of optimisation steps.")
    if not (math.isfinite(sparsity) and sparsity >= 0):
        raise InputError(f"sparsity={sparsity!r}; give a finite number >= 0.")
    metric = distance_to if metric is None else metric
    batches = as_batches(model, inputs)
    references = aligned(reference, len(batches), "reference")
    corrupteds = aligned(corrupted, len(batches), "corrupted")
    full = Circuit.full(model.cfg)
    silent = silent_edges(model, full.edges) if skip_silent else set()
    edges = [e for e in full.edges if e not in silent]
    if level == "edge":
        units: list[Any] = list(edges)
        index: dict[str, int] = {}
        gate_of = list(range(len(edges)))  # edge i's mask
    else:
        # A node mask ablates everything the node writes: all its outgoing edges share it.
        units = list(dict.fromkeys(e.src for e in edges))
        index = {u: i for i, u in enumerate(units)}
        gate_of = [index[e.src] for e in edges]
    gate_index = torch.tensor(gate_of, dtype=torch.long)  # [n_edges]
    total = sum(b.shape[0] for b in batches)
    with component_hooks_enabled(model), torch.no_grad():
        prepared = []
        for batch, ref, cor in zip(batches, references, corrupteds):
            replaced = corrupted_outputs(model, batch, ablation, ref, cor, seed)
            clean = model(batch)
            prepared.append((batch, replaced, clean, batch.shape[0] / total))
    generator = torch.Generator().manual_seed(seed)
    log_alpha = torch.full((len(units),), 3.0, requires_grad=True)  # masks start ~ open
    optimiser = torch.optim.Adam([log_alpha], lr=lr)
    frozen = [(p, p.requires_grad) for p in model.parameters()]
    bar = tqdm(total=steps, desc="sp", disable=progress is not True, leave=False)
    try:
        for p, _ in frozen:
            p.requires_grad_(False)
        with component_hooks_enabled(model):
            for step in range(steps):
                optimiser.zero_grad()
                loss = sparsity * _expected_l0(log_alpha).mean() if units else torch.zeros(())
                for batch, replaced, clean, weight in prepared:
                    z = _sample(log_alpha, generator)  # [n_units]
                    gates = z[gate_index]  # [n_edges]
                    # A seeded minibatch of rows per step (stochastic masks already make
                    # each step's loss an estimate): a step costs the same on any batch size.
                    rows = _minibatch(batch.shape[0], generator)
                    part = {n: v[rows] for n, v in replaced.items()}  # each [rows, pos, d_model]
                    with temporary_hooks(model, _mask_hooks(model, edges, gates, part)):
                        loss = loss + weight * metric(clean[rows])(model(batch[rows]))
                if units:
                    loss.backward()
                    optimiser.step()
                bar.set_postfix(loss=f"{loss.item():.3g}", refresh=False)
                bar.update(1)
                if callable(progress):
                    progress(step + 1, steps)  # a caller's bar (raising from it stops)
    finally:
        for p, flag in frozen:
            p.requires_grad_(flag)
        bar.close()
    with torch.no_grad():
        # sigmoid(log_alpha), not the clipped mask: ranks the edges the clip ties at 0 or 1;
        # the deterministic mask is above 1/2 exactly when this is.
        mask = torch.sigmoid(log_alpha).tolist()  # [n_units]
    scores = dict.fromkeys(full.edges, 0.0)
    for edge, unit in zip(edges, gate_of):
        scores[edge] = mask[unit]
        if level == "node" and edge.dst in index:
            # An edge is needed only if both its nodes are (the logits always are).
            scores[edge] = min(mask[unit], mask[index[edge.dst]])
    cut = SP_THRESHOLD if threshold is None else threshold
    return _circuit([e for e in full.edges if scores[e] > cut], scores)


def _minibatch(n_rows: int, generator: torch.Generator) -> torch.Tensor:
    """Indices of at most SP_ROWS seeded random rows out of `n_rows` (all when fewer)."""
    if n_rows <= SP_ROWS:
        return torch.arange(n_rows)
    return torch.randperm(n_rows, generator=generator)[:SP_ROWS]


def _sample(log_alpha: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Hard-concrete samples in [0, 1] (reparameterised: differentiable in log_alpha)."""
    u = torch.rand(log_alpha.shape, generator=generator).clamp(1e-6, 1 - 1e-6)
    s = torch.sigmoid((u.log() - (1 - u).log() + log_alpha) / BETA)
    return (s * (ZETA - GAMMA) + GAMMA).clamp(0.0, 1.0)


def _deterministic(log_alpha: torch.Tensor) -> torch.Tensor:
    """The noise-free mask in [0, 1] (the sample at u = 1/2, stretched and clipped)."""
    return (torch.sigmoid(log_alpha) * (ZETA - GAMMA) + GAMMA).clamp(0.0, 1.0)


def _expected_l0(log_alpha: torch.Tensor) -> torch.Tensor:
    """P(mask != 0) per mask: the hard-concrete's expected L0 norm."""
    return torch.sigmoid(log_alpha - BETA * math.log(-GAMMA / ZETA))


def _mask_hooks(
    model: HookedTransformer, edges: Sequence[Edge], gates: torch.Tensor,
    replaced: dict[str, torch.Tensor],
) -> list[tuple[str, Callable]]:
    """Hooks feeding each destination input `input - (1 - gate) * (src output - replacement)`
    per edge, with each source's live output of this run."""
    store: dict[str, torch.Tensor] = {}
    groups: dict[str, dict[int | None, list[tuple[str, int]]]] = defaultdict(lambda: defaultdict(list))
    for i, edge in enumerate(edges):
        head = parse_node(edge.dst, model).head
        groups[input_hook(edge.dst, edge.slot, model)][head].append((edge.src, i))
    sources = sorted({output_hook(e.src, model) for e in edges})

    def capture(value: torch.Tensor, hook) -> torch.Tensor:
        store[hook.name] = value
        return value

    def delta(src: str) -> torch.Tensor:
        return select_output(src, store[output_hook(src, model)], model) - replaced[src]  # [b, p, d]

    def masked(value: torch.Tensor, hook) -> torch.Tensor:
        by_head = groups[hook.name]
        if None in by_head:  # [batch, pos, d_model]
            return value - sum((1 - gates[i]) * delta(src) for src, i in by_head[None])
        per_head = list(value.unbind(2))  # n_heads x [batch, pos, d_model]
        for head, cut in by_head.items():
            per_head[head] = per_head[head] - sum((1 - gates[i]) * delta(src) for src, i in cut)
        return torch.stack(per_head, dim=2)  # [batch, pos, n_heads, d_model]

    return [(name, capture) for name in sources] + [(name, masked) for name in sorted(groups)]
