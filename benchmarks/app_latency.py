"""Dashboard interaction latency: from an input change to updated figures, per library program.

Drives the real app (app/main.py) with Streamlit's AppTest: pick a program (compiled once,
then cached), then time `set input -> run` for fresh sampled inputs in every view (Ablation
with one head switched off; Circuit without pressing Discover, which runs on its button).
The time is the server-side script run that rebuilds every figure; the browser's drawing
is not in it. Target (issue 15): <= 0.2 s for every view of every library program.

Run: PYTHONPATH=. .venv/bin/python benchmarks/app_latency.py [--repeats N] [--programs a,b]
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from app.subject import DEFAULT_MAX_LEN, library_subject
from interp.threads import use_small_model_threads
from rasp.lib import PROGRAMS

MAIN = Path(__file__).resolve().parents[1] / "app" / "main.py"
TARGET_S = 0.2
MAX_LEN = DEFAULT_MAX_LEN  # the dashboard's default max length for library programs
VIEWS = ("Attention", "Token attention", "Residual stream", "Weights", "Ablation", "Patching",
         "Circuit", "Program")
SHORT = {"Attention": "attn", "Token attention": "tokens", "Residual stream": "resid", "Weights": "weights",
         "Ablation": "ablate", "Patching": "patch", "Circuit": "circuit", "Program": "program"}


def time_program(name: str, repeats: int, seed: int) -> dict[str, float] | str:
    """Median seconds per view for `name`, or the reason it could not run."""
    at = AppTest.from_file(str(MAIN), default_timeout=300)
    at.run()
    at.selectbox(key="library_program").set_value(name).run()
    if at.exception or at.error:
        return "; ".join([e.value for e in at.exception] + [e.value for e in at.error])[:60]
    subject = library_subject(name, max_seq_len=MAX_LEN)
    rng = random.Random(seed)
    results = {}
    for view in VIEWS:
        at.radio(key="view").set_value(view).run()
        if view == "Ablation":
            first = at.pills(key="ablate_nodes").options[0]
            at.pills(key="ablate_nodes").set_value([first]).run()
        times = []
        for _ in range(repeats):
            text = " ".join(map(str, subject.sample(rng)))
            at.text_input(key="input_text").set_value(text)
            start = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - start)
            if at.exception:
                return at.exception[0].value[:60]
        results[view] = statistics.median(times)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--programs", default=",".join(PROGRAMS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    # AppTest runs outside a server; its "missing ScriptRunContext" warnings are noise here.
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    print(f"median seconds from input change to updated figures (AppTest, {args.repeats} inputs, "
          f"max length {MAX_LEN}); target <= {TARGET_S} s")
    use_small_model_threads()  # as the app does (app/main.py)
    header = f"{'program':<16}" + "".join(f"{SHORT[v]:>9}" for v in VIEWS) + "   ok"
    print(header)
    worst = 0.0
    for name in args.programs.split(","):
        result = time_program(name, args.repeats, args.seed)
        if isinstance(result, str):
            print(f"{name:<16} not timed: {result}")
            continue
        worst = max(worst, *result.values())
        ok = "yes" if max(result.values()) <= TARGET_S else "NO"
        print(f"{name:<16}" + "".join(f"{result[v]:>9.3f}" for v in VIEWS) + f"   {ok}", flush=True)
    print(f"worst median: {worst:.3f} s")


if __name__ == "__main__":
    main()
