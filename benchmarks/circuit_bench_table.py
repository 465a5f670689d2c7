"""Markdown tables of `interp circuit-bench` rows (benchmarks/circuit_bench.jsonl) for
benchmarks/README.md: per method and model kind, then edge AUC per program.

Run: .venv/bin/python benchmarks/circuit_bench_table.py [ROWS.jsonl]
"""

from __future__ import annotations

import sys
from pathlib import Path

from interp.analysis.circuit_bench import KINDS, done_rows, summarize

METHODS = ("acdc", "eap", "eap-ig", "sp")


def _f(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def tables(rows: list[dict]) -> str:
    """The summary table, then edge AUC per program and kind, as Markdown."""
    kinds = [k for k in KINDS if any(r["kind"] == k for r in rows)]
    programs = list(dict.fromkeys(r["program"] for r in rows))
    out = [f"{len(programs)} programs: {', '.join(programs)}; {len(rows)} rows", "",
           "| method | model kind | runs | edge AUC | node AUC | precision | recall | faithfulness "
           "| wall s (mean / max) | CPU s (mean / max) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for s in sorted(summarize(rows), key=lambda s: (METHODS.index(s["method"]), kinds.index(s["kind"]))):
        out.append(f"| {s['method']} | {s['kind']} | {s['rows']} | {_f(s['auc'])} | {_f(s['node_auc'])} "
                   f"| {_f(s['precision'])} | {_f(s['recall'])} | {_f(s['faithfulness'])} "
                   f"| {_f(s['seconds'], 1)} / {_f(s['max_seconds'], 1)} "
                   f"| {_f(s['cpu_seconds'], 1)} / {_f(s['max_cpu_seconds'], 1)} |")
    by = {(r["program"], r["kind"], r["method"]): r for r in rows}
    out += ["", f"Edge AUC per program ({' / '.join(kinds)}); `d` = d_model of each kind, `acc` = the "
            "compressed model's accuracy / the SIIT model's held-out accuracy:", "",
            "| program | d | acc | " + " | ".join(METHODS) + " |", "|---|---|---|" + "---|" * len(METHODS)]
    for p in programs:
        first = {k: next((r for r in rows if r["program"] == p and r["kind"] == k), None) for k in kinds}
        d = "/".join(str(first[k]["d_model"]) if first[k] else "-" for k in kinds)
        acc = " / ".join(_f(first[k]["model_accuracy"]) for k in ("compressed", "siit") if first.get(k))
        cells = [" / ".join(_f(by[(p, k, m)]["auc"]) if (p, k, m) in by else "-" for k in kinds)
                 for m in METHODS]
        out.append(f"| {p} | {d} | {acc} | " + " | ".join(cells) + " |")
    return "\n".join(out)


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/circuit_bench.jsonl")
    print(tables(done_rows(path)))
