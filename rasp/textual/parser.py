"""Parser from RASP tokens to a small syntax tree (grammar: tech-srl/RASP's RASP.g4).

Operator precedence follows that grammar, tightest first: postfix `x[i]` and calls;
unary `not`/`-`/`+`; `^`; `*` `/`; `%`; `+` `-`; comparisons; `and`/`or` (one level,
left to right); `a if c else b`; `x in xs`. Binary operators associate to the left.
Nesting is bounded by `Limits.parse_nesting`, so no input can exhaust Python's stack.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rasp.errors import RASPSyntaxError
from rasp.limits import Limits, current_limits
from rasp.textual.lexer import Token, tokenize

COMPARISONS = ("==", "!=", "<", ">", "<=", ">=")
# Binding power of each binary operator (higher binds tighter).
_PRECEDENCE = {
    "in": 1,
    "and": 3, "or": 3,
    "==": 4, "!=": 4, "<": 4, ">": 4, "<=": 4, ">=": 4,
    "+": 5, "-": 5,
    "%": 6,
    "*": 7, "/": 7,
    "^": 8,
}  # fmt: skip
_TERNARY = 2
_SUBSETS = {"s-op": "s-op", "selector": "selector"}


@dataclass
class Node:
    """A syntax-tree node: `kind` says what it is, `args` its parts, line/column where."""

    kind: str
    args: list[Any] = field(default_factory=list)
    line: int = 0
    column: int = 0


class _Parser:
    """Parses one token list; each method parses one grammar rule."""

    def __init__(self, tokens: list[Token], limits: Limits):
        self.tokens = tokens
        self.pos = 0
        self.limits = limits
        self.depth = 0

    # Token helpers -------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def peek(self, offset: int) -> Token:
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def at(self, *texts: str) -> bool:
        return self.tok.kind in ("op", "keyword") and self.tok.text in texts

    def at_name(self, *texts: str, offset: int = 0) -> bool:
        token = self.peek(offset)
        return token.kind == "name" and token.text in texts

    def advance(self) -> Token:
        token = self.tok
        self.pos += 1
        return token

    def expect(self, text: str) -> Token:
        if not self.at(text):
            self.fail(f"expected {text!r}")
        return self.advance()

    def expect_name(self) -> Token:
        if self.tok.kind != "name":
            self.fail("expected a name")
        return self.advance()

    def fail(self, message: str) -> None:
        found = "end of input" if self.tok.kind == "eof" else repr(self.tok.text)
        raise RASPSyntaxError(
            f"{message}, found {found}", self.tok.line, self.tok.column, incomplete=self.tok.kind == "eof"
        )

    def node(self, kind: str, token: Token, *args: Any) -> Node:
        return Node(kind, list(args), token.line, token.column)

    def enter(self) -> None:
        # Every recursive rule passes here, so this one counter bounds the parser's stack.
        self.depth += 1
        if self.depth > self.limits.parse_nesting:
            raise RASPSyntaxError(
                f"expression nested more than parse_nesting={self.limits.parse_nesting} deep; "
                "split it into named steps (or raise rasp.limits parse_nesting)",
                self.tok.line,
                self.tok.column,
            )

    def leave(self) -> None:
        self.depth -= 1

    # Statements ----------------------------------------------------------------------
    def program(self) -> list[Node]:
        statements = []
        while self.tok.kind != "eof":
            if self.at(";"):
                self.fail("empty statement")
            statements.append(self.statement())
        return statements

    def statement(self) -> Node:
        self.enter()
        try:
            return self._statement()
        finally:
            self.leave()

    def _statement(self) -> Node:
        start = self.tok
        repl = self.repl_statement()
        if repl is not None:
            return repl
        if self.at("def"):
            return self.function()
        if self.at("for"):
            return self.for_loop()
        if self.at("return"):
            self.fail("'return' is only allowed at the end of a def body")
        if self.at("load"):
            self.advance()
            if self.tok.kind != "string":
                self.fail('load needs a file name in quotes, e.g. load "mylib";')
            name = self.advance().text[1:-1]
            self.expect(";")
            return self.node("load", start, name)
        if self.at("draw"):
            self.advance()
            self.expect("(")
            target = self.expr()
            example = None
            if self.at(","):
                self.advance()
                example = self.expr()
            self.expect(")")
            self.expect(";")
            return self.node("draw", start, target, example)
        if self.tok.kind == "name" and self._is_assignment():
            names = self.names()
            self.expect("=")
            values = self.expr_list()
            self.expect(";")
            return self.node("assign", start, names, values)
        value = self.expr()
        self.expect(";")
        return self.node("expr_stmt", start, value)

    def repl_statement(self) -> Node | None:
        """The original REPL's commands, which may also appear in files (no ';' needed)."""
        start = self.tok
        subset, width = self._subset(0)
        if self.at_name("set") and self.at_name("example", offset=1 + self._subset(1)[1]):
            self.advance()
            subset, width = self._subset(0)
            self.pos += width + 1
            example = self.expr()
            self._optional_semicolon()
            return self.node("set_example", start, subset, example)
        if self.at_name("show") and self.at_name("example", offset=1 + self._subset(1)[1]):
            self.advance()
            subset, width = self._subset(0)
            self.pos += width + 1
            self._optional_semicolon()
            return self.node("show_example", start, subset)
        if self.at_name("examples", offset=width) and self.at_name("on", "off", offset=width + 1):
            self.pos += width + 1
            switch = self.advance().text == "on"
            self._optional_semicolon()
            return self.node("examples", start, subset, switch)
        if self.at_name("full") and self.at_name("seq", offset=1) and self.at_name("display", offset=2):
            self.pos += 3
            if not self.at_name("on", "off"):
                self.fail("expected 'on' or 'off' after 'full seq display'")
            switch = self.advance().text == "on"
            self._optional_semicolon()
            return self.node("seq_display", start, switch)
        if self.at_name("exit", "quit") and self._is_exit():
            self.advance()
            if self.at("("):
                self.advance()
                self.expect(")")
            self._optional_semicolon()
            return self.node("exit", start)
        return None

    def _subset(self, offset: int) -> tuple[str, int]:
        """('s-op' | 'selector' | 'both', tokens used) for an optional subset word."""
        if self.at_name("selector", offset=offset):
            return "selector", 1
        token, dash, op = self.peek(offset), self.peek(offset + 1), self.peek(offset + 2)
        if token.text == "s" and dash.text == "-" and op.text == "op" and op.kind == "name":
            return "s-op", 3
        return "both", 0

    def _is_exit(self) -> bool:
        nxt = self.peek(1)
        if nxt.kind == "eof" or (nxt.kind == "op" and nxt.text == ";"):
            return True
        return nxt.text == "(" and self.peek(2).text == ")"

    def _optional_semicolon(self) -> None:
        if self.at(";"):
            self.advance()

    def _is_assignment(self) -> bool:
        # Look ahead over "a, b, c" for "=" to tell assignments from expressions.
        i = self.pos
        while self.tokens[i].kind == "name":
            nxt = self.tokens[i + 1]
            if nxt.kind == "op" and nxt.text == "=":
                return True
            if not (nxt.kind == "op" and nxt.text == ","):
                return False
            i += 2
        return False

    def names(self) -> list[str]:
        names = [self.expect_name().text]
        while self.at(","):
            self.advance()
            names.append(self.expect_name().text)
        return names

    def block(self, what: str) -> list[Node]:
        """Statements up to (not including) `return` or `}`."""
        body = []
        while not self.at("return", "}"):
            if self.tok.kind == "eof":
                self.fail(f"{what} is missing its closing '}}'")
            body.append(self.statement())
        return body

    def function(self) -> Node:
        start = self.expect("def")
        name = self.expect_name().text
        self.expect("(")
        params = [] if self.at(")") else self.names()
        self.expect(")")
        self.expect("{")
        body = self.block(f"function {name!r}")
        if not self.at("return"):
            self.fail(f"function {name!r} must end with a return statement")
        ret = self.advance()
        values = self.expr_list()
        self.expect(";")
        self.expect("}")
        return self.node("def", start, name, params, body, self.node("return", ret, values))

    def for_loop(self) -> Node:
        start = self.expect("for")
        names = self.names()
        self.expect("in")
        iterable = self.expr()
        self.expect("{")
        body = self.block("for loop")
        if self.at("return"):
            self.fail("'return' is only allowed at the end of a def body")
        self.expect("}")
        return self.node("for", start, names, iterable, body)

    def expr_list(self) -> list[Node]:
        values = [self.expr()]
        while self.at(","):
            self.advance()
            values.append(self.expr())
        return values

    # Expressions (precedence climbing) -----------------------------------------------
    def expr(self, min_precedence: int = 0) -> Node:
        self.enter()
        try:
            left = self.unary()
            while True:
                if self.at("if") and _TERNARY >= min_precedence:
                    start = self.advance()
                    cond = self.expr()
                    self.expect("else")
                    other = self.expr(_TERNARY + 1)
                    left = self.node("ifelse", start, left, cond, other)
                    continue
                op = self.tok.text if self.tok.kind in ("op", "keyword") else ""
                precedence = _PRECEDENCE.get(op)
                if precedence is None or precedence < min_precedence:
                    return left
                token = self.advance()
                right = self.expr(precedence + 1)
                left = self.node("binop", token, op, left, right)
        finally:
            self.leave()

    def unary(self) -> Node:
        if self.at("-", "+", "not"):
            self.enter()
            try:
                op = self.advance()
                return self.node("unop", op, op.text, self.unary())
            finally:
                self.leave()
        return self.postfix()

    def postfix(self) -> Node:
        value = self.primary()
        while self.at("(", "["):
            if self.at("["):
                start = self.advance()
                index = self.expr()
                self.expect("]")
                value = self.node("index", start, value, index)
            else:
                value = self.call(value)
        return value

    def call(self, callee: Node) -> Node:
        self.expect("(")
        if callee.kind == "name" and callee.args[0] == "select":
            keys = self.expr()
            self.expect(",")
            queries = self.expr()
            self.expect(",")
            if not self.at(*COMPARISONS):
                self.fail("select needs a comparison (==, !=, <, >, <=, >=) as third argument")
            op = self.advance().text
            self.expect(")")
            return Node("select", [keys, queries, op], callee.line, callee.column)
        args = [] if self.at(")") else self.expr_list()
        self.expect(")")
        # Errors of a call point at what is called, not at its '('.
        return Node("call", [callee, args], callee.line, callee.column)

    def primary(self) -> Node:
        token = self.tok
        if token.kind == "number":
            self.advance()
            value = float(token.text) if "." in token.text else int(token.text)
            return self.node("const", token, value)
        if token.kind == "string":
            self.advance()
            return self.node("const", token, token.text[1:-1])
        if token.kind == "name":
            self.advance()
            return self.node("name", token, token.text)
        if self.at("("):
            self.advance()
            value = self.expr()
            self.expect(")")
            return value
        if self.at("["):
            return self.list_or_comprehension()
        if self.at("{"):
            return self.dict_or_comprehension()
        self.fail("expected an expression")
        raise AssertionError("unreachable")  # fail() always raises

    def list_or_comprehension(self) -> Node:
        start = self.expect("[")
        if self.at("]"):
            self.advance()
            return self.node("list", start, [])
        first = self.expr()
        if self.at("for"):
            return self.node("listcomp", start, first, *self.comprehension_tail("]"))
        items = [first]
        while self.at(","):
            self.advance()
            items.append(self.expr())
        self.expect("]")
        return self.node("list", start, items)

    def comprehension_tail(self, closing: str) -> tuple[list[str], Node]:
        """`for a, b in iterable` and the closing bracket: (names, iterable)."""
        self.expect("for")
        names = self.names()
        self.expect("in")
        iterable = self.expr()
        self.expect(closing)
        return names, iterable

    def dict_or_comprehension(self) -> Node:
        start = self.expect("{")
        if self.at("}"):
            self.advance()
            return self.node("dict", start, [])
        key = self.expr()
        self.expect(":")
        value = self.expr()
        if self.at("for"):
            return self.node("dictcomp", start, key, value, *self.comprehension_tail("}"))
        pairs = [(key, value)]
        while self.at(","):
            self.advance()
            key = self.expr()
            self.expect(":")
            pairs.append((key, self.expr()))
        self.expect("}")
        return self.node("dict", start, pairs)


def parse_statements(text: str, limits: Limits | None = None) -> list[Node]:
    """Parse RASP source into a list of statement nodes."""
    return _Parser(tokenize(text), limits or current_limits()).program()
