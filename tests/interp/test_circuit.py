"""The typed component vocabulary: Node names, parsing and residual stages."""

import pytest

from interp.circuit import Circuit, Edge, Node, node_order, residual_stage
from interp.errors import InputError
from interp.model import ModelConfig
from interp.model.labels import residual_stage as hook_stage


def test_names_round_trip_and_order():
    cfg = ModelConfig(n_layers=2, d_model=4, n_ctx=3, d_vocab=3, n_heads=2, d_mlp=4)
    names = node_order(cfg)
    assert names == ["embed", "pos_embed", "L0H0", "L0H1", "MLP0", "L1H0", "L1H1", "MLP1", "logits"]
    assert [Node.parse(n).name for n in names] == names
    assert sorted(names, key=lambda n: Node.parse(n).sort_key) == names


@pytest.mark.parametrize("name,stage,hook", [
    ("embed", 0, "blocks.0.hook_resid_pre"), ("pos_embed", 0, "blocks.0.hook_resid_pre"),
    ("L0H1", 1, "blocks.0.hook_resid_mid"), ("MLP0", 2, "blocks.0.hook_resid_post"),
    ("L3H0", 7, "blocks.3.hook_resid_mid"), ("MLP3", 8, "blocks.3.hook_resid_post"),
])
def test_stage_is_the_first_residual_hook_holding_the_output(name, stage, hook):
    assert Node.parse(name).stage == stage == hook_stage(hook)


def test_logits_have_no_stage_and_residual_stage_checks_its_input():
    assert Node("logits").stage is None
    assert residual_stage(2, "pre") == 4
    with pytest.raises(InputError, match="'middle'"):
        residual_stage(0, "middle")


@pytest.mark.parametrize("bad", ["L1", "H0", "MLP", "mlp0", "L-1H0", "", "logit"])
def test_unknown_names_are_input_errors(bad):
    with pytest.raises(InputError, match="unknown circuit node"):
        Node.parse(bad)


@pytest.mark.parametrize("kind,layer,head", [("head", 0, None), ("mlp", -1, None), ("embed", 2, None),
                                             ("logits", -1, 0), ("neuron", 0, None)])
def test_malformed_nodes_are_refused(kind, layer, head):
    with pytest.raises(InputError):
        Node(kind, layer, head)


def test_edges_expose_typed_endpoints():
    edge = Edge.parse("MLP0->L1H1.k")
    assert edge.src_node == Node("mlp", 0) and edge.dst_node == Node("head", 1, 1)
    cfg = ModelConfig(n_layers=1, d_model=4, n_ctx=3, d_vocab=3, n_heads=1, d_mlp=4)
    # embed, pos_embed -> L0H0 (3 slots each), MLP0, logits; L0H0 -> MLP0, logits; MLP0 -> logits.
    assert len(Circuit.full(cfg).edges) == 2 * 3 + 2 + 2 + 1 + 1 + 1
