"""Raw ACDC AUC against the live ground truth, through the CLI a user runs:

    interp discover NAME --method acdc --ablation zero --json

for every library program with more than one component, loop programs included. The
truth `interp discover` scores against is the compiler's structural circuit pruned to a
faithful, minimal one on the truth inputs (interp/subjects/live_truth.py); this script
also computes that split in-process, to list the dropped edges and time the pruning. Each
discovery runs in its own process (as a user would); the last stdout line is its JSON
summary. Prints a Markdown table and, with --readme, puts it into its section of
benchmarks/README.md; with --programs too, only those programs' rows there are replaced
(or added) and the others kept.

    nice -n 10 .venv/bin/python benchmarks/acdc_truth.py [--programs reverse,hist] \
        [--json out.json] [--readme]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "benchmarks" / "README.md"
BEGIN, END = "<!-- acdc_truth:begin -->", "<!-- acdc_truth:end -->"
# Loop programs run one weight-shared block T times: their circuits are over the unrolled
# steps (hundreds of edges, group-tested by the pruner), and their dropped edges too many
# to list in a cell.
LOOPS = {"parity_loop", "add_loop", "alta_add"}


def truth_split(name: str) -> dict:
    """Components, structural and live truth sizes and the dropped edges (in-process)."""
    from interp.subjects import load_subject

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        subject = load_subject(name, None, None)
    start = time.perf_counter()
    live = subject.live_truth()
    seconds = time.perf_counter() - start
    structural = live.structural
    return {
        "components": sum(1 for n in structural.nodes if n not in ("embed", "pos_embed", "logits")),
        "structural": len(structural.edges),
        "live": len(live.circuit.edges),
        "dropped": [str(e) for e in live.dropped],
        "truth_inputs": live.n_inputs,
        "exhaustive_up_to": live.exhaustive_up_to,
        "truth_s": round(seconds, 1),
    }


def discover(name: str) -> dict:
    """One `interp discover` run; its JSON summary plus the wall time."""
    start = time.perf_counter()
    cli = str(Path(sys.executable).parent / "interp")  # the console script next to python
    done = subprocess.run([cli, "discover", name, "--method", "acdc", "--ablation", "zero", "--json"],
                          cwd=ROOT, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"error": (done.stdout + done.stderr)[-300:]}
    summary = json.loads(lines[-1])
    summary["wall_s"] = round(time.perf_counter() - start, 1)
    return summary


def row_text(row: dict) -> str:
    """One Markdown table row."""
    if "error" in row:
        return f"| {row['program']} | {row['components']} | error: {row['error']!r} |||||||||"
    dropped = ", ".join(row["dropped"]) or "—"
    if row["program"] in LOOPS:
        dropped = f"{len(row['dropped'])} edges (unrolled steps; `live_truth().dropped`)"
    return (f"| {row['program']} | {row['components']} | {row['structural']} | {row['live']} | "
            f"{row['n_edges']} | {row['auc']:.3f} | {row['precision']:.3f} | {row['recall']:.3f} | "
            f"{row['truth_inputs']} ({inputs_kind(row)}) | {row['truth_s']} | "
            f"{row['wall_s']} | {dropped} |")


def inputs_kind(row: dict) -> str:
    """How the truth inputs were drawn: enumerated up to a length, or the program's sampler."""
    return f"all up to length {row['exhaustive_up_to']}" if row["exhaustive_up_to"] else "its sampler's"


HEADER = ("| program | components | structural edges | live truth | ACDC kept | AUC | precision | "
          "recall | truth inputs | truth s | discover wall s | dropped (inert) edges |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|")


def merged(lines: list[str]) -> list[str]:
    """The README table's rows with those of `lines` (header first) replacing the rows of
    the same programs, new programs appended."""
    text = README.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{README} has no {BEGIN} ... {END} section; add it first")
    old = [line for line in text.split(BEGIN, 1)[1].split(END, 1)[0].splitlines()
           if line.startswith("| ") and not line.startswith("| program")]
    new = {line.split("|")[1].strip(): line for line in lines[1:]}
    rows = [new.pop(line.split("|")[1].strip(), line) for line in old]
    return [lines[0], *rows, *new.values()]


def summary_of(lines: list[str]) -> str:
    """'N of M programs at AUC >= 0.99' over the table rows (header first)."""
    aucs = {}
    for line in lines[1:]:
        cells = [c.strip() for c in line.split("|")]
        try:
            aucs[cells[1]] = float(cells[6])
        except (IndexError, ValueError):
            aucs[cells[1]] = 0.0  # an error row
    below = [name for name, auc in aucs.items() if auc < 0.99]
    summary = f"{len(aucs) - len(below)} of {len(aucs)} programs at AUC >= 0.99"
    return summary + (f"; below: {', '.join(below)}" if below else "")


def write_readme(table: str) -> None:
    """Replace the table between this benchmark's markers in benchmarks/README.md."""
    text = README.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{README} has no {BEGIN} ... {END} section; add it first")
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    README.write_text(pattern.sub(lambda _: f"{BEGIN}\n{table}\n{END}", text, count=1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", help="comma-separated library names (default: all)")
    parser.add_argument("--json", help="write the rows to this file")
    parser.add_argument("--readme", action="store_true", help="write the table into benchmarks/README.md")
    parser.add_argument("--from-json", help="no runs: the table of rows an earlier --json wrote")
    args = parser.parse_args(argv)
    from rasp.lib import PROGRAMS

    names = args.programs.split(",") if args.programs else list(PROGRAMS)
    rows, lines = [], [HEADER]
    print(HEADER, flush=True)
    if args.from_json:
        rows = json.loads(Path(args.from_json).read_text())
        lines += [row_text(row) for row in rows]
        print("\n".join(lines[1:]))
        names = []
    for name in names:
        row = {"program": name, **truth_split(name)}
        if row["components"] <= 1:
            print(f"(skipped {name}: one component)", flush=True)
            continue
        row.update(discover(name))
        row["program"] = name
        rows.append(row)
        lines.append(row_text(row))
        print(lines[-1], flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps(rows, indent=1))
    if args.readme and args.programs:
        lines = merged(lines)
    summary = summary_of(lines)
    print(summary)
    if args.readme:
        write_readme("\n".join(lines) + f"\n\n{summary}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
