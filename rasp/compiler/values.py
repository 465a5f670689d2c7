"""Value sets: ordering, the set of means a numerical Aggregate can produce, JSON typing."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


def sort_values(values: Iterable[Any]) -> list[Any]:
    """Distinct values in a deterministic order (numbers ascending, then by type and repr)."""
    unique: dict[Any, None] = {}
    for v in values:
        if v is not None:
            unique.setdefault(_hashable(v), None)

    def key(v: Any) -> tuple:
        if isinstance(v, bool):
            return (0, int(v), "")
        if isinstance(v, (int, float)):
            return (1, float(v), "")
        return (2, 0.0, f"{type(v).__name__}:{v!r}")

    return sorted(unique, key=key)


def _hashable(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v


def apply_safely(f: Callable[..., Any], *args: Any) -> tuple[bool, Any]:
    """(True, f(*args)) or (False, error) when f raises (that input is invalid for the program).

    RecursionError and MemoryError are not the user function's verdict on an input but
    the compiler running out of room, so they propagate (compile_program reports them).
    """
    try:
        return True, f(*args)
    except (RecursionError, MemoryError):
        raise
    except Exception as error:  # noqa: BLE001 - a user function failing marks the input as invalid
        return False, error


def mean_values(values: list[float], max_width: int, default: float, max_values: int,
                max_work: int) -> list[float] | None:
    """Every mean of 1..max_width values drawn from `values` (with repeats), plus `default`.

    The interpreter computes sum(selected) / len(selected); the sums are enumerated the
    same way so Maps downstream see exactly the interpreter's floats. None: more than
    `max_values` means, or more than `max_work` sums to enumerate at one width.
    """
    sums = {0.0: None}
    out = {float(default): None}
    for width in range(1, max_width + 1):
        if len(sums) * len(values) > max_work:
            return None
        sums = {s + v: None for s in sums for v in values}
        if len(sums) > max_values:
            return None
        out.update({s / width: None for s in sums})
        if len(out) > max_values:
            return None
    return sorted(out)


def cluster_floats(values: Iterable[Any]) -> list[list[Any]]:
    """Sorted numbers grouped into runs of near-equal floats (sums added in another order
    differ in the last bits); the first of each run stands for it in the residual stream."""
    clusters: list[list[Any]] = []
    for v in sorted(set(values)):
        if clusters and v - clusters[-1][0] <= 1e-9 * max(1.0, abs(v)):
            clusters[-1].append(v)
        else:
            clusters.append([v])
    return clusters


def min_gap(values: list[float] | None) -> float:
    """Smallest distance between two distinct values (inf for fewer than two)."""
    if not values or len(values) < 2:
        return float("inf")
    ordered = sorted(values)
    return min(b - a for a, b in zip(ordered, ordered[1:]))


def to_json(value: Any) -> Any:
    """A value as JSON with its Python type kept (tuples, bools, ints, floats, strings, None)."""
    if value is None:
        return {"t": "none"}
    if isinstance(value, bool):
        return {"t": "bool", "v": value}
    if isinstance(value, int):
        return {"t": "int", "v": value}
    if isinstance(value, float):
        return {"t": "float", "v": value}
    if isinstance(value, str):
        return {"t": "str", "v": value}
    if isinstance(value, tuple):
        return {"t": "tuple", "v": [to_json(x) for x in value]}
    return {"t": "repr", "v": repr(value)}


def from_json(data: Any) -> Any:
    """Inverse of `to_json` (values of other types come back as their repr string)."""
    kind = data["t"]
    if kind == "none":
        return None
    if kind == "tuple":
        return tuple(from_json(x) for x in data["v"])
    return data["v"]


def label_value(value: Any) -> Any:
    """A value as a residual label can hold it (str/int/float/bool; others as str)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
