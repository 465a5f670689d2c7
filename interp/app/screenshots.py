"""PNG screenshots of every dashboard view, taken from the running app with headless Chromium
(Debian's `chromium`; no download). They illustrate interp/app/README.md.

Run: PYTHONPATH=. .venv/bin/python -m interp.app.screenshots [--out interp/app/screenshots]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

from interp.app.browser_driver import Browser, chromium_path
from interp.app.local_server import running_app

PLOTS = "document.querySelectorAll('.js-plotly-plot .main-svg').length"
FRAME_DOC = "document.querySelector('iframe').contentDocument"
# The script is running while the toolbar shows its running icon or elements are stale.
RUNNING = ("document.querySelector('[data-testid^=\"stStatusWidgetRunning\"]') !== null"
           " || document.querySelectorAll('[data-stale=\"true\"]').length > 0")


def _settle(browser: Browser, seconds: float = 2.0) -> None:
    """Wait for the script run to end (no status widget), then for plotly to draw."""
    time.sleep(0.5)
    browser.wait_for(f"!({RUNNING})", timeout=120)
    time.sleep(seconds)


def _hover_token(browser: Browser) -> None:
    """Hover the last query token of the token-attention page, as a user would."""
    browser.wait_for(f"{FRAME_DOC} && {FRAME_DOC}.querySelectorAll('.attn-line').length > 0", 30)
    browser.evaluate("document.querySelector('iframe').scrollIntoView()")
    box = browser.evaluate(
        "(() => { const f = document.querySelector('iframe').getBoundingClientRect();"
        f" const qs = {FRAME_DOC}.querySelectorAll('.token[data-side=q]');"
        " const t = qs[qs.length - 1].getBoundingClientRect();"
        " return [f.left + t.left + t.width / 2, f.top + t.top + t.height / 2]; })()")
    browser.move_mouse(*box)
    time.sleep(0.5)


CHECKED = ("[...document.querySelectorAll('label')].some(l => l.innerText.trim() === {!r}"
           " && l.querySelector('input:checked'))")


def _open_view(browser: Browser, view: str) -> None:
    """Click the view's radio label until it is the checked one (a click during a rerun is lost)."""
    for _ in range(5):
        if not browser.click_text(view, "[role=radiogroup] label"):
            raise RuntimeError(f"no view {view!r} in the picker")
        _settle(browser)
        if browser.evaluate(CHECKED.format(view)):
            return
    raise RuntimeError(f"the view {view!r} did not open")


def _click(text: str) -> Callable[[Browser], None]:
    def action(browser: Browser) -> None:
        # The view may still be drawing on a busy machine: wait for the element to appear.
        present = (f"[...document.querySelectorAll('button, label, p')]"
                   f".some(e => e.innerText.trim() === {json.dumps(text)})")
        if not browser.wait_for(present, timeout=60) or not browser.click_text(text, "button, label, p"):
            raise RuntimeError(f"no {text!r} to click on the page")
        _settle(browser, 3.0)

    return action


# View name in the picker -> what to do before the screenshot (None: nothing).
VIEWS: dict[str, Callable[[Browser], None] | None] = {
    "Attention": None,
    "Token attention": _hover_token,
    "Residual stream": None,
    "Weights": None,
    "Ablation": _click("L2H0"),
    "Patching": None,
    "Circuit": _click("Discover"),
    "Program": None,
}


def _choose(browser: Browser, label: str, option: str) -> None:
    """Pick `option` in the select box labelled `label`, with real clicks as a user would."""
    select = f"document.querySelector('input[aria-label={json.dumps(label)}]')"
    where = browser.center_of(select)
    if where is None:
        raise RuntimeError(f"no select box {label!r} on the page")
    browser.click_at(*where)
    item = (f"[...document.querySelectorAll('[role=option]')].find(e => e.innerText.trim()"
            f".startsWith({json.dumps(option)}))")
    if not browser.wait_for(f"!!({item})", timeout=20):
        raise RuntimeError(f"no option {option!r} in {label!r}")
    browser.click_at(*browser.center_of(item))
    _settle(browser, 3.0)


def _pick_model(source: str, label: str, option: str) -> Callable[[Browser], None]:
    def action(browser: Browser) -> None:
        if not browser.click_text(source, "[role=radiogroup] label"):
            raise RuntimeError(f"no model source {source!r}")
        _settle(browser, 3.0)
        _choose(browser, label, option)

    return action


def _then(*actions: Callable[[Browser], None]) -> Callable[[Browser], None]:
    def action(browser: Browser) -> None:
        for step in actions:
            step(browser)

    return action


# Other model kinds: (file, model to pick, view, what to do there). Taken after VIEWS.
MODEL_SHOTS: list[tuple[str, Callable[[Browser], None], str, Callable[[Browser], None] | None]] = [
    ("icl_prompt.png", _pick_model("Shipped trained model", "Shipped model", "icl-lsa"), "Attention", None),
    ("icl_ablation.png", _pick_model("Shipped trained model", "Shipped model", "icl-gpt"), "Ablation",
     _click("L0H0")),
    ("tp_predicates.png", _pick_model("Transformer Program", "Transformer Program", "sort"), "Program",
     _then(_click("Heads (predicates)"), lambda b: _choose(b, "Head", "L0H2"))),
    ("tp_lookup.png", _pick_model("Transformer Program", "Transformer Program", "sort"), "Program",
     _click("MLP lookup tables")),
]


def slug(view: str) -> str:
    """File name of a view's screenshot."""
    return view.lower().replace(" ", "_") + ".png"


def take_screenshots(out: Path, width: int = 1400, height: int = 2000) -> list[Path]:
    """Serve the app, open each view and save its screenshot under `out`."""
    if chromium_path() is None:
        raise SystemExit("Chromium is not installed: apt-get install -y chromium")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with running_app() as url:
        browser = Browser(width=width, height=height)
        try:
            browser.set_viewport(width, height)
            browser.open(url)
            if not browser.wait_for(f"{PLOTS} > 0", timeout=120):
                raise RuntimeError("the dashboard drew no chart")
            _settle(browser)
            for view, action in VIEWS.items():
                _open_view(browser, view)
                if action is not None:
                    action(browser)
                browser.evaluate("window.scrollTo(0, 0)")
                path = out / slug(view)
                browser.screenshot(path)
                written.append(path)
                print(f"wrote {path}", flush=True)
            for name, pick, view, action in MODEL_SHOTS:
                pick(browser)
                _open_view(browser, view)
                if action is not None:
                    action(browser)
                browser.evaluate("window.scrollTo(0, 0)")
                path = out / name
                browser.screenshot(path)
                written.append(path)
                print(f"wrote {path}", flush=True)
        finally:
            browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "screenshots")
    args = parser.parse_args()
    take_screenshots(args.out)


if __name__ == "__main__":
    main()
