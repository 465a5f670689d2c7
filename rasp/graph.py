"""Walking the expression graph of a RASP program."""

from __future__ import annotations

from rasp.core import RASPExpr
from rasp.errors import RASPError


def walk(program: RASPExpr) -> list[RASPExpr]:
    """All nodes of `program` in topological order (dependencies first), each once."""
    if not isinstance(program, RASPExpr):
        raise RASPError(f"expected a RASP expression, got {program!r}")
    order: list[RASPExpr] = []
    done: set[int] = set()
    # Iterative post-order DFS: deep programs must not hit Python's recursion limit.
    stack: list[tuple[RASPExpr, bool]] = [(program, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in done:
            continue
        if expanded:
            done.add(id(node))
            order.append(node)
            continue
        stack.append((node, True))
        for child in reversed(node.children):
            if id(child) not in done:
                stack.append((child, False))
    return order


def dataflow_edges(program: RASPExpr) -> list[tuple[str, str]]:
    """(child_label, parent_label) for every edge of `program`, each once."""
    edges: list[tuple[str, str]] = []
    seen: set[tuple[int, int]] = set()
    for node in walk(program):
        for child in node.children:
            if (id(child), id(node)) not in seen:
                seen.add((id(child), id(node)))
                edges.append((child.label, node.label))
    return edges


def check_unique_labels(program: RASPExpr) -> None:
    """Raise if two different nodes of `program` share a label."""
    seen: dict[str, RASPExpr] = {}
    for node in walk(program):
        other = seen.setdefault(node.label, node)
        if other is not node:
            raise RASPError(
                f"two different expressions are both labelled {node.label!r} "
                f"({type(other).__name__} and {type(node).__name__}); "
                "give one of them another name with .named(...)"
            )
