"""model_card: the card of a shipped model or of any model directory (what the studies load)."""

import json

import pytest

from interp.errors import CheckpointError, InputError
from interp.shipped import model_card, shipped_card, shipped_path


def test_a_shipped_name_and_its_directory_give_the_file_on_disk():
    on_disk = json.loads((shipped_path("icl-gpt") / "card.json").read_text())
    assert model_card("icl-gpt") == on_disk
    assert model_card(shipped_path("icl-gpt")) == on_disk
    assert shipped_card("icl-gpt") == on_disk


def test_a_model_directory_with_and_without_a_card(tmp_path):
    assert model_card(tmp_path) == {}
    card = json.loads((shipped_path("icl-gpt") / "card.json").read_text())
    card["config"]["train"]["seed"] = card["seed"] = 2
    (tmp_path / "card.json").write_text(json.dumps(card))
    assert model_card(str(tmp_path)) == card


@pytest.mark.parametrize("text", ["{not json", "[1, 2]"])
def test_a_broken_card_is_an_error_naming_the_file(tmp_path, text):
    (tmp_path / "card.json").write_text(text)
    with pytest.raises(CheckpointError, match="card.json"):
        model_card(tmp_path)


def test_neither_a_shipped_name_nor_a_directory(tmp_path):
    with pytest.raises(InputError, match="neither a shipped model"):
        model_card(tmp_path / "missing")


def test_training_seed_models_are_the_shipped_model_and_the_stored_seeds():
    from pathlib import Path

    from interp.model import load_model
    from interp.shipped import training_seed_models

    studies = Path(__file__).resolve().parents[2] / "studies" / "models"
    models = training_seed_models("icl-gpt", [0, 2], studies)
    shipped = load_model(shipped_path("icl-gpt"))
    assert sorted(models) == [0, 2] and models[2].cfg.seed == 2
    for a, b in zip(models[0].state_dict().values(), shipped.state_dict().values()):
        assert a.equal(b)


def test_a_mislabelled_seed_folder_is_refused(tmp_path):
    import shutil

    from interp.shipped import training_seed_models

    # The shipped seed-0 model stored under the name of seed 3: its config says seed 0.
    shutil.copytree(shipped_path("icl-gpt"), tmp_path / "icl-gpt-seed3")
    with pytest.raises(InputError, match="expected training seed 3"):
        training_seed_models("icl-gpt", [0, 3], tmp_path)
