"""The fast pruner (interp/analysis/minimal_circuit.py) against independent references.

- Its masked runs (a different set of removed edges on every row of one forward pass) give
  each row the logits `ablate(edges=..., kind="zero")` gives that row's set alone.
- Group testing (block > 1) keeps the per-edge pruner's two guarantees, checked with
  `ablate`: removing the dropped edges together moves no logit after BOS by more than the
  tolerance on any truth input, and removing any kept edge as well moves one on its
  witness. With block 1 it is the per-edge pruner: the dropped sets listed in
  tests/interp/test_live_truth.py, found by an earlier, independent script.
"""

from __future__ import annotations

import random
import warnings

import pytest
import torch

from interp.analysis.minimal_circuit import _MaskedRuns, logit_change
from interp.subjects import load_subject
from interp.subjects.live_truth import TOLERANCE, _narrowed, _pruning_order, live_truth, truth_inputs
from rasp.lib import PROGRAMS
from tests.interp.ablation_reference import moved


def _subject(name: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_subject(name, None, None)


def _inputs(subject) -> tuple[list[list], int]:
    return truth_inputs(subject.vocab, subject.max_seq_len, subject.sample, subject._accepted,
                        domain=PROGRAMS[subject.library_name].sample_input)


def test_logit_change_ignores_a_shift_common_to_every_logit() -> None:
    clean = torch.tensor([[[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]]])  # [rows, pos, d_vocab]
    shifted = clean + torch.tensor([[[5.0], [-3.0]]])  # each position's logits moved alike
    assert float(logit_change(shifted, clean)[0]) == 5.0
    assert float(logit_change(shifted, clean, centered=True)[0]) == 0.0
    one = clean.clone()
    one[0, 1, 2] = 3.0  # one logit up by 3: less the mean change 1, it moved 2 and the others -1
    assert float(logit_change(one, clean, centered=True)[0]) == 2.0


@pytest.mark.parametrize("centered", [False, True])
def test_masked_runs_match_ablate_row_by_row(centered: bool) -> None:
    subject = _subject("shuffle_dyck")
    model = _narrowed(subject.compiled.model)
    edges = sorted(subject.compiled.circuit().edges, key=_pruning_order)
    rng = random.Random(0)
    rows = [subject.sample(rng, 6) for _ in range(8)]
    batch = torch.tensor([subject.compiled.encode(r) for r in rows])  # [8, 7]
    subsets = [[e for e in edges if rng.random() < p] for p in (0.0, 0.1, 0.2, 0.3, 0.5, 0.5, 0.8, 1.0)]
    mask = torch.tensor([[e in s for e in edges] for s in subsets])  # [8, n_edges]
    runs = _MaskedRuns(model, edges, [batch], lambda n: list(range(1, n)), centered)
    with runs.active():
        together = runs.moved(0, torch.arange(8), mask)
    alone = torch.stack([moved(model, s, batch[r:r + 1], centered)[0] for r, s in enumerate(subsets)])
    assert float(alone.max()) > 0.1  # some subsets change something: the comparison can fail
    assert torch.allclose(together, alone, atol=1e-5), (together, alone)


@pytest.mark.parametrize("name", ["shuffle_dyck", "double_hist"])
def test_group_pruning_keeps_both_guarantees(name: str) -> None:
    subject = _subject(name)
    inputs, exhaustive = _inputs(subject)
    grouped = live_truth(subject.compiled, inputs, exhaustive, block=4)
    model = subject.compiled.model
    kept, dropped = list(grouped.circuit.edges), list(grouped.dropped)
    assert set(kept) | set(dropped) == set(grouped.structural.edges) and not set(kept) & set(dropped)
    assert dropped  # both programs have inert edges to find
    by_length: dict[int, list] = {}
    for tokens in inputs:
        by_length.setdefault(len(tokens), []).append(tokens)
    centered = not subject.compiled.numerical_output  # as the truth measures a categorical output
    worst = max(float(moved(model, dropped, torch.tensor([subject.compiled.encode(t) for t in group]),
                             centered).max())
                for group in by_length.values())
    assert worst <= TOLERANCE, f"{name}: the dropped edges together move a logit by {worst:.3g}"
    for edge in kept:
        witness = torch.tensor([subject.compiled.encode(grouped.witness[edge])])
        assert float(moved(model, dropped + [edge], witness, centered)[0]) > TOLERANCE, f"{name}: {edge}"
