"""Weights view: QK/OV circuits in labelled residual directions say what a compiled head
reads and writes, as the RASP program does (reverse = Aggregate(Select(indices, opp_idx-1,
EQ), tokens))."""

from __future__ import annotations

import pytest
from app_harness import array, assert_clean, chart, choose_view, start_app


@pytest.fixture(scope="module")
def weights_app():
    return choose_view(start_app(), "Weights")


def _axes(fig: dict) -> tuple[list[str], list[str]]:
    return fig["layout"]["yaxis"]["ticktext"], fig["layout"]["xaxis"]["ticktext"]


def test_reverse_head_reads_tokens_and_writes_reverse(weights_app):
    at = weights_app
    at.selectbox(key="weights_head").set_value("L2H0").run()
    assert_clean(at)
    rows, cols = _axes(chart(at, "weights_ov"))
    assert {r.split(":")[0] for r in rows} == {"tokens"}
    assert {c.split(":")[0] for c in cols} == {"reverse"}
    # Value a is written as reverse:a: the OV circuit is a copy.
    ov = array(chart(at, "weights_ov")["data"][0]["z"])
    for i, row in enumerate(rows):
        j = cols.index("reverse:" + row.split(":")[1])
        assert ov[i][j] == max(ov[i])


def test_reverse_head_matches_opp_index_queries_with_index_keys(weights_app):
    at = weights_app
    at.selectbox(key="weights_head").set_value("L2H0").run()
    rows, cols = _axes(chart(at, "weights_qk"))
    assert {r.split(":")[0] for r in rows} == {"opp_idx-1"}
    assert {c.split(":")[0] for c in cols} == {"indices"}
    qk = array(chart(at, "weights_qk")["data"][0]["z"])
    # Select(indices, opp_idx-1, EQ): each query value scores highest on the equal key value.
    for i, row in enumerate(rows):
        assert cols[qk[i].index(max(qk[i]))] == "indices:" + row.split(":")[1]


def test_empty_head_is_said_to_be_empty(weights_app):
    at = weights_app
    at.selectbox(key="weights_head").set_value("L1H0").run()
    assert_clean(at)
    assert any("empty" in i.value for i in at.info)


def test_token_basis_has_one_row_per_token(weights_app):
    at = weights_app
    at.selectbox(key="weights_head").set_value("L2H0").run()
    at.radio(key="weights_basis").set_value("tokens").run()
    assert_clean(at)
    rows, cols = _axes(chart(at, "weights_ov"))
    assert rows == ["BOS", "a", "b", "c", "d"] and cols == ["a", "b", "c", "d"]
    at.radio(key="weights_basis").set_value("residual").run()


def test_residual_layout_lists_every_variable(weights_app):
    fig = chart(weights_app, "residual_layout")
    variables = fig["layout"]["yaxis"]["ticktext"]
    assert {"tokens", "indices", "reverse"} <= set(variables)
    assert fig["layout"]["xaxis"]["ticktext"][0] == "embed"
    assert fig["data"][0]["zmin"] == 0  # counts: a sequential scale
