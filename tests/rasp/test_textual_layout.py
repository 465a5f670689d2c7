"""Textual RASP's modules each do the one step their name says: the parser only builds a
syntax tree (it cannot run anything), the interpreter runs it."""

from __future__ import annotations

import ast
from pathlib import Path

import rasp
from rasp.textual import interpreter, parser

TEXTUAL = Path(rasp.__file__).resolve().parent / "textual"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module} | {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}


def test_the_parser_builds_a_tree_and_imports_nothing_that_runs_rasp():
    assert imported_modules(TEXTUAL / "parser.py") & {"rasp.core", "rasp.textual.interpreter",
                                                      "rasp.evaluate"} == set()
    (statement,) = parser.parse_statements("x = tokens == 1;")
    assert isinstance(statement, parser.Node)
    assert not isinstance(statement, rasp.core.RASPExpr)


def test_the_interpreter_turns_the_tree_into_dsl_objects():
    program = interpreter.parse("r = aggregate(select(indices, length - indices - 1, ==), tokens);")
    assert isinstance(program, rasp.core.RASPExpr) and rasp.parse is interpreter.parse
    assert rasp.evaluate(program, list("abc")) == list("cba")


def test_no_module_of_the_old_layout_is_left():
    root = TEXTUAL.parent
    for old in ("parser.py", "syntax.py", "lexer.py", "repl.py", "text_values.py", "text_operators.py",
                "text_sources.py", "prelude.rasp"):
        assert not (root / old).exists(), old
