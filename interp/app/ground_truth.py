"""Ground truths computed in the background as soon as a model is loaded, so the Circuit
view's first visit finds its truth ready instead of computing it then (the compiled `sort`'s
minimal truth: 0.85 s of script; other subjects' truths up to ~30 s).

Generic over subjects: whatever `subject.ground_truth()` returns (None: no truth). The thread
only calls the subject, never Streamlit (it has no script-run context). A truth must not put
hooks on the shared model while other threads run it (the compiled live truth ablates a copy).
"""

from __future__ import annotations

import threading
import weakref
from concurrent.futures import Future
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from interp.circuit import Circuit
    from interp.subjects import Subject

_FUTURES: weakref.WeakKeyDictionary[Subject, Future] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def start(subject: Subject) -> Future:
    """The future of `subject`'s ground truth, its computation started on the first call (one
    daemon thread per loaded model; later calls return the same future). Not niced: torch
    creates its worker threads from the thread that first needs them, with that thread's
    niceness, and a niced truth thread left niced workers that slowed every later model run."""
    with _LOCK:
        future = _FUTURES.get(subject)
        if future is None:
            future = _FUTURES[subject] = Future()
            threading.Thread(target=_compute, args=(subject, future), name="ground-truth",
                             daemon=True).start()
    return future


def prefetch(subject: Subject) -> None:
    """Start `subject`'s ground truth when a model is loaded, except under Streamlit's AppTest:
    there the script runs inside the test process, and a truth still running when that process
    exits aborts it (torch code in a daemon thread at interpreter shutdown: "terminate called
    without an active exception"); the Circuit view starts it there itself, and waits."""
    from streamlit import config

    if not config.get_option("global.appTest"):
        start(subject)


def ground_truth(subject: Subject) -> Circuit | None:
    """`subject.ground_truth()`, waiting for the background computation (started if not yet);
    an error it raised is raised here, in the view."""
    return start(subject).result()


def _compute(subject: Subject, future: Future) -> None:
    if not future.set_running_or_notify_cancel():
        return
    try:
        future.set_result(subject.ground_truth())
    except BaseException as err:  # noqa: BLE001 - handed to the view that waits for it
        future.set_exception(err)
