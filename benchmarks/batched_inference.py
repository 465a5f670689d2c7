"""Batched inference of compiled RASP programs: ours (`CompiledModel.run_batch`) vs tracr's JIT.

    .venv/bin/python benchmarks/batched_inference.py [--tracr-python /work/tracr-venv/bin/python]
        [--n-inputs 1000] [--length 8] [--repeats 7] [--only NAME ...] [--json PATH]

For every tracr-lib program of `rasp.lib.PROGRAMS` (its vocabulary and max_seq_len), 1,000
inputs of length 8 from the library's sampler (seed 0) are run by both sides on one thread,
encode and decode included: ours through `run_batch` (vectorised codec, fused forward), tracr
through `jax.jit(model.forward)` per length with its own encoder and decoder
(benchmarks/tracr_side/batched_worker.py, in the tracr venv that tracr_side/setup.sh makes).
The two are timed interleaved in one run (ours, then tracr, program by program, `repeats`
rounds) and each keeps its minimum, so a busy machine slows both alike. Outputs are
compared too (positions where either side gives None are skipped, numbers to 1e-3).
Without a tracr venv only our column is filled.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

from rasp.compiler import compile_program
from rasp.lib import PROGRAMS

TRACR_PROGRAMS = ["length", "reverse", "hist", "sort_unique", "sort", "sort_freq", "frac_prevs",
                  "pair_balance", "shuffle_dyck", "shuffle_dyck2", "count_less_freq", "count",
                  "detect_pattern", "shift_by"]
WORKER = Path(__file__).parent / "tracr_side" / "batched_worker.py"


def make_inputs(name: str, n: int, length: int, seed: int = 0) -> list[list[Any]]:
    """n inputs of exactly `length` tokens from the library program's sampler."""
    entry, rng = PROGRAMS[name], random.Random(seed)
    inputs: list[list[Any]] = []
    while len(inputs) < n:
        x = list(entry.sample(rng, length))
        if len(x) == length:
            inputs.append(x)
    return inputs


def _agree(a: Any, b: Any) -> bool | None:
    """Whether two outputs agree; None when either is None (not compared)."""
    if a is None or b is None:
        return None
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return abs(float(a) - float(b)) <= 1e-3 + 5e-3 * abs(float(b))
    return a == b


def agreement(ours: list[list[Any]], theirs: list[list[Any]]) -> float | None:
    """Percentage of compared positions where both sides give the same value."""
    checks = [_agree(a, b) for ra, rb in zip(ours, theirs) for a, b in zip(ra, rb)]
    compared = [c for c in checks if c is not None]
    return 100.0 * sum(compared) / len(compared) if compared else None


class Tracr:
    """The tracr worker process (tracr venv), or None-answers when there is none."""

    def __init__(self, python: str, specs: list[dict[str, Any]]):
        self.proc = subprocess.Popen([python, str(WORKER)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.proc.stdin.write(json.dumps({"programs": specs}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the tracr worker ({python} {WORKER}) exited; see its stderr")
        self.outputs = json.loads(line)["outputs"]

    def time_ms(self, name: str) -> float:
        self.proc.stdin.write(json.dumps({"time": name}) + "\n")
        self.proc.stdin.flush()
        return float(json.loads(self.proc.stdout.readline())["ms"])

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracr-python", default="/work/tracr-venv/bin/python")
    parser.add_argument("--n-inputs", type=int, default=1000)
    parser.add_argument("--length", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--json", default=None, help="also write the rows here")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    names = args.only or TRACR_PROGRAMS
    inputs = {name: make_inputs(name, args.n_inputs, args.length) for name in names}
    models = {name: compile_program(PROGRAMS[name].build(), PROGRAMS[name].vocab,
                                    PROGRAMS[name].max_seq_len) for name in names}
    ours_out = {name: models[name].run_batch(inputs[name]) for name in names}  # warm-up
    tracr = None
    if Path(args.tracr_python).exists():
        specs = [{"name": n, "vocab": PROGRAMS[n].vocab, "max_seq_len": PROGRAMS[n].max_seq_len,
                  "inputs": inputs[n]} for n in names]
        tracr = Tracr(args.tracr_python, specs)
    else:
        print(f"no tracr venv at {args.tracr_python}: ours only "
              "(bash benchmarks/tracr_side/setup.sh makes one)", file=sys.stderr)
    best: dict[str, list[float]] = {n: [float("inf"), float("inf")] for n in names}
    for _ in range(args.repeats):
        for name in names:  # interleaved: a load spike hits both sides of a row alike
            t0 = time.perf_counter()
            models[name].run_batch(inputs[name])
            best[name][0] = min(best[name][0], (time.perf_counter() - t0) * 1e3)
            if tracr is not None:
                best[name][1] = min(best[name][1], tracr.time_ms(name))
    rows = []
    for name in names:
        ours_ms, tracr_ms = best[name]
        row = {"program": name, "max_seq_len": PROGRAMS[name].max_seq_len,
               "n_inputs": args.n_inputs, "length": args.length, "ours_ms": round(ours_ms, 2)}
        if tracr is not None:
            row.update(tracr_jit_ms=round(tracr_ms, 2), speedup=round(tracr_ms / ours_ms, 2),
                       agree_pct=agreement(ours_out[name], tracr.outputs[name]))
        rows.append(row)
    if tracr is not None:
        tracr.close()
    print(f"ms per {args.n_inputs} inputs of length {args.length}, 1 thread, encode + forward + "
          f"decode, min of {args.repeats} interleaved rounds")
    print("| program | ours ms | tracr-jit ms | speedup | agree % |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        agree = "" if r.get("agree_pct") is None else f"{r['agree_pct']:.1f}"
        print(f"| {r['program']} | {r['ours_ms']:.1f} | {r.get('tracr_jit_ms', float('nan')):.1f} "
              f"| {r.get('speedup', float('nan')):.1f}x | {agree} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
