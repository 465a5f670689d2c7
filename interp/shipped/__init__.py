"""Trained models shipped inside the package, one folder each (config.json +
model.safetensors + card.json, the card's schema in `card`). The index, SHIPPED, is read
from those folders: a folder with a card is shipped, its card names the recipe it was
trained with (interp/training/recipes.py), and the recipe gives the description. Add a
model with `interp ship RUN NAME` (see `promote`). Transformer Programs ship in programs/.

SHIPPED is built on first use, so importing this package stays cheap (no torch)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interp.errors import CheckpointError, InputError
from interp.shipped.card import CARD_FILE, read_card

if TYPE_CHECKING:
    from interp.model import HookedTransformer

ROOT = Path(__file__).parent
WEIGHT_FILES = ("config.json", "model.safetensors")

__all__ = ["CARD_FILE", "ROOT", "SHIPPED", "model_card", "resolve_model_path", "shipped_card",
           "shipped_index", "shipped_names", "shipped_path", "training_seed_models", "training_seed_path"]


def shipped_index(root: Path = ROOT) -> dict[str, str]:
    """name -> description of every shipped model under `root`: the recipes' order first, then
    models shipped under other names (sorted). CheckpointError for a card naming no recipe."""
    return dict(_index(Path(root)))


@functools.cache
def _index(root: Path) -> tuple[tuple[str, str], ...]:
    from interp.training.recipes import RECIPES, recipe_by_name  # torch: only when the index is read

    found: dict[str, str] = {}
    for folder in (root / name for name in shipped_names(root)):
        card = read_card(folder / CARD_FILE)
        if card["recipe"] == "siit":  # interp train-siit: a task, not a recipe (interp.training.siit)
            task = card["config"].get("task", {})
            found[folder.name] = (f"SIIT model of the RASP program {task.get('program')!r} (compiled "
                                  f"one_per_op; seed {card['seed']})")
            continue
        try:
            description = recipe_by_name(card["recipe"]).description
        except InputError as err:
            raise CheckpointError(f"{folder / CARD_FILE}: {err}") from None
        if folder.name != card["recipe"]:
            description += f" (recipe {card['recipe']}, seed {card['seed']})"
        found[folder.name] = description
    order = [name for name in RECIPES if name in found] + sorted(set(found) - set(RECIPES))
    return tuple((name, found[name]) for name in order)


def __getattr__(name: str) -> Any:
    if name == "SHIPPED":  # the index, computed from the folders on first use
        return shipped_index()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def shipped_names(root: Path = ROOT) -> list[str]:
    """The folders under `root` that hold a shipped model (a card), sorted; cheap (no card is read)."""
    # A dot folder is `interp ship` building a model, not a shipped one yet.
    return sorted(p.name for p in Path(root).iterdir() if (p / CARD_FILE).is_file() and p.name[0] != ".")


def shipped_path(name: str) -> Path:
    """The directory of a shipped model."""
    if name not in shipped_names():
        raise InputError(f"unknown shipped model {name!r}; shipped models: {shipped_names()}.")
    return ROOT / name


def shipped_card(name: str) -> dict[str, Any]:
    """The validated card of a shipped model."""
    return model_card(shipped_path(name))


def model_card(name_or_path: str | Path) -> dict[str, Any]:
    """The validated card.json of a shipped model, a model directory or a training run ({} when
    the directory has none); CheckpointError naming the field when it breaks the schema."""
    path = resolve_model_path(str(name_or_path)) / CARD_FILE
    return read_card(path) if path.is_file() else {}


def resolve_model_path(name_or_path: str) -> Path:
    """A shipped model's name or a model directory, as a directory."""
    if name_or_path in shipped_names():
        return shipped_path(name_or_path)
    path = Path(name_or_path)
    if not path.is_dir():
        raise InputError(f"{name_or_path!r} is neither a shipped model ({', '.join(shipped_names())}) nor a "
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
        card_seed = model_card(path).get("seed", seed)
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
