"""Trained models in the dashboard are fed their own task: addition questions as the default
input and from Sample, a real effect in the default Patching view, and discovery on in-context
regression prompts that keeps fewer edges than the full graph."""

from __future__ import annotations

import re

import pytest
from app_harness import assert_clean, choose_view, errors, open_shipped, start_app

from interp.app.sidebar import available_shipped

QUESTION = re.compile(r"^(\d{5})\+(\d{5})=(\d{6})$")
pytestmark = pytest.mark.skipif(not {"addition-1l", "icl-gpt"} <= set(available_shipped()),
                                reason="addition-1l / icl-gpt are not shipped in this checkout")


def well_formed(text: str) -> bool:
    """A 5-digit question with its correct sum (integer arithmetic, independent of the task code)."""
    match = QUESTION.match(text)
    return match is not None and int(match[1]) + int(match[2]) == int(match[3])


@pytest.fixture(scope="module")
def addition_app():
    return open_shipped("addition-1l")


def test_addition_default_input_and_samples_are_questions(addition_app):
    at = addition_app
    texts = [at.text_input(key="input_text").value]
    for _ in range(20):
        [b for b in at.button if b.label == "Sample"][0].click().run()
        assert_clean(at)
        texts.append(at.text_input(key="input_text").value)
    assert all(well_formed(t) for t in texts), texts
    assert len(set(texts)) > 15  # samples, not one question repeated


def test_addition_default_patching_shows_an_effect(addition_app):
    at = choose_view(addition_app, "Patching")
    assert not errors(at), errors(at)
    values = {m.label: float(m.value) for m in at.metric}
    clean, corrupted = values["logit difference, clean"], values["logit difference, corrupted"]
    assert clean > 0 > corrupted  # the clean answer wins clean, the corrupted one corrupted
    assert not any("no effect" in w.value for w in at.warning)
    corruption = at.selectbox(key="patch_corruption").value
    assert corruption == "change one operand digit"


def test_icl_gpt_discovery_keeps_fewer_edges_than_the_full_graph():
    at = choose_view(open_shipped("icl-gpt"), "Circuit")
    [b for b in at.button if b.label == "Discover"][0].click().run()
    assert_clean(at)
    assert not errors(at), errors(at)
    kept, total = (int(x) for x in [m.value for m in at.metric if m.label == "Edges kept"][0].split(" of "))
    assert kept < total == 122
    assert any("R^2" in c.value for c in at.caption)


def test_any_cli_name_opens_in_the_dashboard_and_a_bad_one_is_explained():
    at = start_app()
    at.radio(key="source").set_value("By name (as in the CLI)").run()
    at.text_input(key="named_model").set_value("program:hist").run()
    assert_clean(at)
    assert not errors(at), errors(at)
    assert any("Transformer Program: hist" in c.value for c in at.caption)
    at.text_input(key="named_model").set_value("addtion-1l").run()
    assert_clean(at)
    assert any("did you mean 'addition-1l'" in e for e in errors(at)), errors(at)
