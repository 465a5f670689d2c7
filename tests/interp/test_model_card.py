"""model_card: the card of a shipped model or of any model directory (what the studies load)."""

import json

import pytest

from interp.errors import InputError
from interp.shipped import model_card, shipped_card, shipped_path


def test_a_shipped_name_and_its_directory_give_the_file_on_disk():
    on_disk = json.loads((shipped_path("icl-gpt") / "card.json").read_text())
    assert model_card("icl-gpt") == on_disk
    assert model_card(shipped_path("icl-gpt")) == on_disk
    assert shipped_card("icl-gpt") == on_disk


def test_a_model_directory_with_and_without_a_card(tmp_path):
    assert model_card(tmp_path) == {}
    (tmp_path / "card.json").write_text(json.dumps({"seed": 2, "command": "interp train icl-gpt --seed 2"}))
    assert model_card(str(tmp_path)) == {"seed": 2, "command": "interp train icl-gpt --seed 2"}


@pytest.mark.parametrize("text", ["{not json", "[1, 2]"])
def test_a_broken_card_is_an_error_naming_the_file(tmp_path, text):
    (tmp_path / "card.json").write_text(text)
    with pytest.raises(InputError, match="card.json"):
        model_card(tmp_path)


def test_neither_a_shipped_name_nor_a_directory(tmp_path):
    with pytest.raises(InputError, match="neither a shipped model"):
        model_card(tmp_path / "missing")
