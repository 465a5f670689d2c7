"""The dashboard loads each model once: its cache is keyed by what a name resolves to."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from interp.app.sidebar import cached_library, cached_named
from interp.app.timing import TIMING_ENV
from interp.cli.app_cmd import streamlit_command
from interp.shipped import shipped_path
from interp.subjects.resolver import shipped_model_names
from rasp.lib import PROGRAMS

MAIN = Path(__file__).resolve().parents[2] / "interp" / "app" / "main.py"


@pytest.fixture(autouse=True)
def _quiet_streamlit(caplog):
    caplog.set_level("ERROR", logger="streamlit")


def test_namespaced_and_bare_names_share_one_model():
    name = shipped_model_names()[0]
    assert cached_named(f"model:{name}") is cached_named(name)


def test_library_name_is_the_library_pickers_model():
    entry = PROGRAMS["reverse"]
    assert cached_named("lib:reverse") is cached_library("reverse", tuple(entry.vocab), entry.max_seq_len)
    assert cached_named("reverse") is cached_named("lib:reverse")


def test_program_namespace_is_not_the_library_program():
    # `sort` is the library program and `program:sort` the Transformer Program: two models.
    assert cached_named("program:sort") is not cached_named("sort")
    assert cached_named("program:sort").discrete_programs() is not None


def test_a_model_saved_again_in_place_is_loaded_again(tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(shipped_path(shipped_model_names()[0]), folder)
    first = cached_named(str(folder))
    assert cached_named(str(folder)) is first
    # Saved again (same path, newer files): the cache must not serve the old weights.
    later = time.time() + 5
    for file in folder.iterdir():
        os.utime(file, (later, later))
    assert cached_named(str(folder)) is not first


def test_served_app_skips_the_per_run_full_gc_and_module_reloads():
    command = streamlit_command(8501)
    assert command[command.index("--runner.postScriptGC") + 1] == "false"
    assert command[command.index("--server.fileWatcherType") + 1] == "none"


def test_timing_log_has_one_line_per_run(tmp_path, monkeypatch):
    log = tmp_path / "runs.jsonl"
    monkeypatch.setenv(TIMING_ENV, str(log))
    at = AppTest.from_file(str(MAIN), default_timeout=300)
    at.run()
    at.radio(key="view").set_value("Weights").run()
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["view"] for line in lines] == ["Attention", "Weights"]
    assert all(line["end"] >= line["start"] and line["seconds"] >= 0 for line in lines)
