"""Runtime values of textual RASP besides atoms, lists, dicts and DSL objects: functions,
scopes, the REPL's settings, what a statement reports, and short descriptions for errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rasp import core
from rasp.errors import RASPError
from rasp.textual.parser import Node


class ExitProgram(Exception):  # noqa: N818 - control flow, not an error
    """Raised by `exit`/`quit`: stop reading statements."""


@dataclass
class Function:
    """A user `def`: parameters, body statements, return node and its defining scope."""

    name: str
    params: list[str]
    body: list[Node]
    returns: Node
    scope: Scope
    owner: str

    def __str__(self) -> str:
        return f"{self.owner} function: {self.name}({', '.join(self.params)})"


@dataclass
class Scope:
    """Variables of one file, function call or comprehension; reads fall back to `parent`."""

    name: str
    parent: Scope | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    # Non-private assignments are copied here too (a loaded file exports to its loader).
    export_to: Scope | None = None

    def get(self, name: str) -> Any:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.variables:
                return scope.variables[name]
            scope = scope.parent
        raise KeyError(name)

    def has(self, name: str) -> bool:
        try:
            self.get(name)
        except KeyError:
            return False
        return True

    def set(self, name: str, value: Any) -> None:
        self.variables[name] = value
        if self.export_to is not None and not name.startswith("_") and name != "out":
            self.export_to.set(name, value)


@dataclass
class Settings:
    """The REPL's settings, which files may change too (`set example`, display toggles)."""

    sop_example: Any = "hello"
    selector_example: Any = "hello"
    full_seq_display: bool = False
    show_sop_examples: bool = True
    show_selector_examples: bool = True


@dataclass
class Event:
    """Something a statement produced, for the REPL to show: a value, a draw, an error..."""

    kind: str  # "value", "values", "example", "draw", "error", "none"
    name: str | None = None
    value: Any = None
    items: list[Event] = field(default_factory=list)


def as_input(value: Any) -> list[Any]:
    """An example or input (a string is read as its characters) as a token list."""
    if isinstance(value, str):
        return list(value)
    if isinstance(value, (list, tuple)):
        return list(value)
    raise RASPError(f"an example/input must be a string or a list, got {value!r}")


def is_atom(value: Any) -> bool:
    """int, float, str or bool: what a dict key or an s-op value may be."""
    return isinstance(value, (int, float, str, bool))


def describe(value: Any, depth: int = 3) -> str:
    """A short description of a textual-RASP value (bounded: a list may share itself
    exponentially often, so nesting and items are cut off)."""
    if isinstance(value, core.SOp):
        return f"s-op {value.label}"
    if isinstance(value, core.Selector):
        return f"selector {value.label}"
    if isinstance(value, Function):
        return f"function {value.name}"
    if callable(value):
        return f"built-in function {getattr(value, '__name__', '?').lstrip('_')}"
    if isinstance(value, (list, dict)):
        if depth == 0:
            return "[...]" if isinstance(value, list) else "{...}"
        if isinstance(value, dict):
            items = [f"{describe(k, 0)}: {describe(v, depth - 1)}" for k, v in list(value.items())[:8]]
        else:
            items = [describe(v, depth - 1) for v in value[:8]]
        more = ", ..." if len(value) > 8 else ""
        opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
        return opening + ", ".join(items) + more + closing
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
