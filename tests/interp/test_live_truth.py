"""The live ground truth (interp/subjects/live_truth.py) is minimal and faithful: every kept
edge changes an output, and the dropped edges change none on inputs the truth was not
built from.

Each kept edge is removed (zero ablation) on top of all the dropped ones, on the input
recorded as its witness, which must be an input the interpreter accepts and the clean
model gets right (checked against `rasp.evaluate`). The dropped edges are removed
together, and each alone, on discovery's own inputs (`analysis_inputs(8, seed 0)`) and on
fresh random inputs of a different seed: an effect there would mean the truth inputs
missed it (a wrong truth).

A few programs by default; every library program with TRUTH_CHECK=1 (minutes; the loop
programs' dropped edges are checked together only: pruned edge by edge on top of each
other, two unrolled writes of a register can be inert together and not alone):

    TRUTH_CHECK=1 .venv/bin/python -m pytest tests/interp/test_live_truth.py -q
"""

from __future__ import annotations

import os
import random
import warnings

import pytest
import torch

from interp.subjects import load_subject
from interp.subjects.live_truth import TOLERANCE
from rasp.evaluate import evaluate
from rasp.lib import PROGRAMS
from tests.interp.ablation_reference import moved

LOOPS = {"parity_loop", "add_loop", "alta_add"}
DEFAULT = ["reverse", "double_hist", "shuffle_dyck", "pair_balance"]
FULL = sorted(PROGRAMS)
# Edges each without effect alone, found by an earlier, independent script (2,000 random
# inputs at every length up to 16, plus discovery's): MLP `bos` gates whose ungated
# BOS-position output no real query matches, BOS key reads of needed prefix Aggregates
# (in shuffle_dyck the gate and those reads can all go together; in shuffle_dyck2 two of
# the four reads stay once the gate is gone), and has_neg's select-all BOS key read (the
# mean then counts the BOS position, which `~has_neg` does not see).
EXPECTED_DROPPED = {
    "reverse": set(),
    "pair_balance": set(),
    "double_hist": {"embed->MLP1"},
    "shuffle_dyck": {"embed->L0H1.k", "embed->L0H2.k", "embed->L2H1.k", "embed->MLP1"},
}

_SUBJECTS: dict[str, object] = {}


def _subject(name: str):
    if name not in _SUBJECTS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _SUBJECTS[name] = load_subject(name, None, None)
    return _SUBJECTS[name]


def _effect(subject, edges, batch: torch.Tensor) -> float:
    """Largest |logit change| after BOS when `edges` are zero-ablated together on `batch`
    (centered for a categorical output, as the truth measures it)."""
    return float(moved(subject.model, edges, batch, not subject.compiled.numerical_output).max())


def _fresh_batches(subject, seed: int = 99, per_length: int = 12) -> list[torch.Tensor]:
    rng = random.Random(seed)
    batches = []
    for n in range(1, subject.max_seq_len + 1):
        # A program with its own sampler of valid inputs is judged on those only (the truth's
        # domain: sort_unique's keys differ); others on uniform tokens too.
        rows = [] if PROGRAMS[subject.library_name].sample_input is not None else \
            [[rng.choice(subject.vocab) for _ in range(n)] for _ in range(per_length)]
        rows += [r for r in (subject.sample(rng, n) for _ in range(2 * per_length)) if len(r) == n]
        rows = [r for r in rows if subject._accepted(r)]
        if rows:
            batches.append(torch.tensor([subject.compiled.encode(r) for r in rows]))
    return batches


def _check(name: str) -> None:
    subject = _subject(name)
    truth = subject.live_truth()
    dropped = list(truth.dropped)
    assert set(truth.circuit.edges) | set(dropped) == set(truth.structural.edges)
    assert not set(truth.circuit.edges) & set(dropped)
    assert subject.ground_truth().edges == truth.circuit.edges
    for edge in truth.circuit.edges:
        witness = truth.witness[edge]
        # The witness lies where the model is exact: the interpreter's output, decoded.
        assert subject.compiled.run(witness) == evaluate(subject.program, witness), (name, witness)
        batch = torch.tensor([subject.compiled.encode(witness)])
        assert _effect(subject, dropped + [edge], batch) > TOLERANCE, f"{name}: {edge} on {witness}"
    others = list(subject.analysis_inputs(8, 0).batches) + _fresh_batches(subject)
    alone = [] if name in LOOPS else [[edge] for edge in dropped]
    for removed in [dropped] + alone:
        moved = max(_effect(subject, removed, batch) for batch in others)
        assert moved <= TOLERANCE, f"{name}: removing {removed} moves a logit by {moved:.3g}"


@pytest.mark.parametrize("name", DEFAULT)
def test_live_truth_default_programs(name: str) -> None:
    _check(name)
    assert {str(e) for e in _subject(name).live_truth().dropped} == EXPECTED_DROPPED[name]


@pytest.mark.skipif(not os.environ.get("TRUTH_CHECK"), reason="minutes of CPU: set TRUTH_CHECK=1")
@pytest.mark.parametrize("name", [n for n in FULL if n not in DEFAULT])
def test_live_truth_every_library_program(name: str) -> None:
    _check(name)


def test_compiled_discovery_metric_ignores_the_bos_output() -> None:
    """KL by hand over the positions after BOS; a change at BOS alone scores 0."""
    subject = _subject("reverse")
    clean = torch.tensor([[[5.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]])  # [batch, pos, out]
    metric = subject.discovery_metric(None)(clean)
    at_bos = clean.clone()
    at_bos[0, 0] = torch.tensor([0.0, 0.0, 9.0])
    assert float(metric(at_bos)) == 0.0
    moved = clean.clone()
    moved[0, 2] = torch.tensor([0.0, 1.0, 0.0])
    p, q = clean[0, 2].softmax(-1), moved[0, 2].softmax(-1)
    by_hand = float((p * (p.log() - q.log())).sum()) / 2  # mean over the 2 positions after BOS
    assert abs(float(metric(moved)) - by_hand) < 1e-6


def test_unfaithful_on_names_the_inputs_an_ablation_moves() -> None:
    # One input at a time through `ablate` (the reference) against the batched check.
    from interp.subjects.live_truth import unfaithful_on

    subject = _subject("reverse")
    edge = subject.live_truth().circuit.edges[0]
    rng = random.Random(3)
    inputs = [[rng.choice(subject.vocab) for _ in range(rng.randint(1, 6))] for _ in range(40)]
    by_hand = [t for t in inputs
               if _effect(subject, [edge], torch.tensor([subject.compiled.encode(t)])) > TOLERANCE]
    assert by_hand
    assert sorted(map(tuple, unfaithful_on(subject.compiled, [edge], inputs))) == sorted(map(tuple, by_hand))
    assert unfaithful_on(subject.compiled, [], inputs) == []
