"""Ablation against hand-written hooks and against a model whose circuit is known."""

import pytest
import torch
from conftest import random_model

from interp.analysis import ablate, ablation_effect, kl_divergence
from interp.analysis.replace import resample_rows
from interp.errors import InputError

TOKENS = torch.randint(0, 7, (8, 6), generator=torch.Generator().manual_seed(0))
REFERENCE = torch.randint(0, 7, (8, 6), generator=torch.Generator().manual_seed(3))


def test_unused_components_leave_output_unchanged(handbuilt, tokens):
    clean = handbuilt(tokens)
    for kwargs in [dict(heads=[(0, 1), (1, 1)]), dict(mlps=[0]), dict(neurons=[(0, 0), (1, 7)])]:
        for kind in ("zero", "mean", "resample"):
            with ablate(handbuilt, kind=kind, reference=tokens.flip(0), **kwargs):
                torch.testing.assert_close(handbuilt(tokens), clean, atol=0, rtol=0)


def test_used_components_change_output(handbuilt, tokens):
    clean = handbuilt(tokens).argmax(-1)
    for kwargs in [dict(heads=[(0, 0)]), dict(heads=[(1, 0)]), dict(mlps=[1]), dict(neurons=[(1, 2)])]:
        with ablate(handbuilt, kind="zero", **kwargs):
            assert (handbuilt(tokens).argmax(-1) != clean).any(), kwargs


def test_zero_head_matches_hand_written_hook():
    model = random_model()

    def zero_z(z, hook):
        z = z.clone()
        z[:, :, 1] = 0.0
        return z

    expected = model.run_with_hooks(TOKENS, fwd_hooks=[("blocks.0.attn.hook_z", zero_z)])
    with ablate(model, heads=[(0, 1)]):
        torch.testing.assert_close(model(TOKENS), expected, atol=1e-5, rtol=0)
    # Context left cleanly: flags and hooks restored.
    assert not model.cfg.use_split_qkv_input
    torch.testing.assert_close(model(TOKENS), random_model()(TOKENS))


def test_mean_and_resample_match_hand_written_patches():
    model = random_model()
    _, ref_cache = model.run_with_cache(REFERENCE)
    mean_out = ref_cache["blocks.0.hook_mlp_out"].mean(0, keepdim=True)

    def put_mean(value, hook):
        return mean_out.expand_as(value).clone()

    expected = model.run_with_hooks(TOKENS, fwd_hooks=[("blocks.0.hook_mlp_out", put_mean)])
    with ablate(model, mlps=[0], kind="mean", reference=REFERENCE):
        torch.testing.assert_close(model(TOKENS), expected, atol=1e-5, rtol=0)

    rows = resample_rows(8, 8, seed=5)
    assert (rows != torch.arange(8)).all()
    resampled_z = ref_cache["blocks.1.attn.hook_z"][rows]

    def put_rows(z, hook):
        z = z.clone()
        z[:, :, 0] = resampled_z[:, :, 0]
        return z

    expected = model.run_with_hooks(TOKENS, fwd_hooks=[("blocks.1.attn.hook_z", put_rows)])
    with ablate(model, heads=[(1, 0)], kind="resample", reference=REFERENCE, seed=5):
        torch.testing.assert_close(model(TOKENS), expected, atol=1e-5, rtol=0)


def test_positions_limit_the_ablation():
    model = random_model()
    _, clean = model.run_with_cache(TOKENS)
    with ablate(model, neurons=[(0, 4)], positions=[1, 3]):
        _, ablated = model.run_with_cache(TOKENS)
    post_clean, post = clean["blocks.0.mlp.hook_post"], ablated["blocks.0.mlp.hook_post"]
    assert (post[:, [1, 3], 4] == 0).all()
    torch.testing.assert_close(post[:, [0, 2, 4, 5]], post_clean[:, [0, 2, 4, 5]])
    torch.testing.assert_close(post[:, :, :4], post_clean[:, :, :4])


def test_ablation_effect_is_metric_difference(handbuilt, tokens):
    metric = kl_divergence(handbuilt(tokens))
    assert ablation_effect(handbuilt, tokens, metric, heads=[(1, 1)]) == 0.0
    # Without L1H0 nothing reaches `fin`: the logits are all zero, the output uniform.
    probs = handbuilt(tokens).softmax(-1)
    expected = (probs * (probs.log() - torch.tensor(0.25).log())).sum(-1).mean().item()
    effect = ablation_effect(handbuilt, tokens, metric, nodes=["L1H0"])
    assert effect == pytest.approx(expected, rel=1e-5) and effect > 0


def test_bad_requests_raise_input_error():
    model = random_model()
    with pytest.raises(InputError, match="kind"):
        with ablate(model, heads=[(0, 0)], kind="gaussian"):
            pass
    with pytest.raises(InputError, match="reference"):
        with ablate(model, heads=[(0, 0)], kind="mean"):
            pass
    with pytest.raises(InputError, match="outside the model"):
        with ablate(model, heads=[(5, 0)]):
            pass
    with pytest.raises(InputError, match="d_mlp"):
        with ablate(model, neurons=[(0, 99)]):
            pass
