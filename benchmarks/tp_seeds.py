"""Many seeds of one Transformer Program setting, each in a committed run folder, and the success
rate with a Wilson interval; for the in-context task also the paper's own code, unchanged.

    # ours (interp train-program), one folder per seed under OUT/<name>/seed<S>/
    python benchmarks/tp_seeds.py run --code ours --task induction --epochs 40 --seeds 0-19 \\
        --conventions paper --batches epochs --out studies/results/25_transformer_programs/seeds
    # the paper's src/run.py with scripts/induction.sh's arguments (+ --device cpu --n_epochs --seed)
    bash benchmarks/tp_side/setup.sh /path/to/TransformerPrograms /tmp/tp-paper
    python benchmarks/tp_seeds.py run --code paper --paper /tmp/tp-paper --task induction --epochs 40 \\
        --seeds 0-19 --out studies/results/25_transformer_programs/seeds
    python benchmarks/tp_seeds.py summary studies/results/25_transformer_programs/seeds

A run succeeds when its hard (argmax) test accuracy is at least --success (default 0.99; the
in-context plateau is about 0.66, the paper's successes 1.0). Ours is the checkpoint selected on
hard validation accuracy (interp train-program's default); the paper's code reports its last
epoch's argmax model (src/run.py). Each folder holds command.txt, log.txt and metrics.json (the
paper's also args.json and its per-epoch results.csv; ours result.json, history.json,
options.json and the discrete program.json, not the hooked weights or checkpoints). A seed whose
metrics.json exists is skipped, so an interrupted sweep resumes.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KEEP_OURS = ("result.json", "history.json", "options.json", "program.json", "program.py")


def parse_seeds(text: str) -> list[int]:
    """'0-19' or '0,3,6' -> seeds."""
    seeds: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        seeds += list(range(int(low), int(high or low) + 1))
    return seeds


def run_name(args: argparse.Namespace) -> str:
    """Folder name of a setting: code, task, epochs and any non-default option."""
    name = f"{args.code}-{args.task}-{args.epochs}ep"
    if args.code == "ours":
        chosen = (args.conventions, args.batches)
        name += "".join(f"-{v}" for v in chosen if v not in ("ours", "replacement"))
        name += f"-restarts{args.restarts}" if args.restarts > 1 else ""
        name += "".join(f"-{k}{v}" for k, v in (("len", args.max_len), ("vocab", args.vocab_size)) if v)
    return name


def run_ours(args: argparse.Namespace, seed: int, folder: Path) -> dict:
    """interp train-program in a scratch folder; keep the small files."""
    scratch = folder / "full"
    command = [sys.executable, "-m", "interp.cli", "train-program", args.task, "--epochs", str(args.epochs),
               "--seed", str(seed), "--out", str(scratch), "--overwrite", "--no-compile", "--json",
               "--conventions", args.conventions, "--batches", args.batches]
    command += ["--restarts", str(args.restarts)]  # always named: the CLI's default may change
    if args.restarts > 1:
        command += ["--restart-below", str(args.restart_below)]
    for flag, value in (("--max-len", args.max_len), ("--vocab-size", args.vocab_size)):
        if value:
            command += [flag, str(value)]
    log = _run(command, folder, cwd=REPO)
    result = json.loads(log.strip().splitlines()[-1])
    for name in KEEP_OURS:
        if (scratch / name).exists():  # program.py as .txt: generated code, kept out of the linter
            shutil.copy(scratch / name, folder / name.replace("program.py", "program_py.txt"))
    shutil.rmtree(scratch)
    return {"hard_test_accuracy": result["hard_test_accuracy"],
            "hard_val_accuracy": result["hard_val_accuracy"], "best_epoch": result["best_epoch"],
            "epochs_run": result["epochs_run"],
            "train_cpu_seconds": result.get("train_cpu_seconds")}


def run_paper(args: argparse.Namespace, seed: int, folder: Path) -> dict:
    """The paper's src/run.py, unchanged, with scripts/<task>.sh's arguments."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from tp_side_by_side import _script_args  # noqa: PLC0415

    paper = Path(args.paper).resolve()
    script = "induction.sh" if args.task == "induction" else "rasp.sh"
    scratch = folder / "full"
    scratch.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "src/run.py", *_script_args((paper / "scripts" / script).read_text()),
               "--device", "cpu", "--n_epochs", str(args.epochs), "--seed", str(seed),
               "--output_dir", str(scratch.resolve())]
    env = dict(os.environ, PYTHONPATH=f"{paper}:{os.environ.get('PYTHONPATH', '')}:{paper / 'stubs'}")
    _run(command, folder, cwd=paper, env=env)
    for name in ("args.json", "results.csv"):
        if (scratch / name).exists():
            shutil.copy(scratch / name, folder / name)
    shutil.rmtree(scratch)
    rows = list(csv.DictReader((folder / "results.csv").open()))
    final = {r["split"]: float(r["acc"]) for r in rows if r.get("sample_fn") == "argmax"}
    return {"hard_test_accuracy": final["test"], "hard_val_accuracy": final["val"], "paper_commit":
            (paper / "COMMIT").read_text().strip() if (paper / "COMMIT").exists() else "unknown"}


def _run(command: list[str], folder: Path, cwd: Path, env: dict | None = None) -> str:
    """Run, saving command.txt and log.txt (stdout + stderr); return stdout."""
    (folder / "command.txt").write_text(" ".join(command) + f"\n# cwd: {cwd}\n")
    started = time.time()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    lines = [line for line in (done.stdout + done.stderr).splitlines()
             if "it/s]" not in line and "s/it]" not in line]  # progress bars
    footer = f"# exit {done.returncode}, {time.time() - started:.0f} s wall"
    (folder / "log.txt").write_text("\n".join([*lines, footer]) + "\n")
    if done.returncode != 0:
        raise SystemExit(f"error: {command[:4]}... failed (exit {done.returncode}); see {folder / 'log.txt'}")
    return done.stdout


def run(args: argparse.Namespace) -> int:
    root = Path(args.out) / run_name(args)
    for seed in parse_seeds(args.seeds):
        folder = root / f"seed{seed}"
        if (folder / "metrics.json").exists():
            continue
        folder.mkdir(parents=True, exist_ok=True)
        cpu = time.process_time()
        children = os.times()
        metrics = (run_ours if args.code == "ours" else run_paper)(args, seed, folder)
        after = os.times()
        metrics.update({
            "code": args.code, "task": args.task, "seed": seed, "epochs": args.epochs,
            "setting": run_name(args),
            "success_threshold": args.success, "success": metrics["hard_test_accuracy"] >= args.success,
            "cpu_seconds": round(time.process_time() - cpu + (after.children_user - children.children_user)
                                 + (after.children_system - children.children_system), 1),
        })
        (folder / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
        print(f"{run_name(args)} seed {seed}: {100 * metrics['hard_test_accuracy']:.2f}% "
              f"({'success' if metrics['success'] else 'no'}), {metrics['cpu_seconds']} CPU s", flush=True)
    return 0


def wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (95% by default)."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def fisher_exact(a: int, b: int, c: int, d: int) -> dict[str, float]:
    """Fisher's exact test on [[a, b], [c, d]] (rows: designs, columns: success, failure):
    two-sided (sum of tables no more likely than the observed) and one-sided P(row 1 successes >= a)."""
    row1, col1, n = a + b, a + c, a + b + c + d

    def prob(x: int) -> float:
        return math.comb(col1, x) * math.comb(n - col1, row1 - x) / math.comb(n, row1)

    support = range(max(0, row1 + col1 - n), min(row1, col1) + 1)
    observed = prob(a)
    two = sum(prob(x) for x in support if prob(x) <= observed * (1 + 1e-9))
    greater = sum(prob(x) for x in support if x >= a)
    return {"two_sided": min(1.0, two), "one_sided_greater": min(1.0, greater)}


def summary(folder: Path, success: float | None = None) -> dict:
    """Success counts and Wilson intervals per setting under `folder`."""
    out = {}
    for setting in sorted(p for p in folder.iterdir() if p.is_dir()):
        runs = [json.loads(m.read_text()) for m in sorted(setting.glob("seed*/metrics.json"))]
        if not runs:
            continue
        runs.sort(key=lambda r: r["seed"])
        threshold = success if success is not None else runs[0]["success_threshold"]
        wins = sum(r["hard_test_accuracy"] >= threshold for r in runs)
        low, high = wilson(wins, len(runs))
        out[setting.name] = {
            "n": len(runs), "successes": wins, "rate": wins / len(runs), "wilson95": [low, high],
            "success_threshold": threshold,
            "per_seed": {str(r["seed"]): r["hard_test_accuracy"] for r in runs},
            "cpu_seconds": sum(r.get("cpu_seconds") or 0 for r in runs),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("--code", choices=("ours", "paper"), required=True)
    r.add_argument("--task", default="induction")
    r.add_argument("--epochs", type=int, required=True)
    r.add_argument("--seeds", required=True, help="e.g. 0-19 or 0,3,6")
    r.add_argument("--out", required=True)
    r.add_argument("--paper", help="directory prepared by benchmarks/tp_side/setup.sh (--code paper)")
    r.add_argument("--conventions", default="ours", choices=("ours", "paper"))
    r.add_argument("--batches", default="replacement", choices=("replacement", "epochs"))
    r.add_argument("--restarts", type=int, default=1, help="interp train-program --restarts (ours)")
    r.add_argument("--restart-below", type=float, default=0.99, help="its --restart-below (ours)")
    r.add_argument("--max-len", type=int)
    r.add_argument("--vocab-size", type=int)
    r.add_argument("--success", type=float, default=0.99, help="hard test accuracy that counts as success")
    s = sub.add_parser("summary")
    s.add_argument("folder")
    s.add_argument("--json", help="also write the summary here")
    args = parser.parse_args(argv)
    if args.command == "run":
        if args.code == "paper" and not args.paper:
            parser.error("--code paper needs --paper DIR (benchmarks/tp_side/setup.sh)")
        return run(args)
    result = summary(Path(args.folder))
    for name, row in result.items():
        low, high = row["wilson95"]
        print(f"{name}: {row['successes']}/{row['n']} = {row['rate']:.3f} (Wilson 95% {low:.3f}..{high:.3f})")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
