"""Back-compatible entry points for quick experiments: `model_for`, `accuracy`, and a
`train(model, task, steps)` that runs the one training loop (interp.training) at a constant
learning rate."""

from __future__ import annotations

import torch

from interp.model import HookedTransformer, ModelConfig
from interp.tasks import Task
from interp.training import TrainConfig, per_position_ce
from interp.training import train as run_training


def model_for(task: Task, n_layers: int = 1, d_model: int = 32, n_heads: int = 2,
              d_mlp: int | None = None, seed: int = 0) -> HookedTransformer:
    """A randomly initialised bidirectional model shaped for `task` (seeded)."""
    cfg = ModelConfig(
        n_layers=n_layers, d_model=d_model, n_ctx=task.seq_len, d_vocab=task.d_vocab,
        d_vocab_out=task.d_vocab_out, n_heads=n_heads, d_mlp=d_mlp, seed=seed,
    )
    return HookedTransformer(cfg, metadata={"producer": "train", "task": task.name}).init_weights(
        std=0.2, seed=seed
    )


def accuracy(model: HookedTransformer, inputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Fraction of scored positions predicted correctly."""
    with torch.no_grad():
        predicted = model(inputs).argmax(-1)
    scored = targets != -100
    return (predicted[scored] == targets[scored]).float().mean().item()


def train(
    model: HookedTransformer,
    task: Task,
    steps: int = 300,
    batch_size: int = 64,
    lr: float = 1e-2,
    weight_decay: float = 0.0,
    seed: int = 0,
    progress: bool = True,
) -> HookedTransformer:
    """AdamW at a constant rate on per-position cross-entropy; returns the model (eval mode).
    Same seed, same model."""
    config = TrainConfig(steps=steps, batch_size=batch_size, lr=lr, weight_decay=weight_decay, seed=seed,
                         min_lr_ratio=1.0, grad_clip=None, eval_every=0, eval_size=batch_size,
                         eval_batch_size=batch_size, log_every=max(1, steps // 20))
    run_training(model, task.sample, config, loss=per_position_ce, progress=progress)
    model.metadata.setdefault("task", task.name)
    model.metadata["train"] = {"steps": steps, "batch_size": batch_size, "lr": lr, "seed": seed}
    return model
