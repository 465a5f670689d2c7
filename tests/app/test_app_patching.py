"""Patching view: clean vs corrupted input, metric, activation patching and path patching."""

from __future__ import annotations

import pytest
from app_harness import array, assert_clean, chart, choose_view, errors, start_app


@pytest.fixture(scope="module")
def patching_app():
    at = start_app()
    at.text_input(key="input_text").set_value("a b c d").run()
    choose_view(at, "Patching")
    at.selectbox(key="patch_corruption").set_value("replace the last token").run()
    assert_clean(at)
    return at


def test_clean_and_corrupted_baselines(patching_app):
    at = patching_app
    assert not errors(at)
    metrics = {m.label: float(m.value) for m in at.metric}
    assert metrics["logit difference, clean"] > metrics["logit difference, corrupted"]


def test_patching_layer_0_restores_exactly_at_the_corrupted_position(patching_app):
    # Only the last token differs: at layer 0's input, patching that position in gives the
    # clean run itself (fraction 1) and any other position changes nothing (0).
    z = array(chart(patching_app, "patch_positions")["data"][0]["z"])
    assert z[0][-1] == pytest.approx(1.0) and all(v == pytest.approx(0.0) for v in z[0][:-1])


def test_per_head_patching_finds_the_copying_head(patching_app):
    fig = chart(patching_app, "patch_heads")
    z = array(fig["data"][0]["z"])
    # reverse = Aggregate(..., tokens) sits in L2H0; the empty heads carry nothing.
    assert z[2][0] == pytest.approx(1.0)
    assert z[1][0] == pytest.approx(0.0)


def test_path_patching_from_the_copying_head(patching_app):
    at = patching_app
    at.selectbox(key="patch_sender").set_value("L2H0").run()
    bars = chart(at, "patch_paths")["data"][0]
    assert "logits" in bars["y"]
    assert max(array(bars["x"])) == pytest.approx(1.0)


@pytest.mark.parametrize("metric", ["KL to clean", "accuracy"])
def test_other_metrics(patching_app, metric):
    at = patching_app
    at.selectbox(key="patch_metric").set_value(metric).run()
    assert_clean(at)
    assert not errors(at)
    z = array(chart(at, "patch_positions")["data"][0]["z"])
    assert z[0][-1] == pytest.approx(1.0)
    at.selectbox(key="patch_metric").set_value("logit difference").run()


def test_typed_corruption_of_another_length_is_a_clear_error():
    at = start_app()
    at.text_input(key="input_text").set_value("a b c d").run()
    choose_view(at, "Patching")
    at.selectbox(key="patch_corruption").set_value("typed below").run()
    at.text_input(key="patch_corrupted_text").set_value("a b").run()
    assert_clean(at)
    assert any("same length" in e for e in errors(at)), errors(at)
    at.text_input(key="patch_corrupted_text").set_value("a b c zebra").run()
    assert_clean(at)
    assert any("zebra" in e for e in errors(at)), errors(at)


def test_large_models_patch_on_a_button_with_the_same_numbers(monkeypatch):
    import interp.app.panels.patching as patching

    at = start_app()
    at.text_input(key="input_text").set_value("a b c d").run()
    choose_view(at, "Patching")
    at.selectbox(key="patch_corruption").set_value("replace the last token").run()
    expected = array(chart(at, "patch_heads")["data"][0]["z"])
    # Every model counts as large now: a new input shows the button and an explanation only.
    monkeypatch.setattr(patching, "AUTO_WORK", 0.0)
    at = start_app()
    at.text_input(key="input_text").set_value("a b c d").run()
    choose_view(at, "Patching")
    at.selectbox(key="patch_corruption").set_value("replace the last token").run()
    assert_clean(at)
    assert any("Press Run patching" in i.value for i in at.info)
    assert not [c for c in at.get("plotly_chart") if "patch_heads" in c.proto.id]
    at.button(key="patch_run").click().run()
    assert_clean(at)
    got = array(chart(at, "patch_heads")["data"][0]["z"])
    assert [v for row in got for v in row] == pytest.approx([v for row in expected for v in row])
    at.text_input(key="input_text").set_value("b b c d").run()  # a new input: not recomputed
    assert any("Press Run patching" in i.value for i in at.info)
    at.checkbox[0].check().run()  # recompute on every input from now on
    assert_clean(at)
    assert chart(at, "patch_heads")
