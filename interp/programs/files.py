"""Checks on a saved Transformer Program (program.json / simplified.json) before it is built:
every field's type, every index against the variables that exist where it is read, every
value against the variable's values, every read-out shape and number finite, and the sizes
against `interp.limits`. One table per part, as for model checkpoints; each error is a
CheckpointError naming the file and the field."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from interp.errors import CheckpointError
from interp.limits import current_limits

BOS = "<s>"


class _Bad(Exception):
    """A field that does not fit (turned into a CheckpointError naming the file)."""


def check_program_json(data: Any, where: str) -> None:
    """CheckpointError naming `where` and the field unless `data` is a well-formed saved program."""
    try:
        _check(data)
    except _Bad as err:
        raise CheckpointError(f"{where}: {err}; the file is not a valid saved Transformer Program.") from None


# ---------------------------------------------------------------- field kinds
def _int(low: int, high: Callable[[], int] | int | None = None, limit: str | None = None):
    def check(name: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Bad(f"{name} must be an integer, got {value!r}")
        top = high() if callable(high) else high
        if value < low or (top is not None and value > top):
            raise _Bad(f"{name}={value!r} is outside {low}..{top}")
        if limit is not None and value > getattr(current_limits(), limit):
            raise _Bad(f"{name}={value:,} is over the {limit} limit of {getattr(current_limits(), limit):,} "
                       f"(raise it with interp.limits.set_limits({limit}=...) if the file is genuine)")
    return check


def _names(name: str, value: Any) -> None:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise _Bad(f"{name} must be a non-empty list of strings")
    if len(set(value)) != len(value):
        raise _Bad(f"{name} repeats a name")
    if len(value) > current_limits().program_values:
        raise _Bad(f"{name} has {len(value):,} entries, over the program_values limit of "
                   f"{current_limits().program_values:,}")


def _bool(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise _Bad(f"{name} must be true or false, got {value!r}")


# One row per ProgramShape field.
SHAPE_FIELDS: dict[str, Callable[[str, Any], None]] = {
    "tokens": _names,
    "labels": _names,
    "n_ctx": _int(1, limit="program_values"),
    "n_layers": _int(1, limit="program_layers"),
    "n_cat_heads": _int(0, limit="program_components"),
    "n_num_heads": _int(0, limit="program_components"),
    "n_cat_mlps": _int(0, limit="program_components"),
    "n_num_mlps": _int(0, limit="program_components"),
    "causal": _bool,
    "d_mlp": _int(1, 1 << 20),
}
TOP_FIELDS = ("shape", "layers", "readout_cat", "readout_num", "readout_bias")
OPTIONAL_TOP_FIELDS = ("removed", "checked")


def _check(data: Any) -> None:
    if not isinstance(data, dict):
        raise _Bad(f"the file must hold a JSON object, got {type(data).__name__}")
    _keys("the program", data, TOP_FIELDS, OPTIONAL_TOP_FIELDS)
    shape = data["shape"]
    if not isinstance(shape, dict):
        raise _Bad("shape must be a JSON object")
    _keys("shape", shape, tuple(SHAPE_FIELDS), ())
    for name, check in SHAPE_FIELDS.items():
        check(f"shape.{name}", shape[name])
    if shape["tokens"][0] != BOS:
        raise _Bad(f"shape.tokens must start with {BOS!r}, got {shape['tokens'][0]!r}")
    from interp.programs.program import ProgramShape

    s = ProgramShape(**shape)
    d, counts = s.d_var, s.n_counts
    if d > current_limits().program_values:
        raise _Bad(f"the program's variables have {d:,} values, over the program_values limit of "
                   f"{current_limits().program_values:,}")
    layers = data["layers"]
    if not isinstance(layers, list) or len(layers) != s.n_layers:
        raise _Bad(f"layers must be a list of shape.n_layers={s.n_layers} layers")
    for index, layer in enumerate(layers):
        _check_layer(f"layers[{index}]", layer, s, index, d, counts)
    n_labels = len(s.labels)
    _matrix("readout_cat", data["readout_cat"], [s.cat_vars_before(s.n_layers), d, n_labels])
    _matrix("readout_num", data["readout_num"], [s.num_vars_before(s.n_layers), n_labels])
    _matrix("readout_bias", data["readout_bias"], [n_labels])
    _check_removed(data.get("removed", {}), s, d)
    if not isinstance(data.get("checked", ""), str):
        raise _Bad("checked must be a string")


def _check_layer(where: str, layer: Any, s, index: int, d: int, counts: int) -> None:
    parts = ("cat_heads", "num_heads", "cat_mlps", "num_mlps")
    if not isinstance(layer, dict):
        raise _Bad(f"{where} must be a JSON object")
    _keys(where, layer, parts, ())
    cat_in = s.cat_vars_before(index)
    cat_mid = s.cat_vars_before(index, after_attention=True)
    num_mid = s.num_vars_before(index, after_attention=True)
    # part: (how many the shape says, {field: check})
    rows = {
        "cat_heads": (s.n_cat_heads, {"q": _int(0, cat_in - 1), "k": _int(0, cat_in - 1),
                                      "v": _int(0, cat_in - 1), "predicate": _values([d], d)}),
        "num_heads": (s.n_num_heads, {"q": _int(0, cat_in - 1), "k": _int(0, cat_in - 1),
                                      "predicate": _values([d], d)}),
        "cat_mlps": (s.n_cat_mlps, {"a": _int(0, cat_mid - 1), "b": _int(0, cat_mid - 1),
                                    "table": _values([d, d], d)}),
        "num_mlps": (s.n_num_mlps, {"a": _int(0, num_mid - 1), "b": _int(0, num_mid - 1),
                                    "table": _values([counts, counts], d)}),
    }
    for part, (count, fields) in rows.items():
        items = layer[part]
        if not isinstance(items, list) or len(items) != count:
            raise _Bad(f"{where}.{part} must be a list of {count} (the shape's count)")
        for i, item in enumerate(items):
            name = f"{where}.{part}[{i}]"
            if not isinstance(item, dict):
                raise _Bad(f"{name} must be a JSON object")
            _keys(name, item, tuple(fields), ())
            for field, check in fields.items():
                check(f"{name}.{field}", item[field])


def _values(shape: list[int], d: int):
    """A nested list of integers of `shape`, each a value index in [0, d)."""
    def check(name: str, value: Any) -> None:
        for item in _leaves(name, value, shape):
            if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item < d:
                raise _Bad(f"{name} holds {item!r}; values must be integers in [0, {d})")
    return check


def _matrix(name: str, value: Any, shape: list[int]) -> None:
    for item in _leaves(name, value, shape):
        if isinstance(item, bool) or not isinstance(item, (int, float)) or not math.isfinite(item):
            raise _Bad(f"{name} holds {item!r}; read-out weights must be finite numbers")


def _leaves(name: str, value: Any, shape: list[int]) -> list[Any]:
    """The entries of a nested list that must have exactly `shape` (named on any mismatch)."""
    level = [value]
    for depth, size in enumerate(shape):
        following = []
        for item in level:
            if not isinstance(item, list) or len(item) != size:
                got = f"length {len(item)}" if isinstance(item, list) else type(item).__name__
                raise _Bad(f"{name} must have shape {shape} (dimension {depth} has {got}, not {size})")
            following.extend(item)
        level = following
    return level


def _check_removed(removed: Any, s, d: int) -> None:
    if not isinstance(removed, dict):
        raise _Bad("removed must be a JSON object of variable name -> value")
    cat, num = set(s.cat_var_names()), set(s.num_var_names())
    for name, value in removed.items():
        if name not in cat | num:
            raise _Bad(f"removed names {name!r}, which is not a variable of this program")
        top = s.n_ctx if name in num else d - 1
        _int(0, top)(f"removed[{name!r}]", value)


def _keys(where: str, data: dict, required: tuple, optional: tuple) -> None:
    missing = [k for k in required if k not in data]
    unknown = sorted(str(k) for k in set(data) - set(required) - set(optional))
    if missing:
        raise _Bad(f"{where} lacks {missing}")
    if unknown:
        raise _Bad(f"{where} has unknown fields {unknown}")
