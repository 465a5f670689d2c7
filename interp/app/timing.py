"""Server-side timing of each script run, for the latency benchmark (off unless asked for).

With INTERP_APP_TIMING=<file> set, every script run of the served dashboard appends one JSON
line to <file>: the view, the model, its wall-clock start and end (epoch seconds, so a
browser's clock can be laid next to it) and the server process's CPU seconds over the run.
With INTERP_APP_PROFILE=<folder> set too, each run is also profiled (cProfile) into that
folder. Nothing is written otherwise.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

TIMING_ENV, PROFILE_ENV = "INTERP_APP_TIMING", "INTERP_APP_PROFILE"


class RunTimer:
    """Started at the top of the script; `done` writes the run's line (when timing is on)."""

    def __init__(self) -> None:
        self.path = os.environ.get(TIMING_ENV)
        self.start, self.cpu = time.time(), time.process_time()
        self.profiler = None
        if self.path and os.environ.get(PROFILE_ENV):
            import cProfile

            self.profiler = cProfile.Profile()
            self.profiler.enable()

    def done(self, view: str, model: str) -> None:
        """Record this run (one JSON line) and its profile, if timing is on."""
        if not self.path:
            return
        end, cpu = time.time(), time.process_time() - self.cpu
        if self.profiler is not None:
            self.profiler.disable()
            folder = Path(os.environ[PROFILE_ENV])
            folder.mkdir(parents=True, exist_ok=True)
            self.profiler.dump_stats(folder / f"{self.start:.3f}-{view.replace(' ', '_')}.prof")
        line = {"view": view, "model": model, "start": self.start, "end": end,
                "seconds": round(end - self.start, 4), "cpu": round(cpu, 4)}
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")
