"""Textual RASP to DSL objects: `parse_program`, `parse`, `parse_file`.

The language is that of tech-srl/RASP (Weiss et al. 2021): assignments, nested `def`s
with closures, `for` loops, list/dict literals and comprehensions, `load "file";`, and the
REPL's commands (`set example ...`, `full seq display on`, `draw(...)`, ...), which may
also appear in files. Values are atoms, lists, dicts, functions, s-ops and selectors;
s-op-valued expressions become DSL objects.

Encodings are inferred, since textual RASP has no annotations: `indicator(...)` is
numerical, arithmetic with a numerical operand is numerical, an aggregate of a numerical
SOp is a numerical (mean) aggregate, everything else is categorical. `numerical(x)` and
`categorical(x)` may be called to override. Constants given where an SOp is needed
(e.g. `select(indices, 0, ==)`) become `Full(constant)`. As in the original, an
`aggregate` without a default gives 0 where its selector selects nothing.

Every run is bounded (rasp.limits): nesting depth, evaluation steps, integer sizes and
list lengths; exceeding one raises a RASPSyntaxError naming the cap.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rasp import core
from rasp.errors import RASPError, RASPSyntaxError
from rasp.limits import Limits, current_limits
from rasp.textual.operators import ARITHMETIC, BINARY, COMPARING, bounded_operator, expanded_size
from rasp.textual.parser import Node, parse_statements
from rasp.textual.sources import read_source, resolve_load
from rasp.textual.values import Event, ExitProgram, Function, Scope, Settings, as_input, describe, is_atom

_SELECT_OPS = {
    "==": core.Comparison.EQ,
    "!=": core.Comparison.NEQ,
    "<": core.Comparison.LT,
    ">": core.Comparison.GT,
    "<=": core.Comparison.LEQ,
    ">=": core.Comparison.GEQ,
}

# Names a program may never assign (the original's reserved words and base constants).
RESERVED = {
    "tokens_str", "tokens_int", "tokens_float", "tokens_bool", "tokens_asis", "indices",
    "True", "False", "range", "zip", "len", "get", "aggregate", "round", "indicator",
}  # fmt: skip
PRELUDE_PATH = Path(__file__).with_name("prelude.rasp")


def _indicator(x: Any) -> Any:
    if isinstance(x, core.SOp):
        return core.numerical(core.Map(lambda v: 1 if v else 0, x))
    return 1 if x else 0


def _round(x: Any) -> Any:
    if isinstance(x, core.SOp):
        return core.Map(round, x)
    return round(x)


class Interpreter:
    """Runs textual RASP statements in one session; s-op-valued results are DSL objects.

    strict=True raises on the first error (the `parse` API); strict=False reports it as an
    event and goes on with the next statement, like the original REPL.
    """

    def __init__(
        self,
        *,
        strict: bool = True,
        limits: Limits | None = None,
        root: str | Path | None = None,
        allow_outside: bool = False,
        prelude: bool = True,
    ):
        self.strict = strict
        # Like the original REPL, a lenient session tries each new s-op/selector on the
        # running example and refuses the statement if it fails there.
        self.check_examples = not strict
        self.limits = limits or current_limits()
        self.settings = Settings()
        self.roots = [Path.cwd().resolve()] + ([Path(root).resolve()] if root is not None else [])
        self.allow_outside = allow_outside
        self.steps = 0
        self.step_allowance = 0  # parse_steps_per_statement x the statements parsed (see _parse)
        self.call_depth = 0
        self.loading: list[Path] = []
        self.base = Scope("base", variables=self._base_variables())
        self.globals = Scope("console", parent=self.base)
        self.library_names: set[str] = set()
        if prelude:
            self._load_prelude()
        # Like the original, the library's names cannot be reassigned at the top level.
        self.library_names = set(self.base.variables) - {"tokens", "True", "False", "None"}
        self.last_sop: core.SOp | None = None
        self.assigned: dict[str, None] = {}  # top-level names in assignment order
        # Builder-given labels, so a reassigned name gets x, x_2, ... and stays unique.
        self.used_labels: set[str] = set()
        self.named_ids: set[int] = set()
        self.events: list[Event] = []

    def _base_variables(self) -> dict[str, Any]:
        return {
            "tokens": core.tokens,
            # The original's typed views of the input, e.g. tokens_int("123") == [1, 2, 3].
            "tokens_str": core.Map(str, core.tokens).named("tokens_str"),
            "tokens_int": core.Map(int, core.tokens).named("tokens_int"),
            "tokens_float": core.Map(float, core.tokens).named("tokens_float"),
            "tokens_bool": core.Map(bool, core.tokens).named("tokens_bool"),
            "tokens_asis": core.tokens,
            "indices": core.indices,
            "length": core.length,
            "True": True,
            "False": False,
            "None": None,
            "aggregate": self._aggregate,
            "selector_width": core.SelectorWidth,
            "indicator": _indicator,
            "round": _round,
            "numerical": core.numerical,
            "categorical": core.categorical,
            "len": self._len,
            "range": self._range,
            "zip": self._zip,
            "loop": self._loop,
            "loop_until": self._loop_until,
        }

    def _load_prelude(self) -> None:
        # The standard library every session starts with (the original's rasplib names).
        scope = Scope("rasplib", parent=self.base, export_to=self.base)
        for statement in parse_statements(PRELUDE_PATH.read_text(encoding="utf-8"), self.limits):
            self.statement(statement, scope, top=False)
        self.steps = 0

    # Entry points --------------------------------------------------------------------
    def run_source(self, text: str, path: Path | None = None) -> list[Event]:
        """Run every statement of `text` in the session's global scope."""
        self.steps = 0
        self.step_allowance = 0  # grows with the program's length (see _parse)
        events: list[Event] = []
        statements = self._parse(text, path)
        with self._inside(path):
            for statement in statements:
                event = self.run_statement(statement, self.globals, top=True)
                events.append(event)
        return events

    def run_statement(self, node: Node, scope: Scope, top: bool) -> Event:
        """One statement; in lenient mode an error becomes an 'error' event."""
        try:
            return self.statement(node, scope, top)
        except ExitProgram:
            raise
        except RASPError as error:
            if self.strict:
                raise
            return Event("error", value=error)
        except RecursionError as error:  # a last guard: the caps should make this unreachable
            wrapped = RASPSyntaxError(f"program too deeply nested ({error})", node.line, node.column)
            if self.strict:
                raise wrapped from error
            return Event("error", value=wrapped)

    def _parse(self, text: str, path: Path | None) -> list[Node]:
        try:
            statements = parse_statements(text, self.limits)
        except RASPSyntaxError as error:
            if path is not None:
                raise RASPSyntaxError(f"{path.name}: {error.args[0]}", error.line, error.column) from None
            raise
        # A long program is long, not runaway: each statement (loaded files' too) adds to the budget.
        self.step_allowance += self.limits.parse_steps_per_statement * len(statements)
        return statements

    # Statements ----------------------------------------------------------------------
    def statement(self, node: Node, scope: Scope, top: bool) -> Event:
        self._step(node)
        handler = getattr(self, f"_stmt_{node.kind}")
        return handler(node, scope, top)

    def _stmt_def(self, node: Node, scope: Scope, top: bool) -> Event:
        name, params, body, returns = node.args
        self._check_assignable(name, node, scope)
        function = Function(name, params, body, returns, scope, scope.name)
        scope.set(name, function)
        return Event("value", name, function)

    def _stmt_assign(self, node: Node, scope: Scope, top: bool) -> Event:
        names, value_nodes = node.args
        values = [self.expr(v, scope) for v in value_nodes]
        if len(names) == 1:
            values = [values[0] if len(values) == 1 else list(values)]
        elif len(values) == 1:
            values = self._unpack(values[0], len(names), node)
        if len(values) != len(names):
            self._fail(node, f"{len(names)} names but {len(values)} values")
        if top:
            for name, value in zip(names, values):
                self._try_example(name, value, node)
        events = []
        for name, value in zip(names, values):
            self._check_assignable(name, node, scope)
            if top:
                value = self._label(value, name)
                self.assigned[name] = None
            scope.set(name, value)
            events.append(Event("value", name, value))
        return events[0] if len(events) == 1 else Event("values", items=events)

    def _stmt_expr_stmt(self, node: Node, scope: Scope, top: bool) -> Event:
        value = self.expr(node.args[0], scope)
        if top:
            self._try_example("out", value, node)
        if top and isinstance(value, core.SOp):
            self.last_sop = value
        scope.variables["out"] = value
        # Like the original, a bare variable is shown under its own name.
        shown = node.args[0].args[0] if node.args[0].kind == "name" else "out"
        return Event("value", shown, value)

    def _stmt_for(self, node: Node, scope: Scope, top: bool) -> Event:
        names, iterable_node, body = node.args
        iterable = self._iterable(self.expr(iterable_node, scope), iterable_node, "a for loop")
        for item in iterable:
            self._bind(names, item, scope, node)
            for statement in body:
                self.statement(statement, scope, top=top)
        return Event("none")

    def _stmt_load(self, node: Node, scope: Scope, top: bool) -> Event:
        here = self.loading[-1].parent if self.loading else Path.cwd()
        try:
            path = resolve_load(node.args[0], here, self.roots, self.allow_outside)
            text = read_source(path)
        except RASPError as error:
            self._fail(node, str(error))
        if path in self.loading:
            chain = " -> ".join(p.name for p in [*self.loading, path])
            self._fail(node, f"load cycle: {chain}; remove one of these loads")
        file_scope = Scope(path.stem, parent=self.base, export_to=scope)
        events = []
        with self._inside(path):
            for statement in self._parse(text, path):
                event = self.run_statement(statement, file_scope, top=top)
                events.append(event)
        return Event("values", name=path.name, items=events)

    def _stmt_draw(self, node: Node, scope: Scope, top: bool) -> Event:
        target_node, example_node = node.args
        target = self.expr(target_node, scope)
        if not isinstance(target, core.SOp):
            self._fail(node, f"draw expects an s-op, got {describe(target)}")
        example = self.settings.sop_example if example_node is None else self.expr(example_node, scope)
        return Event("draw", value=(target, _as_input_at(example, node)))

    def _stmt_set_example(self, node: Node, scope: Scope, top: bool) -> Event:
        subset, example_node = node.args
        example = self.expr(example_node, scope)
        if not isinstance(example, (str, list)):
            self._fail(node, f"example not iterable: {describe(example)}; give a string or a list")
        self._set_both(subset, "sop_example", "selector_example", example)
        return Event("none")

    def _stmt_show_example(self, node: Node, scope: Scope, top: bool) -> Event:
        return Event("example", value=node.args[0])

    def _stmt_examples(self, node: Node, scope: Scope, top: bool) -> Event:
        subset, switch = node.args
        self._set_both(subset, "show_sop_examples", "show_selector_examples", switch)
        return Event("none")

    def _set_both(self, subset: str, sop_field: str, selector_field: str, value: Any) -> None:
        """Set the s-op and/or selector variant of a setting ('both', 's-op', 'selector')."""
        if subset in ("both", "s-op"):
            setattr(self.settings, sop_field, value)
        if subset in ("both", "selector"):
            setattr(self.settings, selector_field, value)

    def _stmt_seq_display(self, node: Node, scope: Scope, top: bool) -> Event:
        self.settings.full_seq_display = node.args[0]
        return Event("none")

    def _stmt_exit(self, node: Node, scope: Scope, top: bool) -> Event:
        raise ExitProgram()

    # Helpers for statements ----------------------------------------------------------
    def _try_example(self, name: str, value: Any, node: Node) -> None:
        if not self.check_examples or not isinstance(value, core.RASPExpr):
            return
        is_sop = isinstance(value, core.SOp)
        example = self.settings.sop_example if is_sop else self.settings.selector_example
        try:
            value(as_input(example))
        except RASPError as error:
            self._fail(node, f"{name} fails on the running example {example!r}: {error}")

    def _check_assignable(self, name: str, node: Node, scope: Scope | None = None) -> None:
        library = scope is not None and (scope is self.globals or scope.export_to is self.globals)
        if name in RESERVED or (library and name in self.library_names):
            self._fail(node, f"cannot set reserved name {name!r}; choose another name")

    def _unpack(self, value: Any, count: int, node: Node) -> list[Any]:
        if not isinstance(value, (list, tuple)) or len(value) != count:
            self._fail(node, f"cannot unpack {describe(value)} into {count} names")
        return list(value)

    def _bind(self, names: list[str], item: Any, scope: Scope, node: Node) -> None:
        if len(names) == 1:
            self._check_assignable(names[0], node, scope)
            scope.set(names[0], item)
            return
        values = self._unpack(item, len(names), node)
        for name, value in zip(names, values):
            self._check_assignable(name, node, scope)
            scope.set(name, value)

    def _iterable(self, value: Any, node: Node, what: str) -> list[Any]:
        if isinstance(value, dict):
            return list(value)
        if isinstance(value, list):
            return value
        self._fail(node, f"{what} needs a list or dict to iterate over, got {describe(value)}")
        raise AssertionError("unreachable")

    @contextmanager
    def _inside(self, path: Path | None) -> Iterator[None]:
        if path is None:
            yield
            return
        self.loading.append(path.resolve())
        try:
            yield
        finally:
            self.loading.pop()

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
    def expr(self, node: Node, scope: Scope) -> Any:
        self._step(node)
        try:
            value = getattr(self, f"_{node.kind}")(node, scope)
        except RASPSyntaxError:
            raise
        except RASPError as error:
            # Point DSL construction errors at the source text that caused them.
            raise RASPSyntaxError(str(error), node.line, node.column) from error
        self._check_size(value, node)
        return value

    def _const(self, node: Node, scope: Scope) -> Any:
        return node.args[0]

    def _name(self, node: Node, scope: Scope) -> Any:
        name = node.args[0]
        try:
            return scope.get(name)
        except KeyError:
            self._fail(node, f"undefined variable {name!r}")

    def _list(self, node: Node, scope: Scope) -> list[Any]:
        return [self.expr(item, scope) for item in node.args[0]]

    def _dict(self, node: Node, scope: Scope) -> dict[Any, Any]:
        return {self._dict_key(k, scope): self.expr(v, scope) for k, v in node.args[0]}

    def _dict_key(self, node: Node, scope: Scope) -> Any:
        key = self.expr(node, scope)
        if not is_atom(key):
            self._fail(node, f"dictionary keys can only be atoms, got {describe(key)}")
        return key

    def _listcomp(self, node: Node, scope: Scope) -> list[Any]:
        element, names, iterable_node = node.args
        iterable = self._iterable(self.expr(iterable_node, scope), iterable_node, "a list comprehension")
        out = []
        for item in iterable:
            inner = Scope(scope.name, parent=scope)
            self._bind(names, item, inner, node)
            out.append(self.expr(element, inner))
        return out

    def _dictcomp(self, node: Node, scope: Scope) -> dict[Any, Any]:
        key_node, value_node, names, iterable_node = node.args
        iterable = self._iterable(self.expr(iterable_node, scope), iterable_node, "a dict comprehension")
        out = {}
        for item in iterable:
            inner = Scope(scope.name, parent=scope)
            self._bind(names, item, inner, node)
            out[self._dict_key(key_node, inner)] = self.expr(value_node, inner)
        return out

    def _index(self, node: Node, scope: Scope) -> Any:
        container = self.expr(node.args[0], scope)
        index = self.expr(node.args[1], scope)
        if isinstance(container, core.SOp):
            return self._index_sop(container, index, node)
        if not isinstance(container, (list, str, dict)):
            self._fail(node, f"can only index into a list, dict, string or s-op, got {describe(container)}")
        if isinstance(index, core.SOp):
            table = dict(container) if isinstance(container, dict) else list(container)
            return core.Map(lambda i: _lookup(table, i), index)
        if isinstance(container, dict):
            if not is_atom(index) or index not in container:
                self._fail(node, f"index [{describe(index)}] not in dict")
            return container[index]
        if not isinstance(index, int) or isinstance(index, bool):
            self._fail(node, f"index into a list or string must be an integer or s-op, got {describe(index)}")
        if not -len(container) <= index < len(container):
            self._fail(node, f"index {index} out of range for length {len(container)}")
        return container[index]

    def _index_sop(self, sop: core.SOp, index: Any, node: Node) -> core.SOp:
        if not isinstance(index, int) or isinstance(index, bool):
            self._fail(node, f"index into an s-op must be an integer, got {describe(index)}")
        where: core.SOp = core.Full(index) if index >= 0 else core.length + index
        return self._aggregate(core.Select(core.indices, where, core.Comparison.EQ), sop)

    def _select(self, node: Node, scope: Scope) -> core.Select:
        keys = self._as_sop(self.expr(node.args[0], scope), node)
        queries = self._as_sop(self.expr(node.args[1], scope), node)
        return core.Select(keys, queries, _SELECT_OPS[node.args[2]])

    def _call(self, node: Node, scope: Scope) -> Any:
        callee = self.expr(node.args[0], scope)
        args = [self.expr(arg, scope) for arg in node.args[1]]
        if isinstance(callee, Function):
            return self._call_function(callee, args, node)
        if isinstance(callee, core.RASPExpr):
            if len(args) != 1:
                self._fail(node, f"applying {describe(callee)} needs one input sequence, got {len(args)}")
            return callee(_as_input_at(args[0], node))
        if callable(callee):
            name = getattr(node.args[0], "args", ["?"])[0]
            try:
                return callee(*args)
            except RASPError:
                raise
            except (TypeError, ValueError, ArithmeticError) as error:
                self._fail(node, f"bad arguments to {name}(): {error}")
        self._fail(node, f"{describe(callee)} is not a function")

    def _call_function(self, function: Function, args: list[Any], node: Node) -> Any:
        if len(args) != len(function.params):
            self._fail(
                node, f"{function.name}() takes {len(function.params)} arguments, got {len(args)}"
            )
        if self.call_depth >= self.limits.parse_nesting:
            self._fail(
                node,
                f"calls to {function.name}() nest more than parse_nesting={self.limits.parse_nesting} "
                "deep (a recursive def never ends: RASP has no recursion)",
            )
        local = Scope(function.name, parent=function.scope)
        for name, value in zip(function.params, args):
            local.variables[name] = value
        self.call_depth += 1
        try:
            for statement in function.body:
                self.statement(statement, local, top=False)
            values = [self.expr(v, local) for v in function.returns.args[0]]
        finally:
            self.call_depth -= 1
        return values[0] if len(values) == 1 else values

    def _aggregate(self, selector: Any, sop: Any, default: Any = 0) -> core.SOp:
        if not isinstance(selector, core.Selector):
            raise RASPError(f"aggregate expects a selector first, got {describe(selector)}")
        if isinstance(default, (core.RASPExpr, list, dict)):
            raise RASPError(f"aggregate's default must be an atom, got {describe(default)}")
        sop = self._as_sop(sop, None)
        aggregate = core.Aggregate(selector, sop, default=default)
        return core.numerical(aggregate) if core.is_numerical(sop) else aggregate

    def _loop(self, body: Any, init: Any, steps: Any) -> Any:
        """loop(body, init, steps): the def `body` applied `steps` times to `init` (rasp.loop)."""
        return self._make_loop(body, init, steps=steps)

    def _loop_until(self, body: Any, init: Any, until: Any, max_steps: Any) -> Any:
        """loop_until(body, init, until, max_steps): until `until(state)` holds everywhere."""
        return self._make_loop(body, init, until=self._loop_function(until), max_steps=max_steps)

    def _make_loop(self, body: Any, init: Any, **counts: Any) -> Any:
        from rasp.loops import loop  # the language core stays importable without loops

        carried = ([self._as_sop(v, None) for v in init] if isinstance(init, list)
                   else self._as_sop(init, None))
        result = loop(self._loop_function(body), carried, **counts)
        return list(result) if isinstance(result, tuple) else result

    def _loop_function(self, fn: Any) -> Any:
        if isinstance(fn, Function):
            # Called once, on the loop's placeholder s-ops; errors point at its return.
            return lambda *state: self._call_function(fn, list(state), fn.returns)
        if callable(fn):
            return fn
        raise RASPError(f"a loop's body and until must be functions (a def), got {describe(fn)}")

    def _len(self, value: Any) -> int:
        if not isinstance(value, (list, str, dict)):
            raise RASPError(f"len() needs a list, got {describe(value)}")
        return len(value)

    def _range(self, *bounds: Any) -> list[int]:
        if not 1 <= len(bounds) <= 3:
            raise RASPError(f"range() takes 1 to 3 integers, got {len(bounds)}")
        if any(not isinstance(b, int) or isinstance(b, bool) for b in bounds):
            raise RASPError(f"range() needs integers, got {list(bounds)!r}")
        if len(bounds) == 3 and bounds[2] == 0:
            raise RASPError("range() step must not be zero")
        values = range(*bounds)
        if len(values) > self.limits.list_length:
            raise RASPError(
                f"range of {len(values)} values exceeds list_length={self.limits.list_length}; "
                "use a smaller range (or raise rasp.limits list_length)"
            )
        return list(values)

    def _zip(self, *lists: Any) -> list[list[Any]]:
        if not lists:
            raise RASPError("zip needs at least one list")
        for i, value in enumerate(lists):
            if not isinstance(value, list):
                raise RASPError(f"zip argument {i + 1} is not a list: {describe(value)}")
        if len({len(v) for v in lists}) > 1:
            raise RASPError(f"zip needs lists of equal length, got lengths {[len(v) for v in lists]}")
        return [list(t) for t in zip(*lists)]

    def _unop(self, node: Node, scope: Scope) -> Any:
        op, operand_node = node.args
        x = self.expr(operand_node, scope)
        if op == "not":
            if isinstance(x, core.Selector):
                return core.SelectorNot(x)
            return core.Map(lambda v: not v, x) if isinstance(x, core.SOp) else not x
        if isinstance(x, core.Selector) or not isinstance(x, (core.SOp, int, float)):
            self._fail(node, f"cannot apply unary {op!r} to {describe(x)}")
        if op == "+":
            return x
        if isinstance(x, core.SOp):
            negated = core.Map(lambda v: -v, x)
            return core.numerical(negated) if core.is_numerical(x) else negated
        return -x

    def _binop(self, node: Node, scope: Scope) -> Any:
        # Left-associative chains (a + b + c + ...) are folded iteratively, so a long
        # chain costs no stack.
        spine = [node]
        while spine[-1].args[1].kind == "binop":
            spine.append(spine[-1].args[1])
        left = self.expr(spine[-1].args[1], scope)
        for step in reversed(spine):
            right = self.expr(step.args[2], scope)
            left = self._apply_binary(step, step.args[0], left, right)
            self._check_size(left, step)
        return left

    def _apply_binary(self, node: Node, op: str, left: Any, right: Any) -> Any:
        if op == "in":
            return self._contains(node, left, right)
        if isinstance(left, core.Selector) or isinstance(right, core.Selector):
            if op not in ("and", "or") or not (
                isinstance(left, core.Selector) and isinstance(right, core.Selector)
            ):
                self._fail(node, f"selectors only combine with 'and'/'or' on selectors, not {op!r}")
            return core.SelectorAnd(left, right) if op == "and" else core.SelectorOr(left, right)
        f = bounded_operator(op, self.limits) if op in ("^", "*", "%") else BINARY[op]
        if isinstance(left, core.SOp) and isinstance(right, core.SOp):
            result: core.SOp = core.SequenceMap(f, left, right)
        elif isinstance(left, core.SOp):
            self._check_operand(right, node)
            result = core.Map(lambda x: f(x, right), left)
        elif isinstance(right, core.SOp):
            self._check_operand(left, node)
            result = core.Map(lambda y: f(left, y), right)
        else:
            self._check_constant_op(op, left, right, node)
            try:
                return f(left, right)
            except Exception as error:  # noqa: BLE001 - report any constant-folding failure
                self._fail(node, f"cannot compute {describe(left)} {op} {describe(right)}: {error}")
        numerical_input = any(
            isinstance(v, core.SOp) and core.is_numerical(v) for v in (left, right)
        )
        if op in ARITHMETIC and numerical_input:
            return core.numerical(result)
        return result

    def _check_operand(self, value: Any, node: Node) -> None:
        if isinstance(value, (Function, dict)) or callable(value):
            self._fail(node, f"cannot combine an s-op with {describe(value)}")

    def _check_constant_op(self, op: str, left: Any, right: Any, node: Node) -> None:
        """Refuse, before computing, results that would exceed the int/list caps."""
        ints = all(isinstance(v, int) for v in (left, right))
        if op == "^" and ints and right > 0 and abs(left) > 1:
            bits = right * (abs(left).bit_length() - 1)
            if bits > self.limits.int_bits:
                self._fail(
                    node,
                    f"{left} ^ {right} has about {bits} bits, more than int_bits={self.limits.int_bits} "
                    "(raise rasp.limits int_bits if you really need it)",
                )
        if op in COMPARING and any(isinstance(v, (list, dict)) for v in (left, right)):
            # A list can hold itself many times over ([x, x] in a loop): comparing two such
            # lists costs their expanded size, so bound that, not just their length.
            for value in (left, right):
                size = expanded_size(value, self.limits.list_length)
                if size > self.limits.list_length:
                    self._fail(
                        node,
                        f"comparing {describe(value)} means comparing more than "
                        f"list_length={self.limits.list_length} nested values",
                    )
        if op == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (list, str)) and isinstance(times, int):
                    if len(seq) * times > self.limits.list_length:
                        self._fail(
                            node,
                            f"repeating a length-{len(seq)} list {times} times exceeds "
                            f"list_length={self.limits.list_length}",
                        )

    def _contains(self, node: Node, contained: Any, container: Any) -> Any:
        if isinstance(contained, core.SOp):
            if not isinstance(container, (list, dict)) or not all(is_atom(v) for v in container):
                self._fail(node, f"'s-op in X' needs X to be a list of atoms, got {describe(container)}")
            items = list(container)
            return core.Map(lambda c: c in items, contained)
        if is_atom(contained):
            if isinstance(container, (list, dict, str)):
                if isinstance(container, str) and not isinstance(contained, str):
                    self._fail(node, f"'A in string' needs a string A, got {describe(contained)}")
                return contained in container
            if isinstance(container, core.SOp):
                hits = core.numerical(core.Map(lambda v: 1 if v == contained else 0, container))
                full = core.Select(core.tokens, core.tokens, core.Comparison.TRUE)
                return core.Map(lambda m: m > 0, core.numerical(core.Aggregate(full, hits, default=0)))
            self._fail(node, f"'atom in X' needs X to be a list, dict or s-op, got {describe(container)}")
        self._fail(node, f"'A in X' needs A to be an s-op or an atom, got {describe(contained)}")

    def _ifelse(self, node: Node, scope: Scope) -> Any:
        yes_node, cond_node, no_node = node.args
        cond = self.expr(cond_node, scope)
        if isinstance(cond, core.Selector):
            self._fail(
                cond_node,
                f"a selector ({cond.label}) cannot be an if condition; use an s-op such as "
                "selector_width(sel) > 0 or aggregate(sel, 1, 0) > 0",
            )
        if not isinstance(cond, core.SOp):
            # Lazy like the original: only the taken branch is evaluated.
            return self.expr(yes_node if cond else no_node, scope)
        yes = self.expr(yes_node, scope)
        no = self.expr(no_node, scope)
        for branch, branch_node in ((yes, yes_node), (no, no_node)):
            if not isinstance(branch, core.SOp) and not is_atom(branch) and branch is not None:
                self._fail(
                    branch_node, f"an s-op condition needs s-op or atom branches, got {describe(branch)}"
                )
        if not isinstance(yes, core.SOp) and not isinstance(no, core.SOp):
            return core.Map(lambda c: yes if c else no, cond)
        pair = core.SequenceMap(lambda a, b: (a, b), self._as_sop(yes, node), self._as_sop(no, node))
        return core.SequenceMap(lambda c, ab: ab[0] if c else ab[1], cond, pair)

    # Helpers -------------------------------------------------------------------------
    def _as_sop(self, value: Any, node: Node | None) -> core.SOp:
        if isinstance(value, core.SOp):
            return value
        if not is_atom(value) and value is not None:
            message = f"expected an s-op or an atom, got {describe(value)}"
            if node is None:
                raise RASPError(message)
            self._fail(node, message)
        return core.Full(value)

    def _step(self, node: Node) -> None:
        self.steps += 1
        allowance = self.step_allowance
        if self.steps > self.limits.parse_steps + allowance:
            self._fail(
                node,
                f"the program took more than parse_steps={self.limits.parse_steps} evaluation steps (+ "
                f"parse_steps_per_statement={self.limits.parse_steps_per_statement} per statement: "
                f"{self.limits.parse_steps + allowance:,}); it may not terminate (or raise rasp.limits "
                "parse_steps)",
            )

    def _check_size(self, value: Any, node: Node) -> None:
        if isinstance(value, int) and not isinstance(value, bool):
            if value.bit_length() > self.limits.int_bits:
                bits = value.bit_length()
                self._fail(node, f"an integer of {bits} bits exceeds int_bits={self.limits.int_bits}")
        elif isinstance(value, (list, str, dict)) and len(value) > self.limits.list_length:
            self._fail(node, f"a value of length {len(value)} exceeds list_length={self.limits.list_length}")

    def _fail(self, node: Node, message: str) -> Any:
        raise RASPSyntaxError(message, node.line, node.column)


def _lookup(table: list[Any] | dict[Any, Any], index: Any) -> Any:
    try:
        return table[index]
    except (IndexError, KeyError, TypeError) as error:
        raise RASPError(f"index {index!r} not found ({type(error).__name__})") from error


def _as_input_at(value: Any, node: Node) -> list[Any]:
    try:
        return as_input(value)
    except RASPError as error:
        raise RASPSyntaxError(str(error), node.line, node.column) from None


def _result(interpreter: Interpreter, output: str | None) -> core.SOp:
    if output is not None:
        try:
            value = interpreter.globals.get(output)
        except KeyError:
            value = None
        if not isinstance(value, core.SOp):
            raise RASPError(f"the program defines no s-op named {output!r}")
        return value
    if interpreter.last_sop is None:
        raise RASPError("the program assigns no s-op; end it with e.g. `result = ...;`")
    return interpreter.last_sop


def _run(text: str, path: Path | None, limits: Limits | None, allow_outside: bool) -> Interpreter:
    if not isinstance(text, str):
        hint = "; decode it first (e.g. data.decode('utf-8'))" if isinstance(text, (bytes, bytearray)) else ""
        raise RASPError(f"a RASP program must be a str, got {type(text).__name__}{hint}")
    root = path.parent if path is not None else None
    interpreter = Interpreter(strict=True, limits=limits, root=root, allow_outside=allow_outside)
    try:
        interpreter.run_source(text, path)
    except ExitProgram:
        pass  # `exit;` in a file ends it; what was defined so far stands
    return interpreter


def parse_program(
    text: str, *, limits: Limits | None = None, allow_outside: bool = False
) -> dict[str, core.RASPExpr]:
    """All top-level assignments of a RASP program that hold RASP expressions, by name."""
    interpreter = _run(text, None, limits, allow_outside)
    return {
        name: interpreter.globals.variables[name]
        for name in interpreter.assigned
        if isinstance(interpreter.globals.variables.get(name), core.RASPExpr)
    }


def parse(
    text: str, output: str | None = None, *, limits: Limits | None = None, allow_outside: bool = False
) -> core.SOp:
    """The SOp named `output`, or the last top-level assignment of an SOp."""
    return _result(_run(text, None, limits, allow_outside), output)


def parse_file(
    path: str | Path, output: str | None = None, *, limits: Limits | None = None, allow_outside: bool = False
) -> core.SOp:
    """Like `parse`, for a .rasp file; its `load`s resolve relative to the file."""
    path = Path(path)
    text = read_source(path)
    return _result(_run(text, path, limits, allow_outside), output)
