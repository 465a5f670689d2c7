"""Progress of a discovery run in the dashboard: what is done, an estimate of what is left,
and a time budget that stops the run (the methods stop when their progress callback raises)."""

from __future__ import annotations

import time
from collections.abc import Callable

from interp.errors import InterpError

DEFAULT_BUDGET_S = 60.0  # issue 30: discovery in the app within a minute on every shipped model
# What each method counts in its progress callback (interp.analysis.registry).
UNITS = {"acdc": "edges tried", "eap": "gradient passes", "eap-ig": "gradient passes",
         "sp": "optimisation steps"}


class OverBudget(InterpError):
    """A discovery run reached its time budget before it finished."""


def budget_text(method: str, budget_s: float, elapsed_s: float, done: int, total: int) -> str:
    """Why a run stopped, with what it had done and what the rest would have taken."""
    unit = UNITS.get(method, "steps")
    left = elapsed_s / max(done, 1) * (total - done)
    return (f"{method} stopped at its time budget of {budget_s:g} s after {done:,} of {total:,} "
            f"{unit} (about {left:.0f} s more at this pace): raise the time budget, or pick a "
            "faster method (EAP needs one gradient pass per batch of inputs).")


def _now() -> float:
    """The clock runs are timed with (a function, so tests can replace it)."""
    return time.perf_counter()


def reporter(method: str, budget_s: float, show: Callable[[float, str], None],
             clock: Callable[[], float] | None = None) -> Callable[[int, int], None]:
    """A progress callback for `find_circuit`: `show(fraction, text)` with an estimate of the
    time left, and OverBudget once `budget_s` seconds have passed (checked on every call)."""
    clock = clock or _now
    start = clock()
    unit = UNITS.get(method, "steps")
    last_shown = [-1.0]

    def report(done: int, total: int) -> None:
        elapsed = clock() - start
        if elapsed > budget_s and done < total:
            raise OverBudget(budget_text(method, budget_s, elapsed, done, total))
        # A few updates a second at most: each one is a message to the browser.
        if done == total or elapsed - last_shown[0] >= 0.25:
            last_shown[0] = elapsed
            left = elapsed / max(done, 1) * (total - done)
            show(done / max(total, 1), f"{method}: {done:,} / {total:,} {unit}, {elapsed:.0f} s so far, "
                 f"about {left:.0f} s left (budget {budget_s:g} s; Cancel stops it)")

    return report
