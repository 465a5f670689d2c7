"""The model card (card.json): one schema for what `interp train` writes into a run
directory, for the shipped models and for the studies' seed models; checked whenever a
card is read or written, so a card never says something its reader misreads."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from interp.errors import CheckpointError

SCHEMA = "interp-model-card/1"
CARD_FILE = "card.json"
STOP_REASONS = ("completed", "early_stopping", "interrupted")
FINISHED = ("completed", "early_stopping")  # a run that may be shipped

_NUMBER = (int, float)
# field -> (allowed types, what it holds). None in the types: the field may be null.
REQUIRED: dict[str, tuple[tuple[type | None, ...], str]] = {
    "schema": ((str,), f"the card format, {SCHEMA!r}"),
    "name": ((str,), "the model's name (the shipped name, or the run directory's)"),
    "recipe": ((str,), "the recipe or task it was trained with (interp/training/recipes.py)"),
    "seed": ((int,), "the training seed (equals config.train.seed)"),
    "command": ((str, None), "the command that reproduces it (null when not run from the CLI)"),
    "steps": ((int,), "optimizer steps done"),
    "stop_reason": ((str,), f"one of {', '.join(STOP_REASONS)}"),
    "seconds": (_NUMBER, "training wall time in seconds, summed over resumed sessions"),
    "held_out": ((dict,), "the training loop's held-out metrics of the final weights"),
    "report": ((dict,), "the task report (interp.evaluation.task_reports) of the final weights"),
    "config": ((dict,), "the recipe's task/model/train sections (the shape of a --config file)"),
}
OPTIONAL: dict[str, tuple[tuple[type | None, ...], str]] = {
    "cpu_seconds": ((*_NUMBER, None), "CPU time of training (null when unknown)"),
    "wall_seconds": (_NUMBER, "elapsed time of the training process(es), measured outside"),
    "commands": ((list,), "every command run, in order, when it took more than one"),
    "command_run": ((str,), "the command line as actually run (with nice, --out, ...)"),
    "cpu_seconds_per_command": ((list,), "CPU seconds of each of `commands`"),
    "wall_seconds_per_command": ((list,), "wall seconds of each of `commands`"),
    "machine": ((str,), "where it was trained and under what load"),
    "out": ((str,), "the run directory `interp train` wrote"),
    "reproduced": ((str,), "a note on a rerun of the command"),
    "shipped_from": ((str,), "the run directory `interp ship` promoted"),
}


def validate_card(card: Any, where: str | Path) -> dict[str, Any]:
    """`card` if it follows the schema; CheckpointError naming the field and the fix otherwise."""
    if not isinstance(card, dict):
        raise CheckpointError(f"{where}: a model card must hold a JSON object.")
    missing = [key for key in REQUIRED if key not in card]
    if missing:
        raise CheckpointError(f"{where}: the model card lacks {missing}; a card holds {list(REQUIRED)} "
                              "(write it with interp.shipped.card.make_card).")
    unknown = sorted(set(card) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise CheckpointError(f"{where}: unknown model-card fields {unknown}; known optional fields: "
                              f"{sorted(OPTIONAL)}.")
    for key, value in card.items():
        types, meaning = {**REQUIRED, **OPTIONAL}[key]
        if not _has_type(value, types):
            raise CheckpointError(f"{where}: card field {key!r} is {value!r}; it must be {meaning}.")
    if card["schema"] != SCHEMA:
        raise CheckpointError(f"{where}: card schema {card['schema']!r} is not {SCHEMA!r}; migrate the card.")
    if card["stop_reason"] not in STOP_REASONS:
        raise CheckpointError(f"{where}: stop_reason {card['stop_reason']!r} is not one of {STOP_REASONS}.")
    train_seed = card["config"].get("train", {}).get("seed", card["seed"])
    if train_seed != card["seed"]:
        raise CheckpointError(f"{where}: the card's seed {card['seed']} differs from its config's train seed "
                              f"{train_seed}; one of them is wrong.")
    return card


def read_card(path: str | Path) -> dict[str, Any]:
    """The validated card at `path` (a card.json file)."""
    try:
        card = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path}: unreadable model card ({err}); fix or delete the file.") from err
    return validate_card(card, path)


def write_card(card: dict[str, Any], path: str | Path) -> Path:
    """Validate `card` and write it to `path` (one key per line, as committed)."""
    validate_card(card, path)
    Path(path).write_text(json.dumps(card, indent=1) + "\n")
    return Path(path)


def make_card(*, name: str, recipe: str, config: dict[str, Any], command: str | None, steps: int,
              stop_reason: str, seconds: float, cpu_seconds: float | None, held_out: dict[str, Any],
              report: dict[str, Any], **optional: Any) -> dict[str, Any]:
    """A validated card for a training run (the seed is the config's train seed)."""
    cpu = None if cpu_seconds is None or math.isnan(cpu_seconds) else round(cpu_seconds, 1)
    card = {"schema": SCHEMA, "name": name, "recipe": recipe, "seed": config["train"]["seed"],
            "command": command, "steps": steps, "stop_reason": stop_reason, "seconds": round(seconds, 1),
            "cpu_seconds": cpu, "held_out": held_out, "report": report, "config": config, **optional}
    return validate_card(card, f"the card of {name!r}")


def _has_type(value: Any, types: tuple[type | None, ...]) -> bool:
    if value is None:
        return None in types
    if isinstance(value, bool):  # JSON true/false is not a number or a seed
        return bool in types
    return any(t is not None and isinstance(value, t) for t in types)
