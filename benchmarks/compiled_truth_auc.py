"""Raw ACDC ROC AUC against the compiler's ground truth, through the CLI a user runs:

    interp discover NAME --method acdc --ablation zero --json

for every library program whose truth has more than one component (heads / MLPs). Each
program runs in its own process (as a user would); the last stdout line is the JSON
summary. Prints a Markdown table (the one in benchmarks/README.md) and, with --json PATH,
writes the rows.

    nice -n 10 .venv/bin/python benchmarks/compiled_truth_auc.py [--programs reverse,hist] \
        [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def components(name: str) -> int:
    """Heads and MLPs in the program's ground-truth circuit (library vocabulary and length)."""
    from rasp.compiler import compile_program
    from rasp.lib import PROGRAMS

    entry = PROGRAMS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = compile_program(entry.build(), entry.vocab, entry.max_seq_len)
    return sum(1 for node in compiled.circuit().nodes if node not in ("embed", "pos_embed", "logits"))


def discover(name: str) -> dict:
    """One `interp discover` run; its JSON summary plus the wall time."""
    start = time.perf_counter()
    cli = str(Path(sys.executable).parent / "interp")  # the console script next to python
    done = subprocess.run([cli, "discover", name, "--method", "acdc",
                           "--ablation", "zero", "--json"], cwd=ROOT, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"program": name, "error": (done.stdout + done.stderr)[-300:]}
    summary = json.loads(lines[-1])
    summary["wall_s"] = round(time.perf_counter() - start, 1)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", help="comma-separated library names (default: all)")
    parser.add_argument("--json", help="write the rows to this file")
    args = parser.parse_args(argv)
    from rasp.lib import PROGRAMS

    names = args.programs.split(",") if args.programs else list(PROGRAMS)
    rows = []
    print("| program | components | truth edges | ACDC kept | AUC | precision | recall | wall s |")
    print("|---|---|---|---|---|---|---|---|")
    for name in names:
        n_components = components(name)
        if n_components <= 1:
            continue
        row = discover(name)
        row["components"] = n_components
        rows.append(row)
        if "error" in row:
            print(f"| {name} | {n_components} | error: {row['error']!r} |||||")
            continue
        truth = round(row["recall"] and len(row["edges"]) * row["precision"] / row["recall"]) \
            if row.get("recall") else None
        print(f"| {name} | {n_components} | {truth} | {row['n_edges']} | {row['auc']:.3f} | "
              f"{row['precision']:.3f} | {row['recall']:.3f} | {row['wall_s']} |", flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps(rows, indent=1))
    below = [r["program"] for r in rows if r.get("auc") is None or r["auc"] < 0.99]
    print(f"\n{len(rows) - len(below)} of {len(rows)} programs at AUC >= 0.99; below: {below}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
