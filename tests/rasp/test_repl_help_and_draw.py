"""The REPL's `help`, and `draw(...)` in a textual file run with --input."""

from __future__ import annotations

import io
import json

from interp.cli import main
from rasp.textual.repl import HELP, Repl


def test_help_lists_the_commands_and_leaves_the_session_usable():
    out = io.StringIO()
    repl = Repl(out)
    assert repl.run(["help\n", 'x = tokens == "h";\n']) == 0
    text = out.getvalue()
    assert HELP in text
    for command in ("set example", ":input", "draw(", "load", "exit", "full seq display"):
        assert command in HELP
    assert "s-op: x" in text  # the statement after help ran


def test_every_statement_help_shows_runs(tmp_path):
    # help's examples are real syntax: each runs without an error.
    out = io.StringIO()
    lines = ['x = tokens == "a";', "s = select(indices, indices, ==);", "aggregate(s, tokens);",
             "def f(a) { return a + 1; }", "for i in range(3) { y = i; }", 'draw(x, "abc");',
             'set example "abc"', ":input a b c", "show example", "s-op examples off",
             "full seq display on"]
    assert Repl(out, root=tmp_path).run(line + "\n" for line in lines) == 0, out.getvalue()


def test_draw_in_a_file_is_shown_on_the_input_tokens(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.rasp").write_text('x = tokens == "a";\ndraw(x);\nz = aggregate(select(indices, '
                                     "indices, ==), tokens);\n")
    assert main(["rasp", "p.rasp", "--input", "b a", "--json", "--draw-dir", "figs"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "computation flow on ['b', 'a']:" in lines
    assert any("x (Map of tokens) = [False, True]" in line for line in lines)
    assert json.loads(lines[-1])["output"] == ["b", "a"]
    html = (tmp_path / "figs" / "x.html").read_text()
    assert "<script src=\"https://cdn" not in html and len(html) > 10**6  # plotly.js inside: opens offline
