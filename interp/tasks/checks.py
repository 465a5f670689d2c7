"""Argument checks shared by the task generators (and the baselines): exact types, finite
numbers, ranges, and sizes under `interp.limits`, each error naming the argument."""

from __future__ import annotations

import math
from typing import Any

from interp.errors import InputError
from interp.limits import current_limits


def integer(name: str, value: Any, minimum: int | None = None, maximum: int | None = None,
            limit: str | None = None, error: type[Exception] = InputError) -> int:
    """`value` if it is an int (not a bool) within the bounds and under the `limit` cap."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise error(f"{name} must be an integer, got {value!r} ({type(value).__name__}).")
    if minimum is not None and value < minimum:
        raise error(f"{name} must be >= {minimum}, got {value!r}.")
    if maximum is not None and value > maximum:
        raise error(f"{name} must be <= {maximum}, got {value!r}.")
    if limit is not None:
        under_limit(name, value, limit, error)
    return value


def number(name: str, value: Any, minimum: float | None = None, above: float | None = None,
           maximum: float | None = None, error: type[Exception] = InputError) -> float:
    """`value` if it is a finite int or float (not a bool) within the bounds."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise error(f"{name} must be a number, got {value!r} ({type(value).__name__}).")
    if not math.isfinite(value):
        raise error(f"{name} must be finite, got {value!r}.")
    if minimum is not None and value < minimum:
        raise error(f"{name} must be >= {minimum:g}, got {value!r}.")
    if above is not None and value <= above:
        raise error(f"{name} must be > {above:g}, got {value!r}.")
    if maximum is not None and value > maximum:
        raise error(f"{name} must be <= {maximum:g}, got {value!r}.")
    return float(value)


def under_limit(name: str, value: int, limit: str, error: type[Exception] = InputError) -> None:
    """Refuse `value` over the `limit` cap of interp.limits, naming it so it can be raised."""
    cap = getattr(current_limits(), limit)
    if value > cap:
        raise error(f"{name}={value:,} is over the {limit} limit of {cap:,}; raise it with "
                    f"interp.limits.set_limits({limit}=...) if it is genuine.")
