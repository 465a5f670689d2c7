"""Shipped trained token models in the picker get every view (vector-input models: test_app_vector)."""

from __future__ import annotations

import pytest
import torch
from app_harness import assert_clean, choose_view, errors, start_app

from interp.app.panels import VIEWS
from interp.app.sidebar import available_shipped
from interp.model import load_model
from interp.shipped import shipped_path

TOKEN_MODEL = "markov-switching"
pytestmark = pytest.mark.skipif(TOKEN_MODEL not in available_shipped(),
                                reason=f"{TOKEN_MODEL} is not shipped in this checkout")


@pytest.fixture(scope="module")
def shipped_app():
    at = start_app()
    at.radio(key="source").set_value("Shipped trained model").run()
    at.selectbox(key="shipped_model").set_value(TOKEN_MODEL).run()
    assert_clean(at)
    return at


def test_output_is_the_shipped_models_prediction(shipped_app):
    at = shipped_app
    at.text_input(key="input_text").set_value("0 1 1 0 1 0 0").run()
    assert_clean(at)
    line = [m.value for m in at.markdown if m.value.startswith("**Output**")][0]
    shown = line.removeprefix("**Output** ").replace("`", "").split()
    model = load_model(shipped_path(TOKEN_MODEL))
    with torch.no_grad():
        logits = model(torch.tensor([[0, 1, 1, 0, 1, 0, 0]]))
    vocab = model.cfg.vocab_out or model.cfg.vocab
    assert shown == [str(vocab[i]) for i in logits[0].argmax(-1).tolist()]


@pytest.mark.parametrize("view", list(VIEWS))
def test_every_view_renders_for_a_shipped_model(shipped_app, view):
    choose_view(shipped_app, view)
    assert not errors(shipped_app), errors(shipped_app)
