"""A Transformer Program's ground truth (ProgramSubject.ground_truth): its non-silent edges
pruned on its task's inputs. Checked with `ablate` (zero ablation, the answer positions): the
edges left out, removed together, move no answer logit by more than the tolerance on those
inputs, and every truth edge, removed on top of them, moves one on its witness row."""

from __future__ import annotations

import torch

from interp.analysis.ablate import ablate
from interp.circuit import Circuit
from interp.subjects import load_subject
from interp.subjects.live_truth import TOLERANCE


def _moved(model, edges, batch: torch.Tensor, positions: list[int]) -> torch.Tensor:
    """[rows]: largest |logit change| at `positions` with `edges` zero-ablated."""
    with torch.no_grad():
        clean = model(batch)
        with ablate(model, edges=edges, kind="zero"):
            return (model(batch) - clean)[:, positions].abs().flatten(1).amax(1)


def test_program_truth_is_faithful_and_minimal_on_its_inputs() -> None:
    subject = load_subject("program:hist")
    truth, pruned, batches = subject.live_truth()
    assert subject.ground_truth().edge_set() == truth.edge_set() and truth.edges  # the stored truth too
    full = set(Circuit.full(subject.model.cfg).edges)
    left_out = sorted(full - set(truth.edges), key=str)  # silent and pruned edges alike
    positions = subject.answer_positions(batches[0].shape[1])
    model = subject.model
    assert float(_moved(model, left_out, batches[0], positions).max()) <= TOLERANCE
    for edge in truth.edges:
        batch, row = pruned.witness[edge]
        one = batches[batch][row:row + 1]
        assert float(_moved(model, left_out + [edge], one, positions)[0]) > TOLERANCE, edge
