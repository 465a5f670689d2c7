"""Save and load models: safetensors weights + a JSON config. Never pickles.

A checkpoint is a directory with `config.json` ({"format": "interp-model", ...}) and
`model.safetensors`. Every way a directory can be wrong (missing, truncated, corrupt,
a different project's file, weights that do not fit the config) raises CheckpointError
naming the file and the problem.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from interp.errors import CheckpointError, ConfigError, InputError
from interp.model.config import ModelConfig
from interp.model.hooked import HookedTransformer
from interp.model.labels import ResidualLabels

FORMAT = "interp-model"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


def save_model(model: HookedTransformer, path: str | Path) -> Path:
    """Write `model` into directory `path` (created if missing); returns the directory."""
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": model.cfg.to_dict(),
        "labels": model.residual_labels.to_json() if model.residual_labels else None,
        "metadata": model.metadata,
    }
    try:
        text = json.dumps(header, indent=2)
    except TypeError as err:
        raise CheckpointError(f"model.metadata is not JSON-serialisable: {err}") from err
    tensors = {name: p.detach().contiguous().clone() for name, p in model.state_dict().items()}
    save_file(tensors, str(directory / WEIGHTS_FILE))
    # Config last: a directory with a config.json is a complete checkpoint.
    (directory / CONFIG_FILE).write_text(text)
    return directory


def read_header(path: str | Path) -> dict:
    """Read and check the JSON header of a checkpoint directory."""
    config_path = Path(path) / CONFIG_FILE
    if not Path(path).is_dir():
        raise CheckpointError(f"{path}: not a directory; a checkpoint is a directory with "
                              f"{CONFIG_FILE} and {WEIGHTS_FILE}.")
    if not config_path.is_file():
        raise CheckpointError(f"{config_path}: missing; is {path} a model saved by this toolkit?")
    try:
        header = json.loads(config_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{config_path}: not valid JSON ({err}); the file is corrupt.") from err
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CheckpointError(
            f"{config_path}: not an {FORMAT!r} config (format={_get(header, 'format')!r}); "
            "this looks like a different tool's file."
        )
    if header.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{config_path}: format_version {header.get('format_version')!r} is not supported "
            f"(this toolkit reads {FORMAT_VERSION})."
        )
    return header


def load_model(path: str | Path) -> HookedTransformer:
    """Load a checkpoint directory written by `save_model`."""
    directory = Path(path)
    header = read_header(directory)
    config_path = directory / CONFIG_FILE
    try:
        cfg = ModelConfig.from_dict(header["config"])
        labels = (
            ResidualLabels.from_json(header["labels"], cfg.d_model) if header.get("labels") else None
        )
    except (ConfigError, InputError, KeyError, TypeError) as err:
        raise CheckpointError(f"{config_path}: invalid model config: {err}") from err
    weights_path = directory / WEIGHTS_FILE
    if not weights_path.is_file():
        raise CheckpointError(f"{weights_path}: missing; the checkpoint is incomplete.")
    try:
        tensors = load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise CheckpointError(f"{weights_path}: corrupt or truncated safetensors file ({err}).") from err
    model = HookedTransformer(cfg, labels=labels, metadata=header.get("metadata") or {})
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            f"{weights_path}: weights do not match the config (missing {missing[:5]}, "
            f"unexpected {unexpected[:5]})."
        )
    for name, tensor in tensors.items():
        if tensor.shape != expected[name].shape:
            raise CheckpointError(
                f"{weights_path}: {name} has shape {tuple(tensor.shape)}, the config needs "
                f"{tuple(expected[name].shape)}."
            )
    with torch.no_grad():
        model.load_state_dict(tensors)
    return model


def _get(header: object, key: str) -> object:
    return header.get(key) if isinstance(header, dict) else None
