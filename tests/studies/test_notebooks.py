"""Every notebook in studies/ runs top to bottom in quick mode (STUDY_QUICK=1) from the
checkout as it is: it writes nothing under studies/ (quick mode goes to a scratch folder), its
figures are inline HTML with no script from the network and are all in its nbconvert HTML
export (plotly.js inlined once), every verdict it prints is labelled
"quick mode: not a result", and the quick-mode sanity bars stated in the notebook hold.

Full mode (the committed results) is what a user runs by hand.
"""

import json
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter

from interp.evaluation.report import QUICK_LABEL, evaluate

STUDIES = Path(__file__).resolve().parents[2] / "studies"
NOTEBOOKS = sorted(STUDIES.glob("*.ipynb"))


def _snapshot() -> dict[str, tuple[int, int]]:
    """Every file under studies/ but the notebooks themselves (nbclient runs them in memory) with its
    size and modification time."""
    return {str(p.relative_to(STUDIES)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in STUDIES.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_quick_mode(path, tmp_path, monkeypatch):
    monkeypatch.setenv("STUDY_QUICK", "1")
    monkeypatch.delenv("STUDY_OUTPUT_DIR", raising=False)  # the default a user gets
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the kernel's scratch folder lands here
    before = _snapshot()
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(STUDIES)}}
    )
    client.execute()  # raises CellExecutionError naming the failing cell
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    outputs = [output for cell in code for output in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert _snapshot() == before, "quick mode wrote into studies/"

    figure_cells = [c for c in notebook.cells if c.cell_type == "code" and "show_figure(" in c.source]
    for cell in figure_cells:
        html = "".join(o["data"].get("text/html", "") for o in cell.outputs if "data" in o)
        assert "Plotly.newPlot" in html, f"a figure of {path.name} has no inline HTML"
        assert not re.search(r"<script[^>]*src=[\"']https?://", html), "a figure loads a network script"
    exported, _ = HTMLExporter().from_notebook_node(notebook)  # what `jupyter nbconvert --to html` writes
    shown = sum(o["data"].get("text/html", "").count("Plotly.newPlot(") for o in outputs if "data" in o)
    assert exported.count("Plotly.newPlot(") == shown, "a figure is missing from the nbconvert HTML"
    if shown:
        assert exported.count("* plotly.js v") == 1, "the nbconvert HTML does not inline plotly.js once"

    written = list(tmp_path.glob(f"study-{path.stem}-quick-*/results.json"))
    if "table.save(" not in "".join(c.source for c in notebook.cells if c.cell_type == "code"):
        return
    assert len(written) == 1, f"{path.name} saved no quick-mode table in its scratch folder"
    data = json.loads(written[0].read_text())
    assert data["mode"] == "quick" and data["label"] == QUICK_LABEL
    markdown = (written[0].parent / "results.md").read_text()
    verdicts = [row for row in data["rows"] if row.get("passed") is not None]
    assert markdown.count(QUICK_LABEL) >= len(verdicts) + 1  # title and every verdict
    for row in data["rows"]:
        if row.get("quick_criterion"):
            values = dict(row["values"])
            assert evaluate(row["quick_criterion"]["code"], values) is True, row["quantity"]


def test_every_notebook_has_a_quick_mode_switch():
    for path in NOTEBOOKS:
        assert "STUDY_QUICK" in path.read_text(), f"{path.name} has no quick mode"
