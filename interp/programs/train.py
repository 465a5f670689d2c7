"""Training loop for Transformer Programs: Adam, Gumbel temperature annealed geometrically
per step (3.0 -> 0.01, as the paper), evaluation of the soft (Gumbel) AND the hard (argmax)
model every epoch, checkpoint selection on hard validation accuracy, seeds, resume.

Checkpoints are safetensors (model, optimizer moments, RNG) plus a JSON state — no pickles.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from tqdm.auto import tqdm

from interp.errors import CheckpointError
from interp.programs.data import Split, TaskData
from interp.programs.model import TransformerProgramModel
from interp.programs.program import ProgramShape


@dataclass
class TrainConfig:
    epochs: int = 250
    batch_size: int = 512
    lr: float = 5e-2
    tau_init: float = 3.0
    tau_end: float = 0.01
    samples: int = 1  # Gumbel samples averaged per step
    seed: int = 0


@dataclass
class TrainResult:
    model: TransformerProgramModel  # holds the best (hard validation) weights
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = -1
    best_val_hard: float = -1.0
    seconds: float = 0.0


def accuracy(model: TransformerProgramModel, split: Split, hard: bool, seed: int = 0,
             batch_size: int = 2048) -> float:
    """Fraction of scored positions predicted right (soft: one seeded Gumbel sample)."""
    correct = total = 0
    devnull = torch.random.fork_rng()  # evaluation must not move the training RNG
    with devnull, torch.no_grad():
        torch.manual_seed(seed)
        for start in range(0, len(split), batch_size):
            tokens = split.tokens[start : start + batch_size]
            targets = split.targets[start : start + batch_size]
            predicted = model(tokens, split.lengths[start : start + batch_size], hard=hard).argmax(-1)
            scored = targets != -100
            correct += int((predicted[scored] == targets[scored]).sum())
            total += int(scored.sum())
    return correct / max(total, 1)


def train_program(
    data: TaskData, shape: ProgramShape, config: TrainConfig, out_dir: str | Path | None = None,
    resume: bool = False, progress: bool = True, on_epoch: Callable[[dict[str, float]], None] | None = None,
) -> TrainResult:
    """Train; keep the weights with the best hard validation accuracy (ties: the later epoch)."""
    start_time = time.perf_counter()
    torch.manual_seed(config.seed)
    model = TransformerProgramModel(shape, seed=config.seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    steps_per_epoch = math.ceil(len(data.train) / config.batch_size)
    total_steps = config.epochs * steps_per_epoch
    result = TrainResult(model=model)
    best_state = {k: v.clone() for k, v in model.state_dict().items()}
    first_epoch = 0
    if resume and out_dir is not None and (Path(out_dir) / "train_state.json").exists():
        first_epoch, best_state = _load(Path(out_dir), model, optimizer, result)
    bar = tqdm(range(first_epoch, config.epochs), desc=f"train {data.name}", disable=not progress,
               initial=first_epoch, total=config.epochs)
    for epoch in bar:
        model.train()
        order = torch.randperm(len(data.train))
        losses = []
        for step in range(steps_per_epoch):
            global_step = epoch * steps_per_epoch + step
            model.tau = config.tau_init * (config.tau_end / config.tau_init) ** (global_step / max(total_steps - 1, 1))
            rows = order[step * config.batch_size : (step + 1) * config.batch_size]
            tokens, lengths = data.train.tokens[rows], data.train.lengths[rows]
            targets = data.train.targets[rows]
            loss = sum(
                F.cross_entropy(model(tokens, lengths).flatten(0, 1), targets.flatten(), ignore_index=-100)
                for _ in range(config.samples)
            ) / config.samples
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        model.eval()
        record = {
            "epoch": epoch,
            "tau": model.tau,
            "loss": sum(losses) / len(losses),
            "val_soft": accuracy(model, data.val, hard=False, seed=epoch),
            "val_hard": accuracy(model, data.val, hard=True),
        }
        result.history.append(record)
        if record["val_hard"] >= result.best_val_hard:
            result.best_val_hard, result.best_epoch = record["val_hard"], epoch
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        bar.set_postfix(loss=f"{record['loss']:.3f}", soft=f"{record['val_soft']:.3f}",
                        hard=f"{record['val_hard']:.3f}")
        if out_dir is not None:
            _save(Path(out_dir), model, optimizer, result, best_state, epoch + 1, config)
        if on_epoch is not None:
            on_epoch(record)
    model.load_state_dict(best_state)
    model.eval()
    result.seconds = time.perf_counter() - start_time
    return result


def _save(out: Path, model, optimizer, result: TrainResult, best_state, next_epoch: int, config) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tensors = {f"model.{k}": v.contiguous() for k, v in model.state_dict().items()}
    tensors.update({f"best.{k}": v.contiguous() for k, v in best_state.items()})
    names = dict(model.named_parameters())
    index = {id(p): n for n, p in names.items()}
    steps = {}
    for param, state in optimizer.state.items():
        name = index[id(param)]
        tensors[f"adam.{name}.exp_avg"] = state["exp_avg"].contiguous()
        tensors[f"adam.{name}.exp_avg_sq"] = state["exp_avg_sq"].contiguous()
        steps[name] = float(state["step"])
    tensors["rng"] = torch.get_rng_state()
    save_file(tensors, str(out / "train_state.safetensors"))
    meta = {
        "next_epoch": next_epoch, "history": result.history, "best_epoch": result.best_epoch,
        "best_val_hard": result.best_val_hard, "adam_steps": steps, "config": config.__dict__,
    }
    (out / "train_state.json").write_text(json.dumps(meta))


def _load(out: Path, model, optimizer, result: TrainResult) -> tuple[int, dict[str, Any]]:
    try:
        meta = json.loads((out / "train_state.json").read_text())
        tensors = load_file(str(out / "train_state.safetensors"))
    except (OSError, ValueError) as err:
        raise CheckpointError(f"cannot resume from {out}: {err}; delete it or train without --resume.") from err
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    best = {k[5:]: v for k, v in tensors.items() if k.startswith("best.")}
    for name, param in model.named_parameters():
        if name in meta["adam_steps"]:
            optimizer.state[param] = {
                "step": torch.tensor(meta["adam_steps"][name]),
                "exp_avg": tensors[f"adam.{name}.exp_avg"],
                "exp_avg_sq": tensors[f"adam.{name}.exp_avg_sq"],
            }
    torch.set_rng_state(tensors["rng"])
    result.history = meta["history"]
    result.best_epoch, result.best_val_hard = meta["best_epoch"], meta["best_val_hard"]
    return meta["next_epoch"], best
