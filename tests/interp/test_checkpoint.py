"""Save/load round trip and every way a checkpoint can be wrong."""

import json

import pytest
import torch

from interp.errors import CheckpointError
from interp.model import (
    HookedTransformer,
    ModelConfig,
    ResidualLabel,
    ResidualLabels,
    load_model,
    save_model,
)
from interp.model.checkpoint import CONFIG_FILE, WEIGHTS_FILE


@pytest.fixture
def model() -> HookedTransformer:
    cfg = ModelConfig(n_layers=2, d_model=6, n_ctx=5, d_vocab=4, n_heads=2, d_mlp=8,
                      normalization_type="LN", vocab=["a", "b", "c", "d"], seed=3)
    labels = ResidualLabels(
        [ResidualLabel(0, "tokens", "a"), ResidualLabel(1, "tokens", "b"),
         ResidualLabel(2, "frac", numerical=True, first_stage=1, last_stage=3)], 6)
    return HookedTransformer(cfg, labels=labels, metadata={"producer": "test"}).init_weights()


def test_round_trip_is_bit_exact(model, tmp_path):
    save_model(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    for (name, a), (name_b, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert name == name_b
        assert torch.equal(a, b), name
    assert loaded.cfg == model.cfg
    assert loaded.residual_labels == model.residual_labels
    assert loaded.metadata == {"producer": "test"}
    tokens = torch.tensor([[0, 1, 2, 3]])
    assert torch.equal(loaded(tokens), model(tokens))


def test_missing_directory(tmp_path):
    with pytest.raises(CheckpointError, match="not a directory"):
        load_model(tmp_path / "nope")


def test_truncated_weights(model, tmp_path):
    save_model(model, tmp_path)
    weights = tmp_path / WEIGHTS_FILE
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_model(tmp_path)


def test_garbage_weights(model, tmp_path):
    save_model(model, tmp_path)
    (tmp_path / WEIGHTS_FILE).write_bytes(b"\x80\x04not a safetensors file" * 10)
    with pytest.raises(CheckpointError, match=WEIGHTS_FILE):
        load_model(tmp_path)


def test_corrupt_config(model, tmp_path):
    save_model(model, tmp_path)
    (tmp_path / CONFIG_FILE).write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_model(tmp_path)


def test_foreign_config(model, tmp_path):
    save_model(model, tmp_path)
    # A Hugging Face style config.json is not ours.
    (tmp_path / CONFIG_FILE).write_text(json.dumps({"model_type": "gpt2", "n_layer": 2}))
    with pytest.raises(CheckpointError, match="different tool"):
        load_model(tmp_path)


def test_config_weights_mismatch(model, tmp_path):
    save_model(model, tmp_path)
    header = json.loads((tmp_path / CONFIG_FILE).read_text())
    header["config"]["d_mlp"] = 16
    (tmp_path / CONFIG_FILE).write_text(json.dumps(header))
    with pytest.raises(CheckpointError, match="blocks.0.mlp.W_in has shape"):
        load_model(tmp_path)


def test_invalid_config_values(model, tmp_path):
    save_model(model, tmp_path)
    header = json.loads((tmp_path / CONFIG_FILE).read_text())
    header["config"]["attention_kind"] = "quantum"
    (tmp_path / CONFIG_FILE).write_text(json.dumps(header))
    with pytest.raises(CheckpointError, match="attention_kind"):
        load_model(tmp_path)


def test_pickle_file_is_rejected_not_unpickled(tmp_path):
    # A torch.save pickle under our weights name must never be executed or loaded.
    save_model(HookedTransformer(ModelConfig(n_layers=1, d_model=4, n_ctx=3, d_vocab=2)), tmp_path)
    torch.save({"x": torch.zeros(2)}, tmp_path / WEIGHTS_FILE)
    with pytest.raises(CheckpointError):
        load_model(tmp_path)


@pytest.mark.parametrize("overrides", [
    {}, {"normalization_type": "LN"}, {"d_mlp": None}, {"positional_embedding": "none"},
    {"d_input": 3, "d_vocab": 0, "d_vocab_out": 1}, {"d_head": 5, "n_heads": 3, "d_vocab_out": 2},
])
def test_parameter_count_matches_the_built_model(overrides):
    settings = dict(n_layers=2, d_model=6, n_ctx=5, d_vocab=4, n_heads=2, d_mlp=8)
    settings.update(overrides)
    cfg = ModelConfig(**settings)
    assert cfg.parameter_count() == sum(p.numel() for p in HookedTransformer(cfg).parameters())


def test_every_config_field_has_a_validation_rule():
    import dataclasses

    from interp.model.config import FIELD_RULES

    missing = {f.name for f in dataclasses.fields(ModelConfig)} - set(FIELD_RULES)
    assert not missing, f"add a row to interp.model.config.FIELD_RULES for {sorted(missing)}"
