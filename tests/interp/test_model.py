"""The hooked model against TransformerLens tools and independent recomputation."""

import pytest
import torch
from transformer_lens import patching

from interp.errors import ConfigError, InputError
from interp.model import HookedTransformer, ModelConfig


def make_model(**overrides) -> HookedTransformer:
    settings = dict(n_layers=2, d_model=16, n_ctx=8, d_vocab=10, n_heads=2, d_mlp=32, seed=0)
    settings.update(overrides)
    model = HookedTransformer(ModelConfig(**settings)).init_weights(std=0.3)
    with torch.no_grad():  # non-zero biases so bias bookkeeping is actually tested
        for name, param in model.named_parameters():
            if name.split(".")[-1].startswith("b_"):
                param.normal_(0, 0.1, generator=torch.Generator().manual_seed(hash(name) % 1000))
    return model


TOKENS = torch.randint(0, 10, (3, 8), generator=torch.Generator().manual_seed(0))


def reference_forward(model: HookedTransformer, tokens: torch.Tensor) -> torch.Tensor:
    """Plain re-implementation of a no-LN softmax transformer, without hooks."""
    cfg = model.cfg
    x = model.embed.W_E[tokens] + model.pos_embed.W_pos[: tokens.shape[1]]
    seq = tokens.shape[1]
    for block in model.blocks:
        a = block.attn
        q = torch.einsum("bpd,hde->bhpe", x, a.W_Q) + a.b_Q[None, :, None]
        k = torch.einsum("bpd,hde->bhpe", x, a.W_K) + a.b_K[None, :, None]
        v = torch.einsum("bpd,hde->bhpe", x, a.W_V) + a.b_V[None, :, None]
        scores = q @ k.transpose(-1, -2) / cfg.d_head**0.5
        if cfg.causal:
            scores = scores.masked_fill(torch.ones(seq, seq).triu(1).bool(), float("-inf"))
        z = scores.softmax(-1) @ v
        x = x + torch.einsum("bhpe,hed->bpd", z, a.W_O) + a.b_O
        x = x + torch.relu(x @ block.mlp.W_in + block.mlp.b_in) @ block.mlp.W_out + block.mlp.b_out
    return x @ model.unembed.W_U + model.unembed.b_U


@pytest.mark.parametrize("causal", [False, True])
def test_forward_matches_plain_reimplementation(causal):
    model = make_model(causal=causal)
    torch.testing.assert_close(model(TOKENS), reference_forward(model, TOKENS))


@pytest.mark.parametrize("norm", [None, "LN"])
def test_decompose_resid_sums_to_resid_post(norm):
    model = make_model(normalization_type=norm)
    _, cache = model.run_with_cache(TOKENS)
    parts = cache.decompose_resid(layer=-1)
    torch.testing.assert_close(
        parts.sum(0), cache["blocks.1.hook_resid_post"], atol=1e-5, rtol=0
    )


def test_head_results_plus_bias_equal_attn_out():
    model = make_model()
    _, cache = model.run_with_cache(TOKENS)
    for layer in range(2):
        summed = cache[f"blocks.{layer}.attn.hook_result"].sum(dim=2)
        torch.testing.assert_close(
            summed + model.blocks[layer].attn.b_O,
            cache[f"blocks.{layer}.hook_attn_out"], atol=1e-5, rtol=0,
        )
    stacked = cache.stack_head_results(layer=1)
    torch.testing.assert_close(stacked[1], cache["blocks.0.attn.hook_result"][:, :, 1])


def test_zeroing_one_head_changes_exactly_its_contribution():
    model = make_model()
    _, clean = model.run_with_cache(TOKENS)

    def zero_head(z, hook):
        z[:, :, 1] = 0.0
        return z

    model.add_hook("blocks.0.attn.hook_z", zero_head)
    _, ablated = model.run_with_cache(TOKENS)
    model.reset_hooks()
    result_clean = clean["blocks.0.attn.hook_result"]
    result_ablated = ablated["blocks.0.attn.hook_result"]
    torch.testing.assert_close(result_ablated[:, :, 0], result_clean[:, :, 0])
    assert result_ablated[:, :, 1].abs().max() == 0
    attn_delta = ablated["blocks.0.hook_attn_out"] - clean["blocks.0.hook_attn_out"]
    torch.testing.assert_close(attn_delta, -result_clean[:, :, 1], atol=1e-5, rtol=0)


def test_in_place_hook_on_k_takes_effect_and_trains():
    """q, k, v come from one fused matmul; editing k in place (grad on) must act on k alone."""
    model = make_model()
    reference = make_model()
    with torch.no_grad():  # head 1's keys are exactly zero when its key weights and bias are
        reference.blocks[0].attn.W_K[1] = 0.0
        reference.blocks[0].attn.b_K[1] = 0.0

    def zero_head_keys(k, hook):
        k[:, :, 1] = 0.0  # in place, returns None

    model.add_hook("blocks.0.attn.hook_k", zero_head_keys)
    logits = model(TOKENS)
    model.reset_hooks()
    torch.testing.assert_close(logits, reference(TOKENS))
    logits.sum().backward()  # autograd accepts the in-place edit of a fused projection's slice
    assert model.blocks[0].attn.W_Q.grad is not None


def test_logit_attrs_sum_to_logit_difference():
    model = make_model(normalization_type=None)
    logits, cache = model.run_with_cache(TOKENS)
    parts, labels = cache.decompose_resid(layer=-1, return_labels=True)
    attrs = cache.logit_attrs(parts, tokens=3, incorrect_tokens=5)
    expected = logits[..., 3] - logits[..., 5]
    bias = model.unembed.b_U[3] - model.unembed.b_U[5]
    torch.testing.assert_close(attrs.sum(0) + bias, expected, atol=1e-4, rtol=0)


def test_tl_activation_patching_runs_with_documented_shapes():
    model = make_model()
    corrupted = TOKENS.flip(0)
    _, clean_cache = model.run_with_cache(TOKENS)

    def metric(logits):
        return logits[:, -1, 0].mean()

    resid = patching.get_act_patch_resid_pre(model, corrupted, clean_cache, metric)
    assert resid.shape == (2, 8)
    heads = patching.get_act_patch_attn_head_out_all_pos(model, corrupted, clean_cache, metric)
    assert heads.shape == (2, 2)
    # One entry recomputed by hand: clean resid_pre of layer 1 at position 5 put into the corrupted run.
    def patch(resid, hook):
        resid[:, 5] = clean_cache["blocks.1.hook_resid_pre"][:, 5]
        return resid

    by_hand = metric(model.run_with_hooks(corrupted, fwd_hooks=[("blocks.1.hook_resid_pre", patch)]))
    torch.testing.assert_close(resid[1, 5], by_hand)
    assert not torch.allclose(resid[1, 5], metric(model(corrupted)))


def test_clean_patch_into_clean_run_is_noop():
    model = make_model()
    logits, cache = model.run_with_cache(TOKENS)

    def metric(lg):
        return lg[:, -1, 0].mean()

    patched = patching.get_act_patch_resid_pre(model, TOKENS, cache, metric)
    torch.testing.assert_close(patched, torch.full_like(patched, metric(logits).item()))


def test_split_qkv_input_gives_same_output_and_per_head_hooks():
    model = make_model(use_split_qkv_input=True)
    plain = make_model()
    torch.testing.assert_close(model(TOKENS), plain(TOKENS))
    _, cache = model.run_with_cache(TOKENS)
    # TL 4.3 names (patching.get_act_patch_direct_path reads these).
    assert cache["blocks.1.attn.hook_q_input"].shape == (3, 8, 2, 16)
    assert "blocks.1.hook_q_input" not in cache.keys()  # cached once, under the TL name


def test_legacy_qkv_input_names_are_aliases_of_the_tl_names():
    model = make_model(use_split_qkv_input=True)
    seen = []
    hook = ("blocks.0.hook_k_input", lambda value, hook: seen.append(hook.name))
    model.run_with_hooks(TOKENS, fwd_hooks=[hook])
    assert seen == ["blocks.0.attn.hook_k_input"]


def test_hard_attention_is_uniform_over_ties():
    model = make_model(attention_kind="hard", n_layers=1)
    with torch.no_grad():
        model.blocks[0].attn.W_Q.zero_()
        model.blocks[0].attn.b_Q.zero_()
    _, cache = model.run_with_cache(TOKENS)
    pattern = cache["blocks.0.attn.hook_pattern"]
    torch.testing.assert_close(pattern, torch.full_like(pattern, 1 / 8))


def test_linear_attention_uses_raw_scores():
    model = make_model(attention_kind="linear", causal=True, n_layers=1)
    _, cache = model.run_with_cache(TOKENS)
    scores = cache["blocks.0.attn.hook_attn_scores"]
    torch.testing.assert_close(cache["blocks.0.attn.hook_pattern"], scores)
    assert (scores[..., 0, 1:] == 0).all()


def test_vector_inputs():
    model = HookedTransformer(
        ModelConfig(n_layers=1, d_model=8, n_ctx=5, d_vocab=1, d_input=3, d_vocab_out=1, seed=0)
    ).init_weights()
    out = model(torch.randn(2, 5, 3))
    assert out.shape == (2, 5, 1)
    with pytest.raises(InputError, match="d_input|vectors"):
        model(torch.randn(2, 5, 4))


def test_bad_inputs_raise_input_error():
    model = make_model(vocab=[f"t{i}" for i in range(10)])
    with pytest.raises(InputError, match="outside the vocabulary"):
        model(torch.tensor([[1, 2, 10]]))
    with pytest.raises(InputError, match="n_ctx"):
        model(torch.zeros(1, 9, dtype=torch.long))
    with pytest.raises(InputError, match="'zz' at position 1"):
        model([["t1", "zz"]])  # a list of token-name lists: names verbatim
    with pytest.raises(InputError, match="gets past 'zz'"):
        model("t1 zz")
    with pytest.raises(InputError, match="empty"):
        model(torch.zeros(1, 0, dtype=torch.long))
    assert model([["t1", "t2"]]).shape == (1, 2, 10)
    # TransformerLens' reading: a string is one sequence, a list of strings is a batch.
    torch.testing.assert_close(model("t1 t2"), model(torch.tensor([[1, 2]])))
    torch.testing.assert_close(model(["t1", "t2"]), model(torch.tensor([[1], [2]])))


def test_bad_config_raises_config_error():
    with pytest.raises(ConfigError, match="attention_kind"):
        ModelConfig(n_layers=1, d_model=8, n_ctx=4, d_vocab=3, attention_kind="sparse")
    with pytest.raises(ConfigError, match="divisible"):
        ModelConfig(n_layers=1, d_model=8, n_ctx=4, d_vocab=3, n_heads=3)


@pytest.mark.parametrize("overrides", [{"d_mlp": None}, {"use_split_qkv_input": True}])
def test_fold_ln_leaves_logits_unchanged(overrides):
    model = make_model(normalization_type="LN", **overrides)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith((".w", ".b")) and ("ln" in name):
                param.normal_(1.0 if name.endswith(".w") else 0.0, 0.5,
                              generator=torch.Generator().manual_seed(len(name)))
    before = model(TOKENS)
    torch.testing.assert_close(model.fold_ln()(TOKENS), before, atol=1e-5, rtol=0)
    norms = [m for m in model.modules() if hasattr(m, "hook_scale")]
    assert norms and all(torch.all(m.w == 1) and torch.all(m.b == 0) for m in norms)
