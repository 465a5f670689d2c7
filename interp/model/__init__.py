"""The one hooked transformer that every producer emits (see DESIGN.md, "The one model")."""

from interp.model.checkpoint import load_model, save_model
from interp.model.config import ModelConfig
from interp.model.hooked import HookedTransformer
from interp.model.labels import ResidualLabel, ResidualLabels, residual_stage
from interp.model.tl_guards import install as _install_tl_guards
from interp.model.tokenizer import VocabTokenizer

_install_tl_guards()  # SVDInterpreter / test_prompt answer right on our models (see tl_guards)

__all__ = [
    "HookedTransformer",
    "ModelConfig",
    "ResidualLabel",
    "ResidualLabels",
    "VocabTokenizer",
    "load_model",
    "residual_stage",
    "save_model",
]
