"""The ground truth of a compiled program, keeping only edges that change some output.

`CompiledModel.circuit()` is structural: `src -> dst.slot` wherever dst reads a residual
direction src writes. Some of those reads change no output on any input the program is
run on: BOS-hygiene reads (an MLP's `bos` gate whose ungated output at the BOS position
no real query ever matches; the BOS key read that keeps a needed Aggregate clean at the
BOS position) and reads of conjuncts or branches the program's output does not depend on
(most_freq's "has an earlier copy" branch, a Dyck conjunct implied by the others). They
cannot be shown inert from value sets, so this module tests each edge instead: remove it
alone (zero ablation), run the model on the truth inputs, keep it when some logit after
BOS moves by more than `TOLERANCE`.

The result is "edges with an effect on the truth inputs", not a proof: every input up to
the longest length whose inputs number at most `EXHAUSTIVE_PER_LENGTH`, the constant
inputs (every token repeated) at every length, and `SAMPLED_PER_LENGTH` inputs from the
program's sampler plus as many uniform ones at every other length up to max_seq_len,
with a fixed seed; inputs the interpreter rejects are left out. An edge that matters only
on an input outside that set is dropped (`LiveTruth.inert` names every dropped edge and
its largest effect).
"""

from __future__ import annotations

import copy
import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from interp.analysis.ablate import ablate
from interp.circuit import Circuit, Edge

TOLERANCE = 1e-3  # largest |logit change| that counts as no change (float noise is ~1e-8)
EXHAUSTIVE_PER_LENGTH = 256  # lengths with at most this many inputs are enumerated
SAMPLED_PER_LENGTH = 48  # sampler inputs per longer length (and as many uniform ones)
SEED = 12345  # not the discovery seed (0), so the truth inputs are not discovery's


@dataclass
class LiveTruth:
    """The structural circuit, the live part of it, and the evidence."""

    structural: Circuit
    circuit: Circuit
    inert: dict[Edge, float] = field(default_factory=dict)  # dropped edge -> largest effect
    effect: dict[Edge, float] = field(default_factory=dict)  # kept edge -> an effect > tolerance
    witness: dict[Edge, list[Any]] = field(default_factory=dict)  # kept edge -> an input it changes
    n_inputs: int = 0
    exhaustive_up_to: int = 0


def truth_inputs(vocab: Sequence[Any], max_seq_len: int,
                 sample: Callable[[random.Random, int], list[Any]] | None,
                 valid: Callable[[list[Any]], bool] | None, seed: int = SEED) -> tuple[list[list[Any]], int]:
    """The truth inputs (see the module docstring) and the longest enumerated length."""
    tokens = list(vocab)
    rng = random.Random(seed)
    out: list[list[Any]] = []
    exhaustive_up_to = 0
    for n in range(1, max_seq_len + 1):
        if len(tokens) ** n <= EXHAUSTIVE_PER_LENGTH:
            out += [list(t) for t in itertools.product(tokens, repeat=n)]
            exhaustive_up_to = n
            continue
        out += [[t] * n for t in tokens]
        drawn = [[rng.choice(tokens) for _ in range(n)] for _ in range(SAMPLED_PER_LENGTH)]
        if sample is not None:
            for _ in range(SAMPLED_PER_LENGTH * 20):
                if len(drawn) >= 2 * SAMPLED_PER_LENGTH:
                    break
                one = list(sample(rng, n))
                if len(one) == n:
                    drawn.append(one)
        out += drawn
    unique = list({tuple(map(repr, t)): t for t in out}.values())
    if valid is not None:
        unique = [t for t in unique if valid(t)]
    return unique, exhaustive_up_to


def live_truth(compiled: Any, inputs: Sequence[Sequence[Any]], exhaustive_up_to: int = 0,
               tolerance: float = TOLERANCE) -> LiveTruth:
    """`compiled.circuit()` without the edges whose removal alone moves no logit after BOS
    by more than `tolerance` on any of `inputs` (compiled: a rasp.compiler.CompiledModel)."""
    structural = compiled.circuit()
    by_length: dict[int, list[list[Any]]] = {}
    for tokens in inputs:
        by_length.setdefault(len(tokens), []).append(list(tokens))
    groups = list(by_length.values())
    batches = [torch.tensor([compiled.encode(t) for t in group]) for group in groups]  # [batch, 1 + n]
    # A copy carries the ablation hooks: the dashboard shares one model between sessions.
    model = copy.deepcopy(compiled.model)
    truth = LiveTruth(structural, structural, n_inputs=len(inputs), exhaustive_up_to=exhaustive_up_to)
    with torch.no_grad():
        clean = [model(batch) for batch in batches]  # each [batch, pos, d_vocab_out]
        for edge in structural.edges:
            effect = 0.0
            with ablate(model, edges=[edge], kind="zero"):
                for group, batch, reference in zip(groups, batches, clean):
                    moved = (model(batch) - reference)[:, 1:].abs().flatten(1).max(1).values  # [batch]
                    effect = max(effect, float(moved.max()))
                    if effect > tolerance:  # live: one input is enough
                        truth.witness[edge] = group[int(moved.argmax())]
                        break
            (truth.effect if effect > tolerance else truth.inert)[edge] = effect
    kept = [e for e in structural.edges if e in truth.effect]
    nodes = [n for n in structural.nodes if any(n in (e.src, e.dst) for e in kept)]
    truth.circuit = Circuit(nodes, kept)
    return truth
