"""Trained models shipped inside the package, one subfolder each (config.json +
model.safetensors, and card.json: the command, config, seed, training time and measured
numbers). Register a model with one line in SHIPPED."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interp.errors import InputError

if TYPE_CHECKING:
    from interp.model import HookedTransformer

ROOT = Path(__file__).parent
CARD_FILE = "card.json"

# One line per shipped model: name -> one-line description (the folder is ROOT / name).
SHIPPED: dict[str, str] = {
    "addition-1l": "5-digit addition, 1 layer, 3 heads (Quirke & Barez 2023)",
    "addition-2l": "5-digit addition, 2 layers, 3 heads",
    "markov-switching": "binary switching Markov chain p=0.5, q=0.8 (Makkuva et al. 2024)",
    "icl-gpt": "in-context linear regression d=5, GPT-2 style 3 layers x 64, 2 heads (Garg et al. 2022)",
    "icl-lsa": "one linear self-attention layer = one GD step, d=5, N=20 (von Oswald et al. 2023)",
}


def shipped_path(name: str) -> Path:
    """The directory of a shipped model."""
    if name not in SHIPPED:
        raise InputError(f"unknown shipped model {name!r}; shipped models: {sorted(SHIPPED)}.")
    return ROOT / name


def shipped_card(name: str) -> dict[str, Any]:
    """The card of a shipped model ({} when it has none)."""
    return model_card(shipped_path(name))


def model_card(name_or_path: str | Path) -> dict[str, Any]:
    """The card.json of a shipped model or of a model directory ({} when it has none)."""
    path = resolve_model_path(str(name_or_path)) / CARD_FILE
    if not path.is_file():
        return {}
    try:
        card = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: unreadable model card ({err}); fix or delete the file.") from err
    if not isinstance(card, dict):
        raise InputError(f"{path}: a model card must hold a JSON object.")
    return card


def resolve_model_path(name_or_path: str) -> Path:
    """A shipped model's name or a model directory, as a directory."""
    if name_or_path in SHIPPED:
        return shipped_path(name_or_path)
    path = Path(name_or_path)
    if not path.is_dir():
        raise InputError(f"{name_or_path!r} is neither a shipped model ({', '.join(SHIPPED)}) nor a "
                         "model directory.")
    return path


def training_seed_path(name: str, seed: int, seed_dir: str | Path) -> Path:
    """Seed 0 is the shipped `name`; seed S is `seed_dir/<name>-seed<S>` (the same command with --seed S)."""
    return shipped_path(name) if seed == 0 else Path(seed_dir) / f"{name}-seed{seed}"


def training_seed_models(
    name: str, seeds: Iterable[int], seed_dir: str | Path
) -> dict[int, HookedTransformer]:
    """One recipe's models by training seed (see `training_seed_path`). Refuses a checkpoint whose
    config or card names another seed, or whose config or task differs from the others' in more
    than the seed, so a mislabelled folder cannot silently change a study's per-seed numbers."""
    from interp.model import load_model  # loading weights: only the studies need it, not start-up

    models: dict[int, HookedTransformer] = {}
    for seed in seeds:
        path = training_seed_path(name, seed, seed_dir)
        model = load_model(path)
        card_seed = model_card(path).get("seed", seed)  # the shipped addition-1l's card has no seed
        if model.cfg.seed != seed or card_seed != seed:
            raise InputError(f"{path}: expected training seed {seed}, but its config says {model.cfg.seed} "
                             f"and its card {card_seed}; store each seed under its own name.")
        first_seed, first = next(iter(models.items()), (seed, model))
        same_config = model.cfg.to_dict() | {"seed": 0} == first.cfg.to_dict() | {"seed": 0}
        if not same_config or model.metadata != first.metadata:  # metadata: recipe and task options
            raise InputError(f"{path}: its config or task differs from seed {first_seed}'s in more than "
                             "the seed; it is not the same recipe.")
        models[seed] = model
    return models
