"""Residual labels and the TransformerBridge conversion (CLI tests: tests/cli/)."""

import pytest
import torch

from interp.circuit import Circuit, Edge
from interp.errors import ConfigError, InputError
from interp.model import (
    HookedTransformer,
    ModelConfig,
    ResidualLabel,
    ResidualLabels,
    residual_stage,
)
from interp.model.tl_bridge import to_transformer_bridge


def test_labels_read_categorical_numerical_and_none():
    labels = ResidualLabels.from_names(["tokens:a", "tokens:b", "frac", "one"])
    resid = torch.tensor([[1.0, 0.0, 0.25, 1.0], [0.0, 1.0, 0.5, 1.0], [0.0, 0.0, 0.0, 1.0]])
    assert labels.read(resid, "tokens") == ["a", "b", None]
    assert labels.read(resid, "frac") == [0.25, 0.5, 0.0]
    assert labels.read(resid.unsqueeze(0), "tokens") == [["a", "b", None]]
    with pytest.raises(InputError, match="no residual direction holds variable 'x'"):
        labels.read(resid, "x")


def test_labels_respect_stage_ranges_of_reused_directions():
    labels = ResidualLabels(
        [ResidualLabel(0, "early", 1, first_stage=0, last_stage=1),
         ResidualLabel(0, "late", 7, first_stage=2)], 1)
    assert labels.variables(stage=0) == ["early"]
    assert labels.variables(stage=2) == ["late"]
    assert labels.names() == ["early:1|late:7"]
    assert residual_stage("blocks.1.hook_resid_mid") == 3
    with pytest.raises(InputError):
        residual_stage("blocks.1.attn.hook_z")


@pytest.mark.parametrize("norm,d_mlp", [(None, 16), ("LN", 16), (None, None)])
def test_transformer_bridge_gives_identical_logits(norm, d_mlp):
    cfg = ModelConfig(n_layers=2, d_model=8, n_ctx=6, d_vocab=5, n_heads=2, d_mlp=d_mlp,
                      normalization_type=norm, causal=True, act_fn="gelu", seed=1)
    model = HookedTransformer(cfg).init_weights(std=0.4)
    with torch.no_grad():
        model.unembed.b_U.normal_(generator=torch.Generator().manual_seed(0))
    tokens = torch.randint(0, 5, (4, 6), generator=torch.Generator().manual_seed(1))
    bridge = to_transformer_bridge(model)
    torch.testing.assert_close(bridge(tokens), model(tokens), atol=1e-5, rtol=1e-5)


def test_transformer_bridge_refuses_hard_attention():
    cfg = ModelConfig(n_layers=1, d_model=4, n_ctx=3, d_vocab=2, attention_kind="hard")
    with pytest.raises(ConfigError, match="attention_kind='hard'"):
        to_transformer_bridge(HookedTransformer(cfg))


def test_full_circuit_edges_respect_computation_order():
    cfg = ModelConfig(n_layers=2, d_model=4, n_ctx=3, d_vocab=2, n_heads=2, d_mlp=4)
    circuit = Circuit.full(cfg)
    edges = circuit.edge_set()
    assert Edge("L0H0", "L1H1", "k") in edges
    assert Edge("L0H0", "L0H1", "q") not in edges  # same layer: parallel
    assert Edge("MLP1", "L1H0", "q") not in edges
    assert Edge("MLP0", "MLP1") in edges and Edge("MLP1", "logits") in edges
    # Brute force: 2 sources + 4 heads x 3 slots each reading everything before its layer.
    n_head_edges = 2 * 3 * 2 + 2 * 3 * (2 + 2 + 1)
    # MLP0 reads 4 nodes, MLP1 reads 7, logits reads all 8 others.
    assert len(edges) == n_head_edges + 4 + 7 + 8
    assert Circuit.from_json(circuit.to_json()).edge_set() == edges
