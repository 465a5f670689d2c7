"""`interp train`, `interp eval`, `interp models`: a tiny run end to end, resume, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from interp.cli import main
from interp.model import load_model
from interp.tasks import Reverse
from interp.training import per_position_accuracy

TINY = {"task": {"d_vocab": 4, "seq_len": 4},
        "model": {"n_layers": 1, "d_model": 16, "n_heads": 2, "d_mlp": 16},
        "train": {"steps": 40, "batch_size": 32, "lr": 0.01, "eval_every": 20, "eval_size": 64,
                  "checkpoint_every": 20, "log_every": 10}}


def last_json(capsys: pytest.CaptureFixture) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_train_eval_and_resume(tmp_path: Path, capsys: pytest.CaptureFixture):
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(TINY))
    out = tmp_path / "run"
    assert main(["train", "reverse", "--config", str(config), "--out", str(out), "--no-progress",
                 "--json"]) == 0
    summary = last_json(capsys)
    assert summary["steps"] == 40 and summary["stop_reason"] == "completed"
    assert summary["config"]["train"]["lr"] == 0.01 and summary["config"]["model"]["d_model"] == 16
    model = load_model(out / "model")
    inputs, targets = Reverse(d_vocab=4, seq_len=4).batch(200, seed=9)
    # The report agrees with an independent accuracy computation on fresh data (roughly: other questions).
    independent = per_position_accuracy(model, (inputs, targets))["accuracy"]
    assert abs(summary["report"]["accuracy"] - independent) < 0.1
    assert json.loads((out / "card.json").read_text())["steps"] == 40
    # Resuming a finished run changes nothing.
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert main(["train", "reverse", "--config", str(config), "--out", str(out), "--no-progress",
                 "--resume", "--json"]) == 0
    assert last_json(capsys)["steps"] == 40
    after = load_model(out / "model").state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert main(["eval", str(out / "model"), "--json"]) == 0
    assert last_json(capsys)["task"] == "reverse"


def test_models_lists_every_shipped_model(capsys: pytest.CaptureFixture):
    from interp.shipped import SHIPPED

    assert main(["models", "--json"]) == 0
    rows = last_json(capsys)  # one list of {name, kind, location, ...}
    shipped_kinds = ("shipped model", "shipped SIIT model")
    assert [row["name"] for row in rows if row["kind"] in shipped_kinds] == list(SHIPPED)


@pytest.mark.parametrize("argv, message", [
    (["train", "parity"], "unknown task or recipe"),
    (["train", "reverse", "--config", "/nonexistent.json"], "cannot read the config file"),
    (["train", "reverse", "--steps", "0"], "--steps: must be a positive integer"),
    (["eval", "/nonexistent"], "no such file or folder"),
])
def test_bad_input_is_one_error_line_and_json(argv: list[str], message: str, capsys: pytest.CaptureFixture):
    assert main([*argv, "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("error:") == 1 and message in captured.err
    error = json.loads(captured.out.strip().splitlines()[-1])
    assert message in error["error"] and error["kind"] in ("InputError", "ConfigError", "UsageError")


def test_bad_config_section_and_resume_without_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture):
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"optimizer": {}}))
    assert main(["train", "reverse", "--config", str(config)]) == 2
    assert "unknown config sections ['optimizer']" in capsys.readouterr().err
    assert main(["train", "reverse", "--out", str(tmp_path / "none"), "--resume"]) == 2
    assert "not a training checkpoint" in capsys.readouterr().err
