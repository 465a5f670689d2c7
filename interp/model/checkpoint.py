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
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from interp.errors import CheckpointError, ConfigError, InputError
from interp.limits import Limits, current_limits
from interp.model.config import ModelConfig
from interp.model.hooked import HookedTransformer
from interp.model.labels import ResidualLabels

FORMAT = "interp-model"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
FLOAT_DTYPES = ("F16", "BF16", "F32", "F64")  # safetensors' names


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


def read_header(path: str | Path, limits: Limits | None = None) -> dict:
    """Read and check the JSON header of a checkpoint directory (size and nesting capped)."""
    limits = limits or current_limits()
    directory = _directory(path)
    config_path = directory / CONFIG_FILE
    if not config_path.is_file():
        raise CheckpointError(f"{config_path}: missing; is {path} a model saved by this toolkit?")
    size = config_path.stat().st_size
    if size > limits.config_bytes:
        raise CheckpointError(
            f"{config_path}: {size} bytes, over the config_bytes limit of {limits.config_bytes}; "
            "raise it with interp.limits.set_limits(config_bytes=...) if the file is genuine."
        )
    try:
        header = json.loads(config_path.read_bytes().decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{config_path}: not valid JSON ({err}); the file is corrupt.") from err
    except RecursionError as err:
        raise CheckpointError(f"{config_path}: nested too deeply to read; the file is corrupt.") from err
    depth = _nesting(header)
    if depth > limits.config_nesting:
        raise CheckpointError(
            f"{config_path}: nested {depth} levels deep, over the config_nesting limit of "
            f"{limits.config_nesting}; the file is corrupt."
        )
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
    for key, kind in (("config", dict), ("labels", (list, type(None))), ("metadata", (dict, type(None)))):
        if not isinstance(header.get(key), kind):
            raise CheckpointError(
                f"{config_path}: {key!r} must be a JSON "
                f"{'object' if kind is dict or dict in kind else 'list'}, "
                f"got {type(header.get(key)).__name__}; the file is corrupt."
            )
    return header


def load_model(path: str | Path, limits: Limits | None = None) -> HookedTransformer:
    """Load a checkpoint directory written by `save_model`.

    Everything is checked before anything large is allocated: the config's fields, its
    parameter count against `limits.model_parameters` and its depth against
    `limits.model_layers` (defaults: `interp.limits.current_limits()`), and every tensor's
    name, shape and dtype from the safetensors header. Weights must be finite.
    """
    limits = limits or current_limits()
    directory = _directory(path)
    header = read_header(directory, limits)
    config_path = directory / CONFIG_FILE
    try:
        cfg = ModelConfig.from_dict(header["config"])
        labels = _labels(header.get("labels"), cfg.d_model)
    except (ConfigError, InputError, KeyError, TypeError) as err:
        raise CheckpointError(f"{config_path}: invalid model config: {err}") from err
    _check_size(cfg, config_path, limits)
    weights_path = directory / WEIGHTS_FILE
    if not weights_path.is_file():
        raise CheckpointError(f"{weights_path}: missing; the checkpoint is incomplete.")
    _check_weights_header(weights_path, cfg)
    try:
        tensors = load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise CheckpointError(f"{weights_path}: corrupt or truncated safetensors file ({err}).") from err
    for name, tensor in tensors.items():
        if not torch.isfinite(tensor).all():
            raise CheckpointError(
                f"{weights_path}: {name} holds NaN or infinite values; the weights are corrupt."
            )
    model = HookedTransformer(cfg, labels=labels, metadata=header.get("metadata") or {})
    with torch.no_grad():
        model.load_state_dict(tensors)
    return model


def _directory(path: object) -> Path:
    if not isinstance(path, (str, Path)) or str(path) == "":
        raise CheckpointError(
            f"a checkpoint path must be a directory name (str or Path), got {path!r}."
        )
    directory = Path(path)
    if not directory.is_dir():
        raise CheckpointError(f"{path}: not a directory; a checkpoint is a directory with "
                              f"{CONFIG_FILE} and {WEIGHTS_FILE}.")
    return directory


def _nesting(value: object) -> int:
    """Depth of nested lists/objects in parsed JSON (iterative: no recursion to overflow)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _labels(data: object, d_model: int) -> ResidualLabels | None:
    if not data:
        return None
    if not all(isinstance(item, dict) for item in data):
        raise ConfigError("labels must be a list of JSON objects.")
    for item in data:
        index = item.get("index")
        if isinstance(index, bool) or not isinstance(index, int):
            raise ConfigError(f"label index must be an integer, got {index!r}.")
    return ResidualLabels.from_json(data, d_model)


def _check_size(cfg: ModelConfig, config_path: Path, limits: Limits) -> None:
    """Refuse configs describing more than the caps allow, before building anything."""
    if cfg.n_layers > limits.model_layers:
        raise CheckpointError(
            f"{config_path}: n_layers={cfg.n_layers} is over the model_layers limit of "
            f"{limits.model_layers}; raise it with interp.limits.set_limits(model_layers=...) "
            "or load_model(..., limits=...) if the model is genuine."
        )
    count = cfg.parameter_count()
    if count > limits.model_parameters:
        raise CheckpointError(
            f"{config_path}: the config describes {count:,} parameters, over the "
            f"model_parameters limit of {limits.model_parameters:,}; raise it with "
            "interp.limits.set_limits(model_parameters=...) or load_model(..., limits=...) "
            "if the model is genuine."
        )


def _check_weights_header(weights_path: Path, cfg: ModelConfig) -> None:
    """Compare the safetensors header (names, shapes, dtypes) with the config, reading no weights."""
    with torch.device("meta"):  # shapes only: nothing is allocated
        expected = {k: v.shape for k, v in HookedTransformer(cfg).state_dict().items()}
    try:
        with safe_open(str(weights_path), framework="pt") as handle:
            found = {name: handle.get_slice(name) for name in handle.keys()}
            shapes = {name: tuple(part.get_shape()) for name, part in found.items()}
            dtypes = {name: part.get_dtype() for name, part in found.items()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise CheckpointError(f"{weights_path}: corrupt or truncated safetensors file ({err}).") from err
    missing = sorted(set(expected) - set(shapes))
    unexpected = sorted(set(shapes) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            f"{weights_path}: weights do not match the config (missing {missing[:5]}, "
            f"unexpected {unexpected[:5]})."
        )
    for name, shape in shapes.items():
        if shape != tuple(expected[name]):
            raise CheckpointError(
                f"{weights_path}: {name} has shape {shape}, the config needs {tuple(expected[name])}."
            )
        if dtypes[name] not in FLOAT_DTYPES:
            raise CheckpointError(
                f"{weights_path}: {name} has dtype {dtypes[name]}; weights must be floating point."
            )


def _get(header: object, key: str) -> object:
    return header.get(key) if isinstance(header, dict) else None
