"""Decomposition against the whole: components sum to the residual, DLA to the logits."""

import pytest
import torch
from conftest import random_model

from interp.analysis import (
    attention_patterns,
    direct_logit_attribution,
    logit_lens,
    residual_components,
    residual_readout,
)
from interp.errors import InputError

TOKENS = torch.randint(0, 7, (3, 6), generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("expand_neurons", [False, True])
@pytest.mark.parametrize("norm", [None, "LN"])
def test_components_sum_to_residual(norm, expand_neurons):
    model = random_model(normalization_type=norm)
    _, cache = model.run_with_cache(TOKENS)
    stack, labels = residual_components(cache, expand_neurons=expand_neurons)
    assert len(labels) == stack.shape[0]
    assert "L1H1" in labels and ("L0N3" in labels) == expand_neurons
    torch.testing.assert_close(stack.sum(0), cache["blocks.1.hook_resid_post"], atol=1e-5, rtol=0)
    # Independently: head L0H1's entry is its slice of hook_result.
    torch.testing.assert_close(stack[labels.index("L0H1")], cache["blocks.0.attn.hook_result"][:, :, 1])


def test_direct_logit_attribution_sums_to_logits():
    model = random_model()
    logits, cache = model.run_with_cache(TOKENS)
    target = torch.randint(0, 7, (3, 6), generator=torch.Generator().manual_seed(1))
    attrs, labels = direct_logit_attribution(cache, target)
    chosen = logits.gather(-1, target[..., None])[..., 0]
    torch.testing.assert_close(attrs.sum(0) + model.b_U[target], chosen, atol=1e-5, rtol=0)
    diff, _ = direct_logit_attribution(cache, 2, incorrect_tokens=5)
    expected = logits[..., 2] - logits[..., 5] - (model.b_U[2] - model.b_U[5])
    torch.testing.assert_close(diff.sum(0), expected, atol=1e-5, rtol=0)
    # One component by hand: MLP0's output dotted with the unembedding column.
    mlp0 = cache["blocks.0.hook_mlp_out"] @ (model.W_U[:, 2] - model.W_U[:, 5])
    torch.testing.assert_close(diff[labels.index("MLP0")], mlp0, atol=1e-5, rtol=0)


def test_logit_lens_last_stage_is_the_output():
    model = random_model()
    logits, cache = model.run_with_cache(TOKENS)
    lens, labels = logit_lens(cache)
    assert len(labels) == lens.shape[0] == 2 * model.cfg.n_layers + 1
    torch.testing.assert_close(lens[-1], logits, atol=1e-5, rtol=0)
    embed_only = cache["hook_embed"] + cache["hook_pos_embed"]
    torch.testing.assert_close(lens[0], embed_only @ model.W_U + model.b_U, atol=1e-5, rtol=0)


def test_attention_patterns_are_labelled(handbuilt, tokens):
    _, cache = handbuilt.run_with_cache(tokens[:2])
    patterns = attention_patterns(handbuilt, cache, tokens[:2], row=1)
    assert len(patterns) == 4
    names = "abcd"
    assert patterns[0].query_labels == [f"{names[t]}@{p}" for p, t in enumerate(tokens[1].tolist())]
    torch.testing.assert_close(patterns[0].weights, cache["blocks.0.attn.hook_pattern"][1, 0])
    # L0H0 is a previous-token head: query 3 puts all weight on key 2.
    assert patterns[0].weights[3, 2] == 1.0
    assert patterns[0].query_labels[0] in patterns[0].to_text()


def test_residual_readout_tracks_the_program(handbuilt, tokens):
    readout = residual_readout(handbuilt, tokens[:1])
    names = "abcd"
    seq = [names[t] for t in tokens[0].tolist()]
    assert readout.values["blocks.0.hook_resid_pre"]["tok"] == seq
    assert readout.values["blocks.0.hook_resid_pre"]["prev"] == [None] * 5
    assert readout.values["blocks.0.hook_resid_mid"]["prev"][1:] == seq[:-1]
    assert readout.values["blocks.1.hook_resid_post"]["fin"][1:] == seq[:-1]
    assert "blocks.1.hook_resid_post" in readout.to_text()


def test_residual_readout_needs_labels():
    with pytest.raises(InputError, match="residual labels"):
        residual_readout(random_model(), TOKENS)
