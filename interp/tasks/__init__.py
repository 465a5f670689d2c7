"""Seeded toy-task generators (data only): each task samples (inputs, targets) batches for
training and analysis. Register a task with one line in TASKS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from interp.errors import InputError
from interp.tasks.addition import Addition
from interp.tasks.base import IGNORE, Task
from interp.tasks.markov import MarkovChain, MarkovTask
from interp.tasks.ngrams import InContextNgrams
from interp.tasks.rasp_tasks import RaspTask, Reverse, Sort
from interp.tasks.regression import RegressionTask
from interp.tasks.siit_task import SiitTask

# One line per task: name -> factory taking the task's options as keywords.
TASKS: dict[str, Callable[..., Task]] = {
    "reverse": Reverse,
    "sort": Sort,
    "rasp": RaspTask,
    "addition": Addition,
    "addition3": lambda **options: Addition(**{"n_digits": 3, **options}),
    "markov": MarkovTask,
    "ngrams": InContextNgrams,
    "regression": RegressionTask,
    "siit": SiitTask,  # a compiled program as the high level of SIIT (interp.training.siit)
}


def make_task(name: str, **options: Any) -> Task:
    """A task by name with its options (e.g. `make_task("addition", n_digits=3)`)."""
    if name not in TASKS:
        raise InputError(f"unknown task {name!r}; known tasks: {sorted(TASKS)}.")
    try:
        return TASKS[name](**options)
    except TypeError as err:
        raise InputError(f"bad options {sorted(options)} for task {name!r}: {err}.") from err


__all__ = ["IGNORE", "TASKS", "Addition", "InContextNgrams", "MarkovChain", "MarkovTask", "RaspTask",
           "Reverse", "Sort", "Task", "make_task"]
