"""The faithfulness curve leaves silent edges out of its ablations: the same numbers as
ablating every edge outside the kept ones (the reference: the skip switched off)."""

from __future__ import annotations

import random

import pytest
import torch

from interp.analysis import circuit_curves
from interp.analysis.circuit_curves import faithfulness_curve
from interp.analysis.silent import silent_edges
from interp.circuit import Circuit
from interp.subjects import compile_subject, load_program


@pytest.mark.parametrize("kind", ["zero", "mean"])
def test_curve_without_silent_edges_equals_ablating_them(monkeypatch, kind):
    subject = compile_subject(load_program("lib:sort"), max_seq_len=5)
    model = subject.model
    edges = Circuit.full(model.cfg).edges
    assert silent_edges(model, edges), "the test needs a model with silent edges"
    rng = random.Random(0)
    scores = {edge: rng.random() for edge in edges}  # a ranking that mixes silent and live edges
    inputs = subject.analysis_inputs(4, seed=0).batches
    counts = [0, 1, 3, 10, len(edges) // 2, len(edges)]
    fast = faithfulness_curve(model, scores, inputs, kind=kind, counts=counts)
    monkeypatch.setattr(circuit_curves, "silent_edges", lambda model, edges: set())
    every = faithfulness_curve(model, scores, inputs, kind=kind, counts=counts)
    assert fast.agreement == every.agreement
    assert torch.allclose(torch.tensor(fast.distance, dtype=torch.float64),
                          torch.tensor(every.distance, dtype=torch.float64), rtol=0, atol=1e-9)
