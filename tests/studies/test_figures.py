"""Study figures survive export: every committed figure has axis titles and labelled colour bars
(checked over the figure JSON read back from its HTML, with a parser and rule written here, not
the helper's), a PNG of its own size beside it, and loads plotly.js from the repository; nothing
the project writes names a CDN; show_figure writes HTML and PNG offline and refuses what it must."""

from __future__ import annotations

import json
import re
import struct
import subprocess
from pathlib import Path

import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots

from interp.app.browser_driver import chromium_path
from interp.errors import InputError, StaticExportError
from interp.evaluation import figures, report

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "studies" / "results"
FIGURES = sorted(RESULTS.glob("*/*.html"))
CDN = re.compile(r"https?://[^\s\"'<>)]*(?:cdn|unpkg\.com|jsdelivr|googleapis\.com/ajax)", re.IGNORECASE)
NO_AXES = {"table", "pie", "sankey", "indicator", "sunburst", "treemap"}
needs_browser = pytest.mark.skipif(
    chromium_path() is None, reason="no Chromium (apt-get install chromium); .ci/run installs it")


def read_figure(html: str) -> dict:
    """data and layout: the two JSON values after the div id in the page's Plotly.newPlot call."""
    match = re.search(r"Plotly\.newPlot\(\s*\"[^\"]+\",\s*", html)
    assert match, "no Plotly.newPlot call"
    decoder = json.JSONDecoder()
    data, end = decoder.raw_decode(html, match.end())
    layout, _ = decoder.raw_decode(html, re.compile(r",\s*").match(html, end).end())
    return {"data": data, "layout": layout}


def text_of(title) -> str:
    """A title given as a string or as {"text": ...}."""
    return (title.get("text") if isinstance(title, dict) else title) or ""


def missing_titles(fig: dict) -> list[str]:
    """Axes under a trace with no title on them nor on an axis of the same subplot row/column,
    and shown colour bars with no title."""
    layout, missing = fig["layout"], []
    for trace in fig["data"]:
        if trace.get("type", "scatter") not in NO_AXES:
            for letter in "xy":
                name = f"{letter}axis" + trace.get(f"{letter}axis", letter)[1:]
                axis = layout.get(name, {})
                peers = [a for key, a in layout.items() if re.fullmatch(f"{letter}axis\\d*", key)
                         and a.get("domain") == axis.get("domain")]
                if axis.get("visible", True) and not any(text_of(a.get("title")) for a in [axis, *peers]):
                    missing.append(name)
        if "coloraxis" in trace:
            bar = layout[trace["coloraxis"]]
            if bar.get("showscale", True) and not text_of(bar.get("colorbar", {}).get("title")):
                missing.append(trace["coloraxis"])
        elif trace.get("type") in {"heatmap", "contour", "histogram2d"} and trace.get("showscale", True):
            if not text_of(trace.get("colorbar", {}).get("title")):
                missing.append(f"colour bar of a {trace['type']}")
    return missing


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def test_committed_figures_exist():
    assert len(FIGURES) >= 20, "the studies' committed figures are missing"


@pytest.mark.parametrize("path", FIGURES, ids=[f"{p.parent.name}/{p.stem}" for p in FIGURES])
def test_committed_figure_is_labelled_local_and_has_its_png(path):
    html = path.read_text()
    fig = read_figure(html)
    assert fig["data"], f"{path.name}: a figure with no trace"
    assert missing_titles(fig) == [], f"{path.relative_to(ROOT)}: untitled {missing_titles(fig)}"
    scripts = re.findall(r"<script[^>]*\bsrc=[\"']([^\"']+)", html)
    assert scripts == ["../plotly.min.js"], f"{path.name} loads {scripts}, not the repository's plotly.js"
    assert (path.parent.parent / "plotly.min.js").stat().st_size > 1_000_000
    png = path.with_suffix(".png")
    assert png.is_file(), f"no PNG beside {path.relative_to(ROOT)} (run python studies/make_figures.py)"
    width, height = fig["layout"].get("width") or 700, fig["layout"].get("height") or 500
    assert png_size(png) == (width, height)


def test_the_title_rule_here_and_the_helpers_agree_on_labelled_and_unlabelled_figures():
    fig = make_subplots(rows=1, cols=2)
    fig.add_trace(go.Heatmap(z=[[1, 2], [3, 4]]), 1, 1)
    fig.add_trace(go.Scatter(x=[1, 2], y=[3, 4]), 1, 2)
    plain = json.loads(fig.to_json())
    assert missing_titles(plain) and figures.untitled(fig)
    fig.update_xaxes(title_text="position")
    fig.update_yaxes(title_text="value", col=1)  # the row's second y axis shares it
    assert figures.untitled(fig) == ["colour bar of heatmap trace '' (colorbar.title.text)"]
    assert missing_titles(json.loads(fig.to_json())) == ["colour bar of a heatmap"]
    fig.update_traces(colorbar_title_text="weight", selector={"type": "heatmap"})
    assert figures.untitled(fig) == [] and missing_titles(json.loads(fig.to_json())) == []
    shared = go.Figure(go.Heatmap(z=[[1]], coloraxis="coloraxis"),
                       layout={"xaxis_title": "a", "yaxis_title": "b"})
    assert figures.untitled(shared) == ["colour bar of coloraxis (layout.coloraxis.colorbar.title.text)"]


def test_figure_from_html_reads_back_what_plotly_wrote(tmp_path):
    fig = go.Figure(go.Bar(x=["a", "b"], y=[1.5, -2]), layout={"title": "t, with a comma", "width": 640})
    html = fig.to_html(include_plotlyjs=False)
    back = figures.figure_from_html(html)
    assert back["data"][0]["y"] == read_figure(html)["data"][0]["y"]
    assert back["layout"]["width"] == 640 and back["layout"]["title"]["text"] == "t, with a comma"
    with pytest.raises(StaticExportError, match="Plotly.newPlot"):
        figures.figure_from_html("<html></html>")


def test_nothing_the_repository_holds_names_a_cdn():
    """Every tracked text file but the vendored plotly.js (whose map-tile URLs no study figure
    uses) and the tests (which name CDNs to assert their absence)."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    found = []
    for name in tracked.decode().split("\0"):
        path = ROOT / name
        if not name or name.startswith("tests/") or name.endswith("plotly.min.js") or not path.is_file():
            continue
        binary = path.suffix in {".safetensors", ".png", ".pt", ".bin", ".npz", ".gz"}
        if binary or path.stat().st_size > 5_000_000:
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        found += [f"{name}: {m}" for m in CDN.findall(text)]
    assert found == []


def test_full_mode_refuses_before_any_work_when_no_browser(monkeypatch, tmp_path):
    from choreographer.browsers.chromium import Chromium

    monkeypatch.setattr(Chromium, "find_browser", classmethod(lambda cls, **_: None))
    monkeypatch.setenv("STUDY_OUTPUT_DIR", str(tmp_path / "out"))
    with pytest.raises(StaticExportError, match="Chromium"):
        report.output_dir("x", quick=False)
    assert not (tmp_path / "out").exists()
    assert report.output_dir("x", quick=True) == tmp_path / "out"  # quick mode draws no PNG


def test_quick_mode_refuses_an_untitled_figure_and_full_mode_warns(monkeypatch, tmp_path):
    fig = go.Figure(go.Scatter(x=[1, 2], y=[1, 2]), layout={"xaxis_title": "step"})
    monkeypatch.setenv("STUDY_QUICK", "1")
    out = tmp_path / "study"
    out.mkdir()
    with pytest.raises(InputError, match="yaxis"):
        report.show_figure(fig, out, "untitled")
    monkeypatch.delenv("STUDY_QUICK")
    with pytest.warns(UserWarning, match="yaxis"):
        report.show_figure(fig, out, "untitled", static=False)
    assert (out / "untitled.html").is_file() and not (out / "untitled.png").exists()


@pytest.mark.browser
@needs_browser
def test_show_figure_in_full_mode_writes_local_html_and_its_png(monkeypatch, tmp_path):
    monkeypatch.delenv("STUDY_QUICK", raising=False)
    out = tmp_path / "results" / "study"
    out.mkdir(parents=True)
    fig = go.Figure(go.Heatmap(z=[[0, 1], [1, 0]], colorbar_title_text="weight"),
                    layout={"xaxis_title": "key", "yaxis_title": "query", "width": 420, "height": 300})
    html_path = report.show_figure(fig, out, "matrix")
    html = html_path.read_text()
    assert not CDN.search(html) and '<script charset="utf-8" src="../plotly.min.js">' in html
    assert (out.parent / "plotly.min.js").read_text().startswith("/**\n* plotly.js v")
    assert png_size(out / "matrix.png") == (420, 300)


FIGURE_CELL = """
import plotly.graph_objects as go
from interp.evaluation.report import StudyTable, show_figure
for name in ("first", "second"):
    fig = go.Figure(go.Bar(x=["a", "b"], y=[1, 2]), layout={"xaxis_title": "x", "yaxis_title": "y"})
    show_figure(fig, OUT, name)
table = StudyTable("paper vs ours")
table.add("a quantity", "1", "2", "setting", "0", 1.0)
display(table)
"""


@pytest.mark.browser
@needs_browser
def test_figures_and_table_show_offline_in_the_nbconvert_html_of_an_executed_notebook(monkeypatch, tmp_path):
    """What `jupyter nbconvert --to html` writes for an executed notebook, opened in Chromium
    with the network switched off: both figures drawn, the results table an HTML table."""
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    from interp.app.browser_driver import Browser

    monkeypatch.setenv("STUDY_QUICK", "1")  # no PNG: the inline HTML alone must show the figure
    out = tmp_path / "results" / "study"
    out.mkdir(parents=True)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"OUT = {str(out)!r}"),
                                               nbformat.v4.new_code_cell(FIGURE_CELL)])
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    html, _ = HTMLExporter().from_notebook_node(notebook)
    assert html.count("Plotly.newPlot(") == 2 and html.count("* plotly.js v") == 1  # inline, once
    assert not re.search(r"<script[^>]*src=[\"'][^\"']*plotly", html)
    assert "<table>" in html and "<td>a quantity</td>" in html
    page = tmp_path / "exported.html"
    page.write_text(html)
    browser = Browser()
    try:
        browser.call("Network.enable")
        browser.call("Network.emulateNetworkConditions", offline=True, latency=0,
                     downloadThroughput=-1, uploadThroughput=-1)
        browser.open(page.as_uri())
        drawn = "document.querySelectorAll('.js-plotly-plot .main-svg .bars .point').length"
        assert browser.wait_for(f"{drawn} >= 4", timeout=60), "the exported HTML drew no figure offline"
    finally:
        browser.close()
