"""QK/OV panels that scale: top rows by magnitude and search, against numpy on the full circuit."""

from __future__ import annotations

import numpy as np
import torch
from app_harness import array, assert_clean, chart, choose_view, start_app

from interp.analysis.head_circuits import NamedMatrix
from interp.app.panels.weights import focus


def test_focus_keeps_the_largest_rows_and_columns_in_order():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(30, 8))
    matrix = NamedMatrix(torch.tensor(values), [f"r{i}" for i in range(30)], [f"c{j}" for j in range(8)])
    kept = focus(matrix, top=5)
    rows = sorted(np.argsort(-np.abs(values).max(1))[:5])
    cols = sorted(np.argsort(-np.abs(values[rows]).max(0))[:5])
    assert kept.rows == [f"r{i}" for i in rows] and kept.columns == [f"c{j}" for j in cols]
    np.testing.assert_allclose(kept.values.numpy(), values[np.ix_(rows, cols)])
    # A search matching rows only keeps those rows (and every column, up to top).
    searched = focus(matrix, "R1", top=100)
    assert searched.rows == ["r1"] + [f"r{i}" for i in range(10, 20)] and len(searched.columns) == 8
    assert focus(matrix, "nothing like it").rows == []


def test_sort_qk_panel_draws_at_most_top_rows_and_filters():
    at = start_app()
    at.selectbox(key="library_program").set_value("sort").run()
    at = choose_view(at, "Weights")
    fig = chart(at, "weights_qk")
    assert len(fig["layout"]["yaxis"]["ticktext"]) <= 20
    label = fig["layout"]["yaxis"]["ticktext"][0]
    at.text_input(key="weights_search").set_value(label).run()
    assert_clean(at)
    rows = chart(at, "weights_qk")["layout"]["yaxis"]["ticktext"]
    assert rows and all(label.lower() in r.lower() for r in rows)
    assert np.asarray(array(chart(at, "weights_qk")["data"][0]["z"])).shape[0] == len(rows)
