"""One validation table per config: each field's type, range and cap, checked before anything
is allocated, with an error that names the field (and the `interp.limits` cap to raise)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from interp.errors import ConfigError
from interp.limits import current_limits


@dataclass(frozen=True)
class Field:
    """What one config field may hold. `limit` names an `interp.limits.Limits` field as its maximum."""

    kind: type  # int, float, bool or str
    optional: bool = False  # None allowed
    minimum: float | None = None
    above: float | None = None  # strictly greater than
    maximum: float | None = None
    below: float | None = None  # strictly less than
    choices: tuple | None = None
    limit: str | None = None

    def check(self, where: str, name: str, value: Any) -> None:
        """Raise ConfigError naming `where: name` unless `value` fits."""
        label = f"{where}: {name}"
        if value is None and self.optional:
            return
        if self.choices is not None:
            if not isinstance(value, str) or value not in self.choices:
                raise ConfigError(f"{label}={value!r} is not one of {list(self.choices)}.")
            return
        if not _is(value, self.kind):
            wanted = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}[self.kind]
            raise ConfigError(f"{label} must be {wanted}{' or null' if self.optional else ''}, got "
                              f"{value!r} ({type(value).__name__}).")
        if self.kind is float and not math.isfinite(value):
            raise ConfigError(f"{label} must be a finite number, got {value!r}.")
        if self.minimum is not None and value < self.minimum:
            raise ConfigError(f"{label} must be >= {self.minimum:g}, got {value!r}.")
        if self.above is not None and value <= self.above:
            raise ConfigError(f"{label} must be > {self.above:g}, got {value!r}.")
        if self.maximum is not None and value > self.maximum:
            raise ConfigError(f"{label} must be <= {self.maximum:g}, got {value!r}.")
        if self.below is not None and value >= self.below:
            raise ConfigError(f"{label} must be < {self.below:g}, got {value!r}.")
        if self.limit is not None:
            check_limit(label, value, self.limit)


def check_limit(label: str, value: int, limit: str) -> None:
    """ConfigError unless `value` <= the `limit` cap of interp.limits (named so it can be raised)."""
    cap = getattr(current_limits(), limit)
    if value > cap:
        raise ConfigError(f"{label}={value:,} is over the {limit} limit of {cap:,}; raise it with "
                          f"interp.limits.set_limits({limit}=...) if the run is genuine.")


def check_fields(where: str, rules: dict[str, Field], values: dict[str, Any]) -> None:
    """Check every field of `values` against its row of `rules`."""
    for name, rule in rules.items():
        rule.check(where, name, values[name])


def _is(value: Any, kind: type) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if isinstance(value, bool):  # True is an int in Python, never a size or a rate
        return False
    if kind is float:
        return isinstance(value, (int, float))
    return isinstance(value, kind)


SEED = Field(int, minimum=0, below=2**63)
