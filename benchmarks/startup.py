"""Start-up time of `interp` commands: median wall seconds of N fresh processes per command.

    .venv/bin/python benchmarks/startup.py [--runs 7] [--root PATH]

Commands that do not touch a model (`interp rasp`, `--help`) must not import torch or
TransformerLens (issue 9 target: `interp rasp reverse --input "a b c"` <= 0.3 s). `--root`
measures another checkout (e.g. a worktree of main) for a before/after comparison.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def commands(model_dir: str) -> list[tuple[str, list[str]]]:
    """(label, argv after `python`) for each measured command."""
    cli = ["-m", "interp.cli"]
    return [
        ("python -c pass (interpreter alone)", ["-c", "pass"]),
        ("interp --help", [*cli, "--help"]),
        ('interp rasp reverse --input "a b c"', [*cli, "rasp", "reverse", "--input", "a b c"]),
        ("interp compile --help", [*cli, "compile", "--help"]),
        ("interp info DIR (needs torch)", [*cli, "info", model_dir]),
        ('interp run DIR --input "a b c"', [*cli, "run", model_dir, "--input", "a b c"]),
    ]


def seconds(argv: list[str], root: Path) -> tuple[float, float]:
    """(wall, CPU) seconds for one fresh process to run `argv` (exit status checked). CPU time
    (user + system) hardly moves with machine load; wall time is what a user waits."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, *argv], check=True, env=env, cwd=root,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="processes per command (default 7)")
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout to measure (default: this one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = str(Path(tmp) / "reverse")
        subprocess.run([sys.executable, "-m", "interp.cli", "compile", "reverse", "--vocab", "a,b,c",
                        "--max-len", "5", "--out", model_dir], check=True, cwd=args.root,
                       env={**os.environ, "PYTHONPATH": str(args.root)}, stdout=subprocess.DEVNULL)
        print(f"{'command':<40} {'wall median s':>13} {'wall min s':>10} {'CPU median s':>12} {'runs':>5}")
        for label, argv in commands(model_dir):
            seconds(argv, args.root)  # warm the file cache
            walls, cpus = zip(*(seconds(argv, args.root) for _ in range(args.runs)))
            print(f"{label:<40} {statistics.median(walls):>13.3f} {min(walls):>10.3f} "
                  f"{statistics.median(cpus):>12.3f} {args.runs:>5}", flush=True)


if __name__ == "__main__":
    main()
