"""Discovery in the app: progress with the time left for every method, and a time budget that
stops a run and says how far it got (a fake clock: no timing in tests)."""

from __future__ import annotations

import itertools

import pytest
from app_harness import choose_view, start_app

from interp.app import discovery_progress
from interp.app.discovery_progress import OverBudget, reporter


def _clock(step: float):
    ticks = itertools.count()
    return lambda: next(ticks) * step


def test_reporter_estimates_the_time_left_from_the_pace_so_far():
    shown = []
    report = reporter("acdc", 60.0, lambda fraction, text: shown.append((fraction, text)), _clock(2.0))
    report(1, 10)  # 2 s for 1 of 10 edges: 18 s left
    assert shown[-1][0] == pytest.approx(0.1)
    assert "1 / 10 edges tried" in shown[-1][1] and "about 18 s left" in shown[-1][1]


def test_reporter_stops_at_the_budget_and_says_how_far_it_got():
    report = reporter("sp", 60.0, lambda *_: None, _clock(25.0))
    report(1, 150)  # 25 s
    report(2, 150)  # 50 s
    with pytest.raises(OverBudget, match=r"sp stopped at its time budget of 60 s after 3 of 150 "
                                         r"optimisation steps \(about 3675 s more"):
        report(3, 150)  # 75 s > 60 s


def test_a_finished_run_is_never_stopped():
    report = reporter("eap", 1.0, lambda *_: None, _clock(100.0))
    report(1, 1)  # over the budget, but done


@pytest.mark.parametrize("method,unit", [("acdc", "edges tried"), ("eap-ig", "gradient passes"),
                                         ("sp", "optimisation steps")])
def test_every_method_reports_progress_and_keeps_the_budget(monkeypatch, method, unit):
    # EAP is left out: on the default program it makes one gradient pass, done at its first report.
    monkeypatch.setattr(discovery_progress, "_now", _clock(100.0))  # 100 s per progress report
    at = choose_view(start_app(), "Circuit")
    at.radio(key="discovery_method").set_value(method)
    [b for b in at.button if b.label == "Discover"][0].click().run()
    warnings = [w.value for w in at.warning]
    assert any(f"{method} stopped at its time budget of 60 s" in w and unit in w for w in warnings), warnings
    assert not at.exception and not at.error
    # Stopped at the budget is not "cancelled", and no stale result is drawn.
    assert not any("cancelled" in w for w in warnings)
    assert not [c for c in at.get("plotly_chart") if "circuit_found" in c.proto.id]
