"""Promote a finished training run (`interp train --out RUN`) into a shipped model: checked,
then copied into interp/shipped/NAME with its card (what `interp ship RUN NAME` does)."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from interp.errors import CheckpointError, InputError
from interp.shipped import ROOT, WEIGHT_FILES, _index
from interp.shipped.card import CARD_FILE, FINISHED, read_card, write_card

RUN_MODEL_DIR = "model"  # where `interp train` saves the final weights inside a run (interp.training.loop)
RUN_RESULT_FILE = "result.json"
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def check_run(run: str | Path) -> dict[str, Any]:
    """The validated card of a finished run whose weights load; CheckpointError naming what is wrong."""
    from interp.model import load_model

    run = Path(run)
    if not run.is_dir():
        raise InputError(f"{run} is not a directory; pass the --out directory of `interp train`.")
    if not (run / CARD_FILE).is_file() or not (run / RUN_RESULT_FILE).is_file():
        raise CheckpointError(f"{run}: no {CARD_FILE} and {RUN_RESULT_FILE}; it is not a finished "
                              "`interp train` run (a run writes both when it ends).")
    card = read_card(run / CARD_FILE)
    result = _read_json(run / RUN_RESULT_FILE)
    if result.get("stop_reason") not in FINISHED or card["stop_reason"] not in FINISHED:
        raise CheckpointError(f"{run}: the run stopped with {result.get('stop_reason')!r}; finish it first "
                              f"(`interp train {card['recipe']} --out {run} --resume`).")
    if result.get("steps") != card["steps"]:
        raise CheckpointError(f"{run}: the card says {card['steps']} steps but {RUN_RESULT_FILE} says "
                              f"{result.get('steps')}; the card is stale, rerun `interp train ... --resume`.")
    model = load_model(run / RUN_MODEL_DIR)  # CheckpointError when the weights do not load
    recipe = model.metadata.get("recipe", card["recipe"])
    if recipe != card["recipe"] or model.cfg.seed != card["seed"]:
        raise CheckpointError(f"{run}: the weights were trained with recipe {recipe!r}, seed "
                              f"{model.cfg.seed}, but the card says {card['recipe']!r}, seed {card['seed']}.")
    return card


def ship_run(run: str | Path, name: str, root: str | Path = ROOT, overwrite: bool = False) -> Path:
    """Copy a finished run's weights and card into `root/name` (refusing to replace an existing
    model unless `overwrite`); returns the new folder."""
    if not _NAME.fullmatch(name) or name == "programs":
        raise InputError(f"cannot ship as {name!r}: use lower-case letters, digits, '.', '_' and '-' "
                         "(at most 64, starting with a letter or digit), and not 'programs'.")
    root, run = Path(root), Path(run)
    target = root / name
    if target.exists() and not overwrite:
        raise InputError(f"{target} exists; pick another name or pass --overwrite to replace it.")
    card = check_run(run)
    card = {**card, "name": name, "shipped_from": str(run)}
    # Build beside the target and swap in at the end, so a failure leaves no half-written model.
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=root))
    try:
        for file in WEIGHT_FILES:
            shutil.copy2(run / RUN_MODEL_DIR / file, staging / file)
        write_card(card, staging / CARD_FILE)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    _index.cache_clear()  # the index is read from the folders
    return target


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path}: unreadable ({err}).") from err
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: expected a JSON object.")
    return data
