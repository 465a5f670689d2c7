"""Resumable training checkpoints: weights, optimizer, step, RNG and loop state as safetensors
tensors plus one JSON file. Never pickles.

A checkpoint directory holds
  model/            the weights (a loadable `interp.model` directory for a HookedTransformer)
  best.safetensors  the best weights so far (when the loop tracks them)
  optimizer.safetensors  every tensor of the optimizer state and the RNG states
  state.json        step, optimizer param groups and scalars, loop state, train config
It is written to a temporary directory and renamed into place, so an interruption while
saving leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from interp.errors import CheckpointError
from interp.model import HookedTransformer, save_model

STATE_FILE = "state.json"
OPTIMIZER_FILE = "optimizer.safetensors"
BEST_FILE = "best.safetensors"
MODEL_DIR = "model"
WEIGHTS_FILE = "model.safetensors"
FORMAT = "interp-train-state"


def save_weights(model: nn.Module, directory: Path) -> None:
    """Weights of any module into `directory`; a HookedTransformer as a loadable model directory."""
    if isinstance(model, HookedTransformer):
        save_model(model, directory)
        return
    directory.mkdir(parents=True, exist_ok=True)
    save_file(_contiguous(model.state_dict()), str(directory / WEIGHTS_FILE))


def load_weights(model: nn.Module, path: Path) -> None:
    """Load a safetensors state dict into `model`, naming the file on any mismatch."""
    tensors = _read_tensors(path)
    try:
        model.load_state_dict(tensors)
    except RuntimeError as err:  # missing/unexpected names or other shapes: another model's weights
        detail = str(err).strip().splitlines()[-1].strip()
        raise CheckpointError(f"{path}: these weights belong to a different model ({detail}); resume "
                              "with the recipe and model config that made them.") from err


def save_training_state(directory: str | Path, model: nn.Module, optimizer: torch.optim.Optimizer,
                        loop_state: dict[str, Any], best_weights: dict[str, torch.Tensor] | None) -> None:
    """Write a complete checkpoint atomically (temporary directory, then rename)."""
    final = Path(directory)
    tmp = final.with_name(final.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_weights(model, tmp / MODEL_DIR)
    if best_weights is not None:
        save_file(_contiguous(best_weights), str(tmp / BEST_FILE))
    tensors, optimizer_json = _flatten_optimizer(optimizer.state_dict())
    tensors["rng/torch"] = torch.get_rng_state()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        tensors["rng/cuda"] = torch.cuda.get_rng_state()
    save_file(tensors, str(tmp / OPTIMIZER_FILE))
    header = {"format": FORMAT, "optimizer": optimizer_json, "loop": loop_state}
    (tmp / STATE_FILE).write_text(json.dumps(header, indent=1))
    old = final.with_name(final.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    # A kill here leaves no `final` but a complete `tmp` (and `old`): recover_checkpoint finishes.
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def recover_checkpoint(directory: str | Path) -> None:
    """Finish a save that a kill interrupted between its renames.

    `tmp` is renamed into place only after its state.json (written last) exists, and `final` is
    moved to `old` only after that: so a missing `final` with a `tmp` holding state.json means tmp
    is the newest complete checkpoint; with no such tmp, `old` is the previous complete one.
    """
    final = Path(directory)
    if final.exists():
        return
    tmp, old = final.with_name(final.name + ".tmp"), final.with_name(final.name + ".old")
    if (tmp / STATE_FILE).is_file() and (tmp / OPTIMIZER_FILE).is_file():
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    elif (old / STATE_FILE).is_file():
        old.rename(final)


def load_training_state(directory: str | Path, model: nn.Module, optimizer: torch.optim.Optimizer,
                        expected: dict[str, Any] | None = None
                        ) -> tuple[dict[str, Any], dict[str, torch.Tensor] | None]:
    """Restore weights, optimizer and RNG from a checkpoint; returns (loop state, best weights).

    `expected` (see loop.run_identity): what the resuming run trains; a checkpoint that recorded
    something else (another recipe, task parameter or architecture) is refused before any weight
    is read. Checkpoints saved before this was recorded are checked by their weights' shapes only.
    """
    directory = Path(directory)
    recover_checkpoint(directory)
    state_path = directory / STATE_FILE
    if not state_path.is_file():
        raise CheckpointError(f"{state_path}: missing; {directory} is not a training checkpoint "
                              "(run without --resume to start a new run).")
    try:
        header = json.loads(state_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{state_path}: not valid JSON ({err}); the checkpoint is corrupt.") from err
    except RecursionError as err:
        raise CheckpointError(f"{state_path}: nested too deeply to read; the checkpoint is corrupt.") from err
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CheckpointError(f"{state_path}: not an {FORMAT!r} file.")
    check_loop_state(header.get("loop"), state_path)
    if not isinstance(header.get("optimizer"), dict):
        raise CheckpointError(f"{state_path}: 'optimizer' must be a JSON object; the checkpoint is corrupt.")
    saved = header["loop"].get("trained_on")
    if expected is not None and saved is not None:
        changes = _differences(saved, expected)
        if changes:
            raise CheckpointError(
                f"{directory} was trained on something else: {'; '.join(changes[:6])}"
                f"{' ...' if len(changes) > 6 else ''}. Resume with the same recipe, task and model "
                "config, or start a new run (another --out, or --overwrite)."
            )
    load_weights(model, directory / MODEL_DIR / WEIGHTS_FILE)
    tensors = _read_tensors(directory / OPTIMIZER_FILE)
    try:
        optimizer.load_state_dict(_unflatten_optimizer(tensors, header["optimizer"]))
    except (KeyError, ValueError, RuntimeError, TypeError, AttributeError) as err:
        raise CheckpointError(f"{directory / OPTIMIZER_FILE}: optimizer state does not fit this "
                              f"model ({err}).") from err
    if "rng/torch" not in tensors:
        raise CheckpointError(f"{directory / OPTIMIZER_FILE}: no RNG state; the checkpoint is incomplete.")
    try:
        torch.set_rng_state(tensors["rng/torch"])
    except (RuntimeError, TypeError) as err:
        raise CheckpointError(f"{directory / OPTIMIZER_FILE}: corrupt RNG state ({err}).") from err
    if "rng/cuda" in tensors and torch.cuda.is_available():
        torch.cuda.set_rng_state(tensors["rng/cuda"])
    best_path = directory / BEST_FILE
    best = _read_tensors(best_path) if best_path.is_file() else None
    return header["loop"], best


# The loop state's fields: (kind, minimum or None, may be null).
_LOOP_FIELDS: dict[str, tuple[type | tuple, float | None, bool]] = {
    "step": (int, 0, False), "best": ((int, float), None, True), "best_step": (int, 0, True),
    "bad_evals": (int, 0, False), "history": (list, None, False), "metrics": (dict, None, False),
    "seconds": ((int, float), 0, False), "config": (dict, None, False), "callbacks": (list, None, False),
}


def check_loop_state(loop: Any, path: Path) -> None:
    """CheckpointError naming the field unless the saved loop state is well formed (e.g. a
    negative step would resume with negative learning rates)."""
    if not isinstance(loop, dict):
        raise CheckpointError(f"{path}: 'loop' must be a JSON object; the checkpoint is corrupt.")
    for name, (kind, minimum, nullable) in _LOOP_FIELDS.items():
        value = loop.get(name)
        if value is None and nullable:
            continue
        if isinstance(value, bool) or not isinstance(value, kind) or (
                minimum is not None and not value >= minimum):
            lower = f" >= {minimum}" if minimum is not None else ""
            what = getattr(kind, "__name__", "number") + lower
            raise CheckpointError(f"{path}: loop.{name}={value!r} is not a valid value ({what}); "
                                  "the checkpoint is corrupt.")
    if isinstance(loop.get("best_step"), int) and loop["best_step"] > loop["step"]:
        raise CheckpointError(f"{path}: loop.best_step={loop['best_step']} is after loop.step="
                              f"{loop['step']}; the checkpoint is corrupt.")


def _differences(saved: Any, expected: Any, where: str = "") -> list[str]:
    """Human-readable paths where two JSON values differ (`saved` is the checkpoint's)."""
    if isinstance(saved, dict) and isinstance(expected, dict):
        out = []
        for key in sorted(set(saved) | set(expected), key=str):
            path = f"{where}.{key}" if where else str(key)
            if key not in saved:
                out.append(f"{path} is new ({_short(expected[key])})")
            elif key not in expected:
                out.append(f"{path} was {_short(saved[key])}, now absent")
            else:
                out += _differences(saved[key], expected[key], path)
        return out
    return [] if saved == expected else [f"{where or 'value'} was {_short(saved)}, now {_short(expected)}"]


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _read_tensors(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise CheckpointError(f"{path}: missing; the checkpoint is incomplete.")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise CheckpointError(f"{path}: corrupt or truncated safetensors file ({err}).") from err


def _contiguous(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {name: t.detach().cpu().contiguous().clone() for name, t in tensors.items()}


def _flatten_optimizer(state_dict: dict) -> tuple[dict[str, torch.Tensor], dict]:
    """Split an optimizer state dict into named tensors and a JSON-able rest."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, entry in state_dict["state"].items():
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state/{index}/{key}"] = value.detach().cpu().contiguous().clone()
            else:
                scalars.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": state_dict["param_groups"], "scalars": scalars}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], saved: dict) -> dict:
    """Inverse of `_flatten_optimizer`."""
    state: dict[int, dict[str, Any]] = {}
    for name, tensor in tensors.items():
        if name.startswith("state/"):
            _, index, key = name.split("/", 2)
            state.setdefault(int(index), {})[key] = tensor
    for index, entry in saved["scalars"].items():
        state.setdefault(int(index), {}).update(entry)
    groups = []
    for group in saved["param_groups"]:
        # JSON turned tuples into lists; AdamW's betas are a tuple.
        groups.append({k: tuple(v) if k == "betas" else v for k, v in group.items()})
    return {"state": state, "param_groups": groups}
