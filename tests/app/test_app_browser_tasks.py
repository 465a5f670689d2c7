"""Issue 29 in a real browser: trained models are fed their own task. The served dashboard,
driven by headless Chromium: `addition-1l`'s default input and 20 Samples are addition
questions (read with a regex written here, not the app's parser), its default Patching view
shows an effect, `icl-gpt` discovery keeps fewer edges than the full graph, and the grid's
tick labels do not overlap on the page (measured boxes)."""

from __future__ import annotations

import json
import re
import time
import urllib.parse
from pathlib import Path

import numpy as np
import pytest

from interp.app.attention_lines import attention_lines_html
from interp.app.browser_driver import Browser, chromium_path
from interp.app.figures import attention_heatmap
from interp.app.local_server import running_app
from interp.circuit import Circuit
from interp.model import load_model

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(chromium_path() is None,
                       reason="Chromium is not installed (apt-get install chromium); .ci/run installs it"),
]

SHIPPED = Path(__file__).resolve().parents[2] / "interp" / "shipped"
# a+b= with 5-digit zero-padded operands, optionally followed by (a prefix of) the answer digits.
QUESTION = re.compile(r"(\d{5})\+(\d{5})=(\d{0,6})")
RUNNING = ("!!document.querySelector('[data-testid=stStatusWidgetRunningIcon],"
           " [data-testid=stStatusWidgetRunningManIcon], [data-testid=stStatusWidgetNewYearsIcon]')"
           " || !!document.querySelector('[data-stale=true]')")
INPUT = "document.querySelector('[data-testid=stMain] [data-testid=stTextInput] input')"
METRICS = ("[...document.querySelectorAll('[data-testid=stMetric]')].map(m => "
           "[m.querySelector('[data-testid=stMetricLabel]').innerText.trim(),"
           " m.querySelector('[data-testid=stMetricValue]').innerText.trim()])")


# Every tick label's page box in the figure with the most subplots (the grid), tagged by subplot and axis.
TICK_BOXES = """(() => {
  const count = p => p.querySelectorAll('.cartesianlayer .subplot').length;
  const grid = [...document.querySelectorAll('.js-plotly-plot')]
    .reduce((a, p) => !a || count(p) > count(a) ? p : a, null);
  const out = [];
  if (!grid) return out;
  grid.querySelectorAll('.cartesianlayer .subplot').forEach(s => {
    for (const [side, sel] of [['x', '.xaxislayer-above text'], ['y', '.yaxislayer-above text']])
      s.querySelectorAll(sel).forEach(t => { const r = t.getBoundingClientRect();
        out.push([s.className.baseVal + '|' + side, r.left, r.top, r.right, r.bottom]); });
  });
  return out; })()"""


def _idle(browser: Browser, timeout: float = 120) -> None:
    """Until the script run has ended (no running icon, nothing stale) twice in a row."""
    time.sleep(0.2)
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline and quiet < 2:
        quiet = quiet + 1 if browser.evaluate(f"!({RUNNING})") else 0
        time.sleep(0.15)
    assert quiet >= 2, "the dashboard kept running"


def _open(browser: Browser, url: str, model: str, view: str) -> None:
    query = urllib.parse.urlencode({"source": "shipped", "model": model, "view": view})
    browser.open("about:blank")
    browser.open(f"{url}/?{query}")
    assert browser.wait_for(f"location.href.startsWith({url!r}) && !!{INPUT} || "
                            "!!document.querySelector('[data-testid=stMain] [data-testid=stDataFrame]')", 180)
    _idle(browser, 180)


def _metrics(browser: Browser) -> dict[str, str]:
    return dict(browser.evaluate(METRICS) or [])


def _assert_question(text: str) -> None:
    match = QUESTION.fullmatch(text)
    assert match, f"not an addition question: {text!r}"
    a, b, answer = match.groups()
    # Answer digits, when given, are the sum's own (zero-padded to 6), as far as they go.
    assert f"{int(a) + int(b):06d}".startswith(answer), text


def _assert_apart(boxes: list) -> None:
    """No two tick labels of one axis overlap (page boxes, tagged by subplot and axis)."""
    by_axis: dict[str, list] = {}
    for axis, *box in boxes:
        by_axis.setdefault(axis, []).append(box)
    for axis, group in by_axis.items():
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                overlap = min(a[2], b[2]) - max(a[0], b[0]) > 0.5 and min(a[3], b[3]) - max(a[1], b[1]) > 0.5
                assert not overlap, f"tick labels overlap on {axis}: {a} {b}"


def test_enlarged_head_of_a_long_input_keeps_its_labels_apart(tmp_path):
    """The enlarged head of a 64-token Markov sequence, drawn by plotly.js in Chromium (the
    page embeds plotly.js: no server, no CDN)."""
    tokens = list("0110100110010110" * 4)  # 64 positions
    figure = attention_heatmap(np.tril(np.ones((64, 64))) / np.arange(1, 65)[:, None], tokens, "L0H0")
    figure.update_layout(width=1000)
    page = tmp_path / "head.html"
    figure.write_html(page, include_plotlyjs=True)
    browser = Browser(width=1100, height=700)
    try:
        browser.open(page.as_uri())
        assert browser.wait_for("document.querySelectorAll('.ytick, .xtick').length > 0", 30)
        boxes = browser.evaluate(TICK_BOXES)
    finally:
        browser.close()
    assert len([b for b in boxes if b[0].endswith("|y")]) >= 10
    _assert_apart(boxes)


def test_token_attention_titles_clear_a_highlighted_first_token(tmp_path):
    """The "query"/"key" titles and the first token's highlight box (a Transformer Program's
    `<sink>`) do not touch: boxes measured on the page after a real hover."""
    page = tmp_path / "lines.html"
    weights = np.full((1, 4, 4), 0.25)
    page.write_text(attention_lines_html(["<sink>", "<s>", "3", "</s>"], weights, ["L2H4"]))
    browser = Browser(width=600, height=400)
    try:
        browser.open(page.as_uri())
        assert browser.wait_for("document.querySelectorAll('.attn-line').length > 0", 30)
        where = browser.evaluate("(() => { const r = document.getElementById('q-3').getBoundingClientRect();"
                                 " return [r.left + r.width / 2, r.top + r.height / 2]; })()")
        browser.move_mouse(*where)  # colours every key, the first one included
        lit = "+document.querySelector('#k-0 .token-bg').getAttribute('fill-opacity') > 0"
        assert browser.wait_for(lit, 10)
        titles = browser.evaluate("[...document.querySelectorAll('text.title')].map(t => "
                                  "t.getBoundingClientRect().bottom)")
        first = browser.evaluate("Math.min(...['#q-0 .token-bg', '#k-0 .token-bg'].map(s => "
                                 "document.querySelector(s).getBoundingClientRect().top))")
    finally:
        browser.close()
    assert len(titles) == 2 and max(titles) <= first, (titles, first)


@pytest.fixture(scope="module")
def served():
    with running_app(timeout=120) as url:
        browser = Browser(width=1400, height=1400)
        try:
            yield browser, url
        finally:
            browser.close()


def test_addition_default_input_and_samples_are_questions_and_patching_has_an_effect(served):
    browser, url = served
    _open(browser, url, "addition-1l", "Patching")
    _assert_question(browser.evaluate(f"{INPUT}.value"))
    assert browser.wait_for(f"({METRICS}).length >= 2", 60), "no patching metric on the page"
    values = _metrics(browser)
    clean = next(v for k, v in values.items() if k.endswith(", clean"))
    corrupted = next(v for k, v in values.items() if k.endswith(", corrupted"))
    assert abs(float(clean) - float(corrupted)) > 1e-3, values  # the corruption changes the answer
    assert "no effect" not in browser.dom()
    # 20 Samples, on a light view (each Sample reruns the view on screen).
    assert browser.click_text("Program", "[role=radiogroup] label")
    _idle(browser)
    seen = []
    for _ in range(20):
        before = browser.evaluate(f"{INPUT}.value")
        assert browser.click_text("Sample", "button")
        browser.wait_for(f"{INPUT}.value !== {json.dumps(before)}", 30)
        _idle(browser)
        seen.append(browser.evaluate(f"{INPUT}.value"))
    for text in seen:
        _assert_question(text)
    assert len(set(seen)) > 10, seen  # samples, not one question again


def test_icl_grid_tick_labels_do_not_overlap_and_discovery_keeps_fewer_edges(served):
    browser, url = served
    _open(browser, url, "icl-gpt", "Attention")
    assert browser.wait_for("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 2", 60)
    # Every tick label's box on the page, per axis: neighbours must not overlap.
    boxes = browser.evaluate(TICK_BOXES)
    assert boxes, "no tick labels in the attention grid"
    _assert_apart(boxes)
    # Discovery on the task's prompts keeps fewer edges than the full graph.
    assert browser.click_text("Circuit", "[role=radiogroup] label")
    _idle(browser)
    discover = "[...document.querySelectorAll('button')].some(b => b.innerText.trim() === 'Discover')"
    assert browser.wait_for(discover, 60)
    assert browser.click_text("Discover", "button")
    assert browser.wait_for(f"({METRICS}).some(m => m[0] === 'Edges kept')", 120), "discovery drew no result"
    kept, total = (int(x) for x in _metrics(browser)["Edges kept"].split(" of "))
    full = len(Circuit.full(load_model(SHIPPED / "icl-gpt").cfg).edges)
    assert total == full
    assert 0 < kept < full, (kept, full)
