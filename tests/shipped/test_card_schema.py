"""One card schema for shipped, trained and study models; the shipped index is read from the
folders and described by the training recipes."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from interp.errors import CheckpointError
from interp.model import load_model
from interp.shipped import ROOT, SHIPPED, shipped_card, shipped_index, shipped_path
from interp.shipped.card import SCHEMA, read_card, validate_card
from interp.training.recipes import RECIPES

REPO = Path(__file__).resolve().parents[2]
COMMITTED = sorted(ROOT.glob("*/card.json")) + sorted((REPO / "studies" / "models").glob("*/card.json"))
# SIIT models (interp train-siit) are trained on a task, not a recipe: listed after the recipes.
SIIT = sorted(p.parent.name for p in ROOT.glob("*/card.json")
              if json.loads(p.read_text())["recipe"] == "siit")


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: str(p.relative_to(REPO)))
def test_every_committed_card_follows_the_schema(path: Path):
    card = read_card(path)
    assert card["schema"] == SCHEMA and card["name"] == path.parent.name
    assert card["seed"] == card["config"]["train"]["seed"]


def test_the_index_is_every_folder_with_a_card_described_by_its_recipe():
    folders = {p.parent.name for p in ROOT.glob("*/card.json")}
    assert set(SHIPPED) == folders and folders  # programs/ holds no card: not in this index
    assert list(SHIPPED) == [name for name in RECIPES if name in folders] + SIIT  # the recipes' order
    for name, description in SHIPPED.items():
        if name in SIIT:
            assert repr(shipped_card(name)["config"]["task"]["program"]) in description
            continue
        assert description == RECIPES[shipped_card(name)["recipe"]].description


@pytest.mark.parametrize("name", sorted(p.parent.name for p in ROOT.glob("*/card.json")
                                         if p.parent.name not in SIIT))
def test_each_shipped_model_is_its_recipe(name: str):
    # The recipe (what `interp train NAME` runs) builds exactly the shipped shape and task.
    recipe = RECIPES[name]
    shipped = load_model(shipped_path(name))
    fresh = recipe.build_model(recipe.build_task())
    assert shipped.cfg.to_dict() == fresh.cfg.to_dict()
    assert shipped.metadata["task_options"] == fresh.metadata["task_options"] == recipe.task_options
    assert shipped_card(name)["config"]["model"] == recipe.model


def _valid() -> dict:
    return copy.deepcopy(json.loads((ROOT / "icl-lsa" / "card.json").read_text()))


@pytest.mark.parametrize("change, words", [
    (lambda c: c.pop("seed"), "lacks ['seed']"),
    (lambda c: c.update(sedd=1), "unknown model-card fields ['sedd']"),
    (lambda c: c.update(seed=True), "'seed' is True"),
    (lambda c: c.update(steps="3000"), "'steps' is '3000'"),
    (lambda c: c.update(seed=3), "differs from its config's train seed 0"),
    (lambda c: c.update(stop_reason="crashed"), "stop_reason 'crashed'"),
    (lambda c: c.update(schema="interp-model-card/0"), "migrate the card"),
    (lambda c: c.update(command=None, cpu_seconds=None), None),  # nulls where allowed
])
def test_a_card_that_breaks_the_schema_is_refused_naming_the_field(change, words, tmp_path: Path):
    card = _valid()
    change(card)
    if words is None:
        assert validate_card(card, "x") is card
        return
    with pytest.raises(CheckpointError, match=__import__("re").escape(words)):
        validate_card(card, "x")
    (tmp_path / "card.json").write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match="card.json"):
        read_card(tmp_path / "card.json")


def test_an_index_with_a_card_of_an_unknown_recipe_is_refused(tmp_path: Path):
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "card.json").write_text(json.dumps(_valid() | {"name": "odd", "recipe": "nope"}))
    with pytest.raises(CheckpointError, match="odd/card.json.*'nope'"):
        shipped_index(tmp_path)
