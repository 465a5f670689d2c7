"""One training loop for every model and task (see loop.py), its config, losses and checkpoints."""

from interp.training.config import TrainConfig
from interp.training.loop import Callback, TrainResult, TrainState, evaluate, load_best, train
from interp.training.losses import (
    LOSSES,
    loss_by_name,
    masked_mse,
    next_token_ce,
    per_position_accuracy,
    per_position_ce,
)
from interp.training.schedule import learning_rate

__all__ = [
    "LOSSES",
    "Callback",
    "TrainConfig",
    "TrainResult",
    "TrainState",
    "evaluate",
    "learning_rate",
    "load_best",
    "loss_by_name",
    "masked_mse",
    "next_token_ce",
    "per_position_accuracy",
    "per_position_ce",
    "train",
]
