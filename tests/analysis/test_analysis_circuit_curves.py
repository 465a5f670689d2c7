"""Faithfulness curve, one ablation's effect, and ACDC's progress callback (for the dashboard)."""

from __future__ import annotations

import pytest
import torch
from conftest import TRUE_EDGES

from interp.analysis import ablate, acdc, faithfulness
from interp.analysis.circuit_curves import ablation_change, curve_counts, faithfulness_curve
from interp.circuit import Circuit
from interp.errors import InputError
from interp.threads import torch_threads


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models: one torch thread is many times faster than several (see interp.threads)."""
    with torch_threads():
        yield


def test_curve_counts_run_from_zero_to_all_increasing():
    for n in (0, 3, 12, 13, 200):
        counts = curve_counts(n)
        assert counts[0] == 0 and counts[-1] == n
        assert all(a < b for a, b in zip(counts, counts[1:]))


def test_faithfulness_curve_matches_faithfulness_of_each_top_k_circuit(handbuilt, tokens):
    candidates = Circuit.full(handbuilt.cfg).edges
    # True edges score highest, so the top len(TRUE_EDGES) edges are exactly the truth.
    scores = {e: (1.0 if e in TRUE_EDGES else 0.01 * i) for i, e in enumerate(candidates)}
    k_truth = len(TRUE_EDGES)
    curve = faithfulness_curve(handbuilt, scores, tokens, counts=[0, k_truth, len(candidates)])
    ranked = sorted(candidates, key=lambda e: -scores[e])
    for k, agree in zip(curve.kept, curve.agreement):
        kept = ranked[:k]
        circuit = Circuit(sorted({e.src for e in kept} | {"logits"}), kept)
        assert agree == pytest.approx(faithfulness(handbuilt, circuit, tokens))
    assert curve.agreement[1] == 1.0 and curve.agreement[2] == 1.0
    assert curve.distance[2] == pytest.approx(0.0, abs=1e-6)
    assert curve.agreement[0] < 1.0 and curve.distance[0] > 0


def test_faithfulness_curve_refuses_bad_counts(handbuilt, tokens):
    with pytest.raises(InputError, match="edge counts"):
        faithfulness_curve(handbuilt, {}, tokens, counts=[-1])


def test_ablation_change_agrees_with_a_manual_ablation(handbuilt, tokens):
    row = tokens[:1]
    change = ablation_change(handbuilt, row, measured_at=[1, 2, 3], nodes=["L1H0"])
    with torch.no_grad():
        clean = handbuilt(row)[0]
        with ablate(handbuilt, nodes=["L1H0"]):
            ablated = handbuilt(row)[0]
    answer = clean.argmax(-1)
    assert change.answer == answer.tolist()
    assert change.clean_logit == pytest.approx([clean[i, a].item() for i, a in enumerate(answer)])
    assert change.ablated_logit == pytest.approx([ablated[i, a].item() for i, a in enumerate(answer)])
    same = [(clean[i].argmax() == ablated[i].argmax()).item() for i in (1, 2, 3)]
    assert change.agreement == pytest.approx(sum(same) / 3)
    assert change.distance > 0


def test_acdc_reports_progress_and_stops_cleanly_when_the_callback_raises(handbuilt, tokens):
    seen: list[tuple[int, int]] = []
    acdc(handbuilt, tokens[:4], threshold=1e-3, progress=lambda done, total: seen.append((done, total)))
    total = len(Circuit.full(handbuilt.cfg).edges)
    assert [d for d, _ in seen] == list(range(1, total + 1)) and {t for _, t in seen} == {total}

    class Cancelled(Exception):
        pass

    def cancel(done: int, total: int) -> None:
        if done == 3:
            raise Cancelled

    before = handbuilt(tokens)
    with pytest.raises(Cancelled):
        acdc(handbuilt, tokens[:4], threshold=1e-3, progress=cancel)
    # No hook is left behind: the model computes what it did before.
    assert torch.equal(handbuilt(tokens), before)
