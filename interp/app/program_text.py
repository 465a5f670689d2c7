"""One-line text of a RASP operation, so a generated name (`map_82`) says what it computes."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path

import rasp
from rasp.compiler.selectors import describe

# Functions rasp builds itself (fused Maps, parsed text): their source is ours, not the user's.
INTERNAL = {Path(rasp.__file__).resolve().parent / name for name in ("core.py", "textual/interpreter.py")}


def function_text(f: Callable) -> str:
    """`lambda x: x - 1` for a lambda written in a program file; `f` when the source is not
    the user's (fused Maps, parsed text, builtins)."""
    code = getattr(f, "__code__", None)
    if code is None:
        return getattr(f, "__name__", "f")
    if Path(code.co_filename).resolve() in INTERNAL:
        return "f"
    try:
        source = inspect.getsource(f)
    except (OSError, TypeError):
        return "f"
    if f.__name__ != "<lambda>":
        return f.__name__
    return _lambda_expression(source) or "f"


def _lambda_expression(source: str) -> str | None:
    """The first `lambda ...` expression in `source`, cut at its end (a closing bracket or a
    comma outside brackets)."""
    start = source.find("lambda")
    if start < 0:
        return None
    colon = source.find(":", start)  # parameters end here (their commas do not end the lambda)
    if colon < 0:
        return None
    depth, end = 0, len(source)
    for i in range(colon, len(source)):
        ch = source[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                end = i
                break
            depth -= 1
        elif (ch == "," and depth == 0) or ch == "\n":
            end = i
            break
    return " ".join(source[start:end].split())


def operation_text(node: rasp.RASPExpr) -> str:
    """`Map(lambda x: x - 1, length)`, `Aggregate(select_3, tokens)`, ... for any RASP node."""
    if isinstance(node, rasp.Selector):
        return describe(node)
    if isinstance(node, rasp.Aggregate):
        return f"Aggregate({node.selector.label}, {node.sop.label})"
    if isinstance(node, rasp.SelectorWidth):
        return f"SelectorWidth({node.selector.label})"
    if isinstance(node, rasp.SequenceMap):
        return f"{type(node).__name__}({function_text(node.f)}, {node.fst.label}, {node.snd.label})"
    if isinstance(node, rasp.Map):
        return f"Map({function_text(node.f)}, {node.inner.label})"
    children = ", ".join(child.label for child in node.children)
    return f"{type(node).__name__}({children})"
