"""The Weights view's residual layout stays light on a big program (the Transformer Program
`sort`: 76 variables) and still says everything: variables alike share a row, checked against
the layout computed here; the toggle lists every variable; and in a real browser plotly draws
each heatmap of the Weights and Attention views once (its margins hold the labels, so automargin
never widens them and redraws) with no two tick labels overlapping."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
from app_harness import array, assert_clean, chart, choose_view, shipped_program_view, start_app

from interp.analysis.head_circuits import residual_layout
from interp.app.browser_driver import Browser, chromium_path
from interp.app.local_server import running_app
from interp.app.panels.weights import LAYOUT_ROWS, layout_groups
from interp.app.subject import named_subject


@pytest.fixture(scope="module")
def program_weights():
    return shipped_program_view("sort", "Weights")


@pytest.fixture(scope="module")
def layout():
    return residual_layout(named_subject("program:sort").model)


def _without_last_number(name: str) -> str:
    """`name` with its last run of digits cut out (written apart from the view's regex)."""
    digits = [i for i, c in enumerate(name) if c.isdigit()]
    if not digits:
        return name
    end = digits[-1] + 1
    start = end
    while start > 0 and name[start - 1].isdigit():
        start -= 1
    return name[:start] + "#" + name[end:]


def test_groups_partition_the_variables_into_maximal_alike_sets(layout):
    directions = layout.directions.numpy()  # [variable, stage]
    groups = layout_groups(layout.variables, directions)
    assert sorted(i for g in groups for i in g) == list(range(len(layout.variables)))
    for group in groups:
        stems = {_without_last_number(layout.variables[i]) for i in group}
        assert len(stems) == 1
        assert all(np.array_equal(directions[i], directions[group[0]]) for i in group)
        if len(group) > 1:
            assert re.search(r"\d", layout.variables[group[0]])
    # Maximal: no two groups share a stem and a row of directions.
    keys = [(_without_last_number(layout.variables[g[0]]), tuple(directions[g[0]])) for g in groups
            if re.search(r"\d", layout.variables[g[0]])]
    assert len(keys) == len(set(keys))
    # Ordered by first member, and far fewer rows than variables for this program.
    assert [g[0] for g in groups] == sorted(g[0] for g in groups)
    assert len(layout.variables) > LAYOUT_ROWS >= len(groups)


def test_program_layout_draws_one_row_per_group_with_every_name_in_the_hover(program_weights, layout):
    fig = chart(program_weights, "residual_layout")
    trace = fig["data"][0]
    rows = fig["layout"]["yaxis"]["ticktext"]
    directions = layout.directions.numpy()
    groups = layout_groups(layout.variables, directions)
    assert len(rows) == len(groups) < len(layout.variables)
    np.testing.assert_array_equal(np.array(array(trace["z"])), directions[[g[0] for g in groups]])
    hover = array(trace["customdata"])  # [row, stage, (row's names, stage)]
    named = [h[0][0].split(", ") for h in hover]
    assert named == [[layout.variables[i] for i in g] for g in groups]
    assert all([cell[1] for cell in h] == fig["layout"]["xaxis"]["ticktext"] for h in hover)
    for label, members in zip(rows, named):
        assert label == members[0] if len(members) == 1 else label.endswith(f"×{len(members)}")
    assert any("variables in" in c.value and "rows" in c.value for c in program_weights.caption)


def test_toggle_lists_every_variable(program_weights, layout):
    at = program_weights
    at.toggle(key="weights_layout_all").set_value(True).run()
    assert_clean(at)
    fig = chart(at, "residual_layout")
    assert fig["layout"]["yaxis"]["ticktext"] == layout.variables
    np.testing.assert_array_equal(np.array(array(fig["data"][0]["z"])), layout.directions.numpy())
    at.toggle(key="weights_layout_all").set_value(False).run()


def test_small_layout_is_one_row_per_variable_without_a_toggle():
    at = choose_view(start_app(), "Weights")  # compiled reverse
    layout = residual_layout(at.session_state["last_good_subject"].model)
    assert len(layout.variables) <= LAYOUT_ROWS
    assert chart(at, "residual_layout")["layout"]["yaxis"]["ticktext"] == layout.variables
    assert not [t for t in at.toggle if t.key == "weights_layout_all"]


# Per figure: margins plotly widened (an automargin redraw), and pairs of y or x tick labels
# whose boxes overlap, compared in the first label's own frame (tilted labels share one angle).
CHECK = """[...document.querySelectorAll('.js-plotly-plot')].map(p => {
  const widened = ['l', 'r', 't', 'b'].filter(s => p._fullLayout._size[s] > p._fullLayout.margin[s] + 0.5);
  const overlaps = ['.ytick text', '.xtick text'].map(sel => {
    const labels = [...p.querySelectorAll(sel)].filter(e => e.getBBox().width > 0);
    if (!labels.length) return 0;
    const frame = labels[0].getScreenCTM().inverse();
    const boxes = labels.map(e => {
      const b = e.getBBox(), m = frame.multiply(e.getScreenCTM());
      const points = [[b.x, b.y], [b.x + b.width, b.y], [b.x, b.y + b.height],
                      [b.x + b.width, b.y + b.height]].map(([x, y]) => new DOMPoint(x, y).matrixTransform(m));
      const xs = points.map(q => q.x), ys = points.map(q => q.y);
      return {left: Math.min(...xs), right: Math.max(...xs), top: Math.min(...ys), bottom: Math.max(...ys)};
    });
    let n = 0;
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) n++;
    }
    return n;
  });
  return [(p.layout.title || {}).text || '', widened.join(''), overlaps[0] + overlaps[1]];
})"""
def _drawn(figures: int) -> str:
    """JavaScript: at least `figures` plotly figures on the page, each drawn."""
    return (f"document.querySelectorAll('.js-plotly-plot').length >= {figures} && [...document."
            "querySelectorAll('.js-plotly-plot')].every(p => p.querySelector('.main-svg') && p._fullLayout)")


@pytest.mark.browser
@pytest.mark.skipif(chromium_path() is None, reason="Chromium is not installed (apt-get install chromium)")
def test_heatmaps_draw_once_without_overlapping_labels():
    # Figures on each page: the residual layout, QK and OV; the attention grid and one head.
    pages = [("program", "sort", "Weights", 3), ("library", "sort", "Weights", 3),
             ("program", "sort", "Attention", 2)]
    drawn = {}
    with running_app() as url:
        browser = Browser()
        try:
            for source, model, view, figures in pages:
                browser.open(f"{url}/?source={source}&model={model}&view={view}")
                assert browser.wait_for(_drawn(figures), 120)
                time.sleep(2)  # the last redraw, if any
                drawn[(source, model, view, figures)] = browser.evaluate(CHECK)
        finally:
            browser.close()
    for page, figures in drawn.items():
        assert len(figures) == page[3], (page, figures)
        assert all(widened == "" and overlaps == 0 for _, widened, overlaps in figures), (page, figures)
