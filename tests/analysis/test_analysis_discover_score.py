"""Circuit discovery on a model with a known circuit; scoring against brute force."""

import itertools
import random

import pytest
import torch
from conftest import TRUE_EDGES, build_handbuilt, random_model
from hypothesis import given, settings
from hypothesis import strategies as st

from interp.analysis import (
    ablate,
    acdc,
    eap,
    faithfulness,
    kl_divergence,
    precision_recall,
    roc_auc,
    roc_points,
)
from interp.circuit import Circuit, Edge
from interp.errors import InputError


def test_acdc_recovers_the_handbuilt_circuit(handbuilt, tokens):
    found = acdc(handbuilt, tokens, ablation="zero", progress=False)
    assert set(found.edges) == TRUE_EDGES
    candidates = Circuit.full(handbuilt.cfg).edges
    assert set(found.scores) == set(candidates)
    assert roc_auc(found.scores, TRUE_EDGES, candidates) == 1.0
    assert faithfulness(handbuilt, found, tokens) == 1.0


def test_eap_ranks_value_paths_of_the_handbuilt_circuit(handbuilt, tokens):
    found = eap(handbuilt, tokens, ablation="zero")
    # Hard attention has no gradient through queries and keys, so EAP sees exactly the
    # value / MLP / logit edges of the true circuit and nothing outside it.
    visible = {e for e in TRUE_EDGES if e.slot not in ("q", "k")}
    assert set(found.edges) == visible
    assert all(found.scores[e] == 0 for e in Circuit.full(handbuilt.cfg).edges if e not in TRUE_EDGES)


def test_eap_score_of_a_logit_edge_is_the_exact_linear_effect():
    model = random_model()
    tokens = torch.randint(0, 7, (6, 6), generator=torch.Generator().manual_seed(2))
    found = eap(model, tokens, ablation="zero", metric=lambda clean: (lambda lg: lg.sum()))
    for src in ("L0H1", "MLP0", "embed"):
        edge = Edge(src, "logits")
        with torch.no_grad():
            with ablate(model, edges=[edge]):
                changed = model(tokens)
            per_row = (changed - model(tokens)).sum(dim=(1, 2)).abs().mean().item()
        assert found.scores[edge] == pytest.approx(per_row, rel=1e-4, abs=1e-5)


def test_faithfulness_of_empty_and_full_circuits(handbuilt, tokens):
    assert faithfulness(handbuilt, Circuit.full(handbuilt.cfg), tokens) == 1.0
    assert faithfulness(handbuilt, Circuit(["logits"], []), tokens) < 0.5


def brute_force_auc(scores, truth, candidates):
    pos = [scores.get(e, float("-inf")) for e in candidates if e in truth]
    neg = [scores.get(e, float("-inf")) for e in candidates if e not in truth]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 4), min_size=2, max_size=14),
    st.lists(st.booleans(), min_size=2, max_size=14),
    st.integers(0, 3),
)
def test_auc_equals_brute_force_pairwise(values, labels, n_unscored):
    n = min(len(values), len(labels))
    edges = [Edge(f"n{i}", "logits") for i in range(n)]
    truth = {e for e, positive in zip(edges, labels) if positive}
    if not truth or len(truth) == n:
        return
    # Few distinct values: plenty of ties; some candidates left unscored.
    scores = {e: float(v) for e, v in zip(edges[n_unscored:], values[n_unscored:])}
    assert roc_auc(scores, truth, edges) == pytest.approx(brute_force_auc(scores, truth, edges))


def test_auc_matches_trapezoid_under_roc_points():
    rng = random.Random(0)
    edges = [Edge(f"n{i}", "logits") for i in range(30)]
    truth = set(rng.sample(edges, 9))
    scores = {e: rng.choice([0.0, 0.1, 0.5, 1.0, rng.random()]) for e in edges}
    points = roc_points(scores, truth, edges)
    area = sum((x1 - x0) * (y0 + y1) / 2 for (x0, y0), (x1, y1) in zip(points, points[1:]))
    assert points[-1] == (1.0, 1.0)
    assert roc_auc(scores, truth, edges) == pytest.approx(area)


def test_precision_recall_and_errors():
    a, b, c = Edge("embed", "logits"), Edge("L0H0", "logits"), Edge("MLP0", "logits")
    assert precision_recall([a, b], [b, c]) == (0.5, 0.5)
    assert precision_recall([], [a]) == (1.0, 0.0)
    with pytest.raises(InputError, match="positives and negatives"):
        roc_auc({a: 1.0}, [a], [a])
    with pytest.raises(InputError, match="not candidates"):
        roc_auc({a: 1.0}, [c], [a, b])


def test_discovery_runs_on_softmax_and_vector_models():
    soft = build_handbuilt("softmax")
    tokens = torch.randint(0, 4, (16, 5), generator=torch.Generator().manual_seed(0))
    for ablation in ("zero", "mean", "resample"):
        found = acdc(soft, tokens, ablation=ablation, progress=False)
        assert set(found.edges) <= set(Circuit.full(soft.cfg).edges)
    assert set(acdc(soft, tokens, progress=False).edges) == TRUE_EDGES
    vector = random_model(d_input=3, d_vocab=1, d_vocab_out=1)
    inputs = torch.randn(8, 6, 3, generator=torch.Generator().manual_seed(0))
    for method in (acdc, eap):
        kwargs = {"progress": False} if method is acdc else {}
        found = method(vector, inputs, ablation="mean", **kwargs)
        assert 0 < len(found.edges) <= len(Circuit.full(vector.cfg).edges)
    assert faithfulness(vector, Circuit.full(vector.cfg), inputs, kind="mean") == 1.0


def naive_acdc(model, tokens, threshold, kind):
    """ACDC by full forward passes through `ablate` (no prefix reuse, no skipping)."""
    metric = kl_divergence(model(tokens))
    full = Circuit.full(model.cfg)
    order = {n: i for i, n in enumerate(full.nodes)}
    removed, scores, current = [], {}, 0.0
    for dst in reversed(full.nodes):
        edges = [e for e in full.edges if e.dst == dst]
        for edge in sorted(edges, key=lambda e: order[e.src], reverse=True):
            with torch.no_grad(), ablate(model, edges=removed + [edge], kind=kind, reference=tokens):
                value = metric(model(tokens)).item()
            scores[edge] = value - current
            if value - current < threshold:
                removed.append(edge)
                current = value
    return scores, set(full.edges) - set(removed)


@pytest.mark.parametrize("kind", ["zero", "mean"])
def test_acdc_matches_naive_full_recomputation(kind):
    model = random_model()
    tokens = torch.randint(0, 7, (6, 6), generator=torch.Generator().manual_seed(4))
    scores, kept = naive_acdc(model, tokens, 3e-3, kind)
    found = acdc(model, tokens, threshold=3e-3, ablation=kind, progress=False)
    assert set(found.edges) == kept
    assert 0 < len(kept) < len(scores)
    for edge, value in scores.items():
        # ACDC skips nodes nothing reads any more (their inputs score 0 without a run).
        assert found.scores[edge] == pytest.approx(value, abs=1e-5), edge


def test_eap_ig_sees_through_saturated_attention():
    soft = build_handbuilt("softmax")  # near-hard: scores x100
    tokens = torch.randint(0, 4, (16, 5), generator=torch.Generator().manual_seed(0))
    candidates = Circuit.full(soft.cfg).edges
    plain = eap(soft, tokens)
    integrated = eap(soft, tokens, ig_steps=10)
    assert roc_auc(plain.scores, TRUE_EDGES, candidates) < 1.0
    assert roc_auc(integrated.scores, TRUE_EDGES, candidates) == 1.0
