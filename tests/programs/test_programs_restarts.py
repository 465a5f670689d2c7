"""Restarts selected on validation: the kept run is the one with the best hard validation
accuracy among independently trained runs from the restart seeds, and no further run starts
once that accuracy reaches `restart_below`."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from interp.programs.data import make_task_data
from interp.programs.pipeline import PipelineOptions, _train_with_restarts, restart_seed
from interp.programs.program import ProgramShape
from interp.programs.train import ProgramTrainConfig, train_program


def tiny_hist():
    data = make_task_data("hist", vocab_size=5, max_len=5, exhaustive=True)
    shape = ProgramShape(tokens=data.tokens, labels=data.labels, n_ctx=5, n_layers=1, n_cat_heads=0,
                         n_num_heads=1, n_cat_mlps=0, n_num_mlps=0, d_mlp=16)
    return data, shape


CONFIG = ProgramTrainConfig(epochs=8, batch_size=16, seed=3, stop_when_perfect=False)


def test_restart_seeds_are_distinct_and_the_first_is_the_seed() -> None:
    seeds = [restart_seed(3, r) for r in range(50)]
    assert seeds[0] == 3 and len(set(seeds)) == 50
    assert all(0 <= s < 2**63 for s in seeds)
    assert restart_seed(4, 1) != restart_seed(3, 1)


def test_kept_run_is_the_best_of_independently_trained_runs() -> None:
    torch.set_num_threads(1)
    data, shape = tiny_hist()
    options = PipelineOptions(task="hist", seed=3, restarts=3, restart_below=1.01)  # every restart runs
    kept, runs = _train_with_restarts(data, shape, CONFIG, options, None, False, False, False)
    # The reference: each restart trained on its own, with the seed it should have.
    alone = [train_program(data, shape, replace(CONFIG, seed=restart_seed(3, r)), progress=False)
             for r in range(3)]
    assert [r["hard_val_accuracy"] for r in runs] == [a.best_val_hard for a in alone]
    best = max(range(3), key=lambda r: (alone[r].best_val_hard, -r))  # ties: the earlier
    assert best != 0  # (seed 3, 8 epochs: 0.45, 0.45, 0.6) so keeping the first run would fail
    assert [r["kept"] for r in runs] == [r == best for r in range(3)]
    for name, value in kept.model.state_dict().items():
        assert torch.equal(value, alone[best].model.state_dict()[name])


@pytest.mark.parametrize("below", [0.0, 0.4])
def test_no_restart_once_validation_reaches_the_bar(below: float) -> None:
    torch.set_num_threads(1)
    data, shape = tiny_hist()
    first = train_program(data, shape, CONFIG, progress=False)
    assert first.best_val_hard >= below  # so the bar is met by the first run
    options = PipelineOptions(task="hist", seed=3, restarts=5, restart_below=below)
    kept, runs = _train_with_restarts(data, shape, CONFIG, options, None, False, False, False)
    assert len(runs) == 1 and runs[0]["kept"] and runs[0]["train_seed"] == 3
    assert kept.best_val_hard == first.best_val_hard
