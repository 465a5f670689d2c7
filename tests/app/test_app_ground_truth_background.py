"""The Circuit view's ground truth is computed in a background thread from the model's load
on (interp/app/ground_truth.py): off the script's thread, with no Streamlit script-run context,
once per model, errors handed to the view, and the same circuit as computed in the foreground."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from app_harness import chart, choose_view, start_app
from streamlit.runtime.scriptrunner import get_script_run_ctx

from interp.app import ground_truth
from interp.app.subject import library_subject
from interp.errors import InputError


class Recording:
    """A stand-in subject recording where and how often its truth is computed."""

    def __init__(self, result=None, error: Exception | None = None):
        self.calls, self.threads, self.contexts = 0, [], []
        self.result, self.error = result, error
        self.release = threading.Event()

    def ground_truth(self):
        self.calls += 1
        self.threads.append(threading.current_thread())
        self.contexts.append(get_script_run_ctx(suppress_warning=True))
        self.release.wait(10)
        if self.error is not None:
            raise self.error
        return self.result


def test_truth_runs_once_in_a_thread_without_streamlit_context():
    subject = Recording(result="the circuit")
    future = ground_truth.start(subject)
    assert not future.done()  # still running: start() did not wait for it
    assert ground_truth.start(subject) is future
    subject.release.set()
    assert ground_truth.ground_truth(subject) == "the circuit"
    assert subject.calls == 1
    assert subject.threads[0] is not threading.main_thread()
    assert subject.contexts == [None]


def test_an_error_reaches_the_view():
    subject = Recording(error=InputError("no truth for this one"))
    subject.release.set()
    with pytest.raises(InputError, match="no truth for this one"):
        ground_truth.ground_truth(subject)


def test_background_truth_equals_the_foreground_one():
    background = ground_truth.ground_truth(library_subject("length", max_seq_len=3))
    foreground = library_subject("length", max_seq_len=3).ground_truth()  # its own model
    assert background.edge_set() == foreground.edge_set() and background.edges


def test_circuit_view_draws_the_background_truth():
    at = start_app()  # library reverse: its truth started with the first page
    at.selectbox(key="library_program").set_value("sort").run()
    figure = chart(choose_view(at, "Circuit"), "circuit_truth")
    assert figure["layout"]["title"]["text"].startswith("Ground truth: ")


def test_prefetch_starts_in_a_served_app_but_not_under_apptest():
    """Under AppTest the script runs in the test process, where a truth still running at exit
    would abort it: there the Circuit view starts the truth itself."""
    from streamlit.testing.v1.util import patch_config_options

    under_test, served = Recording(result="t"), Recording(result="t")
    under_test.release.set()
    served.release.set()
    with patch_config_options({"global.appTest": True}):
        ground_truth.prefetch(under_test)
    with patch_config_options({"global.appTest": False}):
        ground_truth.prefetch(served)
    assert ground_truth.start(served).result(10) == "t"
    assert served.calls == 1 and under_test.calls == 0


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="Linux /proc only")
def test_no_thread_is_left_niced():
    """torch starts its worker threads from the first thread that needs them, with that
    thread's niceness: a niced truth thread left niced workers that slowed later model runs."""
    ground_truth.ground_truth(library_subject("length", max_seq_len=3))
    nice = {task.name: int(task.joinpath("stat").read_text().rsplit(")", 1)[1].split()[16])
            for task in Path("/proc/self/task").iterdir()}  # field 19 of stat: the nice value
    # The main thread's own value: pytest itself may run under nice.
    assert set(nice.values()) == {os.getpriority(os.PRIO_PROCESS, 0)}, nice
