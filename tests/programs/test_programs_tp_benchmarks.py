"""The Transformer Program seed and exhaustive benchmarks: statistics against closed forms, labels
against the RASP interpreter, and passes per epoch for small training splits."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest
import torch

from interp.programs.data import make_task_data
from interp.programs.train import ProgramTrainConfig, passes_per_epoch

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_wilson_interval_matches_its_closed_form_values() -> None:
    seeds = _load("tp_seeds")
    # 0 of 20: upper bound z^2 / (n + z^2); 20 of 20: lower bound n / (n + z^2).
    z2 = 1.959964 ** 2
    assert seeds.wilson(0, 20) == pytest.approx((0.0, z2 / (20 + z2)), abs=1e-9)
    assert seeds.wilson(20, 20) == pytest.approx((20 / (20 + z2), 1.0), abs=1e-9)
    low, high = seeds.wilson(3, 20)  # 0.0524..0.3604 (published tables for 3/20)
    assert low == pytest.approx(0.0524, abs=5e-4) and high == pytest.approx(0.3604, abs=5e-4)


def test_fisher_exact_test_by_enumeration() -> None:
    seeds = _load("tp_seeds")
    # 3 of 20 against 0 of 26: one-sided P(first row >= 3) = C(20,3) / C(46,3).
    result = seeds.fisher_exact(3, 17, 0, 26)
    assert result["one_sided_greater"] == pytest.approx(math.comb(20, 3) / math.comb(46, 3))
    # Two-sided on a symmetric table is 1.
    assert seeds.fisher_exact(2, 8, 2, 8)["two_sided"] == pytest.approx(1.0)


@pytest.mark.parametrize("task,vocab,length", [("hist", 5, 6), ("sort", 6, 6), ("reverse", 6, 6)])
def test_exhaustive_closed_form_labels_equal_the_interpreters(task: str, vocab: int, length: int) -> None:
    exhaustive = _load("tp_exhaustive")
    data = make_task_data(task, vocab_size=vocab, max_len=length, size=200, seed=0)
    for split in (data.train, data.test):
        for row, n, targets in zip(split.tokens, split.lengths, split.targets):
            words = [data.tokens[t] for t in row[: int(n)].tolist()]
            labels = [data.labels[t] for t in targets[: int(n)].tolist() if t >= 0]
            assert exhaustive.closed_form(task, exhaustive.body_of(task, words)) == labels, words


def test_passes_per_epoch_give_at_least_the_minimum_steps() -> None:
    for n_train, batch, minimum in [(291, 512, 32), (16_000, 512, 32), (1000, 64, 40), (10, 8, 1)]:
        config = ProgramTrainConfig(batch_size=batch, min_epoch_steps=minimum)
        passes = passes_per_epoch(n_train, config)
        per_pass = math.ceil(n_train / batch)
        assert passes * per_pass >= minimum
        assert passes == 1 or (passes - 1) * per_pass < minimum  # no more passes than needed
    assert passes_per_epoch(16_000, ProgramTrainConfig(min_epoch_steps=32)) == 1  # the paper's sizes


def test_script_arguments_are_read_with_shell_variables_substituted() -> None:
    side = _load("tp_side_by_side")
    script = '#!/bin/bash\n\nSIZE=10\nSEED=6\n\necho "x"\n\npython src/run.py \\\n     --dataset "toy" \\\n' \
             '     --vocab_size "${SIZE}" \\\n     --one_hot_embed \\\n     --seed "${SEED}" \\\n' \
             '     --save \\\n     --output_dir "out/s${SEED}";\n'
    # --seed, --save and --output_dir are the caller's to set; flags without a value are kept.
    assert side._script_args(script) == ["--dataset", "toy", "--vocab_size", "10", "--one_hot_embed"]


def test_shared_noise_is_a_function_of_step_and_site() -> None:
    side = _load("tp_side_by_side")
    a, b = side.SharedNoise(3), side.SharedNoise(3)
    first = a.get("0.A", (2, 1, 4, 4)).clone()
    assert torch.equal(first, b.get("0.A", (2, 1, 4, 4)))  # another reader, the same noise
    assert not torch.equal(first[0, 0], a.get("0.P", (1, 4, 4))[0])  # another site, other noise
    a.step = 1
    assert not torch.equal(first, a.get("0.A", (2, 1, 4, 4)))  # another step, other noise
    with pytest.raises(AssertionError, match="shape"):
        b.get("0.A", (3, 1, 4, 4))
