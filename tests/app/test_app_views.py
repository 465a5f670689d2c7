"""The dashboard driven through Streamlit's AppTest: every view, the input row and its errors."""

from __future__ import annotations

import pytest
from app_harness import assert_clean, chart, choose_view, errors, start_app

from interp.app.panels import VIEWS


@pytest.fixture(scope="module")
def shared_app():
    """One app for the read-only checks (a fresh AppTest costs a full script run)."""
    return start_app()


def test_default_model_opens_on_the_attention_grid(shared_app):
    at = shared_app
    grid = chart(at, "attention_grid")
    heatmaps = [t for t in grid["data"] if t["type"] == "heatmap"]
    titles = [a["text"] for a in grid["layout"]["annotations"]]
    # One heatmap per head, each titled with its head name.
    assert len(heatmaps) == len(titles) >= 2
    assert all(title.startswith("L") and "H" in title for title in titles)
    assert "query" in heatmaps[0]["hovertemplate"] and "weight" in heatmaps[0]["hovertemplate"]


def test_heatmaps_are_labelled_with_the_typed_tokens():
    at = start_app()
    text = at.text_input(key="input_text")
    vocab = at.session_state["input_text"].split()[:1] * 3
    text.set_value(" ".join(vocab)).run()
    assert_clean(at)
    grid = chart(at, "attention_grid")
    assert grid["layout"]["xaxis"]["ticktext"][-3:] == vocab
    # Hover carries position:token for query and key, so repeated tokens stay distinct.
    custom = grid["data"][0]["customdata"]
    assert custom[-1][-2][0].endswith(f":{vocab[0]}") and custom[-1][-2][1].startswith(
        str(len(custom) - 2))


def test_enlarged_head_follows_the_picker():
    at = start_app()
    heads = at.selectbox(key="attention_head").options
    at.selectbox(key="attention_head").set_value(heads[-1]).run()
    assert_clean(at)
    assert chart(at, "attention_head_chart")["layout"]["title"]["text"].startswith(heads[-1])


def test_sample_button_gives_a_new_valid_input():
    at = start_app()
    before = at.session_state["input_text"]
    for _ in range(3):
        at.button(key="sample_button").click().run()
        if at.session_state["input_text"] != before:
            break
    assert at.session_state["input_text"] != before
    assert not errors(at)


def test_out_of_vocabulary_token_is_an_error_not_a_traceback():
    at = start_app()
    at.text_input(key="input_text").set_value("a zebra").run()
    assert_clean(at)
    assert any("zebra" in e and "vocabulary" in e for e in errors(at)), errors(at)
    assert not at.get("plotly_chart")  # nothing stale drawn under the error


def test_too_long_input_is_an_error_not_a_traceback():
    at = start_app()
    token = at.session_state["input_text"].split()[0]
    at.text_input(key="input_text").set_value(" ".join([token] * 40)).run()
    assert_clean(at)
    assert any("40" in e and "shorten" in e for e in errors(at)), errors(at)


def test_empty_input_is_an_error():
    at = start_app()
    at.text_input(key="input_text").set_value("   ").run()
    assert_clean(at)
    assert any("empty" in e for e in errors(at)), errors(at)


@pytest.mark.parametrize("view", [v for v in VIEWS if v != "Attention"])
def test_every_view_renders_without_a_traceback(shared_app, view):
    choose_view(shared_app, view)
    assert not errors(shared_app)


def test_residual_view_shows_decomposition_for_any_model(shared_app):
    at = choose_view(shared_app, "Residual stream")
    at.toggle(key="residual_components").set_value(True).run()  # on demand for labelled models
    norms = chart(at, "component_norms")
    assert "embed" in norms["layout"]["yaxis"]["ticktext"]
    assert chart(at, "logit_lens")["data"][0]["texttemplate"] == "%{text}"
    bars = chart(at, "dla_bars")["data"][0]
    assert len(bars["x"]) == len(bars["y"]) > 2

