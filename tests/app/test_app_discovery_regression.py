"""Discovery on the in-context regression model `icl-gpt`: fewer edges than the full graph,
and a faithfulness curve in squared error only (exact agreement of real numbers is 0 until
every edge is kept: the curve used to plot it)."""

from __future__ import annotations

from app_harness import array, assert_clean, chart, choose_view, open_shipped

from interp.circuit import Circuit
from interp.model import load_model
from interp.shipped import shipped_path


def test_icl_discovery_curve_is_squared_error_and_keeps_fewer_edges():
    at = choose_view(open_shipped("icl-gpt"), "Circuit")
    at.radio(key="discovery_method").set_value("eap").run()
    [b for b in at.button if b.label == "Discover"][0].click().run()
    assert_clean(at)
    kept, total = (int(x) for x in [m for m in at.metric if m.label == "Edges kept"][0].value.split(" of "))
    assert total == len(Circuit.full(load_model(shipped_path("icl-gpt")).cfg).edges)
    assert 0 < kept < total
    figure = chart(at, "faithfulness_curve")
    names = [t["name"] for t in figure["data"]]
    assert names == ["squared error to the full model"]
    distance = array(figure["data"][0]["y"])
    assert abs(distance[-1]) < 1e-9  # every edge kept: the full model itself
    assert max(distance) > 0
