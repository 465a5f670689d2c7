"""Learned residual compression of compiled programs: accuracy vs width.

Each program is compiled with `one_per_op=True` (every variable its own directions) at
max_seq_len 5; for each width a linear projection (interp.analysis.compression) is trained
on 400 random inputs and scored on 300 others against the interpreter (`acc`: whole
outputs equal; `tok`: positions) and per variable (`vars_ok`: variables whose values read
back identically at >= 99% of positions at the last residual state).

    PYTHONPATH=. .venv/bin/python benchmarks/compression.py [--programs reverse,hist] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import time
import warnings

import torch

from interp.analysis.compression import (
    evaluate_compression,
    smallest_width,
    train_compression,
)
from rasp.compiler import CompileWarning, compile_program
from rasp.evaluate import evaluate
from rasp.lib import PROGRAMS

DEFAULT = "reverse,hist,frac_prevs,pair_balance,detect_pattern,count"
FRACTIONS = (0.5, 0.375, 0.25, 0.125)  # of d_model (at d_model the model is exact)


def _inputs(entry, max_len: int, n: int, seed: int) -> list[list]:
    rng = random.Random(seed)
    out = [entry.sample(rng, rng.randint(1, max_len))[:max_len] for _ in range(n // 2)]
    out += [[rng.choice(entry.vocab) for _ in range(rng.randint(1, max_len))]
            for _ in range(n - n // 2)]
    return [x for x in out if x]


def run(name: str, max_len: int, steps: int, fractions: tuple[float, ...] = FRACTIONS) -> dict:
    entry = PROGRAMS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CompileWarning)
        compiled = compile_program(entry.build(), entry.vocab, max_len, one_per_op=True)
    d = compiled.model.cfg.d_model
    train, test = _inputs(entry, max_len, 400, 0), _inputs(entry, max_len, 300, 1)
    widths = sorted({max(1, round(d * f)) for f in fractions}, reverse=True)
    reports = []
    for w in widths:
        start = time.perf_counter()
        report = evaluate_compression(compiled, train_compression(compiled, w, train, steps=steps),
                                      test, lambda tokens: evaluate(compiled.program, tokens))
        row = report.to_json()
        row["seconds"] = round(time.perf_counter() - start, 1)
        row["vars_ok"] = sum(v["decoded"] >= 0.99 for v in report.variables.values())
        row["vars"] = len(report.variables)
        reports.append(report)
        worst = max(v["rel_error"] for v in report.variables.values())
        print(f"{name:15s} d={d:4d} width={w:4d} acc={report.accuracy:.3f} "
              f"tok={report.token_accuracy:.3f} vars_ok={row['vars_ok']}/{row['vars']} "
              f"worst_rel_err={worst:.3f} {row['seconds']}s", flush=True)
        row["worst_rel_error"] = worst
        row.pop("variables")
        yield_row = {"program": name, **row}
        _ROWS.append(yield_row)
    return {"program": name, "d_model": d, "smallest_width_99": smallest_width(reports)}


_ROWS: list[dict] = []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", default=DEFAULT)
    parser.add_argument("--max-len", type=int, default=5)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--fractions", default=",".join(map(str, FRACTIONS)),
                        help="widths to try, as fractions of d_model")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    fractions = tuple(float(f) for f in args.fractions.split(","))
    summary = [run(name, args.max_len, args.steps, fractions) for name in args.programs.split(",")]
    print("\nprogram          d_model  smallest width with acc >= 0.99")
    for s in summary:
        print(f"{s['program']:15s} {s['d_model']:8d}  {s['smallest_width_99']}")
    if args.json:
        print(json.dumps({"rows": _ROWS, "summary": summary}))


if __name__ == "__main__":
    main()
