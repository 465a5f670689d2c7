"""The extra icl-gpt training seeds kept for the studies (studies/models/) are the shipped recipe
with only the seed changed, and their cards describe the weights on disk."""

from pathlib import Path

import pytest

from interp.model import load_model
from interp.shipped import model_card
from interp.training.evaluation import report, task_of
from interp.training.recipes import recipe_by_name

MODELS = Path(__file__).resolve().parents[2] / "studies" / "models"
SEEDS = [1, 2]


@pytest.mark.parametrize("seed", SEEDS)
def test_extra_seed_is_the_shipped_recipe_with_only_the_seed_changed(seed):
    directory = MODELS / f"icl-gpt-seed{seed}"
    model, card = load_model(directory), model_card(directory)
    recipe = recipe_by_name("icl-gpt").with_overrides({"train": {"seed": seed}})
    fresh = recipe.build_model(recipe.build_task())  # the reference: what the recipe builds
    assert model.cfg.to_dict() == fresh.cfg.to_dict() and model.cfg.seed == seed
    assert model.metadata == fresh.metadata
    assert card["seed"] == seed and card["command"] == f"interp train icl-gpt --seed {seed}"
    assert card["config"] == recipe.to_dict()
    assert card["steps"] == recipe.train_config().steps and card["stop_reason"] == "completed"
    assert card["cpu_seconds"] > 0 and card["wall_seconds"] > 0
    assert (directory / "model.safetensors").stat().st_size < 2**20


@pytest.mark.parametrize("seed", SEEDS)
def test_card_report_is_these_weights(seed):
    directory = MODELS / f"icl-gpt-seed{seed}"
    model = load_model(directory)
    numbers = report(model, task_of(model))
    stored = model_card(directory)["report"]
    assert numbers["n_prompts"] == stored["n_prompts"]
    assert numbers["error_per_dim"] == pytest.approx(stored["error_per_dim"], rel=1e-4, abs=1e-6)
