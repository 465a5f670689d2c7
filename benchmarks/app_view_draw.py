"""What one view switch costs the browser: Chromium's renderer CPU, its style and layout passes,
and the size of what the view draws, per (model, view), repeated to see the noise.

`benchmarks/app_browser_latency.py` times every view of every model once; this script looks
at a few views closely. One served `interp app`, one headless Chromium page; per model the
name is typed in the sidebar's "By name" box, then each view is opened once (its first
visit, reported apart) and then `--repeats` times, each time coming from `--from-view` (a light
view, not timed). Per switch, click to drawn (the
latency benchmark's rule): wall seconds, CPU seconds of Chromium's renderer process(es) and of
all Chromium's processes, the renderer's own counts from DevTools `Performance.getMetrics`
(style recalculations, layouts, their seconds, script seconds), and of the drawn page: the
number of plotly figures, their SVG elements, and their JSON (data + layout) in bytes.
CPU seconds are given because wall time grows with the machine's load (say the load).

Run: .venv/bin/python benchmarks/app_view_draw.py [--models program:sort,sort]
     [--views "Weights,Residual stream"] [--repeats 3] [--from-view "Token attention"]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]  # runnable without PYTHONPATH

from app_browser_latency import (  # noqa: E402
    BY_NAME,
    SIDEBAR_NAME,
    VIEW_LABEL,
    WATCH,
    _until_drawn,
    tree_cpu,
)

from interp.app.browser_driver import Browser  # noqa: E402
from interp.app.local_server import serving_app  # noqa: E402

# Per plotly figure on the page: its SVG elements, its figure JSON (what plotly was given), and
# whether plotly widened a margin past the figure's own (labels or colorbar did not fit): each
# widening redraws the whole figure.
FIGURES = ("[...document.querySelectorAll('.js-plotly-plot')].map(p => ["
           "p.querySelectorAll('svg *').length,"
           " JSON.stringify({data: p.data, layout: p.layout}).length,"
           " ['l', 'r', 't', 'b'].filter(s => p._fullLayout._size[s] > p._fullLayout.margin[s] + 0.5)"
           ".join('') || '-', (p.layout.title || {}).text || ''])")
METRICS = ("RecalcStyleCount", "RecalcStyleDuration", "LayoutCount", "LayoutDuration", "ScriptDuration",
           "TaskDuration")


@dataclass
class Switch:
    """One view switch, click to drawn."""

    wall: float
    renderer_cpu: float  # Chromium's renderer process(es), CPU s
    chromium_cpu: float  # all of Chromium's processes, CPU s
    server_cpu: float  # the served app (all its threads and children), CPU s
    metrics: dict[str, float]  # DevTools Performance metrics over the switch (counts, seconds)
    figures: list[tuple[int, int, str, str]]  # per figure: SVG elements, JSON bytes, widened margins, title


def _renderers(pids: set[int]) -> set[int]:
    """The pids among `pids` that are Chromium renderer processes."""
    found = set()
    for pid in pids:
        try:
            if b"--type=renderer" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.add(pid)
        except OSError:
            continue
    return found


def _metrics(browser: Browser) -> dict[str, float]:
    return {m["name"]: m["value"] for m in browser.call("Performance.getMetrics")["metrics"]}


def switch(browser: Browser, server: int, view: str) -> Switch:
    """Click `view`'s label and measure until the page is drawn."""
    browser.wait_for(WATCH, 60)
    root = {browser.process.pid}
    cpu_before, metrics_before, server_before = tree_cpu(root), _metrics(browser), tree_cpu({server})
    if not browser.click_text(view, VIEW_LABEL):
        raise SystemExit(f"error: no view {view!r} on the page")
    wall = _until_drawn(browser, view)
    cpu_after, metrics_after, server_after = tree_cpu(root), _metrics(browser), tree_cpu({server})
    renderers = _renderers(set(cpu_after))
    renderer = sum(cpu_after[p] - cpu_before.get(p, 0.0) for p in renderers)
    chromium = sum(cpu_after[p] - cpu_before.get(p, 0.0) for p in cpu_after)
    delta = {m: metrics_after.get(m, 0.0) - metrics_before.get(m, 0.0) for m in METRICS}
    figures = [tuple(f) for f in browser.evaluate(FIGURES)]
    served = sum(t - server_before.get(p, 0.0) for p, t in server_after.items())
    return Switch(wall, renderer, chromium, served, delta, figures)


def run(models: list[str], views: list[str], repeats: int,
        from_view: str) -> dict[tuple[str, str], list[Switch]]:
    """Every (model, view)'s switches, `repeats` each, coming from `from_view`."""
    results: dict[tuple[str, str], list[Switch]] = {}
    with serving_app(timeout=300) as (url, server):
        browser = Browser()
        try:
            browser.call("Performance.enable")
            browser.open(url)
            browser.wait_for("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0", 300)
            browser.wait_for(WATCH, 60)
            _until_drawn(browser, "page open", timeout=300)
            time.sleep(10)  # the app's warm-up imports (interp/app/warmup.py)
            browser.wait_for(WATCH, 60)
            browser.click_text(BY_NAME, "[role=radiogroup] label")
            _until_drawn(browser, "by name")
            for name in models:
                browser.wait_for(WATCH, 60)
                browser.type_text(SIDEBAR_NAME, name)
                _until_drawn(browser, f"{name} model switch")
                for view in views:
                    # The first visit of a view in the page is reported on its own: it pays
                    # one-off costs (the server's imports, the browser loading a widget's code).
                    for visit in range(repeats + 1):
                        browser.wait_for(WATCH, 60)
                        browser.click_text(from_view, VIEW_LABEL)
                        _until_drawn(browser, from_view)
                        result = switch(browser, server, view)
                        what = view if visit else f"{view} (first visit)"
                        results.setdefault((name, what), []).append(result)
                        print(f"  {name} {what}: {_row(result)}", flush=True)
        finally:
            browser.close()
    return results


def _row(s: Switch) -> str:
    svg = sum(f[0] for f in s.figures)
    size = sum(f[1] for f in s.figures)
    m = s.metrics
    return (f"wall {s.wall:.2f} s, renderer CPU {s.renderer_cpu:.2f} s (Chromium {s.chromium_cpu:.2f}, "
            f"server {s.server_cpu:.2f}), "
            f"style {m['RecalcStyleCount']:.0f}x {m['RecalcStyleDuration']:.2f} s, layout "
            f"{m['LayoutCount']:.0f}x {m['LayoutDuration']:.2f} s, script {m['ScriptDuration']:.2f} s; "
            f"{len(s.figures)} figures, {svg} SVG elements, {size / 1000:.1f} kB JSON; widened margins "
            + ", ".join(f"{f[2]} ({f[3][:24]})" for f in s.figures))


def table(results: dict[tuple[str, str], list[Switch]]) -> str:
    """Medians per (model, view) as a markdown table."""
    head = ["model", "view", "wall s", "renderer CPU s", "Chromium CPU s", "server CPU s", "layouts",
            "style recalcs", "figures", "SVG elements", "figure JSON kB", "figures with widened margins"]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for (name, view), switches in results.items():
        def med(f, switches=switches):
            return statistics.median(f(s) for s in switches)
        lines.append("| " + " | ".join([
            name, view, f"{med(lambda s: s.wall):.2f}", f"{med(lambda s: s.renderer_cpu):.2f}",
            f"{med(lambda s: s.chromium_cpu):.2f}", f"{med(lambda s: s.server_cpu):.2f}",
            f"{med(lambda s: s.metrics['LayoutCount']):.0f}",
            f"{med(lambda s: s.metrics['RecalcStyleCount']):.0f}", f"{len(switches[0].figures)}",
            f"{sum(f[0] for f in switches[0].figures)}",
            f"{sum(f[1] for f in switches[0].figures) / 1000:.1f}",
            f"{sum(f[2] != '-' for f in switches[0].figures)}"]) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="program:sort,sort")
    parser.add_argument("--views", default="Weights,Residual stream")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--from-view", default="Token attention")
    args = parser.parse_args()
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    load = os.getloadavg()
    print(f"load average at the start: {load[0]:.1f} (1 min); {os.cpu_count()} CPUs", flush=True)
    start = time.perf_counter()
    results = run(args.models.split(","), args.views.split(","), args.repeats, args.from_view)
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.1f} (1 min); took {time.perf_counter() - start:.0f} s\n")
    print("Medians over the repeats (a first visit: one):\n")
    print(table(results))


if __name__ == "__main__":
    main()
