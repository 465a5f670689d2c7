"""Textual RASP: a long program is not a runaway one (the step budget grows with the program's
statements), non-text programs and unusable load paths are clear RASPErrors, and the REPL
survives them."""

from __future__ import annotations

import io

import pytest

import rasp
from rasp.errors import RASPError, RASPSyntaxError
from rasp.limits import DEFAULT_LIMITS, Limits
from rasp.textual.repl import Repl

SMALL = Limits(parse_steps=1_000, parse_steps_per_statement=50)


def _long_program(lines: int) -> str:
    out = []
    for i in range(lines):
        out.append([f"a{i} = tokens + {i % 7};", f"b{i} = select(indices, indices, ==);",
                    f"c{i} = aggregate(b{i - 1}, a{i - 2});", f"d{i} = count(tokens, {i % 5});"][i % 4])
    return "\n".join(out)


def test_a_long_ordinary_program_runs_past_the_base_step_budget():
    # 400 lines take ~2,300 steps, over parse_steps=1,000, within 1,000 + 50 per statement.
    program = rasp.parse(_long_program(400), limits=SMALL)
    assert program([1, 2]) is not None


def test_a_short_runaway_loop_still_stops_at_the_base_budget():
    with pytest.raises(RASPSyntaxError, match="parse_steps=1000"):
        rasp.parse_program("for i in range(100000) { x = i; }", limits=SMALL)


def test_the_defaults_admit_a_100000_line_file():
    # Measured: a 100,000-line file of the statements above takes 575,000 steps (~6 a line).
    assert DEFAULT_LIMITS.parse_steps + 100_000 * DEFAULT_LIMITS.parse_steps_per_statement >= 2 * 575_000
    assert DEFAULT_LIMITS.parse_steps <= 1_000_000  # a runaway loop still stops within seconds


@pytest.mark.parametrize("text", [b"x = tokens;", None, 3, ["x = tokens;"]])
def test_a_program_that_is_not_a_str_is_a_clear_error(text):
    with pytest.raises(RASPError, match="must be a str"):
        rasp.parse(text)
    with pytest.raises(RASPError, match="must be a str"):
        rasp.parse_program(text)


def test_a_300_character_load_path_is_a_clear_error_and_the_repl_survives():
    statement = 'load "' + "a" * 300 + '";'
    with pytest.raises(RASPSyntaxError, match="as a file name"):
        rasp.parse_program(statement)
    out = io.StringIO()
    repl = Repl(out)
    repl.feed(statement)
    repl.feed("y = tokens;")
    assert "as a file name" in out.getvalue() and "s-op: y" in out.getvalue()


def test_a_draw_dir_under_a_regular_file_is_a_clear_error_and_the_repl_survives(tmp_path):
    (tmp_path / "file").write_text("x")
    out = io.StringIO()
    repl = Repl(out, draw_dir=tmp_path / "file" / "figures")
    for line in ("y = tokens;", "draw(y);", "z = tokens;"):
        repl.feed(line)
    assert "cannot write the figure" in out.getvalue() and "s-op: z" in out.getvalue()
