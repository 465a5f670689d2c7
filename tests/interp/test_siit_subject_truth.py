"""A SIIT model's ground truth is the circuit it was trained to implement: its program compiled
one component per operation (interp.tasks.siit_task), named as the SIIT model's own components,
so discovery on the model can be scored against it (as `interp circuit-bench` does)."""

from __future__ import annotations

import pytest

from interp.circuit import Circuit
from interp.shipped import shipped_names
from interp.subjects import load_subject

SIIT = [name for name in shipped_names() if name.startswith("siit-")]


@pytest.mark.parametrize("name", SIIT)
def test_truth_is_the_compiled_programs_circuit_on_the_models_components(name):
    subject = load_subject(name)
    truth = subject.ground_truth()
    assert truth is not None and truth.edges
    compiled = subject.task.compiled
    assert set(truth.edges) == set(compiled.circuit().edges)
    # The SIIT model may have more heads than the compiled one (spare capacity, as InterpBench's
    # models do), but every true edge must be one the SIIT model has.
    assert set(truth.edges) <= set(Circuit.full(subject.model.cfg).edges)
