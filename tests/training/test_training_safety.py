"""Regression tests for runs that lose nothing: an existing --out is refused unless resumed or
overwritten, a resume must train the same thing, a save killed between its renames recovers,
and config fields are checked (finite, in range, under the caps) before anything runs."""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
from pathlib import Path

import pytest
import torch
from training_helpers import TASK, tiny_config, tiny_model

from interp.errors import CheckpointError, ConfigError
from interp.limits import set_limits
from interp.model import HookedTransformer, ModelConfig
from interp.training import TrainConfig, train
from interp.training.config import FIELD_RULES
from interp.training.loop import CHECKPOINT_DIR, LOG_FILE


def _weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_every_train_config_field_has_a_rule():
    assert set(FIELD_RULES) == {f.name for f in dataclasses.fields(TrainConfig)}


@pytest.mark.parametrize("field,value", [
    ("lr", math.inf), ("lr", math.nan), ("lr", 0), ("min_delta", math.nan), ("min_delta", -1.0),
    ("beta1", 1.5), ("beta1", 1.0), ("beta2", -0.1), ("weight_decay", math.nan), ("weight_decay", -1),
    ("grad_clip", math.inf), ("min_lr_ratio", 2.0), ("batch_size", 10**9), ("eval_size", 10**9),
("steps", True), ("lr", "0.1"), ("seed", -1), ("seed", 2**64),
    ("patience", 0), ("select_metric", 3),
])
def test_bad_train_config_fields_are_refused_by_name(field, value):
    with pytest.raises(ConfigError, match=field):
        tiny_config(**{field: value})


def test_an_existing_run_is_refused_without_resume_or_overwrite(tmp_path: Path):
    train(tiny_model(), TASK.sample, tiny_config(steps=4), out_dir=tmp_path, progress=False)
    log = (tmp_path / LOG_FILE).read_text()
    checkpoint = (tmp_path / CHECKPOINT_DIR / "state.json").read_text()
    with pytest.raises(ConfigError, match="already holds a training run"):
        train(tiny_model(), TASK.sample, tiny_config(steps=2), out_dir=tmp_path, progress=False)
    assert (tmp_path / LOG_FILE).read_text() == log  # nothing truncated
    assert (tmp_path / CHECKPOINT_DIR / "state.json").read_text() == checkpoint
    fresh = train(tiny_model(), TASK.sample, tiny_config(steps=2), out_dir=tmp_path, overwrite=True,
                  progress=False)
    assert fresh.steps == 2
    lines = [json.loads(line) for line in (tmp_path / LOG_FILE).read_text().splitlines()]
    assert max(line.get("step", 0) for line in lines) == 2  # the old run's lines are gone
    with pytest.raises(ConfigError, match="exclude each other"):
        train(tiny_model(), TASK.sample, tiny_config(), out_dir=tmp_path, resume=True, overwrite=True,
              progress=False)


def test_out_under_a_file_is_a_clear_error(tmp_path: Path):
    (tmp_path / "file").write_text("x")
    for out in (tmp_path / "file", tmp_path / "file" / "run"):
        with pytest.raises(ConfigError, match="is a file"):
            train(tiny_model(), TASK.sample, tiny_config(steps=1), out_dir=out, progress=False)


def _other_model(**changes) -> HookedTransformer:
    base = dict(n_layers=1, d_model=16, n_ctx=4, d_vocab=4, n_heads=2, d_mlp=16, seed=0)
    return HookedTransformer(ModelConfig(**{**base, **changes})).init_weights(std=0.2, seed=0)


def test_resume_refuses_another_architecture_or_task(tmp_path: Path):
    train(tiny_model(), TASK.sample, tiny_config(steps=4), out_dir=tmp_path, progress=False)
    with pytest.raises(CheckpointError, match="act_fn"):
        train(_other_model(act_fn="gelu"), TASK.sample, tiny_config(steps=8), out_dir=tmp_path,
              resume=True, progress=False)
    with pytest.raises(CheckpointError, match="d_model"):
        train(_other_model(d_model=8), TASK.sample, tiny_config(steps=8), out_dir=tmp_path, resume=True,
              progress=False)
    changed_task = tiny_model()
    changed_task.metadata = {"task": "markov", "task_options": {"p": 0.7}}
    with pytest.raises(CheckpointError, match="metadata"):
        train(changed_task, TASK.sample, tiny_config(steps=8), out_dir=tmp_path, resume=True, progress=False)
    with pytest.raises(CheckpointError, match="run is new"):
        train(tiny_model(), TASK.sample, tiny_config(steps=8), out_dir=tmp_path, resume=True,
              identity={"task": "other"}, progress=False)


def test_a_checkpoint_of_another_model_without_a_record_is_a_checkpoint_error(tmp_path: Path):
    train(tiny_model(), TASK.sample, tiny_config(steps=4), out_dir=tmp_path, progress=False)
    state = tmp_path / CHECKPOINT_DIR / "state.json"
    header = json.loads(state.read_text())
    del header["loop"]["trained_on"]  # as saved before the record existed
    state.write_text(json.dumps(header))
    with pytest.raises(CheckpointError, match="different model"):
        train(_other_model(d_model=8), TASK.sample, tiny_config(steps=8), out_dir=tmp_path, resume=True,
              progress=False)


@pytest.mark.parametrize("field,value", [("step", -5), ("step", 1.5), ("bad_evals", -1), ("history", {}),
                                         ("best_step", 99)])
def test_a_corrupt_loop_state_is_refused(tmp_path: Path, field, value):
    train(tiny_model(), TASK.sample, tiny_config(steps=4), out_dir=tmp_path, progress=False)
    state = tmp_path / CHECKPOINT_DIR / "state.json"
    header = json.loads(state.read_text())
    header["loop"][field] = value
    state.write_text(json.dumps(header))
    with pytest.raises(CheckpointError, match=f"loop.{field}"):
        train(tiny_model(), TASK.sample, tiny_config(steps=8), out_dir=tmp_path, resume=True, progress=False)


def test_a_kill_between_the_renames_of_a_save_resumes_from_the_new_checkpoint(tmp_path: Path):
    full = train(tiny_model(), TASK.sample, tiny_config(steps=8), out_dir=tmp_path / "full", progress=False)
    cut = tmp_path / "cut"
    train(tiny_model(), TASK.sample, tiny_config(steps=8, checkpoint_every=4), out_dir=cut,
          callbacks=[_StopAt(4)], progress=False)
    # The state a kill after `final -> old` and before `tmp -> final` leaves: both complete, no final.
    final = cut / CHECKPOINT_DIR
    shutil.copytree(final, cut / (CHECKPOINT_DIR + ".old"))
    final.rename(cut / (CHECKPOINT_DIR + ".tmp"))
    resumed = train(tiny_model(seed=5), TASK.sample, tiny_config(steps=8), out_dir=cut, resume=True,
                    progress=False)
    for name, value in _weights(full.model).items():
        assert torch.equal(value, resumed.model.state_dict()[name]), name
    assert not (cut / (CHECKPOINT_DIR + ".old")).exists()


class _StopAt:
    """A callback that stops the run cleanly at a step (as Ctrl-C would)."""

    def __init__(self, step: int):
        self.step = step

    def on_step(self, state) -> None:
        if state.step == self.step:
            state.should_stop, state.stop_reason = True, "interrupted"

    def on_eval(self, state, metrics) -> None:
        pass

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state) -> None:
        pass


def test_a_held_out_set_over_the_batch_elements_cap_is_refused_before_sampling():
    previous = set_limits()
    try:
        set_limits(batch_elements=1000)
        with pytest.raises(ConfigError, match="batch_elements"):
            train(tiny_model(), TASK.sample, tiny_config(eval_size=500), progress=False)
    finally:
        set_limits(**dataclasses.asdict(previous))
