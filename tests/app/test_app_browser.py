"""The dashboard served for real (`interp app --headless`) and opened in headless Chromium."""

from __future__ import annotations

import urllib.parse

import pytest

from interp.app.browser_driver import Browser, chromium_path
from interp.app.local_server import running_app

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(chromium_path() is None,
                       reason="Chromium is not installed (apt-get install chromium); .ci/run installs it"),
]

PLOTS = "document.querySelectorAll('.js-plotly-plot .main-svg').length"


@pytest.fixture(scope="module")
def served():
    """`interp app --headless` on a free port, and a headless Chromium on its page."""
    with running_app() as url:
        browser = Browser()
        try:
            browser.open(url)
            yield browser
        finally:
            browser.close()


def test_served_dashboard_renders_attention_heatmaps_without_cdn(served, tmp_path):
    browser = served
    assert browser.wait_for(f"{PLOTS} > 0", timeout=90), "no plotly chart rendered"
    # The grid is one figure with a heatmap per head; plotly draws each as an image layer.
    assert browser.wait_for("document.querySelectorAll('.js-plotly-plot .hm').length >= 2", 30)
    browser.screenshot(tmp_path / "dashboard.png")
    dom = browser.dom()
    assert "interp dashboard" in dom and "js-plotly-plot" in dom
    _assert_no_remote_assets(browser)


FRAME = "document.querySelector('iframe')"
FRAME_DOC = f"{FRAME}.contentDocument"


def test_token_attention_view_renders_and_hovering_colours_the_other_side(served):
    browser = served
    assert browser.wait_for(f"{PLOTS} > 0", timeout=90)
    assert browser.click_text("Token attention", "[role=radiogroup] label"), "no Token attention view"
    assert browser.wait_for(f"{FRAME} && {FRAME_DOC} && "
                            f"{FRAME_DOC}.querySelectorAll('.attn-line').length > 0", 60), \
        "the token attention page drew no lines"
    n_tokens = browser.evaluate(f"{FRAME_DOC}.querySelectorAll('.token[data-side=q]').length")
    assert n_tokens >= 2
    opacities = (f"[...{FRAME_DOC}.querySelectorAll('.token[data-side=k] .token-bg')]"
                 ".map(e => +e.getAttribute('fill-opacity'))")
    assert set(browser.evaluate(opacities)) == {0}  # nothing coloured before a hover
    # Hover the last query token for real: page coordinates = iframe offset + token offset.
    browser.evaluate(f"{FRAME}.scrollIntoView()")
    box = browser.evaluate(
        f"(() => {{ const f = {FRAME}.getBoundingClientRect();"
        f" const t = {FRAME_DOC}.getElementById('q-{n_tokens - 1}').getBoundingClientRect();"
        " return [f.left + t.left + t.width / 2, f.top + t.top + t.height / 2]; })()")
    browser.move_mouse(*box)
    assert browser.wait_for(f"{opacities}.some(o => o > 0)", 10), "hovering changed no colour"
    coloured = browser.evaluate(opacities)
    # The colours are the attention of the hovered query: a distribution over the keys.
    assert abs(sum(coloured) - 1.0) < 0.05, coloured
    _assert_no_remote_assets(browser)


def _assert_no_remote_assets(browser: Browser) -> None:
    resources = browser.evaluate(
        "performance.getEntriesByType('resource').map(e => e.name)") or []
    hosts = {urllib.parse.urlparse(r).hostname for r in resources if r.startswith("http")}
    assert hosts <= {"127.0.0.1", "localhost"}, f"assets fetched from {hosts}"
