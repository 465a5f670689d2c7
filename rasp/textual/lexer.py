"""Tokenizer for textual RASP (the language of Weiss et al.'s RASP repository)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rasp.errors import RASPSyntaxError

KEYWORDS = {"def", "return", "if", "else", "and", "or", "not", "in", "for", "load", "draw"}

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>[ \t\r\f]+)
  | (?P<newline>\n)
  | (?P<comment>\#[^\n]*)
  | (?P<number>\d+\.\d+|\d+)
  | (?P<string>"[^"\n]*"|'[^'\n]*')
  | (?P<name>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<op>==|!=|<=|>=|[<>+\-*/%^=(),;\[\]{}:])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    """One lexical token with its 1-based position."""

    kind: str  # "number", "string", "name", "keyword", "op", "eof"
    text: str
    line: int
    column: int


def tokenize(text: str) -> list[Token]:
    """Split RASP source into tokens, dropping whitespace and # comments."""
    out: list[Token] = []
    line, line_start, pos = 1, 0, 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        column = pos - line_start + 1
        if match is None:
            raise RASPSyntaxError(f"unexpected character {text[pos]!r}", line, column)
        kind = match.lastgroup or ""
        value = match.group()
        if kind == "newline":
            line, line_start = line + 1, match.end()
        elif kind == "name":
            out.append(Token("keyword" if value in KEYWORDS else "name", value, line, column))
        elif kind in ("number", "string", "op"):
            out.append(Token(kind, value, line, column))
        pos = match.end()
    out.append(Token("eof", "", line, pos - line_start + 1))
    return out
