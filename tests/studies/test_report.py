"""Pass rules are evaluated safely and exactly; seed intervals match a hand computation."""

import json
import math
import statistics

import pytest

from interp.errors import InputError
from interp.evaluation.report import Criterion, StudyTable, evaluate, output_dir, t_interval


@pytest.mark.parametrize("code", ["__import__('os')", "x.__class__", "(lambda: 1)()", "open('f')", "y < 1",
                                  "[x for x in ().__class__.__bases__]"])
def test_evaluator_refuses_anything_but_arithmetic_over_the_values(code):
    with pytest.raises(InputError):
        evaluate(code, {"x": 1.0})


def test_evaluator_refuses_a_non_boolean_result():
    with pytest.raises(InputError, match="not True or False"):
        evaluate("x + 1", {"x": 1.0})


def test_evaluator_reads_comprehensions_over_the_values():
    values = {"seeds": [0.04, 0.05, 0.09], "bar": 0.08}
    assert evaluate("all(v <= bar for v in seeds)", values) is False
    assert evaluate("sum(v <= bar for v in seeds) == 2", values) is True


def test_t_interval_matches_the_textbook_formula():
    samples = [0.0472, 0.0466, 0.0489]
    mean, sd = statistics.mean(samples), statistics.stdev(samples)
    half = 4.303 * sd / math.sqrt(3)  # t_{0.975, 2}
    low, high = t_interval(samples)
    assert low == pytest.approx(mean - half) and high == pytest.approx(mean + half)


def test_a_row_computes_its_verdict_and_interval_from_its_numbers(tmp_path):
    table = StudyTable("t")
    rule = Criterion("every seed <= 0.08", "all(v <= 0.08 for v in seeds)")
    row = table.add("q", "p", "o", "s", "0,1,2", 1.0, rule,
                    per_seed={0: 0.05, 1: 0.06, 2: 0.09})
    assert row.passed is False and row.ci95["n"] == 3 and row.ci95["method"].startswith("t")
    with pytest.raises(InputError, match="Criterion"):
        table.add("q", "p", "o", "s", "0", 1.0, "x < 1")


def test_quick_mode_labels_every_verdict_and_checks_its_sanity_bars(tmp_path):
    table = StudyTable("t", quick=True)
    table.add("q", "p", "o", "s", "0", 1.0, Criterion("x small", "x < 1"), values={"x": 0.5},
              quick=Criterion("x finite", "isfinite(x)"))
    table.save(tmp_path)
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["mode"] == "quick" and "quick mode: not a result" in (tmp_path / "results.md").read_text()
    bad = StudyTable("t", quick=True)
    bad.add("q", "p", "o", "s", "0", 1.0, None, values={"x": 5.0}, quick=Criterion("x below 1", "x < 1"))
    with pytest.raises(InputError, match="sanity"):
        bad.save(tmp_path / "bad")


def test_quick_mode_writes_to_a_scratch_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("STUDY_OUTPUT_DIR", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    out = output_dir("11_icl_garg", quick=True)
    assert out.is_relative_to(tmp_path) and out.exists()
    monkeypatch.setenv("STUDY_OUTPUT_DIR", str(tmp_path / "given"))
    assert output_dir("x", quick=True) == tmp_path / "given"
