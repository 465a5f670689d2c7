"""The discovery registry: one signature for every method, one scorer, ACDC's threshold 0."""

import itertools
import math

import pytest

from interp.analysis import METHODS, acdc, eap, find_circuit, score_circuit
from interp.analysis.discover import _denoised
from interp.analysis.registry import REGISTRY
from interp.circuit import Circuit
from interp.errors import InputError


def test_every_method_name_is_registered_once():
    assert tuple(REGISTRY) == METHODS == ("acdc", "eap", "eap-ig", "sp")


@pytest.mark.parametrize("method", METHODS)
def test_one_signature_with_progress_for_every_method(handbuilt, tokens, method, capsys):
    found = find_circuit(method, handbuilt, tokens[:8], ablation="mean", threshold=1e-3,
                         ig_steps=3, seed=1, progress=True)
    assert found.method == method and found.ablation == "mean" and found.seconds >= 0
    assert set(found.circuit.scores) == set(Circuit.full(handbuilt.cfg).edges)
    assert method.split("-")[0] in capsys.readouterr().err  # a progress bar was shown


def test_registry_runs_the_methods_themselves(handbuilt, tokens):
    batch = tokens[:8]
    direct = acdc(handbuilt, batch, threshold=1e-3, ablation="zero", progress=False)
    via = find_circuit("acdc", handbuilt, batch, threshold=1e-3).circuit
    assert via.edges == direct.edges and via.scores == direct.scores
    direct = eap(handbuilt, batch, ablation="resample", ig_steps=4)
    via = find_circuit("eap-ig", handbuilt, batch, ablation="resample", ig_steps=4).circuit
    assert via.scores == direct.scores


def test_score_circuit_against_brute_force(handbuilt, tokens, handbuilt_truth):
    found = find_circuit("eap", handbuilt, tokens[:8], threshold=0.05)
    truth = set(handbuilt_truth.edges)
    score = score_circuit(found, truth)
    candidates = Circuit.full(handbuilt.cfg).edges
    scores = found.circuit.scores
    # AUC: the fraction of (true, false) pairs ranked correctly, ties counting one half.
    pairs = list(itertools.product([e for e in candidates if e in truth],
                                   [e for e in candidates if e not in truth]))
    wins = sum(1.0 if scores[t] > scores[f] else 0.5 if scores[t] == scores[f] else 0.0
               for t, f in pairs)
    assert score.auc == pytest.approx(wins / len(pairs))
    kept = set(found.circuit.edges)
    assert score.precision == len(kept & truth) / len(kept)
    assert score.recall == len(kept & truth) / len(truth)
    assert (score.kept_edges, score.candidate_edges, score.true_edges) == (
        len(kept), len(candidates), len(truth))
    assert score.seconds == found.seconds


def test_auc_is_none_when_undefined(handbuilt, tokens):
    found = find_circuit("eap", handbuilt, tokens[:4])
    assert score_circuit(found, []).auc is None


@pytest.mark.parametrize("call,fragment", [
    (lambda m, t: find_circuit("sae", m, t), "'sae'"),
    (lambda m, t: find_circuit("acdc", m, t, tau=1.0), "tau"),
    (lambda m, t: find_circuit("eap", m, t, ablation="noise"), "'noise'"),
    (lambda m, t: find_circuit("acdc", m, t, threshold=math.nan), "nan"),
    (lambda m, t: find_circuit("acdc", m, t, threshold=-1.0), "-1.0"),
    (lambda m, t: find_circuit("eap-ig", m, t, ig_steps=0), "ig_steps"),
    (lambda m, t: eap(m, t, ig_steps=-2), "ig_steps"),
])
def test_bad_discovery_arguments_are_input_errors(handbuilt, tokens, call, fragment):
    with pytest.raises(InputError) as info:
        call(handbuilt, tokens[:4])
    assert fragment in str(info.value)


def test_acdc_at_threshold_zero_keeps_every_edge(handbuilt, tokens, handbuilt_truth):
    found = acdc(handbuilt, tokens[:8], threshold=0.0, ablation="mean", progress=False)
    assert set(found.edges) == set(Circuit.full(handbuilt.cfg).edges)
    assert set(handbuilt_truth.edges) <= set(found.edges)


def test_float_noise_scores_count_as_zero():
    assert _denoised(-4e-9, 0.0) == 0.0
    assert _denoised(5e-8, 0.3) == 0.0
    assert _denoised(2e-6, 0.3) == 2e-6
    assert _denoised(-1e-3, 10.0) == -1e-3
