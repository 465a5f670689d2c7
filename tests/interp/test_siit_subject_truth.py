"""A SIIT model's ground truth is the circuit it was trained to implement: the minimal truth of
its program compiled one component per operation (interp.tasks.siit_task), named as the SIIT
model's own components, so discovery on the model can be scored against it (as `interp
circuit-bench` does).

Checked on the compiled model with `ablate`, on inputs of the SIIT model's one length: every
truth edge, removed on top of the edges left out, changes a logit after BOS on its witness
(an input the interpreter maps to the model's own output), and the edges left out, removed
together, change none on fresh inputs the truth was not built from.
"""

from __future__ import annotations

import pytest
import torch

from interp.analysis.ablate import ablate
from interp.circuit import Circuit
from interp.shipped import shipped_names
from interp.subjects import load_subject
from interp.subjects.live_truth import TOLERANCE
from rasp.evaluate import evaluate

SIIT = [name for name in shipped_names() if name.startswith("siit-")]


def _moved(model, edges, batch: torch.Tensor) -> float:
    with torch.no_grad():
        clean = model(batch)
        with ablate(model, edges=edges, kind="zero"):
            return float((model(batch) - clean)[:, 1:].abs().max())


@pytest.mark.parametrize("name", SIIT)
def test_truth_is_the_compiled_programs_minimal_circuit_on_the_models_components(name):
    subject = load_subject(name)
    truth = subject.ground_truth()
    assert truth is not None and truth.edges
    compiled = subject.task.compiled
    structural = set(compiled.circuit().edges)
    assert set(truth.edges) <= structural
    # The SIIT model may have more heads than the compiled one (spare capacity, as InterpBench's
    # models do), but every true edge must be one the SIIT model has.
    assert set(truth.edges) <= set(Circuit.full(subject.model.cfg).edges)
    left_out = sorted(structural - set(truth.edges), key=str)
    evidence = subject.live_truth()
    for edge in truth.edges:
        witness = evidence.witness[edge]
        assert len(witness) == subject.n_tokens
        assert compiled.run(witness) == evaluate(compiled.program, witness)
        batch = torch.tensor([compiled.encode(witness)])
        assert _moved(compiled.model, left_out + [edge], batch) > TOLERANCE, (name, edge, witness)
    fresh = subject.task.draw_inputs(64, torch.Generator().manual_seed(99))  # [64, 1 + n_tokens]
    assert _moved(compiled.model, left_out, fresh) <= TOLERANCE
