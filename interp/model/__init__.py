"""The one hooked transformer that every producer emits (see DESIGN.md, "The one model")."""

from interp.model.checkpoint import load_model, save_model
from interp.model.config import ModelConfig
from interp.model.hooked import HookedTransformer
from interp.model.labels import ResidualLabel, ResidualLabels, residual_stage

__all__ = [
    "HookedTransformer",
    "ModelConfig",
    "ResidualLabel",
    "ResidualLabels",
    "load_model",
    "residual_stage",
    "save_model",
]
