"""Recursive-descent parser from RASP tokens to a small syntax tree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rasp.errors import RASPSyntaxError
from rasp.lexer import Token, tokenize

COMPARISONS = ("==", "!=", "<", ">", "<=", ">=")


@dataclass
class Node:
    """A syntax-tree node: `kind` says what it is, `args` its parts, line/column where."""

    kind: str
    args: list[Any] = field(default_factory=list)
    line: int = 0
    column: int = 0


class _Parser:
    """Parses one token list; each method parses one grammar rule."""

    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.pos = 0

    # Token helpers -------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def at(self, *texts: str) -> bool:
        return self.tok.kind in ("op", "keyword") and self.tok.text in texts

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
        raise RASPSyntaxError(f"{message}, found {found}", self.tok.line, self.tok.column)

    def node(self, kind: str, token: Token, *args: Any) -> Node:
        return Node(kind, list(args), token.line, token.column)

    # Statements ----------------------------------------------------------------------
    def program(self) -> list[Node]:
        statements = []
        while self.tok.kind != "eof":
            statements.append(self.statement())
        return statements

    def statement(self) -> Node:
        start = self.tok
        if self.at("def"):
            return self.function()
        if self.at("for"):
            self.fail("for loops are not supported; write the statements out")
        if self.at("return"):
            self.fail("'return' is only allowed at the end of a def body")
        if self.tok.kind == "name" and self._is_assignment():
            names = [self.expect_name().text]
            while self.at(","):
                self.advance()
                names.append(self.expect_name().text)
            self.expect("=")
            values = self.expr_list()
            self.expect(";")
            return self.node("assign", start, names, values)
        value = self.expr()
        self.expect(";")
        return self.node("expr_stmt", start, value)

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

    def function(self) -> Node:
        start = self.expect("def")
        name = self.expect_name().text
        self.expect("(")
        params = []
        if not self.at(")"):
            params.append(self.expect_name().text)
            while self.at(","):
                self.advance()
                params.append(self.expect_name().text)
        self.expect(")")
        self.expect("{")
        body = []
        while not self.at("return"):
            if self.at("}") or self.tok.kind == "eof":
                self.fail(f"function {name!r} must end with a return statement")
            if self.at("def"):
                self.fail("nested def is not supported")
            body.append(self.statement())
        ret = self.advance()
        values = self.expr_list()
        self.expect(";")
        self.expect("}")
        return self.node("def", start, name, params, body, self.node("return", ret, values))

    def expr_list(self) -> list[Node]:
        values = [self.expr()]
        while self.at(","):
            self.advance()
            values.append(self.expr())
        return values

    # Expressions, lowest precedence first ---------------------------------------------
    def expr(self) -> Node:
        value = self.or_expr()
        if self.at("if"):
            start = self.advance()
            cond = self.or_expr()
            self.expect("else")
            other = self.expr()
            return self.node("ifelse", start, value, cond, other)
        return value

    def or_expr(self) -> Node:
        left = self.and_expr()
        while self.at("or"):
            op = self.advance()
            left = self.node("binop", op, "or", left, self.and_expr())
        return left

    def and_expr(self) -> Node:
        left = self.not_expr()
        while self.at("and"):
            op = self.advance()
            left = self.node("binop", op, "and", left, self.not_expr())
        return left

    def not_expr(self) -> Node:
        if self.at("not"):
            op = self.advance()
            return self.node("unop", op, "not", self.not_expr())
        return self.comparison()

    def comparison(self) -> Node:
        left = self.in_expr()
        if self.at(*COMPARISONS):
            op = self.advance()
            return self.node("binop", op, op.text, left, self.in_expr())
        return left

    def in_expr(self) -> Node:
        left = self.additive()
        if self.at("in"):
            op = self.advance()
            return self.node("binop", op, "in", left, self.additive())
        return left

    def additive(self) -> Node:
        left = self.multiplicative()
        while self.at("+", "-"):
            op = self.advance()
            left = self.node("binop", op, op.text, left, self.multiplicative())
        return left

    def multiplicative(self) -> Node:
        left = self.unary()
        while self.at("*", "/", "%"):
            op = self.advance()
            left = self.node("binop", op, op.text, left, self.unary())
        return left

    def unary(self) -> Node:
        if self.at("-", "+"):
            op = self.advance()
            return self.node("unop", op, op.text, self.unary())
        return self.power()

    def power(self) -> Node:
        base = self.postfix()
        if self.at("^"):
            op = self.advance()
            return self.node("binop", op, "^", base, self.unary())
        return base

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
        start = self.expect("(")
        if callee.kind == "name" and callee.args[0] == "select":
            keys = self.expr()
            self.expect(",")
            queries = self.expr()
            self.expect(",")
            if not self.at(*COMPARISONS):
                self.fail("select needs a comparison (==, !=, <, >, <=, >=) as third argument")
            op = self.advance().text
            self.expect(")")
            return self.node("select", start, keys, queries, op)
        args = [] if self.at(")") else self.expr_list()
        self.expect(")")
        return self.node("call", start, callee, args)

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
        self.fail("expected an expression")
        raise AssertionError("unreachable")  # fail() always raises

    def list_or_comprehension(self) -> Node:
        start = self.expect("[")
        if self.at("]"):
            self.advance()
            return self.node("list", start, [])
        first = self.expr()
        if self.at("for"):
            self.advance()
            var = self.expect_name().text
            self.expect("in")
            iterable = self.expr()
            self.expect("]")
            return self.node("listcomp", start, first, var, iterable)
        items = [first]
        while self.at(","):
            self.advance()
            items.append(self.expr())
        self.expect("]")
        return self.node("list", start, items)


def parse_statements(text: str) -> list[Node]:
    """Parse RASP source into a list of statement nodes."""
    return _Parser(tokenize(text)).program()
