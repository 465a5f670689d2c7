"""A recipe can continue from a trained model (init_from): same weights in, a shape mismatch refused."""

import pytest
import torch

from interp.errors import ConfigError
from interp.model import save_model
from interp.training.recipes import recipe_by_name


def test_init_from_starts_from_the_saved_weights_and_refuses_another_shape(tmp_path):
    recipe = recipe_by_name("icl-lsa")
    task = recipe.build_task()
    trained = recipe.build_model(task)
    with torch.no_grad():
        for param in trained.parameters():
            param.add_(1.0)  # anything a fresh init would not give
    save_model(trained, tmp_path / "start")
    continued = recipe.with_overrides({"init_from": str(tmp_path / "start")})
    assert continued.to_dict()["init_from"] == str(tmp_path / "start")
    model = continued.build_model(task)
    for (name, ours), theirs in zip(model.state_dict().items(), trained.state_dict().values()):
        assert torch.equal(ours, theirs), name
    wider = recipe.with_overrides({"model": {"d_model": 8}, "init_from": str(tmp_path / "start")})
    with pytest.raises(ConfigError, match="different model config"):
        wider.build_model(task)
