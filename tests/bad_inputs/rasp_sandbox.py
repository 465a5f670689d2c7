"""Run bad-input cases in a child Python under a memory rlimit and a wall-clock limit.

Each case is a snippet of Python that should raise; the child records, per case, the
exception's class name, its message and how long it took. A case that allocates without
bound hits the rlimit (MemoryError) instead of taking the machine down, and so fails its
test rather than passing by accident.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MEMORY_LIMIT_BYTES = 1 << 30  # address space of the child: 1 GiB
CHILD_TIMEOUT_S = 120  # all cases of one module together

_WORKER = textwrap.dedent(
    """
    import json, resource, sys, time
    resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
    cases = json.loads(sys.stdin.read())
    results = {{}}
    for name, code in cases.items():
        start = time.perf_counter()
        try:
            exec(code, {{"__name__": "case"}})
        except BaseException as error:  # noqa: BLE001 - record whatever escapes
            results[name] = {{"error": type(error).__name__, "message": str(error)}}
        else:
            results[name] = {{"error": None, "message": ""}}
        results[name]["seconds"] = time.perf_counter() - start
    print(json.dumps(results))
    """
)


def run_cases(cases: dict[str, str], cwd: Path | None = None) -> dict[str, dict]:
    """{name: {"error", "message", "seconds"}} for every case, run in one limited child."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    completed = subprocess.run(
        [sys.executable, "-c", _WORKER.format(limit=MEMORY_LIMIT_BYTES)],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
        cwd=cwd or ROOT,
        env=env,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"bad-input worker crashed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])
