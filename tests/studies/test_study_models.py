"""The extra icl-gpt training seeds kept for the studies (studies/models/) are the shipped recipe
with only the seed changed, and their cards describe the weights on disk."""

from pathlib import Path

import pytest

from interp.evaluation.task_reports import report, task_of
from interp.model import load_model
from interp.shipped import model_card
from interp.training.recipes import recipe_by_name

MODELS = Path(__file__).resolve().parents[2] / "studies" / "models"
SEEDS = [1, 2]


def _card_of_recipe_built_model(directory: Path, recipe, seed: int) -> dict:
    """Check the stored model is what `recipe` builds (config, seed, metadata), small and timed;
    return its card."""
    model, card = load_model(directory), model_card(directory)
    fresh = recipe.build_model(recipe.build_task())  # the reference: what the recipe builds
    assert model.cfg.to_dict() == fresh.cfg.to_dict() and model.cfg.seed == seed
    assert model.metadata == fresh.metadata
    assert card["cpu_seconds"] > 0 and card["wall_seconds"] > 0
    assert (directory / "model.safetensors").stat().st_size < 2**20
    return card


@pytest.mark.parametrize("seed", SEEDS)
def test_extra_seed_is_the_shipped_recipe_with_only_the_seed_changed(seed):
    recipe = recipe_by_name("icl-gpt").with_overrides({"train": {"seed": seed}})
    card = _card_of_recipe_built_model(MODELS / f"icl-gpt-seed{seed}", recipe, seed)
    assert card["seed"] == seed and card["command"] == f"interp train icl-gpt --seed {seed}"
    assert card["config"] == recipe.to_dict()
    assert card["steps"] == recipe.train_config().steps and card["stop_reason"] == "completed"


@pytest.mark.parametrize("seed", SEEDS)
def test_card_report_is_these_weights(seed):
    directory = MODELS / f"icl-gpt-seed{seed}"
    model = load_model(directory)
    numbers = report(model, task_of(model))
    stored = model_card(directory)["report"]
    assert numbers["n_prompts"] == stored["n_prompts"]
    assert numbers["error_per_dim"] == pytest.approx(stored["error_per_dim"], rel=1e-4, abs=1e-6)


# The addition seeds: addition-1l is the shipped model's two commands (the default 5000 steps, then
# `--resume --steps 8000`), addition-2l one command; only the seed changes.
ADDITION = {"addition-1l": 8000, "addition-2l": None}  # recipe -> the resumed run's steps (None: one run)


@pytest.mark.parametrize("recipe_name", sorted(ADDITION))
@pytest.mark.parametrize("seed", SEEDS)
def test_addition_seed_is_the_shipped_recipe_with_only_the_seed_changed(recipe_name, seed):
    recipe = recipe_by_name(recipe_name).with_overrides({"train": {"seed": seed}})
    card = _card_of_recipe_built_model(MODELS / f"{recipe_name}-seed{seed}", recipe, seed)
    steps = ADDITION[recipe_name] or recipe.train_config().steps
    final = recipe.with_overrides({"train": {"seed": seed, "steps": steps}})
    assert card["seed"] == seed and card["config"] == final.to_dict()
    assert card["steps"] == steps and card["stop_reason"] == "completed"
    assert all(f"--seed {seed}" in command for command in card["commands"])
    assert len(card["commands"]) == (2 if ADDITION[recipe_name] else 1)


# One checkpoint per recipe: the report scores 10,000 questions (8-15 s at load 4 for a pair).
@pytest.mark.parametrize(("recipe_name", "seed"), [("addition-1l", 1), ("addition-2l", 2)])
def test_addition_card_report_is_these_weights(recipe_name, seed):
    directory = MODELS / f"{recipe_name}-seed{seed}"
    model = load_model(directory)
    numbers = report(model, task_of(model))
    stored = model_card(directory)["report"]
    assert numbers["questions"] == stored["questions"]
    assert numbers["exact_match"] == pytest.approx(stored["exact_match"], abs=1e-6)
    for name, stored_class in stored["exact_match_by_carry_class"].items():
        ours = numbers["exact_match_by_carry_class"][name]
        assert ours["count"] == stored_class["count"]
        assert ours["exact_match"] == pytest.approx(stored_class["exact_match"], abs=1e-6)
