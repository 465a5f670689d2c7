"""interp: a mechanistic-interpretability workbench for small transformers."""

from interp.errors import CheckpointError, ConfigError, InputError, InterpError
from interp.model import HookedTransformer, ModelConfig, ResidualLabels, load_model, save_model

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
