"""A screenshot of every dashboard view for every model a researcher opens first, taken from a
served `interp app` in headless Chromium, with the page's notes saved next to each PNG.

Models: compiled `reverse` and `sort` (library), shipped `addition-1l`, `icl-gpt`,
`markov-switching`, the SIIT model `siit-sort`, and the Transformer Programs `sort` and `hist`. Each model
opens through its shareable URL (`?source=..&model=..&view=Attention`); every other view is
then opened by clicking its label, as a user would. Per (model, view) the script writes
`<model>__<view>.png` and `<model>__<view>.txt` (the view's captions, info and error boxes:
what the view opened on and why). With --discover the Circuit view is also shot after pressing
Discover (`<model>__circuit_discovered.png`).

The PNGs are for looking at (issue 30: no overlapping labels, no blank default); they go to a
scratch folder, never into the repository.

Run: PYTHONPATH=. .venv/bin/python benchmarks/app_screenshots.py [--out /tmp/shots]
     [--models reverse,addition-1l] [--views Attention,Weights] [--discover]
"""

from __future__ import annotations

import argparse
import json
import os
import time
import urllib.parse
from pathlib import Path

from interp.app.browser_driver import Browser, chromium_path
from interp.app.local_server import running_app

MODELS = {  # label -> (URL source word, model name)
    "reverse": ("library", "reverse"),
    "sort": ("library", "sort"),
    "addition-1l": ("shipped", "addition-1l"),
    "icl-gpt": ("shipped", "icl-gpt"),
    "markov-switching": ("shipped", "markov-switching"),
    "siit-sort": ("shipped", "siit-sort"),
    "program-sort": ("program", "sort"),
    "program-hist": ("program", "hist"),  # its output is exactly one variable (count_0_1)
}
VIEWS = ("Attention", "Token attention", "Residual stream", "Weights", "Component", "Ablation",
         "Patching", "Circuit", "Program")
# Running: the toolbar's running icon (not the whole status widget, which also holds the
# "source file changed" prompt), or elements greyed as stale while the script reruns.
RUNNING = ("!!document.querySelector('[data-testid=stStatusWidgetRunningIcon],"
           " [data-testid=stStatusWidgetRunningManIcon], [data-testid=stStatusWidgetNewYearsIcon]')"
           " || !!document.querySelector('[data-stale=true]')")
# Drawn: nothing running and every plotly figure has its SVG.
DRAWN = (f"!({RUNNING}) && [...document.querySelectorAll('.js-plotly-plot')]"
         ".every(p => p.querySelector('.main-svg'))")
WATCH = ("(() => { window.__last = performance.now();"
         " if (!window.__obs && document.body) { window.__obs = new MutationObserver("
         "() => { window.__last = performance.now(); }); window.__obs.observe(document.body,"
         " {subtree: true, childList: true, attributes: true, characterData: true}); }"
         " return !!window.__obs; })()")
QUIET_MS = 1500
# The view's own notes: captions, info / warning / error boxes, markdown text under the picker.
NOTES = ("[...document.querySelectorAll('[data-testid=stMain] [data-testid=stCaptionContainer],"
         " [data-testid=stMain] [data-testid=stAlert], [data-testid=stMain] [data-testid=stMarkdown],"
         " [data-testid=stMain] [data-testid=stMetric]')]"
         ".map(e => e.innerText.trim().replace(/\\s*\\n\\s*/g, ': ')).filter(t => t)")
HEIGHT = "document.querySelector('[data-testid=stMain]').scrollHeight"
FRAME_DOC = "document.querySelector('iframe').contentDocument"


def settle(browser: Browser, timeout: float = 120.0) -> bool:
    """Wait until nothing runs, every figure is drawn and the DOM has been quiet QUIET_MS."""
    browser.wait_for(WATCH, 60)
    time.sleep(QUIET_MS / 1000)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if browser.evaluate(f"performance.now() - window.__last > {QUIET_MS} && {DRAWN}"):
            return True
        time.sleep(0.2)
    state = browser.evaluate(f"[{RUNNING}, {DRAWN}, performance.now() - window.__last]")
    print(f"  (not settled after {timeout:.0f} s: running, drawn, ms since a change = {state})", flush=True)
    return False


def open_view(browser: Browser, view: str) -> None:
    """Click the view's label until it is the checked one (a click during a rerun is lost)."""
    checked = (f"[...document.querySelectorAll('[role=radiogroup] label')].some(l => "
               f"l.innerText.trim() === {json.dumps(view)} && l.querySelector('input:checked'))")
    for _ in range(3):
        if browser.evaluate(checked):
            return
        present = (f"[...document.querySelectorAll('[role=radiogroup] label')]"
                   f".some(l => l.innerText.trim() === {json.dumps(view)})")
        browser.wait_for(present, 60)  # the picker may be redrawing
        browser.wait_for(WATCH, 60)
        if not browser.click_text(view, "[role=radiogroup] label"):
            raise RuntimeError(f"no view {view!r} in the picker")
        settle(browser)
    if not browser.evaluate(checked):
        raise RuntimeError(f"the view {view!r} did not open")


def hover_last_token(browser: Browser) -> None:
    """Hover the last query token of the token-attention page, as a user would."""
    if not browser.wait_for(f"{FRAME_DOC} && {FRAME_DOC}.querySelectorAll('.attn-line').length > 0", 30):
        return
    box = browser.evaluate(
        "(() => { const f = document.querySelector('iframe').getBoundingClientRect();"
        f" const qs = {FRAME_DOC}.querySelectorAll('.token[data-side=q]');"
        " const t = qs[qs.length - 1].getBoundingClientRect();"
        " return [f.left + t.left + t.width / 2, f.top + t.top + t.height / 2]; })()")
    if box:
        browser.move_mouse(*box)
        time.sleep(0.5)


def shoot(browser: Browser, path: Path, width: int, max_height: int) -> list[str]:
    """Save the whole view (the viewport grown to the page's height) and return its notes."""
    height = min(max_height, int(browser.evaluate(HEIGHT) or 1200) + 120)
    browser.set_viewport(width, height)
    time.sleep(1.0)  # plotly redraws at the new size
    settle(browser, 60)
    browser.screenshot(path)
    notes = list(dict.fromkeys(browser.evaluate(NOTES) or []))  # a caption sits in a markdown block too
    browser.set_viewport(width, 1200)
    return notes


def take(out: Path, models: list[str], views: list[str], discover: bool, width: int = 1400,
         max_height: int = 5000) -> list[Path]:
    """Serve the app, open every (model, view) and save its PNG and notes under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    # The served app must not rerun when someone edits interp/app/ mid-way (the server reads this).
    os.environ["STREAMLIT_SERVER_FILE_WATCHER_TYPE"] = "none"
    with running_app(timeout=120) as url:
        browser = Browser(width=width, height=1200)
        try:
            browser.set_viewport(width, 1200)
            for label in models:
                word, name = MODELS[label]
                query = urllib.parse.urlencode({"source": word, "model": name, "view": views[0]})
                browser.open("about:blank")
                browser.open(f"{url}/?{query}")
                browser.wait_for(f"location.href.startsWith({url!r})", 60)
                start = time.perf_counter()
                browser.wait_for("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0"
                                 " || document.querySelector('[data-testid=stAlert]')", 300)
                settle(browser)
                print(f"{label}: opened in {time.perf_counter() - start:.1f} s", flush=True)
                shots = [(v, v) for v in views]
                if discover and "Circuit" in views:
                    shots.append(("Circuit", "Circuit discovered"))
                for view, shot in shots:
                    start = time.perf_counter()
                    open_view(browser, view)
                    if view == "Token attention":
                        hover_last_token(browser)
                    if shot == "Circuit discovered":
                        if not browser.click_text("Discover", "button, p"):
                            print(f"  {label}: no Discover button", flush=True)
                            continue
                        time.sleep(1.0)
                        settle(browser, 600)
                    browser.evaluate("window.scrollTo(0, 0)")
                    stem = f"{label}__{shot.lower().replace(' ', '_')}"
                    notes = shoot(browser, out / f"{stem}.png", width, max_height)
                    (out / f"{stem}.txt").write_text("\n".join(notes) + "\n")
                    written.append(out / f"{stem}.png")
                    print(f"  {stem}.png ({time.perf_counter() - start:.1f} s)", flush=True)
        finally:
            browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/shots"))
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--views", default=",".join(VIEWS))
    parser.add_argument("--discover", action="store_true", help="also shoot Circuit after Discover")
    args = parser.parse_args()
    models, views = args.models.split(","), args.views.split(",")
    unknown = [m for m in models if m not in MODELS] + [v for v in views if v not in VIEWS]
    if unknown:
        raise SystemExit(f"error: unknown {unknown}; models {list(MODELS)}, views {list(VIEWS)}")
    if chromium_path() is None:
        raise SystemExit("error: Chromium is not installed (apt-get install chromium)")
    take(args.out, models, views, args.discover)


if __name__ == "__main__":
    main()
