"""Every notebook in studies/ runs top to bottom in quick mode (STUDY_QUICK=1).

Notebooks read `os.environ.get("STUDY_QUICK") == "1"` to shrink training runs and
sweeps; full mode (the real figures) is what a user runs by hand.
"""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

STUDIES = Path(__file__).resolve().parents[2] / "studies"
NOTEBOOKS = sorted(STUDIES.glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_quick_mode(path, tmp_path, monkeypatch):
    monkeypatch.setenv("STUDY_QUICK", "1")
    monkeypatch.setenv("STUDY_OUTPUT_DIR", str(tmp_path))
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(STUDIES)}}
    )
    client.execute()  # raises CellExecutionError naming the failing cell
    errors = [
        output for cell in notebook.cells if cell.cell_type == "code"
        for output in cell.get("outputs", []) if output.get("output_type") == "error"
    ]
    assert not errors


def test_every_notebook_has_a_quick_mode_switch():
    for path in NOTEBOOKS:
        assert "STUDY_QUICK" in path.read_text(), f"{path.name} has no quick mode"

