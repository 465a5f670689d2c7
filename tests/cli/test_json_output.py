"""Strict JSON output: no NaN/Infinity ever reaches stdout."""

from __future__ import annotations

import json
import math

import pytest
import torch

from interp.cli import main
from interp.cli.output import json_line


def strict_loads(text: str):
    def refuse(constant: str):
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def test_non_finite_numbers_become_strings_python_reads_back():
    value = {"a": [1.5, math.nan, (math.inf, -math.inf)], 2: torch.tensor([0.5, math.nan]),
             "s": {3, 1}, "ok": None}
    data = strict_loads(json_line(value))
    assert data == {"a": [1.5, "nan", ["inf", "-inf"]], "2": [0.5, "nan"], "s": [1, 3], "ok": None}
    assert math.isnan(float(data["a"][1])) and float(data["a"][2][1]) == -math.inf


def test_run_json_never_prints_nan(tmp_path, capsys, monkeypatch):
    from rasp.compiler import CompiledModel, compile_program
    from rasp.lib import PROGRAMS

    compile_program(PROGRAMS["reverse"].build(), ["a", "b"], 3).save(tmp_path / "m")
    # A broken numerical model decodes NaN; the JSON line must stay strict.
    monkeypatch.setattr(CompiledModel, "decode", lambda self, logits: [math.nan, math.inf])
    assert main(["run", str(tmp_path / "m"), "--input", "a b", "--json"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert strict_loads(last)["output"] == ["nan", "inf"]


def test_internal_errors_still_end_in_one_json_line(capsys, monkeypatch):
    from interp.cli import info_cmd

    def broken(args):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(info_cmd, "run_info", broken)
    assert main(["info", "anything", "--json"]) == 1
    captured = capsys.readouterr()
    assert strict_loads(captured.out.strip().splitlines()[-1])["kind"] == "internal"
    assert "Traceback" in captured.err and "ZeroDivisionError: a bug" in captured.err


@pytest.mark.parametrize("argv", [["rasp", "reverse", "--input", "a b", "--json"]])
def test_success_json_is_the_last_line(argv, capsys):
    assert main(argv) == 0
    assert strict_loads(capsys.readouterr().out.strip().splitlines()[-1])["output"] == ["b", "a"]
