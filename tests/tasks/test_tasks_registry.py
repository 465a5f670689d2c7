"""Every registered task builds with its defaults and samples well-formed, seeded batches;
RASP-library tasks take their targets from the interpreter."""

from __future__ import annotations

from collections import Counter

import pytest
import torch

from interp.errors import InputError
from interp.tasks import IGNORE, TASKS, RaspTask, Reverse, make_task


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_task_samples_valid_batches(name: str):
    task = make_task(name)
    batch = task.batch(4, seed=0)
    inputs = batch[0] if isinstance(batch, tuple) else batch
    assert inputs.shape[:2] == (4, task.seq_len)
    if not inputs.dtype.is_floating_point:
        assert inputs.dtype == torch.long and 0 <= inputs.min() and inputs.max() < task.d_vocab
    if isinstance(batch, tuple) and not batch[1].dtype.is_floating_point:
        scored = batch[1][batch[1] != IGNORE]
        assert scored.numel() and 0 <= scored.min() and scored.max() < task.d_vocab_out
    again = task.batch(4, seed=0)
    assert torch.equal(inputs, again[0] if isinstance(again, tuple) else again)


def test_reverse_from_the_interpreter_is_the_flip():
    inputs, targets = Reverse(d_vocab=6, seq_len=7).batch(50, seed=1)
    assert torch.equal(targets, inputs.flip(1))


def test_library_hist_targets_are_counts():
    task = RaspTask("hist", seq_len=6)
    inputs, targets = task.batch(30, seed=2)
    for row, target in zip(inputs.tolist(), targets.tolist()):
        counts = Counter(row)
        assert [task.out_values[t] for t in target] == [counts[x] for x in row]


def test_unknown_program_or_length():
    with pytest.raises(InputError, match="unknown RASP library program"):
        RaspTask("quicksort")
    with pytest.raises(InputError, match="seq_len"):
        RaspTask("reverse", seq_len=99)
