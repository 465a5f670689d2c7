"""`interp circuit-bench --kinds siit`: the shipped SIIT model scored against its ground truth
(the one_per_op compile's minimal truth, checked in tests/interp/test_siit_subject_truth.py),
CPU seconds in every row, and a program with no SIIT model refused."""

from __future__ import annotations

import json

from interp.cli import main
from interp.model import load_model
from interp.shipped import shipped_path
from interp.subjects import load_subject


def test_siit_rows_use_the_shipped_model_and_the_one_per_op_truth(tmp_path, capsys) -> None:
    args = ["circuit-bench", "--programs", "shift_by", "--kinds", "siit", "--methods", "eap,acdc",
            "--out", str(tmp_path), "--json"]
    assert main(args) == 0
    rows = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["rows"]
    truth = load_subject("siit-shift_by").ground_truth()
    model = load_model(shipped_path("siit-shift_by"))
    for row in rows:
        assert row["kind"] == "siit" and row["truth"] == len(truth.edges)
        assert row["d_model"] == model.cfg.d_model and row["layers"] == model.cfg.n_layers
        assert row["cpu_seconds"] >= 0 and 0.0 <= row["faithfulness"] <= 1.0


def test_siit_kind_refuses_a_program_without_a_shipped_model(tmp_path, capsys) -> None:
    assert main(["circuit-bench", "--programs", "length", "--kinds", "siit", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "siit-length" in err[0] and "train-siit length" in err[0]
    assert not (tmp_path / "results.jsonl").exists()
