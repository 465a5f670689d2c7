"""Bad inputs to `interp rasp`: exit status 2, one `error:` line, and with --json one JSON
object as the last stdout line."""

from __future__ import annotations

import json

import pytest

from interp.cli import main


def _files(tmp_path):
    bad = tmp_path / "latin1.rasp"
    bad.write_bytes("x = \"caf\xe9\";".encode("latin-1"))
    deep = tmp_path / "deep.rasp"
    deep.write_text("x = " + "(" * 100 + "tokens" + ")" * 100 + ";\n")
    selector_if = tmp_path / "sel.rasp"
    selector_if.write_text("x = tokens if select(tokens, tokens, ==) else indices;\n")
    raising = tmp_path / "raises.rasp"
    raising.write_text("x = tokens + 1;\n")
    return {
        "directory": ([str(tmp_path)], "is a directory"),
        "directory_with_input": ([str(tmp_path), "--input", "a"], "is a directory"),
        "not_utf8": ([str(bad), "--input", "a"], "is not UTF-8 text"),
        "missing": ([str(tmp_path / "nope.rasp"), "--input", "a"], "no such file or folder"),
        "too_deep": ([str(deep), "--input", "a"], "parse_nesting=60"),
        "selector_condition": ([str(selector_if), "--input", "a"], "cannot be an if condition"),
        "program_raises": ([str(raising), "--input", "a b"], "'x' failed on input value 'a'"),
        "unknown_output": ([str(raising), "--input", "1", "--output", "y"], "no s-op named 'y'"),
        "library_bad_token": (["hist", "--input", "a z"], "'z' at position 1"),
    }


CASE_NAMES = [
    "directory", "directory_with_input", "not_utf8", "missing", "too_deep", "selector_condition",
    "program_raises", "unknown_output", "library_bad_token",
]  # fmt: skip


@pytest.mark.parametrize("name", CASE_NAMES)
def test_rasp_command_reports_one_error_line(name, tmp_path, capsys):
    argv, fragment = _files(tmp_path)[name]
    assert main(["rasp", *argv, "--json"]) == 2
    captured = capsys.readouterr()
    error_lines = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and fragment in error_lines[0], captured.err
    assert "Traceback" not in captured.err
    payload = json.loads(captured.out.strip().splitlines()[-1])
    assert fragment in payload["error"] and payload["kind"] in ("RASPError", "RASPSyntaxError", "InputError")
