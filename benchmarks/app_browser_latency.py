"""Dashboard latency as the user sees it: from a click to the drawn page, in headless Chromium,
next to the server-side script time (AppTest) for the same switches.

Models: compiled `reverse` and `sort` (library), `addition-1l`, `icl-gpt`, Transformer Program
`sort`. Per model: a *model switch* (open the shared URL `?source=..&model=..` in a fresh page
of a served `interp app` and wait until its figures are drawn; the first open of a model loads
it, a later one finds it in the server's cache) and a *view switch* per view (click the view's
radio label, wait until Streamlit's running indicator is gone and the view's figures, table or
iframe are drawn). Without Chromium only the server-side times are measured (said in the output).

Targets (issue 30): view switch <= 1 s, model switch <= 5 s in the browser.

Run: PYTHONPATH=. .venv/bin/python benchmarks/app_browser_latency.py [--models reverse,addition-1l]
     [--views Attention,Weights] [--no-browser]
"""

from __future__ import annotations

import argparse
import logging
import time
import urllib.parse
from pathlib import Path

from streamlit.testing.v1 import AppTest

from app.browser_driver import Browser, chromium_path
from app.local_server import running_app
from interp.threads import use_small_model_threads

MAIN = Path(__file__).resolve().parents[1] / "app" / "main.py"
MODELS = {  # label -> (URL source word, model name, sidebar source label, widget key)
    "reverse": ("library", "reverse", "Library program", "library_program"),
    "sort": ("library", "sort", "Library program", "library_program"),
    "addition-1l": ("shipped", "addition-1l", "Shipped trained model", "shipped_model"),
    "icl-gpt": ("shipped", "icl-gpt", "Shipped trained model", "shipped_model"),
    "program:sort": ("program", "sort", "Transformer Program", "shipped_program"),
}
VIEWS = ("Attention", "Token attention", "Residual stream", "Weights", "Component", "Ablation",
         "Patching", "Circuit", "Program")
VIEW_TARGET_S, MODEL_TARGET_S = 1.0, 5.0
# Running: Streamlit's running indicator, or elements greyed as stale while the script reruns.
RUNNING = ("!!document.querySelector('[data-testid=stStatusWidget]') || "
           "!!document.querySelector('[data-stale=true]')")
# Drawn: not running, and every plotly figure on the page has drawn its SVG.
DRAWN = (f"!({RUNNING}) && [...document.querySelectorAll('.js-plotly-plot')]"
         ".every(p => p.querySelector('.main-svg'))")
POLL_S = 0.05


def server_side(models: list[str], views: list[str]) -> dict[str, dict[str, float]]:
    """Seconds of the script run for a model switch (first load, then cached) and each view."""
    times: dict[str, dict[str, float]] = {}
    at = AppTest.from_file(str(MAIN), default_timeout=600)
    at.run()
    for label in models:
        _, name, source, key = MODELS[label]
        row: dict[str, float] = {}
        at.radio(key="source").set_value(source).run()
        start = time.perf_counter()
        at.selectbox(key=key).set_value(name).run()
        row["model (first)"] = time.perf_counter() - start
        for view in views:
            start = time.perf_counter()
            at.radio(key="view").set_value(view).run()
            row[view] = time.perf_counter() - start
            if at.exception or at.error:
                # A fast error page is no measurement: say which and stop.
                raise SystemExit(f"error: {label} {view}: {[e.value for e in [*at.exception, *at.error]]}")
        times[label] = row
    return times


WATCH = ("(() => { window.__t0 = performance.now(); window.__last = window.__t0;"
         " if (!window.__obs && document.body) { window.__obs = new MutationObserver("
         "() => { window.__last = performance.now(); }); window.__obs.observe(document.body,"
         " {subtree: true, childList: true, attributes: true, characterData: true}); }"
         " return !!window.__obs; })()")
QUIET_MS = 700  # no DOM change for this long (and not running, figures drawn): the page is done


def _watch(browser: Browser, since_navigation: bool = False) -> None:
    """Start recording the time of the page's last DOM change (t0: now, or the navigation)."""
    browser.wait_for(WATCH, 60)
    if since_navigation:
        browser.evaluate("window.__t0 = 0")


def _until_drawn(browser: Browser, timeout: float = 180.0) -> float:
    """Seconds from t0 to the page's last DOM change, once it has been quiet for QUIET_MS with
    nothing running and every figure drawn; inf on timeout."""
    start = time.perf_counter()
    time.sleep(QUIET_MS / 1000)
    while time.perf_counter() - start < timeout:
        if browser.evaluate(f"performance.now() - window.__last > {QUIET_MS} && {DRAWN}"):
            return float(browser.evaluate("(window.__last - window.__t0) / 1000"))
        time.sleep(POLL_S)
    return float("inf")


def in_browser(models: list[str], views: list[str]) -> dict[str, dict[str, float]]:
    """Click-to-drawn seconds in headless Chromium against a served dashboard."""
    times: dict[str, dict[str, float]] = {}
    with running_app(timeout=120) as url:
        browser = Browser()
        try:
            for label in models:
                word, name, _, _ = MODELS[label]
                row: dict[str, float] = {}
                for attempt in ("model (first)", "model (cached)"):
                    query = urllib.parse.urlencode({"source": word, "model": name, "view": "Attention"})
                    browser.open("about:blank")
                    browser.open(f"{url}/?{query}")
                    # The observer must go into the new document, not the blank one it replaces.
                    browser.wait_for(f"location.href.startsWith({url!r})", 60)
                    _watch(browser, since_navigation=True)
                    browser.wait_for("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0", 300)
                    row[attempt] = _until_drawn(browser, timeout=120)
                    print(f"  {label} {attempt}: {row[attempt]:.2f} s", flush=True)  # progress
                # The page opens on Attention: measure it last, coming from another view.
                for view in [v for v in views if v != "Attention"] + [v for v in views if v == "Attention"]:
                    _watch(browser)
                    if not browser.click_text(view, "[role=radiogroup] label"):
                        continue
                    row[view] = _until_drawn(browser, timeout=60)
                    print(f"  {label} {view}: {row[view]:.2f} s", flush=True)  # progress
                times[label] = row
        finally:
            browser.close()
    return times


def table(title: str, times: dict[str, dict[str, float]]) -> str:
    """A markdown table: one row per model, one column per measurement."""
    columns = list(dict.fromkeys(c for row in times.values() for c in row))
    lines = [f"**{title}**", "", "| model | " + " | ".join(columns) + " |",
             "|---" * (len(columns) + 1) + "|"]
    for label, row in times.items():
        cells = [f"{row[c]:.2f}" if c in row else "-" for c in columns]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--views", default=",".join(VIEWS))
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    use_small_model_threads()
    models, views = args.models.split(","), args.views.split(",")
    unknown = [m for m in models if m not in MODELS] + [v for v in views if v not in VIEWS]
    if unknown:
        raise SystemExit(f"error: unknown {unknown}; models {list(MODELS)}, views {list(VIEWS)}")
    print(table("Server-side script run (s), AppTest", server_side(models, views)))
    if args.no_browser or chromium_path() is None:
        print("\nIn-browser times not measured: " + ("--no-browser." if args.no_browser else
              "Chromium is not installed (apt-get install chromium)."))
        return
    browser_times = in_browser(models, views)
    print("\n" + table("In the browser, click to drawn (s), headless Chromium", browser_times))
    slow = [(m, c, t) for m, row in browser_times.items() for c, t in row.items()
            if t > (MODEL_TARGET_S if c.startswith("model") else VIEW_TARGET_S)]
    print(f"\nover target (view {VIEW_TARGET_S} s, model {MODEL_TARGET_S} s): "
          + (", ".join(f"{m} {c} {t:.2f} s" for m, c, t in slow) or "none"))


if __name__ == "__main__":
    main()
