"""Parts of the toolkit the dashboard uses that may not exist yet (compiler, analyses).

The dashboard must open on any checkout, so each optional part is imported here once;
a view that needs a missing part shows `missing_note(...)` instead of crashing.
"""

from __future__ import annotations

import importlib
from types import ModuleType


def _optional_module(name: str) -> tuple[ModuleType | None, str]:
    """The module, or None and why it could not be imported."""
    try:
        return importlib.import_module(name), ""
    except ImportError as err:
        return None, str(err)


def compiler() -> ModuleType | None:
    """`rasp.compiler`, or None when the compiler has not landed (or is half-written)."""
    module = _optional_module("rasp.compiler")[0]
    return module if hasattr(module, "compile_program") else None


def analysis() -> ModuleType | None:
    """`interp.analysis`, or None when the analyses have not landed."""
    return _optional_module("interp.analysis")[0]


def analysis_function(name: str):
    """`interp.analysis.<name>`, or None when it is missing."""
    module = analysis()
    return getattr(module, name, None) if module is not None else None


def missing_note(feature: str, part: str) -> str:
    """The message shown in place of a feature whose toolkit part is missing."""
    module, why = _optional_module(part)
    detail = f" ({why})" if module is None and why else ""
    # Only called when the part is unusable; say why when the import itself failed.
    return f"{feature} is not available yet: it needs `{part}`, which is not in this checkout yet{detail}."
