"""A Transformer Program's stored truth (truth.json beside program.json) is used only for the
program it was written for, and the shipped ones equal the truth computed afresh."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from interp.shipped.program_index import shipped_program_dir
from interp.subjects import load_subject
from interp.subjects.transformer_program import program_dir_subject


@pytest.mark.parametrize("name", ["hist", "sort"])
def test_shipped_truth_file_equals_the_computed_truth(name: str) -> None:
    subject = load_subject(f"program:{name}")
    assert (shipped_program_dir(name) / "truth.json").is_file()
    assert subject.ground_truth().edge_set() == subject.live_truth()[0].edge_set()


def test_a_truth_file_for_another_program_is_ignored_and_save_writes_this_one(tmp_path: Path) -> None:
    folder = tmp_path / "hist"
    shutil.copytree(shipped_program_dir("hist"), folder)
    stored = json.loads((folder / "truth.json").read_text())
    empty = {"nodes": [], "edges": []}
    (folder / "truth.json").write_text(json.dumps({**stored, "program_sha256": "0" * 64, "circuit": empty}))
    subject = program_dir_subject(folder)
    assert subject.ground_truth().edges  # the empty stored truth was not used
    subject.save_truth()
    again = program_dir_subject(folder)
    assert again._stored_truth() is not None
    assert again._stored_truth().edge_set() == subject.live_truth()[0].edge_set()
