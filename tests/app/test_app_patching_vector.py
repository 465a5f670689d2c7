"""Patching an in-context regression prompt says what the corruption changed (was two JSON
dumps cut at 300 characters, identical on screen), and opens on the sweeps' result."""

from __future__ import annotations

import re

import pytest
from app_harness import assert_clean, chart, choose_view, open_shipped


@pytest.fixture(scope="module")
def patching():
    return choose_view(open_shipped("icl-gpt"), "Patching")


def _line(at) -> str:
    return [m.value for m in at.markdown if m.value.startswith("**Clean**")][0]


def test_resampling_w_changes_every_y_and_no_x(patching):
    at = patching
    at.selectbox(key="patch_corruption").set_value("resample the task vector w").run()
    assert_clean(at)
    line = _line(at)
    assert "{" not in line  # no JSON
    assert "x changed at: none" in line
    changed_y = re.search(r"y changed at: ([^(]*)\(", line)[1]
    k = int(at.number_input(key="icl_k").value)  # in-context examples before the query
    names = [n.strip() for n in changed_y.split(",")]
    assert names == [f"example {i}" for i in range(k)] + ["query"]
    chart(at, "patch_positions")  # the sweeps ran on their own (a small model)


def test_resampling_the_query_changes_only_the_query(patching):
    at = patching
    at.selectbox(key="patch_corruption").set_value("resample the query x").run()
    assert_clean(at)
    line = _line(at)
    assert "x changed at: query;" in line
