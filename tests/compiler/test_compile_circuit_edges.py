"""The ground-truth circuit is complete at edge level: cutting any edge it leaves out
changes no output. Checked by zero-ablating each omitted edge alone (an intervention on
the weights' actual dataflow, independent of how `circuit()` derives its edges)."""

import warnings

import pytest
import torch

from interp.analysis import ablate
from interp.circuit import Circuit
from rasp.compiler import compile_program
from rasp.compiler.batches import program_batches
from rasp.lib import PROGRAMS


@pytest.mark.parametrize("name", ["count", "reverse", "sort", "hist_bos", "detect_pattern", "frac_prevs"])
def test_edges_outside_the_circuit_are_causally_irrelevant(name):
    entry = PROGRAMS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = compile_program(entry.build(), entry.vocab, 6)
    model = compiled.model
    truth = compiled.circuit().edge_set()
    omitted = [e for e in Circuit.full(model.cfg).edges if e not in truth]
    assert omitted, "every edge is in the circuit: nothing to check"
    batches = program_batches(compiled, entry.sample, [1, 3, 6], per_length=8)
    with torch.no_grad():
        full = [model(batch) for batch in batches]
        for edge in omitted:
            for batch, reference in zip(batches, full):
                with ablate(model, edges=[edge], kind="zero", reference=batch):
                    cut = model(batch)
                # Decoded outputs are arg-maxes: compare those, plus a loose logit bound.
                assert torch.equal(cut.argmax(-1), reference.argmax(-1)), f"{name}: {edge} matters"
                assert (cut - reference).abs().max() < 1e-3, f"{name}: {edge} moves logits"
