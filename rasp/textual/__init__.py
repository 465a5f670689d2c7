"""Textual RASP, the language of tech-srl/RASP (Weiss et al. 2021), in four steps:
`lexer` (text to tokens), `parser` (tokens to a syntax tree), `interpreter` (runs the tree,
building DSL objects: `parse`, `parse_program`, `parse_file`, `Interpreter`) and `repl`
(the interactive session). `values`, `operators` and `sources` are the interpreter's runtime
values, capped operators, and file reading with `load` resolution."""

from __future__ import annotations

from rasp.textual.interpreter import Interpreter, parse, parse_file, parse_program

__all__ = ["Interpreter", "parse", "parse_file", "parse_program"]
