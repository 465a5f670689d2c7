"""Subnetwork probing (learned hard-concrete edge/node masks) and the silent-edge rule that
lets discovery skip edges the weights cannot carry."""

import warnings

import pytest
import torch
from conftest import TRUE_EDGES, build_handbuilt, random_model

from interp.analysis import ablate, find_circuit, roc_auc
from interp.analysis import discover as discover_module
from interp.analysis.discover import acdc
from interp.analysis.silent import silent_edges
from interp.analysis.subnetwork_probing import subnetwork_probing
from interp.circuit import Circuit
from interp.errors import InputError


@pytest.fixture(scope="module")
def compiled_hist():
    from rasp.compiler import compile_program
    from rasp.compiler.batches import program_batches
    from rasp.lib import PROGRAMS

    entry = PROGRAMS["hist"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = compile_program(entry.build(), entry.vocab, entry.max_seq_len)
    batches = program_batches(compiled, entry.sample, [1, 3, 5, entry.max_seq_len], per_length=6)
    return compiled, batches


def test_sp_recovers_a_compiled_circuit_with_every_edge_masked(compiled_hist):
    # skip_silent=False: every candidate edge gets a learned mask, so the AUC is the masks'
    # own ranking, scored against the compiler's circuit (independent of this code).
    compiled, batches = compiled_hist
    found = subnetwork_probing(compiled.model, batches, steps=100, skip_silent=False)
    candidates = Circuit.full(compiled.model.cfg).edges
    assert roc_auc(found.scores, compiled.circuit().edges, candidates) >= 0.95


def test_sp_recovers_the_handbuilt_circuit():
    # Softmax version of the hand-written model: the gradient reaches queries and keys.
    model = build_handbuilt("softmax")
    batch = torch.randint(0, 4, (16, 5), generator=torch.Generator().manual_seed(0))
    found = find_circuit("sp", model, batch, steps=120).circuit
    assert roc_auc(found.scores, TRUE_EDGES, Circuit.full(model.cfg).edges) == 1.0


@pytest.mark.parametrize("level", ["edge", "node"])
def test_sp_result_contract(compiled_hist, level):
    compiled, batches = compiled_hist
    model = compiled.model
    candidates = Circuit.full(model.cfg).edges
    found = find_circuit("sp", model, batches, steps=20, level=level, seed=3, threshold=0.4)
    circuit = found.circuit
    assert found.method == "sp" and found.candidates == candidates
    assert set(circuit.scores) == set(candidates)
    assert all(0.0 <= v <= 1.0 for v in circuit.scores.values())
    assert set(circuit.edges) == {e for e in candidates if circuit.scores[e] > 0.4}
    assert set(circuit.nodes) == {e.src for e in circuit.edges} | {e.dst for e in circuit.edges}
    for edge in silent_edges(model, candidates):
        assert circuit.scores[edge] == 0.0
    again = find_circuit("sp", model, batches, steps=20, level=level, seed=3, threshold=0.4).circuit
    assert again.scores == circuit.scores  # seeded


@pytest.mark.parametrize("kwargs,fragment", [
    (dict(level="neuron"), "neuron"), (dict(steps=0), "steps"), (dict(sparsity=-1.0), "sparsity"),
    (dict(threshold=float("nan")), "nan"),
])
def test_sp_bad_arguments_are_input_errors(kwargs, fragment):
    model = build_handbuilt()
    with pytest.raises(InputError) as info:
        subnetwork_probing(model, torch.zeros(2, 5, dtype=torch.long), **kwargs)
    assert fragment in str(info.value)


def test_removing_a_silent_edge_changes_nothing(tokens):
    # Brute force: each edge the rule calls silent, ablated alone, leaves the logits
    # bit-identical; the handbuilt model's junk writers are silent into everything.
    model = build_handbuilt()
    candidates = Circuit.full(model.cfg).edges
    silent = silent_edges(model, candidates)
    assert silent and not silent & TRUE_EDGES
    with torch.no_grad():
        clean = model(tokens)
        for edge in silent:
            with ablate(model, edges=[edge], kind="mean", reference=tokens):
                assert torch.equal(model(tokens), clean), edge


def test_no_edge_is_silent_with_layernorm():
    model = random_model(normalization_type="LN")
    assert silent_edges(model, Circuit.full(model.cfg).edges) == set()


def test_acdc_skipping_silent_edges_finds_the_same_circuit(compiled_hist, monkeypatch):
    compiled, batches = compiled_hist
    fast = acdc(compiled.model, batches, progress=False)
    monkeypatch.setattr(discover_module, "silent_edges", lambda model, edges: set())
    slow = acdc(compiled.model, batches, progress=False)
    assert fast.edges == slow.edges
    assert fast.scores == pytest.approx(slow.scores, abs=1e-6)


def test_eap_ignores_a_distance_metric_and_reads_positions(tokens):
    # KL to the clean run is flat there: handed to EAP it would score every edge 0. The
    # registry gives EAP cross-entropy to the clean predictions (at `positions` when given).
    from interp.analysis import cross_entropy_to_clean, eap, kl_divergence

    model = build_handbuilt("softmax")
    batch = tokens[:8]
    plain = find_circuit("eap", model, batch).circuit
    with_kl = find_circuit("eap", model, batch, metric=kl_divergence).circuit
    assert with_kl.scores == plain.scores and max(plain.scores.values()) > 0
    at = find_circuit("eap", model, batch, positions=[4]).circuit
    direct = eap(model, batch, metric=lambda clean: cross_entropy_to_clean(clean, [4]))
    assert at.scores == direct.scores


@pytest.mark.parametrize("method,total", [("eap", 1), ("eap-ig", 3), ("sp", 4)])
def test_progress_callback_counts_every_pass(tokens, method, total):
    calls = []
    find_circuit(method, build_handbuilt("softmax"), tokens[:4], ig_steps=3, steps=4,
                 progress=lambda done, all_: calls.append((done, all_)))
    assert calls == [(i, total) for i in range(1, total + 1)]
