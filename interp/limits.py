"""Resource caps for loading models and user files (checkpoints, uploads).

The one place that defines them for `interp` and the app (RASP parsing and compilation
have theirs in `rasp/limits.py`, since `rasp` imports nothing of ours). Each cap is
overridable per call (`limits=`) or process-wide (`set_limits`), and every error a cap
raises names the field to raise.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Caps on what loading a user's file may allocate. Field names appear in errors."""

    model_parameters: int = 200_000_000  # parameters a checkpoint's config may describe
    model_layers: int = 1_024  # blocks a checkpoint's config may describe (each is a module)
    config_bytes: int = 1_000_000  # size of a config.json / metadata file
    config_nesting: int = 32  # nesting depth of a config.json
    upload_bytes: int = 512 * 2**20  # uncompressed bytes one app upload may expand to


DEFAULT_LIMITS = Limits()
_current = DEFAULT_LIMITS


def current_limits() -> Limits:
    """The caps in force for this process."""
    return _current


def set_limits(**changes: int) -> Limits:
    """Change caps process-wide (e.g. `set_limits(model_parameters=10**9)`); returns the new caps."""
    global _current
    _current = dataclasses.replace(_current, **changes)
    return _current
