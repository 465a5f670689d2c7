"""Training: a short run on tiny hist learns, its discretised program equals its hard pass,
and every decompiled form agrees with it on every input; resume equals an uninterrupted run."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

import interp.programs.model as model_module
import interp.programs.train as train_module
from interp.errors import InputError
from interp.programs.data import Split, make_task_data
from interp.programs.pipeline import PipelineOptions, _concat, shape_for, verify
from interp.programs.program import ProgramShape
from interp.programs.train import EpochShuffledBatches, ProgramTrainConfig, accuracy, train_program
from interp.training.loop import eval_generator, step_generator


def tiny_hist():
    data = make_task_data("hist", vocab_size=5, max_len=5, exhaustive=True)
    shape = ProgramShape(tokens=data.tokens, labels=data.labels, n_ctx=5, n_layers=1, n_cat_heads=0,
                         n_num_heads=1, n_cat_mlps=0, n_num_mlps=0, d_mlp=16)
    return data, shape


def test_short_training_learns_and_every_form_agrees_on_every_input() -> None:
    torch.set_num_threads(1)
    data, shape = tiny_hist()
    config = ProgramTrainConfig(epochs=40, batch_size=16, seed=7, stop_when_perfect=False)
    trained = train_program(data, shape, config, progress=False)
    history = trained.history
    assert {"val_soft", "val_hard", "tau", "loss", "epoch"} <= set(history[0])
    assert history[-1]["tau"] < 0.02 < 2.9 < history[0]["tau"]  # annealed 3.0 -> 0.01
    everything = _concat([data.train, data.val, data.test])
    # Seed 7 measured 100% on validation and 92.5% over all inputs; most seeds of this tiny
    # run stay near the 45% of always answering 1, so the seed is part of the test.
    assert trained.best_val_hard == 1.0
    assert accuracy(trained.model, everything, hard=True) > 0.9
    program = trained.model.discretize()
    real = torch.arange(5)[None] < everything.lengths[:, None]
    with torch.no_grad():
        hard = trained.model(everything.tokens, everything.lengths, hard=True).argmax(-1)
    assert torch.equal(hard[real], program.predict(everything.tokens, everything.lengths)[real])
    data.test = everything  # check the decompiled forms on every input, not only the test split
    result = verify(program, data, compile_rasp=True)
    assert result["program_matches_model"] == 1.0
    assert result["hooked_matches_model"] == 1.0
    assert result["rasp_interpreter_matches_model"] == 1.0
    assert result["rasp_matches_model"] == 1.0


def test_stopping_at_perfect_validation_selects_the_full_runs_weights() -> None:
    torch.set_num_threads(1)
    data, shape = tiny_hist()
    config = ProgramTrainConfig(epochs=40, batch_size=16, seed=7, stop_when_perfect=False)
    full = train_program(data, shape, config, progress=False)
    early = train_program(data, shape, ProgramTrainConfig(epochs=40, batch_size=16, seed=7), progress=False)
    assert full.stop_reason == "completed" and full.epochs_run == 40
    assert early.stop_reason == "perfect_validation" and early.epochs_run < 40
    assert early.best_epoch == full.best_epoch and early.best_val_hard == full.best_val_hard == 1.0
    for (name, a), b in zip(full.model.state_dict().items(), early.model.state_dict().values()):
        assert torch.equal(a, b), name


@pytest.mark.parametrize("batches", ["replacement", "epochs"])
def test_resume_equals_uninterrupted(tmp_path: Path, batches: str) -> None:
    data, shape = tiny_hist()
    config = ProgramTrainConfig(epochs=4, batch_size=32, seed=3, batches=batches)
    straight = train_program(data, shape, config, progress=False)
    interrupted = tmp_path / "interrupted"
    _train_epochs(data, shape, config, interrupted, stop_after=2)
    resumed = train_program(data, shape, config, out_dir=interrupted, resume=True, progress=False)
    assert resumed.history == straight.history
    for (name, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name


def test_epoch_batches_visit_every_example_once_per_epoch_in_a_fresh_order() -> None:
    n, batch_size, seed = 70, 16, 5  # 5 batches per epoch, the last one of 6 rows
    ids = torch.arange(n)
    split = Split(tokens=ids[:, None], lengths=torch.ones(n, dtype=torch.long), targets=ids[:, None])
    sampler = EpochShuffledBatches(split, batch_size, seed)
    held_out = sampler(40, eval_generator(seed))[0][:, 0]
    assert len(held_out) == 40 and len(set(held_out.tolist())) < 40  # drawn with replacement, not an epoch
    epochs = []
    for epoch in range(3):
        seen = []
        for step in range(epoch * 5, epoch * 5 + 5):
            tokens, _, targets = sampler(batch_size, step_generator(seed, step))
            assert torch.equal(tokens, targets) and len(tokens) == (6 if step % 5 == 4 else batch_size)
            seen += tokens[:, 0].tolist()
            sampler.on_step(SimpleNamespace(step=step + 1))
        assert sorted(seen) == list(range(n))  # every example exactly once
        epochs.append(seen)
    assert epochs[0] != epochs[1] != epochs[2] != epochs[0]
    again = EpochShuffledBatches(split, batch_size, seed)
    again.load_state_dict({"next_step": 7})  # as a resumed run: epoch 1, its third batch
    assert again(batch_size, step_generator(seed, 7))[0][:, 0].tolist() == epochs[1][32:48]
    with pytest.raises(InputError, match="batches"):
        train_program(*tiny_hist(), ProgramTrainConfig(epochs=1, batches="shuffled"), progress=False)


class _Stop(Exception):
    pass


def _train_epochs(data, shape, config, out_dir: Path, stop_after: int) -> None:
    """Run the 4-epoch training but interrupt it after `stop_after` epochs (as Ctrl-C would)."""
    def stop(record: dict) -> None:
        if record["epoch"] == stop_after:
            raise _Stop

    try:
        train_program(data, shape, config, out_dir=out_dir, progress=False, on_epoch=stop)
    except _Stop:
        pass


def test_gumbel_samples_average_that_many_noisy_forward_passes_per_step() -> None:
    data, shape = tiny_hist()
    calls: list[bool] = []

    class Counting(train_module.TransformerProgramModel):
        def forward(self, tokens, lengths, hard=False):
            calls.append(torch.is_grad_enabled() and not hard)
            return super().forward(tokens, lengths, hard=hard)

    original = train_module.TransformerProgramModel
    train_module.TransformerProgramModel = Counting
    try:
        config = ProgramTrainConfig(epochs=2, batch_size=32, seed=3, gumbel_samples=3,
                                    stop_when_perfect=False)
        train_program(data, shape, config, progress=False)
    finally:
        train_module.TransformerProgramModel = original
    steps = 2 * math.ceil(len(data.train) / 32)
    assert sum(calls) == 3 * steps  # training passes only: evaluation runs without gradients
    with pytest.raises(InputError, match="gumbel_samples"):
        train_program(data, shape, ProgramTrainConfig(epochs=1, gumbel_samples=0), progress=False)


def test_straight_through_samples_are_one_hot_with_the_soft_samples_gradient() -> None:
    logits = torch.randn(6, 5, requires_grad=True)
    weights = torch.randn(6, 5)
    torch.manual_seed(11)
    straight = model_module._choose(logits, -1, 0.7, hard=False, straight_through=True)
    torch.manual_seed(11)  # the same Gumbel noise
    soft = model_module._choose(logits, -1, 0.7, hard=False)
    # Forward: the one-hot argmax of the soft sample, as torch's gumbel_softmax(hard=True).
    assert torch.equal(straight.detach(), torch.nn.functional.one_hot(soft.argmax(-1), 5).float())
    # Backward: the soft sample's gradient.
    (grad_straight,) = torch.autograd.grad((straight * weights).sum(), logits)
    (grad_soft,) = torch.autograd.grad((soft * weights).sum(), logits)
    assert torch.allclose(grad_straight, grad_soft)


def test_straight_through_training_gradients_are_finite() -> None:
    # With the hard pass's constants (log(match + 1e-20), BOS default total / (total + 1e-10)),
    # exact zeros make these gradients overflow to inf within a few steps (measured on the paper's
    # reverse and induction shapes); the straight-through constants keep them finite.
    torch.manual_seed(0)
    data = make_task_data("reverse", size=1000, seed=0)
    shape = shape_for(data, PipelineOptions(task="reverse"))  # the paper's: 3 layers, 4+4 heads, 1+1 MLPs
    model = model_module.TransformerProgramModel(shape, seed=0)
    model.straight_through = True
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-2)
    train = data.train
    for _ in range(3):
        logits = model(train.tokens, train.lengths)
        loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), train.targets.flatten(),
                                                 ignore_index=-100)
        optimizer.zero_grad()
        loss.backward()
        for name, parameter in model.named_parameters():
            assert torch.isfinite(parameter.grad).all(), name
        optimizer.step()
    with pytest.raises(InputError, match="sampling"):
        train_program(data, shape, ProgramTrainConfig(epochs=1, sampling="hard"), progress=False)


@pytest.mark.parametrize("flushing_before", [False, True])
def test_training_flushes_subnormal_floats_and_restores_the_setting(flushing_before: bool) -> None:
    # Subnormal arithmetic made late-anneal steps 3-5x slower (benchmarks/README.md); the flush
    # must hold during training and leave the caller's setting as it was.
    data, shape = tiny_hist()
    seen: list[bool] = []

    def flushing() -> bool:
        return (torch.tensor([1e-39]) * 1.0).item() == 0.0

    class Probe(train_module.TransformerProgramModel):
        def forward(self, tokens, lengths, hard=False):
            seen.append(flushing())
            return super().forward(tokens, lengths, hard=hard)

    original_model, original_setting = train_module.TransformerProgramModel, flushing()
    train_module.TransformerProgramModel = Probe
    try:
        torch.set_flush_denormal(flushing_before)
        train_program(data, shape, ProgramTrainConfig(epochs=1, batch_size=32, seed=3), progress=False)
        assert seen and all(seen)
        assert flushing() == flushing_before
    finally:
        train_module.TransformerProgramModel = original_model
        torch.set_flush_denormal(original_setting)
