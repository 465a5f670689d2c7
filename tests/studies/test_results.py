"""The committed study results re-check: every verdict recomputed from its stored numbers and
pass rule, every seed interval recomputed, every artifact present, the README tables equal to
what the results generate, and no figure page loading a script from the network."""

import importlib.util
import json
import re
from pathlib import Path

import pytest

from interp.evaluation.report import evaluate, t_interval

ROOT = Path(__file__).resolve().parents[2]
STUDIES = ROOT / "studies"
RESULTS = sorted((STUDIES / "results").glob("*/results.json"))


def _make_readme():
    spec = importlib.util.spec_from_file_location("make_readme", STUDIES / "make_readme.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _preregistered():
    make_readme = _make_readme()
    return [p for p in RESULTS if make_readme.is_preregistered(json.loads(p.read_text()))]


def test_the_readme_tables_are_generated_from_the_results():
    make_readme = _make_readme()
    current = (STUDIES / "README.md").read_text()
    assert make_readme.render(current, make_readme.generate()) == current, "run python studies/make_readme.py"


def test_no_committed_result_comes_from_quick_mode():
    for path in RESULTS:
        data = json.loads(path.read_text())
        assert data.get("mode") != "quick", f"{path} holds a quick-mode run"


@pytest.mark.parametrize("path", _preregistered(), ids=lambda p: p.parent.name)
def test_every_row_passes_or_fails_by_its_stored_rule(path):
    for row in json.loads(path.read_text())["rows"]:
        values = dict(row["values"])
        if row.get("per_seed"):
            seeds = list(row["per_seed"].values())
            values.setdefault("seeds", seeds)
            values.setdefault("mean", sum(seeds) / len(seeds))
        if row["criterion"] is None:
            assert row["passed"] is None, row["quantity"]
        else:
            assert evaluate(row["criterion"]["code"], values) is row["passed"], row["quantity"]


@pytest.mark.parametrize("path", _preregistered(), ids=lambda p: p.parent.name)
def test_seed_aggregates_carry_a_t_interval(path):
    for row in json.loads(path.read_text())["rows"]:
        seeds = list((row.get("per_seed") or {}).values())
        if len(seeds) >= 3:
            low, high = t_interval(seeds)
            assert row["ci95"]["low"] == pytest.approx(low) and row["ci95"]["high"] == pytest.approx(high)
            assert row["ci95"]["method"].startswith("t")


@pytest.mark.parametrize("path", _preregistered(), ids=lambda p: p.parent.name)
def test_every_artifact_is_committed_in_the_repository(path):
    for row in json.loads(path.read_text())["rows"]:
        assert row["artifacts"], row["quantity"]
        for artifact in row["artifacts"]:
            assert (ROOT / artifact).exists(), f"{path.parent.name}: {row['quantity']}: {artifact} missing"


def test_figure_pages_load_plotly_locally():
    pages = sorted((STUDIES / "results").glob("*/*.html"))
    for page in pages:
        text = page.read_text()
        assert not re.search(r"<script[^>]*src=[\"']https?://", text), f"{page} loads a network script"
