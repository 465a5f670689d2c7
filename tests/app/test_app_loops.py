"""The dashboard on a compiled loop program: every view renders, every step is a layer."""

from __future__ import annotations

import pytest
from app_harness import assert_clean, choose_view, start_app

from interp.app.panels import VIEWS


@pytest.fixture(scope="module")
def parity_app():
    at = start_app()
    at.selectbox(key="library_program").set_value("parity_loop").run()
    assert_clean(at)
    return at


def test_the_loop_program_runs_in_the_dashboard(parity_app):
    at = parity_app
    at.text_input(key="input_text").set_value("1 0 1 1").run()
    assert_clean(at)
    line = [m.value for m in at.markdown if m.value.startswith("**Output**")][0]
    assert line.removeprefix("**Output** ").replace("`", "").split() == ["1", "1", "0", "1"]


@pytest.mark.parametrize("view", ["Token attention", "Patching", "Circuit"])
def test_views_render_for_a_loop_program(parity_app, view):
    # (All views rendered when this was written; these three keep the suite short.)
    assert view in VIEWS
    assert_clean(choose_view(parity_app, view))
