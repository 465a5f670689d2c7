"""The ground truth of a compiled program, keeping only edges that change some output.

`CompiledModel.circuit()` is structural: `src -> dst.slot` wherever dst reads a residual
direction src writes. Some of those reads change no output on any input the program is
run on: BOS-hygiene reads (an MLP's `bos` gate whose ungated output at the BOS position
no real query ever matches; the BOS key read that keeps a needed Aggregate clean at the
BOS position) and reads of conjuncts or branches the program's output does not depend on
(most_freq's "has an earlier copy" branch, a Dyck conjunct implied by the others). They
cannot be shown inert from value sets, so this module tests the edges instead (zero
ablation on the truth inputs, a logit after BOS moving by more than `TOLERANCE` counting
as a change) and prunes the circuit to a faithful, minimal one (see `live_truth`). For a
categorical output a logit moves relative to the others at its position: the change less
its mean over the vocabulary, since a shift common to every logit changes no probability
(ACDC's KL ignores it too). Measured on the raw logits, alta_add's truth kept edges whose
only effect was such a shift: 259 edges and ACDC AUC 0.976 against it, 250 and 0.991 now.

The result is "edges with an effect on the truth inputs", not a proof: every input up to
the longest length whose inputs number at most `EXHAUSTIVE_PER_LENGTH`, the constant
inputs (every token repeated) at every length, and `SAMPLED_PER_LENGTH` inputs from the
program's sampler plus as many uniform ones at every other length up to max_seq_len,
with a fixed seed; inputs the interpreter rejects are left out. A library program with
its own sampler of valid inputs (sort_unique's distinct keys, add's "a+b", the Dyck
words) is run on that sampler's draws only: up to 256 distinct ones per length up to 8
and 64 per longer length. An edge that matters only
on an input outside that set is dropped (`LiveTruth.dropped` names them; `witness` gives
each kept edge an input it changes).

Loop models (parity_loop, add_loop, alta_add) unroll one weight-shared block per step, so
their structural circuits have 414-472 edges; they are pruned edge by edge too (about
1.5 CPU minutes each with interp/analysis/minimal_circuit.py's batched runs), on fewer
truth inputs: every input of the lengths
with at most `LOOP_EXHAUSTIVE` of them, else the constant inputs and `LOOP_SAMPLED`
sampler plus as many uniform ones per length (a program with its own sampler: up to
`LOOP_EXHAUSTIVE` distinct draws per length). So a loop model's truth is then validated
on fresh draws (`LOOP_VALIDATION` per length, another seed) and pruned again with the
inputs it fails on added, up to `LOOP_ROUNDS` prunings in all.
"""

from __future__ import annotations

import copy
import itertools
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from interp.circuit import Circuit, Edge, node_layer_position

# Largest |logit change| that counts as no change. Float noise is ~1e-8, but attention in
# a compiled model is not exactly hard: each edge read through a softmax leaks ~1e-5-1e-4,
# and over a loop model's hundreds of dropped edges that adds up to ~3e-3 (parity_loop).
# With 1e-3 the pruner then kept 16 edges of effect 1e-3-3e-3 only because the dropped
# leakage had used up the budget; at 1e-2 every kept edge of every library program moves a
# logit by >= 0.25 and the non-loop truths are the same edge for edge as at 1e-3.
TOLERANCE = 1e-2
EXHAUSTIVE_PER_LENGTH = 256  # lengths with at most this many inputs are enumerated
SAMPLED_PER_LENGTH = 32  # sampler inputs per longer length (and as many uniform ones)
# Edges per group-testing block: 1 = edge by edge, the decisions ACDC's pruning makes in
# the same order. Blocks of 8 were used for the loop models (faster by a third), but where
# reads cancel (two unrolled writes of a register, inert together, each alone not) a block
# is dropped whole that the per-edge pruner keeps part of, so the truth was not the
# per-edge one: parity_loop 234 edges, ACDC AUC 0.970, per edge 265 edges and 0.996.
BLOCK = 1
LOOP_EXHAUSTIVE = 32  # a loop model's truth inputs: lengths with at most 32 enumerated, ...
LOOP_SAMPLED = 16  # ... else 16 sampler and 16 uniform ones (sampler-only programs: 32 draws)
LOOP_ROUNDS = 3  # prunings of a loop model at most: each adds the fresh inputs the last failed on
LOOP_VALIDATION = 128  # fresh inputs per length a loop model's truth is validated on
VALIDATION_SEED = 54321  # not the truth's, discovery's (0) or the tests' (99)
SEED = 12345  # not the discovery seed (0), so the truth inputs are not discovery's


@dataclass
class LiveTruth:
    """The structural circuit, the live part of it, and the evidence."""

    structural: Circuit
    circuit: Circuit
    dropped: list[Edge] = field(default_factory=list)  # in the order they were dropped
    # kept edge -> an effect > tolerance, and an input it changes, both on top of the dropped
    effect: dict[Edge, float] = field(default_factory=dict)
    witness: dict[Edge, list[Any]] = field(default_factory=dict)
    dropped_together: float = 0.0  # largest |logit change| with every dropped edge removed
    n_inputs: int = 0
    exhaustive_up_to: int = 0
    passes: int = 0  # forward passes the pruning took
    validation_added: int = 0  # fresh inputs added because an earlier truth failed on them


def truth_inputs(vocab: Sequence[Any], max_seq_len: int,
                 sample: Callable[[random.Random, int], list[Any]] | None,
                 valid: Callable[[list[Any]], bool] | None, seed: int = SEED,
                 domain: Callable[[random.Random, int], list[Any]] | None = None,
                 lengths: Sequence[int] | None = None, exhaustive: int = EXHAUSTIVE_PER_LENGTH,
                 sampled: int = SAMPLED_PER_LENGTH) -> tuple[list[list[Any]], int]:
    """The truth inputs (see the module docstring) and the longest enumerated length.

    domain: a sampler of the program's valid inputs (a library program's `sample_input`,
    e.g. sort_unique's distinct keys); the inputs are then only its draws, up to
    `EXHAUSTIVE_PER_LENGTH` distinct ones per length (fewer where it has fewer), since
    token sequences outside it are not inputs of the program. lengths: only these input
    lengths (default 1 .. max_seq_len; a SIIT model reads one). exhaustive, sampled: the
    per-length counts (`EXHAUSTIVE_PER_LENGTH`, `SAMPLED_PER_LENGTH` unless given).
    """
    tokens = list(vocab)
    rng = random.Random(seed)
    out: list[list[Any]] = []
    exhaustive_up_to = 0
    for n in (lengths if lengths is not None else range(1, max_seq_len + 1)):
        if domain is not None:
            drawn: dict[tuple, list[Any]] = {}
            for _ in range(exhaustive * 8):
                if len(drawn) >= exhaustive:
                    break
                one = list(domain(rng, n))
                if len(one) == n:
                    drawn[tuple(map(repr, one))] = one
            out += list(drawn.values())[: exhaustive if n <= 8 else 2 * sampled]
            continue
        if len(tokens) ** n <= exhaustive:
            out += [list(t) for t in itertools.product(tokens, repeat=n)]
            exhaustive_up_to = n
            continue
        out += [[t] * n for t in tokens]
        out += [[rng.choice(tokens) for _ in range(n)] for _ in range(sampled)]
        if sample is not None:
            out += [one for one in (list(sample(rng, n)) for _ in range(sampled)) if len(one) == n]
    unique = list({tuple(map(repr, t)): t for t in out}.values())
    if valid is not None:
        unique = [t for t in unique if valid(t)]
    return unique, exhaustive_up_to


def program_truth(compiled: Any, program: Any = None,
                  sample: Callable[[random.Random, int], list[Any]] | None = None,
                  domain: Callable[[random.Random, int], list[Any]] | None = None,
                  lengths: Sequence[int] | None = None) -> LiveTruth:
    """The minimal truth of `compiled` (a rasp.compiler.CompiledModel) on its truth inputs:
    its vocabulary and max_seq_len, `sample`/`domain`/`lengths` as in `truth_inputs`, less
    the inputs the interpreter rejects when `program` (the rasp.SOp compiled) is given."""
    valid = None
    if program is not None:
        from rasp.errors import RASPError
        from rasp.evaluate import evaluate

        def valid(tokens: list[Any]) -> bool:
            try:
                evaluate(program, tokens, causal=compiled.causal)
            except RASPError:
                return False  # the model is exact only where the interpreter accepts
            return True

    # A loop model's hundreds of unrolled edges are pruned on fewer inputs per length (each
    # dropped edge costs a pass over all of them; the dashboard waits for this truth).
    loop = bool(getattr(compiled.model.cfg, "loop_steps", None))
    counts = {"exhaustive": LOOP_EXHAUSTIVE, "sampled": LOOP_SAMPLED} if loop else \
        {"exhaustive": EXHAUSTIVE_PER_LENGTH, "sampled": SAMPLED_PER_LENGTH}
    inputs, exhaustive_up_to = truth_inputs(compiled.vocab, compiled.max_seq_len, sample, valid,
                                            domain=domain, lengths=lengths, **counts)
    truth, added = live_truth(compiled, inputs, exhaustive_up_to), 0
    # A loop model's truth inputs are few (32 per length): validate it on fresh draws and
    # prune again with the inputs it fails on (alta_add: its first truth moved a logit by 1
    # on inputs with carry patterns its 128 inputs lacked).
    for round_ in range(1, LOOP_ROUNDS if loop else 1):
        fresh, _ = truth_inputs(compiled.vocab, compiled.max_seq_len, sample, valid,
                                seed=VALIDATION_SEED + round_, domain=domain, lengths=lengths,
                                exhaustive=LOOP_VALIDATION, sampled=LOOP_VALIDATION // 2)
        known = {tuple(map(repr, t)) for t in inputs}
        failing = [t for t in unfaithful_on(compiled, truth.dropped, fresh)
                   if tuple(map(repr, t)) not in known]
        if not failing:
            break
        inputs, added = inputs + failing, added + len(failing)
        truth = live_truth(compiled, inputs, exhaustive_up_to)
    truth.validation_added = added
    return truth


def unfaithful_on(compiled: Any, dropped: Sequence[Edge], inputs: Sequence[Sequence[Any]],
                  tolerance: float = TOLERANCE) -> list[list[Any]]:
    """The inputs on which removing `dropped` together (zero ablation) moves a logit after
    BOS by more than `tolerance`."""
    from interp.analysis.ablate import ablate
    from interp.analysis.minimal_circuit import logit_change

    model = _narrowed(compiled.model)  # a private copy: the hooks stay off the shared model
    failing = []
    with torch.no_grad():
        for group in _by_length(inputs):
            batch = torch.tensor([compiled.encode(t) for t in group])  # [rows, 1 + n]
            clean = model(batch)
            with ablate(model, edges=list(dropped), kind="zero"):
                moved = logit_change(model(batch)[:, 1:], clean[:, 1:], _centered(compiled))  # [rows]
            failing += [t for t, m in zip(group, moved.tolist()) if m > tolerance]
    return failing


def live_truth(compiled: Any, inputs: Sequence[Sequence[Any]], exhaustive_up_to: int = 0,
               tolerance: float = TOLERANCE, block: int | None = None) -> LiveTruth:
    """`compiled.circuit()` pruned to a faithful, minimal circuit on `inputs` (compiled: a
    rasp.compiler.CompiledModel), scoring every position after BOS.

    Edges are tried one at a time, later destinations and later sources first (the order
    of ACDC's pruning); one is dropped when removing it together with those already dropped
    moves no logit after BOS by more than `tolerance` on any input. Then every kept edge is
    checked again on top of all the dropped ones (and dropped too if that changes nothing,
    until none does). So removing the dropped edges together changes no output (faithful),
    and removing any kept edge as well changes one (minimal). Two reads either of which
    suffices (an MLP's `bos` gate and the BOS key read keeping its input clean) are one
    choice: the later is dropped, the earlier kept, as reverse-topological pruning does.
    The runs are interp/analysis/minimal_circuit.py's (many edge sets per forward pass);
    block: its group-testing block size (default `BLOCK`: 1, per edge).
    """
    from interp.analysis.minimal_circuit import prune_edges

    structural = compiled.circuit()
    groups = _by_length(inputs)
    batches = [torch.tensor([compiled.encode(t) for t in group]) for group in groups]  # [batch, 1 + n]
    model = _narrowed(compiled.model)
    if block is None:
        block = BLOCK
    pruned = prune_edges(model, structural.edges, batches, _pruning_order, tolerance,
                         positions=lambda n: list(range(1, n)), block=block,
                         centered=_centered(compiled))
    kept = set(pruned.kept)
    circuit = Circuit.of_edges([e for e in structural.edges if e in kept], structural.nodes)
    return LiveTruth(structural, circuit, list(pruned.dropped), dict(pruned.effect),
                     {e: groups[b][r] for e, (b, r) in pruned.witness.items()}, pruned.dropped_together,
                     len(inputs), exhaustive_up_to, pruned.passes)


def _centered(compiled: Any) -> bool:
    """Whether changes are measured on centered logits: a categorical output's (see the
    module docstring); a numerical output is its one logit's value."""
    return not compiled.numerical_output


def _by_length(inputs: Sequence[Sequence[Any]]) -> list[list[list[Any]]]:
    """`inputs` grouped by length (one batch each), shortest first."""
    by_length: dict[int, list[list[Any]]] = {}
    for tokens in inputs:
        by_length.setdefault(len(tokens), []).append(list(tokens))
    return [by_length[n] for n in sorted(by_length)]


def _narrowed(model: Any) -> Any:
    """A copy of `model` whose MLPs keep only the neurons that write something.

    Compiled layers pad every MLP to the widest one (add: 1,996 neurons, 3,920 used in all
    8 layers); a neuron whose W_out row is 0 adds exactly 0, so dropping it changes no
    output and the runs here get up to 4x cheaper. A copy also keeps the ablation hooks
    off the model the dashboard shares between sessions.
    """
    model = copy.deepcopy(model)
    if model.cfg.attn_only:
        return model
    with torch.no_grad():
        for block in model.blocks:
            mlp = block.mlp
            used = (mlp.W_out != 0).any(1).nonzero().flatten()  # [n_used]
            if len(used) == 0:
                used = torch.tensor([0])
            mlp.W_in = torch.nn.Parameter(mlp.W_in[:, used].clone())  # [d_model, n_used]
            mlp.b_in = torch.nn.Parameter(mlp.b_in[used].clone())
            mlp.W_out = torch.nn.Parameter(mlp.W_out[used].clone())  # [n_used, d_model]
    return model


def _pruning_order(edge: Edge) -> tuple:
    """ACDC's order: later destinations first, then later sources; slots q, k, v, in."""
    def rank(name: str) -> tuple[int, int, int]:
        head = re.fullmatch(r"L\d+H(\d+)", name)
        return (*node_layer_position(name), int(head.group(1)) if head else 0)

    return tuple(-x for x in rank(edge.dst)) + tuple(-x for x in rank(edge.src)) + \
        (("q", "k", "v", "in").index(edge.slot) if edge.slot in ("q", "k", "v", "in") else 4,)
