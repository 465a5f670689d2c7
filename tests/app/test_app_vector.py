"""Vector-input models (in-context regression) in the dashboard: the prompt editor's numbers
against independent computations (the model run directly, numpy least squares, the model's
own weights for an ablation), edits, bad cells, and every view working or saying it does not
apply."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from app_harness import array, assert_clean, chart, choose_view, errors, open_shipped

from interp.app.panels import VIEWS
from interp.app.sidebar import available_shipped
from interp.model import load_model
from interp.shipped import shipped_path

LSA, GPT = "icl-lsa", "icl-gpt"
pytestmark = pytest.mark.skipif(not {LSA, GPT} <= set(available_shipped()),
                                reason="the in-context regression models are not shipped in this checkout")


open_model = open_shipped


@pytest.fixture(scope="module")
def lsa_app():
    return open_model(LSA)


def table(at, column: str):
    """The first dataframe on screen that has `column`, as a pandas DataFrame."""
    for frame in at.dataframe:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no table with a {column!r} column")


def query_row(at, estimator: str) -> float:
    frame = table(at, "estimator")
    return float(frame[frame["estimator"].str.startswith(estimator)]["prediction"].iloc[0])


def shown_points(at) -> tuple[np.ndarray, np.ndarray]:
    """The prompt table as drawn: xs [n, d] and ys [n]."""
    frame = table(at, "point")
    xs = frame[[c for c in frame.columns if c.startswith("x")]].to_numpy(dtype=float)
    return xs, frame["y"].to_numpy(dtype=float)


def test_lsa_query_prediction_is_the_models_and_least_squares_is_numpys(lsa_app):
    at = lsa_app
    xs, ys = shown_points(at)
    model = load_model(shipped_path(LSA)).eval()
    tokens = torch.tensor(np.concatenate([xs, ys[:, None]], 1), dtype=torch.float32)
    tokens[-1, -1] = 0.0  # the query's y is hidden from the model
    with torch.no_grad():
        expected = float(model(tokens[None])[0, -1, 0])
    assert query_row(at, "model") == pytest.approx(expected, rel=1e-3, abs=1e-4)
    lstsq = np.linalg.lstsq(xs[:-1], ys[:-1], rcond=None)[0] @ xs[-1]
    assert query_row(at, "least squares") == pytest.approx(lstsq, rel=1e-3, abs=1e-4)
    assert f"true y = `{ys[-1]:.4g}`" in " ".join(m.value for m in at.markdown)


def test_editing_the_query_changes_the_truth_and_a_bad_cell_is_a_message(lsa_app):
    at = lsa_app
    key = at.session_state["icl_points_key"]
    last = len(shown_points(at)[1]) - 1
    at.session_state[key] = {"edited_rows": {last: {"y": 3.0}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert_clean(at)
    assert "true y = `3`" in " ".join(m.value for m in at.markdown)
    at.session_state[key] = {"edited_rows": {0: {"x1": None}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert_clean(at)
    assert any("non-finite" in e for e in errors(at)), errors(at)
    at.session_state[key] = {"edited_rows": {}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not errors(at)


def test_zero_ablating_the_only_head_leaves_the_direct_path(lsa_app):
    at = choose_view(lsa_app, "Ablation")
    at.pills(key="ablate_nodes").set_value(["L0H0"]).run()
    assert_clean(at)
    xs, ys = shown_points(at)
    model = load_model(shipped_path(LSA))
    query = torch.tensor([*xs[-1], 0.0], dtype=torch.float32)
    # One attention-only layer whose only head is zeroed (its hook_result).
    with torch.no_grad():  # left: the embedded query (W_E, b_E) and the bias b_O, read out
        resid = query @ model.embed.W_E + model.embed.b_E + model.blocks[0].attn.b_O
        direct = float(resid @ model.unembed.W_U[:, 0] + model.unembed.b_U[0])
    frame = table(at, "prediction (ablated)")
    assert float(frame["prediction (ablated)"].iloc[-1]) == pytest.approx(direct, rel=1e-3, abs=1e-4)
    at.pills(key="ablate_nodes").set_value([]).run()


def test_linear_attention_scores_are_drawn_signed_not_clipped(lsa_app):
    at = choose_view(lsa_app, "Attention")
    grid = chart(at, "attention_grid")
    xs, ys = shown_points(at)
    model = load_model(shipped_path(LSA)).eval()
    tokens = torch.tensor(np.concatenate([xs, ys[:, None]], 1), dtype=torch.float32)
    tokens[-1, -1] = 0.0
    _, cache = model.run_with_cache(tokens[None])
    pattern = cache["blocks.0.attn.hook_pattern"][0, 0]
    assert float(pattern.min()) < 0 or float(pattern.max()) > 1  # raw scores: a 0..1 scale would clip
    assert np.allclose(array(grid["data"][0]["z"]), pattern.detach().numpy(), atol=1e-5)
    assert grid["layout"]["coloraxis"]["colorscale"] == "RdBu" and "cmin" not in grid["layout"]["coloraxis"]


@pytest.mark.parametrize("view", list(VIEWS))
def test_every_view_works_or_says_it_does_not_apply(lsa_app, view):
    at = choose_view(lsa_app, view)
    assert not errors(at), errors(at)
    if view == "Program":
        assert any("does not apply" in i.value for i in at.info), [i.value for i in at.info]
    if view == "Patching":  # the prompt's task vector resampled: the prediction moves
        values = {m.label: float(m.value) for m in at.metric if "squared error" in m.label}
        assert values["squared error to the clean prediction, clean"] == 0.0
        assert values["squared error to the clean prediction, corrupted"] > 0.0


def test_garg_model_predicts_every_prefix_in_one_causal_run():
    at = open_model(GPT)
    xs, ys = shown_points(at)
    model = load_model(shipped_path(GPT)).eval()
    tokens = torch.zeros(2 * len(xs), xs.shape[1])
    tokens[0::2] = torch.tensor(xs, dtype=torch.float32)
    tokens[1::2, 0] = torch.tensor(ys, dtype=torch.float32)
    with torch.no_grad():
        expected = model(tokens[None])[0, 0::2, 0]
    chart = next(c for c in at.get("plotly_chart") if "icl_prefix_chart" in c.proto.id)
    import json

    lines = {t.get("name"): t["y"] for t in json.loads(chart.proto.spec)["data"]}
    assert np.allclose(lines["model"], expected.numpy(), atol=1e-4)
    assert np.allclose(lines["true y"], ys, atol=1e-6)
    at = choose_view(at, "Residual stream")
    assert not errors(at)
