"""Discovery UX: progress, cancel, edge scores on hover, faithfulness curve; ablation metrics."""

from __future__ import annotations

import pytest
import torch
from app_harness import assert_clean, chart, choose_view, errors, start_app

from interp.threads import SMALL_MODEL_THREADS


@pytest.fixture(scope="module")
def discovered():
    """The default program after pressing Discover (ACDC)."""
    at = choose_view(start_app(), "Circuit")
    [b for b in at.button if b.label == "Discover"][0].click().run()
    assert_clean(at)
    return at


def test_app_runs_torch_on_one_thread_for_tiny_models(discovered):
    assert torch.get_num_threads() == SMALL_MODEL_THREADS


def test_found_edges_show_their_scores_on_hover(discovered):
    fig = chart(discovered, "circuit_found")
    edges = [t for t in fig["data"] if t.get("name") == "edges"][0]
    assert edges["hovertext"] and all("score" in h for h in edges["hovertext"])
    # Every drawn edge (one arrow per node pair) has a hover dot (node labels are annotations too).
    assert len(edges["hovertext"]) == len([a for a in fig["layout"]["annotations"] if a.get("showarrow")])


def test_faithfulness_curve_runs_from_no_edges_to_the_full_model(discovered):
    fig = chart(discovered, "faithfulness_curve")
    agreement = [t for t in fig["data"] if t["name"] == "agreement"][0]
    kept = agreement["x"]
    assert kept[0] == 0 and kept == sorted(kept) and len(kept) >= 5
    # All edges kept is the full model itself: it agrees everywhere.
    assert agreement["y"][-1] == pytest.approx(1.0, abs=1e-12)  # averaged over the task's lengths
    assert fig["layout"]["xaxis"]["title"]["text"].startswith("edges kept")


def test_cancel_button_is_there_and_an_unfinished_search_is_reported():
    at = choose_view(start_app(), "Circuit")
    assert [b for b in at.button if b.label == "Cancel"]
    # What a cancelled run leaves behind: the search marked running, with no result.
    at.session_state["discovery_running"] = ("interrupted",)
    at.run()
    assert_clean(at)
    assert any("cancelled" in w.value for w in at.warning)


def _ablate(node: str):
    at = choose_view(start_app(), "Ablation")
    at.pills(key="ablate_nodes").set_value([node]).run()
    assert_clean(at)
    assert not errors(at)
    return at, {m.label: m.value for m in at.metric}


def test_ablation_view_shows_the_metric_change():
    at, metrics = _ablate("L2H0")  # the head that computes `reverse`
    assert float(metrics["Agreement with the clean run"]) < 1.0
    assert float(metrics["KL(clean ‖ ablated)"]) > 0.0
    table = at.dataframe[0].value
    changed = table[table["changed"] == "✗"]
    assert len(changed) and all(float(v) < 0 for v in changed["logit change"])


def test_ablating_an_unused_head_changes_no_metric():
    _, metrics = _ablate("L1H0")
    assert float(metrics["Agreement with the clean run"]) == 1.0
    assert abs(float(metrics["KL(clean ‖ ablated)"])) < 1e-6
