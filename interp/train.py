"""A seeded training loop for HookedTransformer on a toy task (nanoGPT-sized: one function)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from interp.model import HookedTransformer, ModelConfig
from interp.tasks import Task


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
    """Adam on per-position cross-entropy against the task's targets; returns the model
    (in eval mode). Same seed, same model."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    model.train()
    bar = tqdm(range(steps), desc=f"train {task.name}", disable=not progress, leave=False)
    for _ in bar:
        inputs, targets = task.sample(batch_size, generator)
        logits = model(inputs)
        loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-100)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        bar.set_postfix(loss=f"{loss.item():.3f}")
    model.eval()
    model.metadata.setdefault("task", task.name)
    model.metadata["train"] = {"steps": steps, "batch_size": batch_size, "lr": lr, "seed": seed}
    return model
