"""interp: a mechanistic-interpretability workbench for small transformers.

The model classes import lazily (PEP 562) so `import interp` — and every command that
does not touch a model, such as `interp rasp` — starts without torch and TransformerLens.
"""

from __future__ import annotations

import importlib
from typing import Any

from interp.errors import CheckpointError, ConfigError, InputError, InterpError

_FROM_MODEL = ("HookedTransformer", "ModelConfig", "ResidualLabels", "load_model", "save_model")

__all__ = [
    "CheckpointError",
    "ConfigError",
    "HookedTransformer",
    "InputError",
    "InterpError",
    "ModelConfig",
    "ResidualLabels",
    "load_model",
    "save_model",
]


def __getattr__(name: str) -> Any:
    if name in _FROM_MODEL:
        return getattr(importlib.import_module("interp.model"), name)
    raise AttributeError(f"module 'interp' has no attribute {name!r}")
