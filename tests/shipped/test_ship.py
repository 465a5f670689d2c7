"""`interp ship RUN NAME`: a tiny `interp train` run promoted into a shipped-models folder,
and every way a run can be unfit to ship."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from interp.cli import main
from interp.model import load_model
from interp.shipped import shipped_index
from interp.shipped.card import read_card
from interp.training.recipes import recipe_by_name

TINY = {"task": {"d_vocab": 4, "seq_len": 4},
        "model": {"n_layers": 1, "d_model": 16, "n_heads": 2, "d_mlp": 16},
        "train": {"steps": 10, "batch_size": 16, "lr": 0.01, "eval_every": 0, "eval_size": 32,
                  "checkpoint_every": 10, "log_every": 5}}


def last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("train")
    (folder / "tiny.json").write_text(json.dumps(TINY))
    out = folder / "tiny-run"
    assert main(["train", "reverse", "--config", str(folder / "tiny.json"), "--out", str(out),
                 "--no-progress"]) == 0
    return out


def test_train_writes_a_card_in_the_one_schema(run: Path):
    card = read_card(run / "card.json")  # validates
    assert card["name"] == "tiny-run" and card["recipe"] == "reverse" and card["seed"] == 0
    assert card["steps"] == 10 and card["stop_reason"] == "completed" and card["command"] is None


def test_ship_copies_the_weights_and_card_and_indexes_it(run: Path, tmp_path: Path, capsys):
    assert main(["ship", str(run), "tiny-rev", "--into", str(tmp_path), "--json"]) == 0
    summary = last_json(capsys)
    target = tmp_path / "tiny-rev"
    assert summary["path"] == str(target) and summary["steps"] == 10
    assert sorted(p.name for p in target.iterdir()) == ["card.json", "config.json", "model.safetensors"]
    shipped, trained = load_model(target), load_model(run / "model")
    for key, value in trained.state_dict().items():
        assert torch.equal(shipped.state_dict()[key], value), key
    card = read_card(target / "card.json")
    assert card["name"] == "tiny-rev" and card["shipped_from"] == str(run)
    assert card["report"] == read_card(run / "card.json")["report"]
    description = recipe_by_name("reverse").description
    assert shipped_index(tmp_path) == {"tiny-rev": f"{description} (recipe reverse, seed 0)"}
    # Shipping again under the same name is refused; --overwrite replaces it.
    assert main(["ship", str(run), "tiny-rev", "--into", str(tmp_path), "--json"]) == 2
    assert "exists" in last_json(capsys)["error"]
    assert main(["ship", str(run), "tiny-rev", "--into", str(tmp_path), "--overwrite"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny-rev"]  # no staging folder left


def _copy(run: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(run, tmp_path / "copy"))


def _interrupt(run: Path) -> None:
    result = json.loads((run / "result.json").read_text())
    (run / "result.json").write_text(json.dumps(result | {"stop_reason": "interrupted"}))


def _truncate_weights(run: Path) -> None:
    weights = run / "model" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])


def _other_seed_card(run: Path) -> None:
    card = json.loads((run / "card.json").read_text())
    card["seed"] = card["config"]["train"]["seed"] = 5
    (run / "card.json").write_text(json.dumps(card))


@pytest.mark.parametrize("spoil, words", [
    (_interrupt, "stopped with 'interrupted'"),
    (_truncate_weights, "model.safetensors"),
    (lambda run: (run / "card.json").unlink(), "not a finished"),
    (lambda run: (run / "card.json").write_text("{}"), "lacks"),
    (_other_seed_card, "seed 0, but the card says 'reverse', seed 5"),
])
def test_an_unfit_run_is_refused_and_nothing_is_shipped(run: Path, tmp_path: Path, capsys, spoil, words):
    spoiled = _copy(run, tmp_path)
    spoil(spoiled)
    into = tmp_path / "shipped"
    into.mkdir()
    assert main(["ship", str(spoiled), "x", "--into", str(into), "--json"]) == 2
    assert words in last_json(capsys)["error"]
    assert list(into.iterdir()) == []


@pytest.mark.parametrize("name, words", [("Big", "cannot ship as"), ("../escape", "cannot ship as"),
                                         ("programs", "cannot ship as"), ("", "cannot ship as"),
                                         ("a b", "cannot ship as"), ("sort", "is a library program")])
def test_a_bad_name_is_refused(run: Path, tmp_path: Path, capsys, name: str, words: str):
    assert main(["ship", str(run), name, "--into", str(tmp_path), "--json"]) == 2
    assert words in last_json(capsys)["error"]
    assert list(tmp_path.iterdir()) == []
