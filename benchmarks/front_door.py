"""The front door, end to end: every name `interp models --json` lists goes through
`interp info NAME --json` and `interp discover NAME --json`, each as its own process with a
time limit, as a user would type them (issue 29, "Must show").

    .venv/bin/python benchmarks/front_door.py [--models addition-1l,program:sort]
        [--limit 120] [--readme] [--json]

Besides, `interp patch NAME --json` on the model's default input and its task-aware corruption
must exit 0 with a non-zero effect (clean and corrupted metric differ): what the dashboard's
default Patching view shows.

Pass rule per name: `info` exits 0; `discover` exits 0 within the limit with fewer edges kept
than candidates, and, for token-output models (a vocabulary: addition, Markov, SIIT,
Transformer Programs), faithfulness >= 0.9. Regression models (no vocabulary: in-context
regression) report faithfulness as a fraction of squared error recovered and are not held to
0.9. CPU seconds are the child's own (user + system, `resource.getrusage(RUSAGE_CHILDREN)`),
which on a shared, loaded machine say more about cost than wall seconds do.
`--readme` rewrites this benchmark's section of benchmarks/README.md (between its markers).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INTERP = [sys.executable, "-m", "interp.cli"]
README = ROOT / "benchmarks" / "README.md"
START, END = "<!-- front_door:start -->", "<!-- front_door:end -->"
MIN_FAITHFULNESS = 0.9


@dataclass
class Run:
    """One subprocess: exit code, wall and CPU seconds, and its last JSON line (or None)."""

    code: int | None  # None: killed at the time limit
    seconds: float
    cpu_seconds: float
    result: dict | None
    error: str


@dataclass
class Row:
    """One name's verdict."""

    name: str
    kind: str
    info_code: int | None
    info_cpu: float
    discover_code: int | None
    seconds: float
    cpu_seconds: float
    n_edges: int | None
    n_candidates: int | None
    faithfulness: float | None
    patch_code: int | None
    patch_effect: float | None  # |metric(clean) - metric(corrupted)| of the default patching pair
    token_task: bool
    passed: bool
    why: str


def run(args: list[str], limit: float) -> Run:
    """`interp ARGS` in a child process with a wall-clock limit."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    try:
        done = subprocess.run([*INTERP, *args], capture_output=True, text=True, timeout=limit,
                              cwd=ROOT, env=env)
        code, stdout, stderr = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as expired:
        code = None
        stdout = expired.stdout.decode() if isinstance(expired.stdout, bytes) else expired.stdout or ""
        stderr = expired.stderr.decode() if isinstance(expired.stderr, bytes) else expired.stderr or ""
    seconds = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = None
    lines = stdout.strip().splitlines()
    if lines:
        try:
            result = json.loads(lines[-1])
        except json.JSONDecodeError:
            result = None
    error = next((line for line in reversed(stderr.splitlines()) if line.strip()), "")
    return Run(code, seconds, cpu, result, error[:200])


def listed_models() -> list[dict]:
    """Every entry `interp models --json` prints (name, kind, ...)."""
    listing = run(["models", "--json"], 300)
    if listing.code != 0 or not isinstance(listing.result, list):
        sys.exit(f"interp models --json failed (exit {listing.code}): {listing.error}")
    return listing.result


def check(entry: dict, limit: float) -> Row:
    """Run info and discover on one listed name and apply the pass rule."""
    name = entry["name"]
    info = run(["info", name, "--json"], limit)
    # A vocabulary means token outputs (logit-difference/accuracy faithfulness); none means a
    # real-valued read-out (squared error), which the 0.9 rule does not cover.
    token_task = bool(info.result and info.result.get("d_vocab", 0) > 0)
    found = run(["discover", name, "--json"], limit)
    result = found.result if found.code == 0 and found.result else {}
    n_edges, n_candidates = result.get("n_edges"), result.get("n_candidates")
    faithfulness = result.get("faithfulness")
    problems = []
    if info.code != 0:
        problems.append(f"info exit {info.code}: {info.error}")
    if found.code is None:
        problems.append(f"discover killed at {limit:g} s")
    elif found.code != 0:
        problems.append(f"discover exit {found.code}: {found.error}")
    elif n_edges is None or n_candidates is None or n_edges >= n_candidates:
        problems.append(f"kept {n_edges} of {n_candidates} edges")
    if found.code == 0 and token_task and (faithfulness is None or faithfulness < MIN_FAITHFULNESS):
        problems.append(f"faithfulness {faithfulness} < {MIN_FAITHFULNESS}")
    patched = run(["patch", name, "--json"], limit)
    effect = None
    if patched.code == 0 and patched.result:
        effect = abs(patched.result["clean_value"] - patched.result["corrupted_value"])
    if patched.code != 0:
        problems.append(f"patch exit {patched.code}: {patched.error}")
    elif effect is None or effect <= 1e-3:
        problems.append(f"patch effect {effect}")
    return Row(name, entry.get("kind", "?"), info.code, round(info.cpu_seconds, 1), found.code,
               round(found.seconds, 1), round(found.cpu_seconds, 1), n_edges, n_candidates,
               None if faithfulness is None else round(faithfulness, 4), patched.code,
               None if effect is None else round(effect, 4), token_task, not problems,
               "; ".join(problems))


def table(rows: list[Row]) -> str:
    """The markdown table of all rows."""
    lines = ["| name | kind | info exit (CPU s) | discover exit | wall s | CPU s | edges kept / candidates "
             "| faithfulness | held to 0.9 | patch exit (effect) | pass |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        code = "killed" if r.discover_code is None else str(r.discover_code)
        faith = "-" if r.faithfulness is None else f"{r.faithfulness:.4f}"
        patch = f"{r.patch_code} ({'-' if r.patch_effect is None else f'{r.patch_effect:.4g}'})"
        verdict = "yes" if r.passed else f"**no**: {r.why}"
        lines.append(f"| `{r.name}` | {r.kind} | {r.info_code} ({r.info_cpu:.1f}) | {code} | {r.seconds:.1f} "
                     f"| {r.cpu_seconds:.1f} | {r.n_edges} / {r.n_candidates} | {faith} "
                     f"| {'yes' if r.token_task else 'no (regression)'} | {patch} | {verdict} |")
    return "\n".join(lines)


def write_readme(text: str) -> None:
    """Replace this benchmark's section of benchmarks/README.md (between its markers)."""
    readme = README.read_text()
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.S)
    if not pattern.search(readme):
        sys.exit(f"{README} has no {START} ... {END} section to rewrite")
    README.write_text(pattern.sub(lambda _: f"{START}\n{text}\n{END}", readme))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", help="comma-separated names (default: all that interp models lists)")
    parser.add_argument("--limit", type=float, default=120.0, help="seconds per command (default 120)")
    parser.add_argument("--readme", action="store_true", help="rewrite this section of benchmarks/README.md")
    parser.add_argument("--json", action="store_true", help="print the rows as one JSON list last")
    args = parser.parse_args()
    entries = listed_models()
    if args.models:
        wanted = args.models.split(",")
        entries = [e for e in entries if e["name"] in wanted]
    rows = []
    for entry in entries:
        rows.append(row := check(entry, args.limit))
        print(f"{row.name}: info {row.info_code}, discover {row.discover_code} in {row.seconds} s "
              f"({row.cpu_seconds} CPU s), {row.n_edges}/{row.n_candidates} edges, "
              f"faithfulness {row.faithfulness} -> {'pass' if row.passed else 'FAIL ' + row.why}",
              file=sys.stderr, flush=True)
    text = table(rows)
    load = os.getloadavg()
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    note = (f"{sum(r.passed for r in rows)} of {len(rows)} pass; measured {when} "
            f"on {platform.machine()} with {os.cpu_count()} cores, load average {load[0]:.1f} at the end "
            f"(default `interp discover` settings: ACDC, --per-length 8, seed 0, one torch thread).")
    print(text)
    print(note)
    if args.readme:
        write_readme(f"{text}\n\n{note}")
    if args.json:
        print(json.dumps([asdict(r) for r in rows]))
    return 0 if all(r.passed for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
