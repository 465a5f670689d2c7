"""SIIT measures (interp.evaluation.siit): the batched measures equal one patched run per
component, and IIA over changed positions counts only swaps that change the program's output."""

import torch

from interp.evaluation.siit import counterfactual_targets, patched_logits, siit_measures
from interp.model import load_model
from interp.shipped import shipped_path
from interp.tasks.base import IGNORE
from interp.tasks.siit_task import SiitTask


def test_measures_equal_per_component_runs_and_changed_iia_by_counting():
    model = load_model(shipped_path("siit-count"))
    task = SiitTask("count", 4, extra_heads=1)
    generator = torch.Generator().manual_seed(7)
    base, source = task.draw_inputs(60, generator), task.draw_inputs(60, generator)
    got = siit_measures(model, task, base, source)
    plain = task.targets(base)
    right = total = changed_right = changed_total = 0
    with torch.no_grad():
        for component in task.aligned:
            want = counterfactual_targets(task, base, source, component)
            pred = patched_logits(model, base, source, component).argmax(-1)
            for row in range(60):
                for pos in range(1, task.seq_len):  # position 0 is BOS, never scored
                    assert want[row, pos] != IGNORE
                    right += int(pred[row, pos] == want[row, pos])
                    total += 1
                    if want[row, pos] != plain[row, pos]:
                        changed_right += int(pred[row, pos] == want[row, pos])
                        changed_total += 1
    assert changed_total > 0
    assert got["iia"] == right / total
    assert got["iia_changed"] == changed_right / changed_total
