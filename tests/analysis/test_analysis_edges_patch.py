"""Edge interventions and patching against independent recomputation."""

import pytest
import torch
from conftest import random_model
from transformer_lens import patching

from interp.analysis import ablate, activation_patch, patch_nodes, path_patch
from interp.analysis.discover import corrupted_outputs
from interp.analysis.edges import edge_hooks, run_from_layer
from interp.analysis.nodes import component_hooks_enabled
from interp.analysis.replace import Fixed
from interp.circuit import Circuit, Edge

TOKENS = torch.randint(0, 7, (5, 6), generator=torch.Generator().manual_seed(0))
CORRUPTED = torch.randint(0, 7, (5, 6), generator=torch.Generator().manual_seed(9))


def incoming(model, node):
    return [e for e in Circuit.full(model.cfg).edges if e.dst == node]


def cut_all(model, node, kind="zero"):
    """Run with every incoming edge of `node` removed (corrupted run = CORRUPTED)."""
    with component_hooks_enabled(model):
        replacements = {
            n: Fixed(v) for n, v in corrupted_outputs(model, TOKENS, kind, corrupted=CORRUPTED).items()
        }
        hooks = edge_hooks(model, incoming(model, node), replacements)
        return model.run_with_hooks(TOKENS, fwd_hooks=hooks)


@pytest.mark.parametrize("norm", [None, "LN"])
def test_cutting_all_head_inputs_equals_running_the_head_on_corrupted_resid(norm):
    model = random_model(normalization_type=norm)
    _, corrupt_cache = model.run_with_cache(CORRUPTED)
    model.cfg.use_split_qkv_input = True

    def corrupt_head0(value, hook):
        value = value.clone()
        value[:, :, 0] = corrupt_cache["blocks.1.hook_resid_pre"]
        return value

    names = [f"blocks.1.attn.hook_{s}_input" for s in "qkv"]
    expected = model.run_with_hooks(TOKENS, fwd_hooks=[(n, corrupt_head0) for n in names])
    model.cfg.use_split_qkv_input = False
    torch.testing.assert_close(cut_all(model, "L1H0", "resample"), expected, atol=1e-5, rtol=0)
    assert not torch.allclose(expected, model(TOKENS), atol=1e-3)


def test_zero_cutting_all_mlp_and_logit_inputs_leaves_only_biases():
    model = random_model()
    b_o0 = model.blocks[0].attn.b_O
    # MLP1 then reads only the attention output biases of layers 0 and 1.
    model.cfg.use_hook_mlp_in = True

    def biases_only(value, hook):
        return (b_o0 + model.blocks[1].attn.b_O).expand_as(value).clone()

    expected = model.run_with_hooks(TOKENS, fwd_hooks=[("blocks.1.hook_mlp_in", biases_only)])
    model.cfg.use_hook_mlp_in = False
    torch.testing.assert_close(cut_all(model, "MLP1"), expected, atol=1e-5, rtol=0)
    bias_logits = (b_o0 + model.blocks[1].attn.b_O) @ model.W_U + model.b_U
    torch.testing.assert_close(cut_all(model, "logits"), bias_logits.expand(5, 6, -1), atol=1e-5, rtol=0)


def test_edge_ablation_through_ablate_context():
    model = random_model()
    expected = cut_all(model, "L1H0", "zero")
    with ablate(model, edges=incoming(model, "L1H0"), kind="zero"):
        torch.testing.assert_close(model(TOKENS), expected, atol=1e-6, rtol=0)
    # An edge is narrower than its source node: cutting L0H1 -> logits only leaves the
    # rest of L0H1's effect (through layer 1) in place.
    with ablate(model, edges=[Edge("L0H1", "logits")]):
        edge_only = model(TOKENS)
    with ablate(model, heads=[(0, 1)]):
        node = model(TOKENS)
    assert not torch.allclose(edge_only, node, atol=1e-4)


def test_run_from_layer_matches_full_forward():
    model = random_model()
    logits, cache = model.run_with_cache(TOKENS)
    torch.testing.assert_close(run_from_layer(model, cache["blocks.1.hook_resid_pre"], 1), logits)


def test_path_patch_to_logits_is_the_direct_effect():
    model = random_model()
    _, clean = model.run_with_cache(TOKENS)
    _, corrupt = model.run_with_cache(CORRUPTED)
    delta = corrupt["blocks.0.attn.hook_result"][:, :, 1] - clean["blocks.0.attn.hook_result"][:, :, 1]
    expected = (model(TOKENS) + delta @ model.W_U)[:, -1, 3].mean()
    value = path_patch(model, TOKENS, CORRUPTED, "L0H1", ["logits"], lambda lg: lg[:, -1, 3].mean())
    assert value == pytest.approx(expected.item(), abs=1e-5)


def test_clean_into_clean_is_a_noop():
    model = random_model()
    logits, cache = model.run_with_cache(TOKENS)

    def metric(lg):
        return lg[:, -1, 2].mean()

    base = metric(logits).item()
    for what in ("resid_pre", "mlp_out", "head_out"):
        values = activation_patch(model, TOKENS, TOKENS, metric, what)
        torch.testing.assert_close(values, torch.full_like(values, base), atol=1e-5, rtol=0)
    assert patch_nodes(model, TOKENS, cache, ["L0H1", "MLP1", "embed"], metric) == pytest.approx(base)
    assert path_patch(model, TOKENS, TOKENS, "L0H0", ["L1H0", "MLP1"], metric) == pytest.approx(base)


def test_patch_nodes_agrees_with_transformer_lens():
    model = random_model()
    _, clean_cache = model.run_with_cache(TOKENS)

    def metric(lg):
        return lg[:, -1, 2].mean()

    tl = patching.get_act_patch_attn_head_out_all_pos(model, CORRUPTED, clean_cache, metric)
    for layer in range(2):
        for head in range(2):
            ours = patch_nodes(model, CORRUPTED, clean_cache, [f"L{layer}H{head}"], metric)
            assert ours == pytest.approx(tl[layer, head].item(), abs=1e-5)
    sweep = activation_patch(model, TOKENS, CORRUPTED, metric, "mlp_out")
    one = patch_nodes(model, CORRUPTED, clean_cache, ["MLP0"], metric, positions=[4])
    assert sweep[0, 4].item() == pytest.approx(one, abs=1e-5)
