"""A circuit pruned to a faithful, minimal one on given inputs, by zero ablation of edges.

`prune_edges` tries the edges one at a time in a given order (ACDC's: later destinations
and sources first) and drops one when removing it together with those already dropped
moves no scored logit by more than `tolerance` on any input; then it re-checks every kept
edge on top of all the dropped ones (dropping it if that changes nothing, until none
does). So removing the dropped edges together changes no scored output (faithful), and
removing any kept edge as well changes one, on a recorded witness input (minimal).

A change is measured on the scored logits as they are, or with `centered=True` on each
position's logits less their mean (`logit_change`): a shift common to every logit of a
position changes no probability, so for a categorical output it is no change of the output.

With block = 1 that is the per-edge greedy pruner, decision for decision. With block > 1
(group testing, for circuits of hundreds of edges) the edges go in blocks of that many, in
the same order: a block whose removal on top of the dropped ones changes nothing is
dropped whole, one that changes something is split in halves, each settled the same way,
down to single edges. Most dropped edges then go in a few passes over the inputs instead
of one each; the result may differ from the per-edge pruner's where effects cancel (two
reads that matter alone but not together), and the re-check gives it the same two
guarantees. What makes either fast:

- one forward pass tests many (input, removed edges) pairs: each row of the batch gets its
  own set of removed edges (`_MaskedRuns`), so the re-check of every kept edge on its
  previous witness is one pass per input length;
- an edge with an effect usually shows it on an input that showed an earlier edge's
  effect, so those witnesses (and a few rows of every length) are tried before the rest;
- silent edges (interp/analysis/silent.py: the source writes no coordinate the destination
  reads) change no number on any input, so they are dropped without a run, which is the
  per-edge pruner's decision too (the dropped set changes nothing, so neither does it with
  a silent edge added).

Only edges that are *dropped* cost a pass over every input; an edge that is kept costs the
rows until one shows an effect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch

from interp.analysis.edges import temporary_hooks
from interp.analysis.nodes import component_hooks_enabled, input_hook, output_hook, parse_node, select_output
from interp.analysis.silent import silent_edges
from interp.circuit import Edge
from interp.model import HookedTransformer

CHUNK = 128  # rows per forward pass in a sweep over every input
PROBES_PER_BATCH = 2  # rows of every batch tried first, with the recent witnesses
RECENT_WITNESSES = 16

Row = tuple[int, int]  # (batch index, row in that batch)


def logit_change(logits: torch.Tensor, clean: torch.Tensor, centered: bool = False) -> torch.Tensor:
    """[rows]: the largest |change| of `logits` from `clean` (both [rows, pos, d_vocab]) in
    each row; centered: of each position's logits less their mean over the vocabulary."""
    change = logits - clean  # [rows, pos, d_vocab]
    if centered:
        change = change - change.mean(-1, keepdim=True)
    return change.abs().flatten(1).amax(1)


@dataclass
class Pruned:
    """The outcome of `prune_edges`: kept and dropped edges and the evidence for each."""

    kept: list[Edge]
    dropped: list[Edge]  # in the order they were dropped (silent ones first)
    effect: dict[Edge, float] = field(default_factory=dict)  # kept edge -> |logit change| > tolerance
    witness: dict[Edge, Row] = field(default_factory=dict)  # kept edge -> an input it changes
    dropped_together: float = 0.0  # largest scored |logit change| with every dropped edge removed
    silent: int = 0  # dropped without a run
    passes: int = 0  # forward passes


def prune_edges(model: HookedTransformer, edges: Sequence[Edge], batches: Sequence[torch.Tensor],
                order: Callable[[Edge], tuple], tolerance: float,
                positions: Callable[[int], list[int]] | None = None, block: int = 1,
                centered: bool = False) -> Pruned:
    """`edges` pruned to a faithful, minimal set on `batches` (each [rows, pos] of token ids,
    one length per batch) under zero ablation (see the module docstring).

    order: the sort key of the per-edge pruning order; positions: the scored positions of a
    sequence of the given length (default: all). block > 1: group testing (below).
    centered: measure changes of the logits less their mean at each position. Hooks
    go on `model` for the duration: pass a private copy when the model is shared.
    """
    ordered = sorted(edges, key=order)
    silent = silent_edges(model, ordered)
    with _MaskedRuns(model, ordered, batches, positions, centered).active() as runs:
        removed = torch.zeros(len(ordered), dtype=torch.bool)  # [n_edges]
        dropped = [e for e in ordered if e in silent]
        for e in dropped:
            removed[runs.index[e]] = True
        recent: list[Row] = []
        effect: dict[Edge, float] = {}
        witness: dict[Edge, Row] = {}

        def note(edge: Edge, hit: tuple[float, Row]) -> None:
            """Keep `edge` for now, with the input that showed its effect."""
            effect[edge], witness[edge] = hit
            if hit[1] in recent:
                recent.remove(hit[1])
            recent.insert(0, hit[1])
            del recent[RECENT_WITNESSES:]

        def settle(group: list[Edge], hit: tuple[float, Row] | None = None) -> bool:
            """Drop `group` if removing it on top of the dropped ones changes nothing, else
            split it in halves (in order) and settle each; `hit`: its effect, if known.
            Whether any edge was dropped."""
            if hit is None:
                trial = removed.clone()
                trial[[runs.index[e] for e in group]] = True
                hit = runs.search(trial, tolerance, recent)
            if hit is None:
                removed[[runs.index[e] for e in group]] = True
                dropped.extend(group)
                return True
            if len(group) == 1:
                note(group[0], hit)
                return False
            half = len(group) // 2
            first = settle(group[:half])
            # With all of the first half dropped, removing the second half on top is removing
            # the whole group: its effect is known. Otherwise it must be tested.
            all_dropped = all(removed[runs.index[e]] for e in group[:half])
            return settle(group[half:], hit if all_dropped else None) or first

        queue = [e for e in ordered if e not in silent]
        for start in range(0, len(queue), block):
            settle(queue[start:start + block])
        # Re-check every kept edge on top of all the dropped ones: first on its witness, all
        # at once; in order, the first whose witness no longer shows an effect is searched
        # in full, and dropped (then start over) if nothing shows one.
        while True:
            kept = [e for e in ordered if not removed[runs.index[e]]]
            still = runs.still_live(removed, [(runs.index[e], witness[e]) for e in kept], tolerance)
            changed = False
            for edge, (live, size) in zip(kept, still):
                if live:
                    effect[edge] = size
                elif settle([edge]):
                    changed = True
                    break
            if not changed:
                break
        together = runs.largest(removed)
        kept = [e for e in ordered if not removed[runs.index[e]]]
        return Pruned(kept, dropped, {e: effect[e] for e in kept}, {e: witness[e] for e in kept},
                      together, len(silent), runs.passes)


class _MaskedRuns:
    """Forward passes in which row b zero-ablates the edges with mask[b, edge] set: dst's
    input through the slot loses src's current output, as `ablate(edges=..., kind="zero")`
    does for one set of edges."""

    def __init__(self, model: HookedTransformer, edges: list[Edge], batches: Sequence[torch.Tensor],
                 positions: Callable[[int], list[int]] | None, centered: bool = False) -> None:
        self.model = model
        self.centered = centered
        self.edges = edges
        self.index = {e: i for i, e in enumerate(edges)}
        self.batches = list(batches)
        self.where = [list(range(b.shape[1])) if positions is None else list(positions(b.shape[1]))
                      for b in self.batches]
        self.mask = torch.zeros(1, len(edges))  # [batch, n_edges], set before each pass
        self.store: dict[str, torch.Tensor] = {}
        self.passes = 0
        self.source_hook = {e.src: output_hook(e.src, model) for e in edges}
        # input hook -> [(head or None, edge indices, their sources)]
        grouped: dict[str, dict[int | None, list[int]]] = {}
        for i, e in enumerate(edges):
            hook = input_hook(e.dst, e.slot, model)
            grouped.setdefault(hook, {}).setdefault(parse_node(e.dst, model).head, []).append(i)
        self.plan = {hook: [(head, idx, [edges[i].src for i in idx]) for head, idx in heads.items()]
                     for hook, heads in grouped.items()}
        self.clean: list[torch.Tensor] = []

    @contextmanager
    def active(self) -> Iterator[_MaskedRuns]:
        """Hooks on, clean logits computed (with the same hooks, nothing removed)."""
        hooks = [(name, self._capture) for name in sorted(set(self.source_hook.values()))]
        hooks += [(name, self._cut) for name in sorted(self.plan)]
        with torch.no_grad(), component_hooks_enabled(self.model), temporary_hooks(self.model, hooks):
            self.clean = [self._logits(i, torch.arange(len(b)), torch.zeros(len(b), len(self.edges)))
                          for i, b in enumerate(self.batches)]
            yield self

    def _capture(self, value: torch.Tensor, hook) -> torch.Tensor:
        self.store[hook.name] = value
        return value

    def _cut(self, value: torch.Tensor, hook) -> torch.Tensor:
        out = None
        for head, idx, sources in self.plan[hook.name]:
            mask = self.mask[:, idx]  # [batch, k]
            cut = mask.any(0).nonzero().flatten().tolist()
            if not cut:
                continue
            # [batch, pos, d_model]: each row's removed sources, summed
            delta = sum(mask[:, j, None, None] * select_output(
                sources[j], self.store[self.source_hook[sources[j]]], self.model) for j in cut)
            out = value.clone() if out is None else out
            if head is None:
                out = out - delta
            else:
                out[:, :, head] = out[:, :, head] - delta
        return value if out is None else out

    def _logits(self, batch: int, rows: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """[rows, scored positions, d_vocab_out] with row r removing the edges of mask[r]."""
        self.mask = mask.to(torch.get_default_dtype())
        self.passes += 1
        self.store = {}
        return self.model(self.batches[batch][rows])[:, self.where[batch]]

    def moved(self, batch: int, rows: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """[rows]: largest scored |logit change| of each row under its mask row."""
        return logit_change(self._logits(batch, rows, mask), self.clean[batch][rows], self.centered)

    def search(self, removed: torch.Tensor, tolerance: float, first: list[Row]) -> tuple[float, Row] | None:
        """An input on which removing `removed` ([n_edges] bool) moves a scored logit by more
        than `tolerance`, and by how much; rows `first` and a few of each batch tried first."""
        probes: dict[int, list[int]] = {}
        for batch, row in first:
            probes.setdefault(batch, []).append(row)
        for batch, b in enumerate(self.batches):
            rows = probes.setdefault(batch, [])
            rows += [r for r in range(min(PROBES_PER_BATCH, len(b))) if r not in rows]
        sweeps = [(batch, torch.tensor(rows)) for batch, rows in probes.items()]
        sweeps += [(batch, torch.arange(start, min(start + CHUNK, len(b))))
                   for batch, b in enumerate(self.batches) for start in range(0, len(b), CHUNK)]
        for batch, rows in sweeps:
            moved = self.moved(batch, rows, removed.expand(len(rows), -1))
            if float(moved.max()) > tolerance:
                best = int(moved.argmax())
                return float(moved[best]), (batch, int(rows[best]))
        return None

    def still_live(self, removed: torch.Tensor, checks: list[tuple[int, Row]],
                   tolerance: float) -> list[tuple[bool, float]]:
        """For each (edge index, witness): whether removing the edge on top of `removed`
        still moves a scored logit on the witness by more than `tolerance`, and by how much."""
        out: list[tuple[bool, float]] = [(False, 0.0)] * len(checks)
        by_batch: dict[int, list[int]] = {}
        for k, (_, (batch, _row)) in enumerate(checks):
            by_batch.setdefault(batch, []).append(k)
        for batch, ks in by_batch.items():
            for start in range(0, len(ks), CHUNK):
                part = ks[start:start + CHUNK]
                mask = removed.expand(len(part), -1).clone()  # [rows, n_edges]
                for r, k in enumerate(part):
                    mask[r, checks[k][0]] = True
                rows = torch.tensor([checks[k][1][1] for k in part])
                moved = self.moved(batch, rows, mask)
                for r, k in enumerate(part):
                    out[k] = (float(moved[r]) > tolerance, float(moved[r]))
        return out

    def largest(self, removed: torch.Tensor) -> float:
        """The largest scored |logit change| over every input with `removed` removed."""
        largest = 0.0
        for batch, b in enumerate(self.batches):
            for start in range(0, len(b), CHUNK):
                rows = torch.arange(start, min(start + CHUNK, len(b)))
                largest = max(largest, float(self.moved(batch, rows, removed.expand(len(rows), -1)).max()))
        return largest
