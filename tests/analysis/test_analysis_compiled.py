"""Analyses on compiled RASP programs, scored against the compiler's ground truth."""

import random
import warnings

import pytest
import torch

from interp.analysis import ablate, acdc, residual_readout, roc_auc  # noqa: E402
from interp.analysis.score import inert_edges  # noqa: E402
from interp.circuit import Circuit, node_order  # noqa: E402
from rasp.compiler import compile_program  # noqa: E402
from rasp.compiler.batches import program_batches  # noqa: E402
from rasp.lib import PROGRAMS  # noqa: E402


def compiled(name):
    entry = PROGRAMS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = compile_program(entry.build(), entry.vocab, 6)
    return entry, model


def decoded(program, inputs):
    return program.run_batch(inputs)


@pytest.mark.parametrize("name", ["hist", "reverse", "frac_prevs", "sort_unique"])
def test_ablating_unused_components_keeps_outputs_and_used_ones_change_them(name):
    entry, program = compiled(name)
    rng = random.Random(0)
    inputs = [entry.sample(rng, rng.randint(1, 6))[:6] for _ in range(40)]
    inputs = [x for x in inputs if x]
    expected = decoded(program, inputs)
    batches = program_batches(program, entry.sample, [2, 4, 6], per_length=8)
    used = set(program.circuit().nodes)
    components = [n for n in node_order(program.model.cfg) if n not in ("embed", "pos_embed", "logits")]
    changed_any = False
    for node in components:
        with ablate(program.model, nodes=[node]):
            got = decoded(program, inputs)
        if node not in used:
            assert got == expected, node
        elif got != expected:
            changed_any = True
        if node in used and node.startswith(("L", "MLP")):
            # Every used component matters on some input (zero ablation).
            moved = False
            for batch in batches:
                with torch.no_grad():
                    full = program.model(batch)
                    with ablate(program.model, nodes=[node]):
                        moved |= bool((program.model(batch) - full).abs().max() > 1e-3)
            assert moved, node
    assert changed_any


@pytest.mark.parametrize("name", ["hist", "frac_prevs", "sort_unique"])
def test_acdc_ranks_every_used_true_edge_above_every_false_one(name):
    entry, program = compiled(name)
    batches = program_batches(program, entry.sample, [1, 2, 3, 4, 5, 6], per_length=8)
    truth = set(program.circuit().edges)
    inert = inert_edges(program.model, truth, batches)
    found = acdc(program.model, batches, ablation="zero", progress=False)
    candidates = [e for e in Circuit.full(program.model.cfg).edges if e not in inert]
    assert roc_auc(found.scores, truth - inert, candidates) == 1.0


def test_residual_readout_matches_the_interpreter():
    entry, program = compiled("reverse")
    tokens = ["a", "c", "d", "b"]
    ids = torch.tensor([program.encode(tokens)])
    readout = residual_readout(program.model, ids)
    last = readout.values[readout.hooks[-1]]
    assert last["reverse"][1:] == list(reversed(tokens))
    assert readout.values[readout.hooks[0]]["tokens"][1:] == tokens


def test_program_batches_and_after_bos():
    from interp.analysis.metrics import distance_to
    from rasp.compiler.batches import after_bos

    entry, program = compiled("hist")
    batches = program_batches(program, entry.sample, [1, 3, 6], per_length=4, seed=1)
    assert [tuple(b.shape) for b in batches] == [(4, 2), (4, 4), (4, 7)]
    assert all((b[:, 0] == 0).all() for b in batches)  # BOS first
    logits = program.model(batches[1])
    changed = logits.clone()
    changed[:, 0, 0] += 5.0
    assert after_bos(distance_to)(logits)(changed).item() == 0.0
    changed[:, 2, 0] += 5.0
    assert after_bos(distance_to)(logits)(changed).item() > 0.0
