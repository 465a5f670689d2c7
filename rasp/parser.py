"""Textual RASP to DSL objects: `parse_program` and `parse`.

Encodings are inferred, since textual RASP has no annotations: `indicator(...)` is
numerical, arithmetic with a numerical operand is numerical, an aggregate of a numerical
SOp is a numerical (mean) aggregate, everything else is categorical. `numerical(x)` and
`categorical(x)` may be called to override. Constants given where an SOp is needed
(e.g. `select(indices, 0, ==)`) become `Full(constant)`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rasp import core
from rasp.errors import RASPError, RASPSyntaxError
from rasp.syntax import Node, parse_statements

_SELECT_OPS = {
    "==": core.Comparison.EQ,
    "!=": core.Comparison.NEQ,
    "<": core.Comparison.LT,
    ">": core.Comparison.GT,
    "<=": core.Comparison.LEQ,
    ">=": core.Comparison.GEQ,
}

_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "%": operator.mod,
    "^": operator.pow,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
    "and": lambda x, y: x and y,
    "or": lambda x, y: x or y,
    "in": lambda x, y: x in y,
}
_ARITHMETIC = {"+", "-", "*", "/", "%", "^"}


def parse_program(text: str) -> dict[str, core.RASPExpr]:
    """All top-level assignments of a RASP program that hold RASP expressions, by name."""
    builder = _Builder()
    builder.run(parse_statements(text))
    return {
        name: builder.globals[name]
        for name in builder.assigned
        if isinstance(builder.globals[name], core.RASPExpr)
    }


def parse(text: str, output: str | None = None) -> core.SOp:
    """The SOp named `output`, or the last top-level assignment of an SOp."""
    builder = _Builder()
    builder.run(parse_statements(text))
    if output is not None:
        value = builder.globals.get(output)
        if not isinstance(value, core.SOp):
            raise RASPError(f"the program defines no s-op named {output!r}")
        return value
    if builder.last_sop is None:
        raise RASPError("the program assigns no s-op; end it with e.g. `out = ...;`")
    return builder.last_sop


@dataclass
class _Function:
    """A user `def`: parameters, body statements and the return node."""

    name: str
    params: list[str]
    body: list[Node]
    returns: Node


def _indicator(x: Any) -> Any:
    if isinstance(x, core.SOp):
        return core.numerical(core.Map(lambda v: 1 if v else 0, x))
    return 1 if x else 0


def _round(x: Any) -> Any:
    if isinstance(x, core.SOp):
        return core.Map(round, x)
    return round(x)


class _Builder:
    """Evaluates the syntax tree; SOp-valued expressions become DSL objects."""

    def __init__(self) -> None:
        self.globals: dict[str, Any] = {
            "tokens": core.tokens,
            "tokens_str": core.tokens,
            "tokens_int": core.tokens,
            "indices": core.indices,
            "length": core.length,
            "True": True,
            "False": False,
            "None": None,
        }
        self.builtins: dict[str, Callable[..., Any]] = {
            "aggregate": self._aggregate,
            "selector_width": core.SelectorWidth,
            "indicator": _indicator,
            "round": _round,
            "numerical": core.numerical,
            "categorical": core.categorical,
            "len": len,
            "range": lambda *a: list(range(*a)),
            "zip": lambda *a: [list(t) for t in zip(*a)],
        }
        self.last_sop: core.SOp | None = None
        self.assigned: dict[str, None] = {}  # top-level names in assignment order
        # Builder-given labels, so a reassigned name gets x, x_2, ... and stays unique.
        self.used_labels: set[str] = set()
        self.named_ids: set[int] = set()

    # Statements ----------------------------------------------------------------------
    def run(self, statements: list[Node]) -> None:
        for statement in statements:
            self.statement(statement, self.globals, top=True)

    def statement(self, node: Node, scope: dict[str, Any], top: bool) -> None:
        if node.kind == "def":
            name, params, body, returns = node.args
            scope[name] = _Function(name, params, body, returns)
        elif node.kind == "assign":
            names, value_nodes = node.args
            values = [self.expr(v, scope) for v in value_nodes]
            if len(values) == 1 and len(names) > 1:
                values = self._unpack(values[0], len(names), node)
            if len(values) != len(names):
                self._fail(node, f"{len(names)} names but {len(values)} values")
            for name, value in zip(names, values):
                if top:
                    value = self._label(value, name)
                    self.assigned[name] = None
                scope[name] = value
        else:
            value = self.expr(node.args[0], scope)
            if top and isinstance(value, core.SOp):
                self.last_sop = value

    def _unpack(self, value: Any, count: int, node: Node) -> list[Any]:
        if not isinstance(value, (list, tuple)) or len(value) != count:
            self._fail(node, f"cannot unpack {value!r} into {count} names")
        return list(value)

    def _label(self, value: Any, name: str) -> Any:
        if not isinstance(value, core.RASPExpr):
            return value
        if isinstance(value, core.SOp):
            self.last_sop = value
        if id(value) in self.named_ids or isinstance(
            value, (core.TokensType, core.IndicesType, core.LengthType)
        ):
            return value  # an alias of an already labelled expression
        label, n = name, 1
        while label in self.used_labels:
            n += 1
            label = f"{name}_{n}"
        self.used_labels.add(label)
        labelled = value.named(label)
        self.named_ids.add(id(labelled))
        if isinstance(labelled, core.SOp):
            self.last_sop = labelled
        return labelled

    # Expressions ---------------------------------------------------------------------
    def expr(self, node: Node, scope: dict[str, Any]) -> Any:
        try:
            return getattr(self, f"_{node.kind}")(node, scope)
        except RASPSyntaxError:
            raise
        except RASPError as error:
            # Point DSL construction errors at the source text that caused them.
            raise RASPSyntaxError(str(error), node.line, node.column) from error

    def _const(self, node: Node, scope: dict[str, Any]) -> Any:
        return node.args[0]

    def _name(self, node: Node, scope: dict[str, Any]) -> Any:
        name = node.args[0]
        if name in scope:
            return scope[name]
        if name in self.globals:
            return self.globals[name]
        if name in self.builtins:
            return self.builtins[name]
        self._fail(node, f"unknown name {name!r}")

    def _list(self, node: Node, scope: dict[str, Any]) -> list[Any]:
        return [self.expr(item, scope) for item in node.args[0]]

    def _listcomp(self, node: Node, scope: dict[str, Any]) -> list[Any]:
        element, var, iterable_node = node.args
        iterable = self.expr(iterable_node, scope)
        if isinstance(iterable, core.RASPExpr):
            self._fail(node, "list comprehensions can only iterate over constant lists")
        return [self.expr(element, {**scope, var: item}) for item in iterable]

    def _index(self, node: Node, scope: dict[str, Any]) -> Any:
        container = self.expr(node.args[0], scope)
        index = self.expr(node.args[1], scope)
        if isinstance(container, core.RASPExpr) or isinstance(index, core.RASPExpr):
            self._fail(node, "indexing works on constant lists and strings only")
        try:
            return container[index]
        except (IndexError, KeyError, TypeError) as error:
            self._fail(node, f"cannot index {container!r} with {index!r}: {error}")

    def _select(self, node: Node, scope: dict[str, Any]) -> core.Select:
        keys = self._as_sop(self.expr(node.args[0], scope), node)
        queries = self._as_sop(self.expr(node.args[1], scope), node)
        return core.Select(keys, queries, _SELECT_OPS[node.args[2]])

    def _call(self, node: Node, scope: dict[str, Any]) -> Any:
        callee = self.expr(node.args[0], scope)
        args = [self.expr(arg, scope) for arg in node.args[1]]
        if isinstance(callee, _Function):
            return self._call_function(callee, args, node)
        if callable(callee) and not isinstance(callee, core.RASPExpr):
            try:
                return callee(*args)
            except TypeError as error:
                self._fail(node, f"bad arguments: {error}")
        self._fail(node, f"{callee!r} is not a function")

    def _call_function(self, function: _Function, args: list[Any], node: Node) -> Any:
        if len(args) != len(function.params):
            self._fail(
                node, f"{function.name}() takes {len(function.params)} arguments, got {len(args)}"
            )
        local = {**self.globals, **dict(zip(function.params, args))}
        for statement in function.body:
            self.statement(statement, local, top=False)
        values = [self.expr(v, local) for v in function.returns.args[0]]
        return values[0] if len(values) == 1 else tuple(values)

    def _aggregate(self, selector: Any, sop: Any, default: Any = None) -> core.SOp:
        sop = self._as_sop(sop, None)
        aggregate = core.Aggregate(selector, sop, default=default)
        return core.numerical(aggregate) if core.is_numerical(sop) else aggregate

    def _unop(self, node: Node, scope: dict[str, Any]) -> Any:
        op, operand_node = node.args
        x = self.expr(operand_node, scope)
        if op == "not":
            if isinstance(x, core.Selector):
                return core.SelectorNot(x)
            return core.Map(lambda v: not v, x) if isinstance(x, core.SOp) else not x
        if op == "+":
            return x
        if isinstance(x, core.SOp):
            negated = core.Map(lambda v: -v, x)
            return core.numerical(negated) if core.is_numerical(x) else negated
        return -x

    def _binop(self, node: Node, scope: dict[str, Any]) -> Any:
        op, left_node, right_node = node.args
        left = self.expr(left_node, scope)
        right = self.expr(right_node, scope)
        if isinstance(left, core.Selector) or isinstance(right, core.Selector):
            if op not in ("and", "or") or not (
                isinstance(left, core.Selector) and isinstance(right, core.Selector)
            ):
                self._fail(node, f"selectors only combine with 'and'/'or' on selectors, not {op!r}")
            return core.SelectorAnd(left, right) if op == "and" else core.SelectorOr(left, right)
        f = _BINARY[op]
        if isinstance(left, core.SOp) and isinstance(right, core.SOp):
            result: core.SOp = core.SequenceMap(f, left, right)
        elif isinstance(left, core.SOp):
            result = core.Map(lambda x: f(x, right), left)
        elif isinstance(right, core.SOp):
            result = core.Map(lambda y: f(left, y), right)
        else:
            try:
                return f(left, right)
            except Exception as error:  # noqa: BLE001 - report any constant-folding failure
                self._fail(node, f"cannot compute {left!r} {op} {right!r}: {error}")
        numerical_input = any(
            isinstance(v, core.SOp) and core.is_numerical(v) for v in (left, right)
        )
        if op in _ARITHMETIC and numerical_input:
            return core.numerical(result)
        return result

    def _ifelse(self, node: Node, scope: dict[str, Any]) -> Any:
        yes_node, cond_node, no_node = node.args
        cond = self.expr(cond_node, scope)
        yes = self.expr(yes_node, scope)
        no = self.expr(no_node, scope)
        if not isinstance(cond, core.SOp):
            return yes if cond else no
        if not isinstance(yes, core.SOp) and not isinstance(no, core.SOp):
            return core.Map(lambda c: yes if c else no, cond)
        pair = core.SequenceMap(
            lambda a, b: (a, b), self._as_sop(yes, node), self._as_sop(no, node)
        )
        return core.SequenceMap(lambda c, ab: ab[0] if c else ab[1], cond, pair)

    # Helpers -------------------------------------------------------------------------
    def _as_sop(self, value: Any, node: Node | None) -> core.SOp:
        if isinstance(value, core.SOp):
            return value
        if isinstance(value, core.Selector) or isinstance(value, _Function) or callable(value):
            message = f"expected an s-op, got {value!r}"
            if node is None:
                raise RASPError(message)
            self._fail(node, message)
        return core.Full(value)

    def _fail(self, node: Node, message: str) -> Any:
        raise RASPSyntaxError(message, node.line, node.column)
