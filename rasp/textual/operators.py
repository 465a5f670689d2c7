"""Textual RASP's binary operators, with the resource caps applied where Python's own
operators could allocate or compute without bound."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from rasp.errors import RASPError
from rasp.limits import Limits

BINARY: dict[str, Callable[[Any, Any], Any]] = {
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
}
ARITHMETIC = {"+", "-", "*", "/", "%", "^"}
COMPARING = {"==", "!=", "<", ">", "<=", ">="}

def bounded_operator(op: str, limits: Limits) -> Callable[[Any, Any], Any]:
    """`^`, `*` or `%` that refuse results beyond the caps (they also run inside Maps, on
    input values, where constant-folding checks cannot see)."""

    def apply(x: Any, y: Any) -> Any:
        if op == "^" and isinstance(x, int) and isinstance(y, int) and y > 0 and abs(x) > 1:
            if y * (abs(x).bit_length() - 1) > limits.int_bits:
                raise RASPError(f"{x} ^ {y} exceeds int_bits={limits.int_bits}")
        if op == "*":
            for seq, times in ((x, y), (y, x)):
                too_long = isinstance(seq, (str, list)) and isinstance(times, int)
                if too_long and len(seq) * times > limits.list_length:
                    raise RASPError(f"repeating a length-{len(seq)} value {times} times exceeds list_length")
        if op == "%" and isinstance(x, str):
            raise RASPError(f"'%' on the string {x!r:.40} (string formatting) is not RASP")
        return BINARY[op](x, y)

    return apply


def expanded_size(value: Any, cap: int) -> int:
    """How many values `value` holds counting repeats of shared sub-lists (capped at cap + 1);
    linear in the number of distinct containers."""
    if not isinstance(value, (list, dict)):
        return 1
    sizes: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(value, False)]
    while stack:
        node, ready = stack.pop()
        if id(node) in sizes:
            continue
        children = list(node.values()) if isinstance(node, dict) else node
        if ready:
            total = 1 + sum(sizes.get(id(c), 1) for c in children)
            sizes[id(node)] = min(total, cap + 1)
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in children if isinstance(c, (list, dict)) and id(c) not in sizes)
    return sizes[id(value)]
