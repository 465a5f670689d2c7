"""The task-report registry: each task type gets its report, and the generic token report
agrees with a per-example loop written independently."""

from __future__ import annotations

import math

import pytest
import torch

from interp.errors import InputError
from interp.evaluation import REPORTS, evaluate, report_for, task_of
from interp.evaluation.task_reports import addition_report, markov_report, token_report
from interp.model import HookedTransformer, ModelConfig
from interp.tasks import Addition, MarkovTask, Reverse, Task
from interp.tasks.regression import RegressionTask


def random_model(task: Task, seed: int = 3) -> HookedTransformer:
    cfg = ModelConfig(n_layers=1, d_model=16, n_ctx=task.seq_len, d_vocab=task.d_vocab,
                      d_vocab_out=task.d_vocab_out, n_heads=2, d_mlp=16, causal=task.causal)
    return HookedTransformer(cfg, metadata={"task": "reverse", "task_options": {"d_vocab": 5, "seq_len": 6}}
                             ).init_weights(std=0.5, seed=seed)


def test_each_task_type_has_its_report_and_subclasses_inherit_it():
    assert report_for(Addition(3)) is addition_report
    assert report_for(MarkovTask()) is markov_report
    assert report_for(RegressionTask(d=3, n_points=7)) is REPORTS[RegressionTask]

    class Harder(Addition):
        pass

    assert report_for(Harder(3)) is addition_report
    assert report_for(Reverse(d_vocab=5, seq_len=6)) is token_report


def test_token_report_equals_a_per_example_loop():
    task = Reverse(d_vocab=5, seq_len=6)
    model = random_model(task).eval()
    got = token_report(model, task, seed=11, n=300)
    inputs, targets = task.sample(300, torch.Generator().manual_seed(11))
    nll, right, scored, whole = 0.0, 0, 0, 0
    with torch.no_grad():
        for x, y in zip(inputs, targets):
            logits = model(x[None])[0].double()  # [seq, vocab]
            ok = True
            for pos in range(task.seq_len):
                if int(y[pos]) == -100:
                    continue
                log_z = math.log(sum(math.exp(v) for v in logits[pos].tolist()))
                nll += log_z - float(logits[pos, y[pos]])
                hit = int(logits[pos].argmax()) == int(y[pos])
                right, scored, ok = right + hit, scored + 1, ok and hit
            whole += ok
    assert got["loss"] == pytest.approx(nll / scored, rel=1e-4)
    assert got["accuracy"] == right / scored and got["exact_match"] == whole / 300


def test_evaluate_reads_the_task_from_the_metadata_or_refuses():
    task = Reverse(d_vocab=5, seq_len=6)
    model = random_model(task)
    assert evaluate(model) == token_report(model, task)
    assert task_of(model).name == task.name
    model.metadata = {}
    with pytest.raises(InputError, match="names no task"):
        evaluate(model)


def test_a_task_with_an_unknown_loss_is_refused_not_guessed():
    task = Reverse(d_vocab=5, seq_len=6)
    task.loss = "masked_mse"
    with pytest.raises(InputError, match="REPORTS"):
        token_report(random_model(Reverse(d_vocab=5, seq_len=6)), task)
