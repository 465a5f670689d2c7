"""Dashboard latency as the user sees it: from a click to the drawn page, in headless Chromium,
next to the server's own script-run seconds for the same switches, and the app's discovery
seconds per method, for every shipped model (`interp models`) and the compiled library
programs `reverse` and `sort`.

In the browser (one served `interp app`, one page): the page is opened once (cold server,
then warm), the sidebar's "By name" source is picked, and per model a *model switch* (type the
name, press Enter, wait until drawn; the page is on the Attention view) and a *view switch*
per view (click the view's label, wait until drawn; Attention last, coming from Program).
Drawn = Streamlit's running indicator gone, no stale element, every plotly figure has its
SVG, and the DOM quiet for QUIET_MS; the time is that of the last DOM change, so the quiet
window is not counted. Server = the wall and CPU seconds of the script runs the switch caused,
logged by the served app itself (interp/app/timing.py).

Discovery: the Circuit view's Discover button per method (AppTest, in this process; the
app's own progress, time budget and faithfulness curve included), wall and CPU seconds.

Targets (issue 30): view switch <= 1 s, model switch <= 5 s in the browser; discovery <= 60 s.
Without Chromium (or with --no-browser) the switches are timed server-side only (AppTest).

Run: .venv/bin/python benchmarks/app_browser_latency.py --markdown
     [--models reverse,addition-1l] [--views Attention,Weights] [--methods acdc,eap]
     [--no-browser] [--no-discovery]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # runnable without PYTHONPATH

from streamlit.testing.v1 import AppTest  # noqa: E402

from interp.analysis.registry import REGISTRY  # noqa: E402
from interp.app.browser_driver import Browser, chromium_path  # noqa: E402
from interp.app.local_server import serving_app  # noqa: E402
from interp.app.timing import TIMING_ENV  # noqa: E402
from interp.subjects import catalogue  # noqa: E402
from interp.threads import use_small_model_threads  # noqa: E402

MAIN = ROOT / "interp" / "app" / "main.py"
LIBRARY = ("reverse", "sort")  # compiled library programs, next to everything shipped
VIEWS = ("Attention", "Token attention", "Residual stream", "Weights", "Component", "Ablation",
         "Patching", "Circuit", "Program")
BY_NAME = "By name (as in the CLI)"
SIDEBAR_NAME = "[data-testid=stSidebar] input[type=text]"  # the By-name text box
VIEW_LABEL = "[data-testid=stMain] [role=radiogroup] label"  # the view picker's labels
VIEW_TARGET_S, MODEL_TARGET_S, DISCOVERY_TARGET_S = 1.0, 5.0, 60.0
DISCOVERY_BUDGET_S = 900.0  # the app's time budget during the benchmark: time runs to their end
# Running: Streamlit's running indicator, or elements greyed as stale while the script reruns.
RUNNING = ("!!document.querySelector('[data-testid=stStatusWidget]') || "
           "!!document.querySelector('[data-stale=true]')")
# Drawn: not running, and every plotly figure on the page has drawn its SVG.
DRAWN = (f"!({RUNNING}) && [...document.querySelectorAll('.js-plotly-plot')]"
         ".every(p => p.querySelector('.main-svg'))")
ERROR = ("(() => { const e = document.querySelector('[data-testid=stMain] [data-testid=stException], "
         "[data-testid=stMain] [data-testid=stAlertContentError]'); return e ? e.innerText : null; })()")
WATCH = ("(() => { window.__t0 = performance.now(); window.__last = window.__t0;"
         " if (!window.__obs && document.body) { window.__obs = new MutationObserver("
         "() => { window.__last = performance.now(); }); window.__obs.observe(document.body,"
         " {subtree: true, childList: true, attributes: true, characterData: true}); }"
         " return !!window.__obs; })()")
QUIET_MS = 700  # no DOM change for this long (and not running, figures drawn): the page is done
POLL_S = 0.05


def model_names() -> list[str]:
    """The library programs `reverse` and `sort`, then every name `interp models` lists."""
    return list(LIBRARY) + [row["name"] for row in catalogue()]


@dataclass
class Timing:
    """One switch: click to drawn in the browser, and the server's script runs it caused."""

    browser: float | None = None
    server: float = 0.0  # wall seconds of the script runs
    cpu: float = 0.0  # the server process's CPU seconds over those runs
    browser_cpu: float | None = None  # Chromium's CPU seconds, click to drawn (all its processes)
    server_cpu: float | None = None  # the server's CPU seconds, click to drawn (all its threads)


@dataclass
class ModelTimes:
    """Every measurement of one model."""

    model: Timing = field(default_factory=Timing)
    views: dict[str, Timing] = field(default_factory=dict)
    discovery: dict[str, tuple[float, float] | str] = field(default_factory=dict)  # (wall, CPU) or why not


# ------------------------------------------------------------------------------ browser
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def tree_cpu(roots: set[int]) -> dict[int, float]:
    """CPU seconds (user + system) used so far by each of the processes `roots` and all their
    descendants (Linux /proc; none elsewhere): the browser's or the server's work, which the
    machine's load does not inflate the way it inflates wall time."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        # After the command name: state, ppid, ..., utime (14th field) and stime (15th).
        stats[int(entry.parent.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    used, todo = {}, [p for p in roots if p in stats]
    while todo:
        pid = todo.pop()
        used[pid] = stats[pid][1]
        todo += children.get(pid, [])
    return used


def cpu_since(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two `tree_cpu` readings (a process that ended in between, e.g. a
    renderer replaced by a navigation, loses its last part; a new one counts from 0)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


class ServerLog:
    """The served app's script-run log (interp/app/timing.py), read incrementally."""

    def __init__(self, path: Path):
        self.path, self.offset = path, 0

    def runs_since(self) -> list[dict]:
        if not self.path.exists():
            return []
        with open(self.path, encoding="utf-8") as log:
            log.seek(self.offset)
            text = log.read()
            self.offset = log.tell()
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def _until_drawn(browser: Browser, what: str, timeout: float = 180.0) -> float:
    """Seconds from t0 to the page's last DOM change, once it has been quiet for QUIET_MS with
    nothing running and every figure drawn; SystemExit on an error page or a timeout."""
    start = time.perf_counter()
    time.sleep(QUIET_MS / 1000)
    while time.perf_counter() - start < timeout:
        if browser.evaluate(f"performance.now() - window.__last > {QUIET_MS} && {DRAWN}"):
            error = browser.evaluate(ERROR)
            if error:
                # A fast error page is no measurement: say which and stop.
                raise SystemExit(f"error: {what} drew an error: {error[:300]}")
            return float(browser.evaluate("(window.__last - window.__t0) / 1000"))
        time.sleep(POLL_S)
    raise SystemExit(f"error: {what} was not drawn within {timeout:.0f} s")


@dataclass
class Processes:
    """The pids whose CPU time is counted: Chromium's and the server's (with their children)."""

    browser: set[int]
    server: set[int]

    def cpu(self) -> tuple[dict[int, float], dict[int, float]]:
        return tree_cpu(self.browser), tree_cpu(self.server)


def _timed(browser: Browser, log: ServerLog, procs: Processes, what: str, action) -> Timing:
    """Run `action` (a click or typing) and time it to the drawn page, with its server runs."""
    log.runs_since()  # skip runs from before
    browser.wait_for(WATCH, 60)
    cpu_before = procs.cpu()
    if not action():
        raise SystemExit(f"error: {what}: the element to click or type into is not on the page")
    seconds = _until_drawn(browser, what)
    cpu_after = procs.cpu()
    runs = log.runs_since()
    timing = Timing(seconds, sum(r["seconds"] for r in runs), sum(r.get("cpu", 0.0) for r in runs),
                    cpu_since(cpu_before[0], cpu_after[0]), cpu_since(cpu_before[1], cpu_after[1]))
    print(f"  {what}: browser {seconds:.2f} s (CPU {timing.browser_cpu:.2f} s), script runs "
          f"{timing.server:.2f} s (server CPU {timing.server_cpu:.2f} s, {len(runs)} runs)", flush=True)
    return timing


def _open_page(browser: Browser, url: str, log: ServerLog, procs: Processes, what: str) -> Timing:
    """Navigate to the dashboard and time it to the drawn page (a navigation starts the clock)."""
    log.runs_since()
    browser.open("about:blank")
    cpu_before = procs.cpu()
    browser.open(url)
    browser.wait_for(f"location.href.startsWith({url!r}) && !!document.body", 60)
    browser.wait_for(WATCH, 60)
    browser.evaluate("window.__t0 = 0")  # the navigation's start
    browser.wait_for("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0", 300)
    seconds = _until_drawn(browser, what, timeout=300)
    cpu_after = procs.cpu()
    runs = log.runs_since()
    timing = Timing(seconds, sum(r["seconds"] for r in runs), sum(r.get("cpu", 0.0) for r in runs),
                    cpu_since(cpu_before[0], cpu_after[0]), cpu_since(cpu_before[1], cpu_after[1]))
    print(f"  {what}: {_cell(timing, True, cpu=True)} s", flush=True)
    return timing


def in_browser(models: list[str], views: list[str]) -> tuple[dict[str, Timing], dict[str, ModelTimes]]:
    """Page opens, then model and view switches, timed in headless Chromium."""
    pages: dict[str, Timing] = {}
    times: dict[str, ModelTimes] = {}
    with tempfile.TemporaryDirectory() as folder:
        log_path = Path(folder) / "runs.jsonl"
        os.environ[TIMING_ENV] = str(log_path)  # the served app inherits it
        try:
            with serving_app(timeout=300) as (url, server_pid):
                log = ServerLog(log_path)
                browser = Browser()
                procs = Processes({browser.process.pid}, {server_pid})
                try:
                    pages["cold"] = _open_page(browser, url, log, procs, "page open, cold server")
                    # Let the warm-up imports (interp/app/warmup.py) finish, as they would while a user reads.
                    time.sleep(15)
                    pages["warm"] = _open_page(browser, url, log, procs, "page open, warm server")
                    _timed(browser, log, procs, "source: by name",
                           lambda: browser.click_text(BY_NAME, "[role=radiogroup] label"))
                    order = [v for v in views if v != "Attention"] + [v for v in views if v == "Attention"]
                    for name in models:
                        row = times[name] = ModelTimes()
                        row.model = _timed(browser, log, procs, f"{name} model switch",
                                           lambda n=name: browser.type_text(SIDEBAR_NAME, n))
                        for view in order:
                            row.views[view] = _timed(
                                browser, log, procs, f"{name} {view}",
                                lambda v=view: browser.click_text(v, VIEW_LABEL))
                        if "Attention" not in views:  # the next model switch starts on Attention
                            browser.click_text("Attention", VIEW_LABEL)
                            _until_drawn(browser, f"{name} back to Attention")
                finally:
                    browser.close()
        finally:
            os.environ.pop(TIMING_ENV, None)
    return pages, times


# -------------------------------------------------------------------------- server-side
def _run(at: AppTest, what: str) -> tuple[float, float]:
    start, cpu = time.perf_counter(), time.process_time()
    at.run()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    if at.exception or at.error:
        errors = [e.value for e in [*at.exception, *at.error]]
        raise SystemExit(f"error: {what}: {str(errors)[:300]}")
    return wall, cpu


def _app_by_name() -> AppTest:
    at = AppTest.from_file(str(MAIN), default_timeout=900)
    at.run()
    at.radio(key="source").set_value(BY_NAME).run()
    return at


def server_side(models: list[str], views: list[str], times: dict[str, ModelTimes]) -> None:
    """Model and view switches as AppTest script runs (no browser)."""
    at = _app_by_name()
    for name in models:
        row = times.setdefault(name, ModelTimes())
        at.radio(key="view").set_value("Attention").run()
        at.text_input(key="named_model").set_value(name)
        wall, cpu = _run(at, f"{name} model switch")
        row.model = Timing(None, wall, cpu)
        for view in views:
            at.radio(key="view").set_value(view)
            wall, cpu = _run(at, f"{name} {view}")
            row.views[view] = Timing(None, wall, cpu)
        print(f"  {name}: model switch {row.model.server:.2f} s, slowest view "
              f"{max(t.server for t in row.views.values()):.2f} s (server)", flush=True)


def discovery(models: list[str], methods: list[str], times: dict[str, ModelTimes],
              budget_s: float = DISCOVERY_BUDGET_S) -> None:
    """The Circuit view's Discover button per model and method: wall and CPU seconds (the app's
    time budget set to `budget_s`, so a run over the 60 s target is timed to its end)."""
    at = _app_by_name()
    at.radio(key="view").set_value("Circuit").run()
    at.number_input(key="discovery_budget").set_value(budget_s)
    for name in models:
        row = times.setdefault(name, ModelTimes())
        at.text_input(key="named_model").set_value(name).run()
        for method in methods:
            at.radio(key="discovery_method").set_value(method)
            at.button(key="FormSubmitter:discovery_form-Discover").click()
            start, cpu = time.perf_counter(), time.process_time()
            at.run()
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            problems = [e.value for e in [*at.exception, *at.error]]
            problems += [w.value for w in at.warning if "time budget" in w.value]
            row.discovery[method] = (wall, cpu) if not problems else str(problems[0])[:120]
            shown = (f"{wall:.1f} s (CPU {cpu:.1f} s)" if not problems else f"not done: {problems[0][:120]}")
            print(f"  {name} {method}: {shown}", flush=True)


# ------------------------------------------------------------------------------- report
def _wall(timing: Timing, browser: bool) -> float:
    return timing.browser if browser and timing.browser is not None else timing.server


def _cell(timing: Timing | None, browser: bool, cpu: bool = False) -> str:
    """`wall (script s)` in the browser, plus `[browser CPU + server CPU]` with `cpu`."""
    if timing is None:
        return "-"
    if not browser or timing.browser is None:
        return f"{timing.server:.2f}"
    text = f"{timing.browser:.2f} ({timing.server:.2f})"
    if cpu and timing.browser_cpu is not None:
        text += f" [{timing.browser_cpu:.1f}+{timing.server_cpu:.1f}]"
    return text


def summary_table(times: dict[str, ModelTimes], browser: bool, methods: list[str]) -> str:
    """Per model: model switch, median and slowest view switch, discovery per method."""
    head = ["model", "model switch", "view switch, median", "slowest view switch"]
    head += [f"{m} s (CPU s)" for m in methods]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for name, row in times.items():
        cells = [name, _cell(row.model, browser, cpu=True) if row.model.server or row.model.browser else "-"]
        if row.views:
            views = list(row.views.values())
            median = Timing(statistics.median(t.browser for t in views) if browser else None,
                            statistics.median(t.server for t in views))
            slowest = max(row.views, key=lambda v: _wall(row.views[v], browser))
            cells += [_cell(median, browser), f"{_cell(row.views[slowest], browser, cpu=True)} {slowest}"]
        else:
            cells += ["-", "-"]
        for method in methods:
            found = row.discovery.get(method)
            cells.append("-" if found is None else found if isinstance(found, str)
                         else f"{found[0]:.1f} ({found[1]:.1f})")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def view_table(times: dict[str, ModelTimes], views: list[str], browser: bool) -> str:
    """Per model and view: the switch's seconds (browser, with the script runs' in parentheses)."""
    head = ["model", *views]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for name, row in times.items():
        if row.views:
            lines.append("| " + " | ".join([name] + [_cell(row.views.get(v), browser) for v in views]) + " |")
    return "\n".join(lines)


def over_target(times: dict[str, ModelTimes], browser: bool) -> list[str]:
    """Every measurement over its target."""
    slow = []
    for name, row in times.items():
        model = _wall(row.model, browser)
        if model > MODEL_TARGET_S:
            slow.append(f"{name} model switch {model:.2f} s")
        for view, timing in row.views.items():
            seconds = _wall(timing, browser)
            if seconds > VIEW_TARGET_S:
                slow.append(f"{name} {view} {seconds:.2f} s")
        for method, found in row.discovery.items():
            if isinstance(found, str) or found[0] > DISCOVERY_TARGET_S:
                slow.append(f"{name} {method} " + (found if isinstance(found, str) else f"{found[0]:.1f} s"))
    return slow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", help="comma-separated names (default: every shipped model, "
                        "and the library programs reverse and sort)")
    parser.add_argument("--views", default=",".join(VIEWS))
    parser.add_argument("--methods", default=",".join(REGISTRY), help="discovery methods")
    parser.add_argument("--no-browser", action="store_true", help="server-side (AppTest) times only")
    parser.add_argument("--no-discovery", action="store_true")
    parser.add_argument("--budget", type=float, default=DISCOVERY_BUDGET_S,
                        help="the app's discovery time budget, s (default: long enough to time every run)")
    parser.add_argument("--markdown", action="store_true", help="print the tables for benchmarks/README.md")
    args = parser.parse_args()
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    use_small_model_threads()
    known = model_names()
    models = args.models.split(",") if args.models else known
    views, methods = args.views.split(","), args.methods.split(",")
    unknown = ([m for m in models if m not in known] + [v for v in views if v not in VIEWS]
               + [m for m in methods if m not in REGISTRY])
    if unknown:
        raise SystemExit(f"error: unknown {unknown}; models {known}, views {list(VIEWS)}, "
                         f"methods {list(REGISTRY)}")
    browser = not args.no_browser and chromium_path() is not None
    load_start, start = os.getloadavg(), time.perf_counter()
    print(f"load average at the start: {load_start[0]:.1f} (1 min), {load_start[1]:.1f} (5 min); "
          f"{os.cpu_count()} CPUs", flush=True)
    pages: dict[str, Timing] = {}
    times: dict[str, ModelTimes] = {}
    if browser:
        pages, times = in_browser(models, views)
    else:
        print("In-browser times not measured: " + ("--no-browser." if args.no_browser else
              "Chromium is not installed (apt-get install chromium)."), flush=True)
        server_side(models, views, times)
    if not args.no_discovery:
        discovery(models, methods, times, args.budget)
    load_end = os.getloadavg()
    print(f"\nload average at the end: {load_end[0]:.1f} (1 min), {load_end[1]:.1f} (5 min); "
          f"took {time.perf_counter() - start:.0f} s\n")
    if pages:
        print("Page open (navigation to drawn), in the browser (script runs) [CPU Chromium + server] s: "
              + ", ".join(f"{k} {_cell(t, True, cpu=True)}" for k, t in pages.items()) + "\n")
    if browser:
        print("Seconds: in the browser, click to drawn (the script runs' own seconds) "
              "[CPU seconds of Chromium + the server, click to drawn]")
    print(summary_table(times, browser, [] if args.no_discovery else methods))
    if args.markdown:
        print("\nPer view, " + ("in the browser (script runs) s:" if browser else "script runs, s:") + "\n")
        print(view_table(times, views, browser))
    slow = over_target(times, browser)
    print(f"\nover target (view {VIEW_TARGET_S} s, model {MODEL_TARGET_S} s, discovery "
          f"{DISCOVERY_TARGET_S} s): " + (", ".join(slow) or "none"))


if __name__ == "__main__":
    main()
