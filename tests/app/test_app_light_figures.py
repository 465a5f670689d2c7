"""Figures stay light where they are large: the browser measures every text it draws."""

from __future__ import annotations

from app_harness import chart, choose_view, start_app

from app.panels.weights import TEXT_CELLS


def _weights(name: str | None = None):
    at = start_app()
    if name is not None:
        at.radio(key="source").set_value("By name (as in the CLI)").run()
        at.text_input(key="named_model").set_value(name).run()
    return choose_view(at, "Weights")


def _cells(fig: dict) -> int:
    return len(fig["layout"]["yaxis"]["ticktext"]) * len(fig["layout"]["xaxis"]["ticktext"])


def test_small_residual_layout_writes_its_counts_in_the_cells():
    fig = chart(_weights(), "residual_layout")
    assert _cells(fig) <= TEXT_CELLS and fig["data"][0]["texttemplate"] == "%{text}"


def test_large_residual_layout_leaves_counts_to_the_hover():
    fig = chart(_weights("program:sort"), "residual_layout")
    trace = fig["data"][0]
    assert _cells(fig) > TEXT_CELLS
    assert "text" not in trace and "texttemplate" not in trace
    assert "%{z" in trace["hovertemplate"]
