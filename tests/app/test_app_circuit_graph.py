"""The circuit graph keeps edges and labels apart: arcs leaving one node fan out (measured on
the drawn polylines, near the source where they used to run on top of each other), and node
labels sit on a white box so an arc behind one cannot strike it through."""

from __future__ import annotations

import numpy as np
import pytest
from app_harness import assert_clean, chart, choose_view, start_app

MIN_GAP_ROWS = 0.1  # rows (54 px each): about 5 px between two arcs, a line width of 1.6 px apart


def _arcs(figure: dict) -> list[list[tuple[float, float]]]:
    """Each drawn edge as its polyline (the line traces break arcs with None)."""
    arcs = []
    for trace in figure["data"]:
        if trace.get("mode") != "lines":
            continue
        current: list[tuple[float, float]] = []
        for x, y in zip(trace["x"], trace["y"]):
            if x is None:
                arcs.append(current)
                current = []
            else:
                current.append((x, y))
    return [a for a in arcs if a]


def _closest_fan(figure: dict, dx: float = 0.75) -> float:
    """Smallest vertical gap, `dx` columns after their common source, between arcs that leave
    one node for different nodes."""
    arcs = _arcs(figure)
    gaps = []
    for i, a in enumerate(arcs):
        for b in arcs[i + 1:]:
            if a[0] != b[0] or a[-1] == b[-1]:
                continue
            x = a[0][0] + dx
            ya = np.interp(x, [p[0] for p in a], [p[1] for p in a])
            yb = np.interp(x, [p[0] for p in b], [p[1] for p in b])
            gaps.append(abs(ya - yb))
    return min(gaps)


@pytest.fixture(scope="module")
def app():
    return start_app()


@pytest.mark.parametrize("program", ["reverse", "sort"])
def test_arcs_from_one_node_fan_out_and_labels_have_a_box(app, program):
    at = app
    at.selectbox(key="library_program").set_value(program).run()
    assert_clean(at)
    figure = chart(choose_view(at, "Circuit"), "circuit_truth")
    assert _closest_fan(figure) >= MIN_GAP_ROWS
    nodes = [t for t in figure["data"] if t.get("name") == "nodes"][0]
    assert "text" not in nodes["mode"]  # the labels are drawn as boxed annotations instead
    labels = {a["text"]: a for a in figure["layout"]["annotations"] if a.get("text")}
    assert set(nodes["text"]) <= set(labels)
    assert all(labels[n].get("bgcolor") for n in nodes["text"])
    for name, x, y in zip(nodes["text"], nodes["x"], nodes["y"]):
        assert (labels[name]["x"], labels[name]["y"]) == (x, y) and labels[name]["yshift"] > 0
