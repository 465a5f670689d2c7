"""A shared URL in a real browser: opening it restores model, input and view, and a click on
another view updates the address bar."""

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

CHECKED = ("[...document.querySelectorAll('[role=radiogroup] label')]"
           ".filter(l => l.querySelector('input:checked')).map(l => l.innerText.trim())")
CODES = "[...document.querySelectorAll('p code')].map(c => c.innerText)"


def test_opening_a_shared_url_restores_model_input_and_view():
    query = urllib.parse.urlencode({"source": "library", "model": "sort", "input": "3 1 2",
                                    "view": "Weights"})
    with running_app() as url:
        browser = Browser()
        try:
            browser.open(f"{url}/?{query}")
            assert browser.wait_for("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0", 120)
            assert browser.wait_for(f"{CHECKED}.includes('Weights')", 30), browser.evaluate(CHECKED)
            assert "Library program" in browser.evaluate(CHECKED)
            # The input row and the sorted output, as typed in the URL.
            assert browser.wait_for(f"{CODES}.join(' ').includes('3 1 2 1 2 3')", 30), browser.evaluate(CODES)
            assert browser.click_text("Attention", "[role=radiogroup] label")
            assert browser.wait_for("location.search.includes('view=Attention')", 30), \
                browser.evaluate("location.search")
        finally:
            browser.close()
