"""Dashboard interaction latency: from an input change to updated figures, per library program,
shipped trained model and shipped Transformer Program.

Drives the real app (interp/app/main.py) with Streamlit's AppTest: pick a model (compiled or loaded
once, then cached), then time `change input -> run` in every view: a freshly sampled typed
input for token models, the next prompt seed for vector-input models (Ablation with one head
switched off; Circuit without pressing Discover, which runs on its button).
The time is the server-side script run that rebuilds every figure; the browser's drawing
is not in it. Target (issue 15): <= 0.2 s for every view of every library program.

Run: PYTHONPATH=. .venv/bin/python benchmarks/app_latency.py [--repeats N] [--programs a,b] [--no-shipped]
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from interp.app.sidebar import available_shipped
from interp.app.subject import DEFAULT_MAX_LEN, library_subject
from interp.programs.shipped import shipped_programs
from interp.shipped import shipped_path
from interp.subjects import saved_subject, shipped_program_subject
from interp.threads import use_small_model_threads
from rasp.lib import PROGRAMS

MAIN = Path(__file__).resolve().parents[1] / "interp" / "app" / "main.py"
TARGET_S = 0.2
MAX_LEN = DEFAULT_MAX_LEN  # the dashboard's default max length for library programs
VIEWS = ("Attention", "Token attention", "Residual stream", "Weights", "Ablation", "Patching",
         "Circuit", "Program")
SHORT = {"Attention": "attn", "Token attention": "tokens", "Residual stream": "resid", "Weights": "weights",
         "Ablation": "ablate", "Patching": "patch", "Circuit": "circuit", "Program": "program"}


def _pick_library(name: str):
    def pick(at: AppTest) -> None:
        at.selectbox(key="library_program").set_value(name).run()
    return pick


def _pick(source: str, key: str, name: str):
    def pick(at: AppTest) -> None:
        at.radio(key="source").set_value(source).run()
        at.selectbox(key=key).set_value(name).run()
    return pick


def _typed_inputs(subject):
    """Input changes for a token model: a freshly sampled input typed in the input row."""
    rng = random.Random(0)

    def change(at: AppTest) -> None:
        at.text_input(key="input_text").set_value(" ".join(map(str, subject.sample(rng))))
    return change


def _new_prompts(at: AppTest) -> None:
    """Input changes for a vector-input model: the next prompt seed in the prompt editor."""
    at.number_input(key="icl_seed").increment()


def subjects(programs: list[str], shipped: bool) -> list[tuple[str, object, object]]:
    """(label, how to pick it, how to change its input) for every model to time."""
    chosen = [(name, _pick_library(name), _typed_inputs(library_subject(name, max_seq_len=MAX_LEN)))
              for name in programs]
    if not shipped:
        return chosen
    for name in available_shipped():
        subject = saved_subject(shipped_path(name))
        change = _new_prompts if subject.model.cfg.d_input is not None else _typed_inputs(subject)
        chosen.append((name, _pick("Shipped trained model", "shipped_model", name), change))
    for name in sorted(shipped_programs()):
        chosen.append((f"tp:{name}", _pick("Transformer Program", "shipped_program", name),
                       _typed_inputs(shipped_program_subject(name))))
    return chosen


def time_subject(pick, change_input, repeats: int) -> dict[str, tuple[float, float]] | str:
    """Median (wall, CPU) seconds per view after an input change, or the reason it could not run.
    CPU: this process's CPU time (AppTest runs the script in-process), which load does not inflate."""
    at = AppTest.from_file(str(MAIN), default_timeout=300)
    at.run()
    pick(at)
    if at.exception or at.error:
        return "; ".join([e.value for e in at.exception] + [e.value for e in at.error])[:60]
    results = {}
    for view in VIEWS:
        at.radio(key="view").set_value(view).run()
        if view == "Ablation":
            first = at.pills(key="ablate_nodes").options[0]
            at.pills(key="ablate_nodes").set_value([first]).run()
        times, cpu = [], []
        for _ in range(repeats):
            change_input(at)
            start, start_cpu = time.perf_counter(), time.process_time()
            at.run()
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            if at.exception:
                return at.exception[0].value[:60]
        results[view] = (statistics.median(times), statistics.median(cpu))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--programs", default=",".join(PROGRAMS))
    parser.add_argument("--no-shipped", action="store_true",
                        help="library programs only (not the shipped models and Transformer Programs)")
    args = parser.parse_args()
    # AppTest runs outside a server; its "missing ScriptRunContext" warnings are noise here.
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    load = os.getloadavg()[0]
    print(f"median seconds from input change to updated figures (AppTest, {args.repeats} inputs, "
          f"max length {MAX_LEN}); target <= {TARGET_S} s; load average {load:.1f} at the start")
    use_small_model_threads()  # as the app does (interp/app/main.py)
    header = f"{'model':<18}" + "".join(f"{SHORT[v]:>9}" for v in VIEWS) + "   ok   (wall s | CPU s)"
    print(header)
    worst, worst_cpu = 0.0, 0.0
    for name, pick, change_input in subjects(args.programs.split(","), not args.no_shipped):
        result = time_subject(pick, change_input, args.repeats)
        if isinstance(result, str):
            print(f"{name:<18} not timed: {result}")
            continue
        wall = {v: w for v, (w, _) in result.items()}
        cpu = {v: c for v, (_, c) in result.items()}
        worst, worst_cpu = max(worst, *wall.values()), max(worst_cpu, *cpu.values())
        ok = "yes" if max(wall.values()) <= TARGET_S else "NO"
        print(f"{name:<18}" + "".join(f"{wall[v]:>9.3f}" for v in VIEWS) + f"   {ok}", flush=True)
        print(f"{'  CPU':<18}" + "".join(f"{cpu[v]:>9.3f}" for v in VIEWS), flush=True)
    print(f"worst median: {worst:.3f} s wall, {worst_cpu:.3f} s CPU "
          f"(load average {os.getloadavg()[0]:.1f} at the end)")


if __name__ == "__main__":
    main()
