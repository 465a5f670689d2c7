"""Shareable state: the URL's query parameters carry model, input, view and component, and
opening such a URL restores them."""

from __future__ import annotations

from app_harness import MAIN, assert_clean, choose_view, errors, start_app
from streamlit.testing.v1 import AppTest


def _open(params: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(MAIN), default_timeout=120)
    at.query_params.update(params)
    at.run()
    assert_clean(at)
    return at


def test_state_on_screen_is_written_to_the_url_and_reopens():
    at = start_app()
    at.selectbox(key="library_program").set_value("sort").run()
    at.text_input(key="input_text").set_value("3 1 2").run()
    at = choose_view(at, "Weights")
    heads = at.selectbox(key="weights_head").options
    at.selectbox(key="weights_head").set_value(heads[0]).run()
    params = dict(at.query_params)
    assert params == {"source": "library", "model": "sort", "input": "3 1 2", "view": "Weights",
                      "component": heads[0]}, params
    again = _open(params)
    assert not errors(again), errors(again)
    assert again.session_state["library_program"] == "sort"
    assert again.session_state["input_text"] == "3 1 2"
    assert again.session_state["view"] == "Weights"
    assert again.session_state["weights_head"] == heads[0]
    output = [m.value for m in again.markdown if m.value.startswith("**Output**")]
    assert output == ["**Output** `1` `2` `3`"]  # sorted: the input came back, and the model


def test_a_url_naming_what_does_not_exist_opens_the_defaults():
    at = _open({"source": "library", "model": "no_such_program", "view": "Nope", "component": "L99H0"})
    assert not errors(at), errors(at)
    assert at.session_state["library_program"] == "reverse" and at.session_state["view"] == "Attention"
    assert at.session_state["attention_head"] != "L99H0"


def test_a_residual_direction_in_the_url_opens_its_component_page():
    at = _open({"source": "library", "model": "reverse", "view": "Component", "component": "R3"})
    assert not errors(at), errors(at)
    assert at.session_state["component_name"] == "R3"
    assert dict(at.query_params)["component"] == "R3"
