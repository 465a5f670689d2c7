"""What commands print: strict JSON lines and the one-line error report.

JSON never contains NaN or Infinity (strict parsers reject them): a non-finite float is
written as the string "nan", "inf" or "-inf" (Python's `float()` reads each back), so a
broken number stays visible instead of turning into a silent null.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TextIO


def json_safe(value: Any) -> Any:
    """`value` as plain JSON data: non-finite floats as strings, tensors/arrays as lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)  # 'nan', 'inf', '-inf'
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [json_safe(v) for v in items]
    if hasattr(value, "tolist"):  # torch tensors, numpy arrays and scalars
        return json_safe(value.tolist())
    return str(value)


def json_line(value: Any) -> str:
    """One line of strict JSON (allow_nan=False guards against a missed non-finite number)."""
    return json.dumps(json_safe(value), allow_nan=False)


def print_json(value: Any, out: TextIO | None = None) -> None:
    """Print `value` as one strict JSON line (a command's last line with --json)."""
    print(json_line(value), file=out or sys.stdout, flush=True)


def report_error(error: BaseException, as_json: bool, kind: str | None = None) -> None:
    """One `error:` line on stderr; with --json also {"error", "kind"} as stdout's last line."""
    message = str(error) or type(error).__name__
    print(f"error: {message}", file=sys.stderr, flush=True)
    if as_json:
        print_json({"error": message, "kind": kind or type(error).__name__})


SIGNIFICANT = 4  # digits of a float in human output (JSON keeps every digit)


def human(value: Any) -> str:
    """`value` for a person: floats to 4 significant digits (also inside lists and dicts)."""
    if isinstance(value, float):
        return f"{value:.{SIGNIFICANT}g}" if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {human(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(human(v) for v in value) + "]"
    if value is None:
        return "—"
    return str(value)


def print_summary(summary: Mapping[str, Any], skip: tuple[str, ...] = (), out: TextIO | None = None) -> None:
    """One `key: value` line per entry, keys right-aligned, numbers at 4 significant digits."""
    width = max((len(k) for k in summary if k not in skip), default=0)
    for key, value in summary.items():
        if key not in skip:
            print(f"{key:>{width}}: {human(value)}", file=out or sys.stdout)


@contextmanager
def elapsed(desc: str) -> Iterator[None]:
    """A tqdm timer on stderr (a terminal only) while work that reports no steps of its own runs,
    so a long evaluation is visibly alive."""
    import threading

    from tqdm.auto import tqdm

    bar = tqdm(total=None, desc=desc, bar_format="{desc}: {elapsed}", file=sys.stderr, disable=None)
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(0.5):
            bar.refresh()

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        bar.close()
