"""The fused fast paths (F.layer_norm, F.scaled_dot_product_attention), taken only when no hook
watches the hook points they skip, compute what the hooked slow path and an independent plain
tensor forward compute, values and gradients alike."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from interp.model import HookedTransformer, ModelConfig
from interp.model.components import is_observed

torch.set_num_threads(1)
ATOL = 1e-5
SKIPPED = ("hook_scale", "hook_normalized", "hook_attn_scores", "hook_pattern")


def _model(causal: bool, d_input: int | None = None) -> HookedTransformer:
    cfg = ModelConfig(n_layers=2, d_model=16, n_ctx=7, d_vocab=5, d_vocab_out=3, n_heads=2, d_mlp=24,
                      act_fn="gelu_new", normalization_type="LN", causal=causal, d_input=d_input, seed=0)
    model = HookedTransformer(cfg).init_weights(std=0.3, seed=0)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith(".w"):  # LN weights and biases far from 1 and 0: a dropped one shows
                param.copy_(1.5 + torch.randn(param.shape, generator=generator) * 0.5)
            elif name.split(".")[-1].startswith("b"):
                param.copy_(torch.randn(param.shape, generator=generator) * 0.2)
    return model


def _reference(model: HookedTransformer, tokens: torch.Tensor) -> torch.Tensor:
    """The forward written out with plain tensor algebra (no module of ours)."""
    cfg = model.cfg

    def norm(x: torch.Tensor, ln: torch.nn.Module) -> torch.Tensor:
        centred = x - x.mean(-1, keepdim=True)
        return centred / (centred.pow(2).mean(-1, keepdim=True) + cfg.eps).sqrt() * ln.w + ln.b

    seq = tokens.shape[1]
    resid = model.embed.W_E[tokens] + model.pos_embed.W_pos[:seq]  # [batch, pos, d_model]
    for block in model.blocks:
        a = block.attn
        x = norm(resid, block.ln1)
        q, k, v = (torch.einsum("bpd,hde->bhpe", x, W) + b[None, :, None]
                   for W, b in ((a.W_Q, a.b_Q), (a.W_K, a.b_K), (a.W_V, a.b_V)))  # [b, h, p, e]
        scores = q @ k.transpose(-1, -2) / cfg.d_head ** 0.5  # [batch, n_heads, q, k]
        if cfg.causal:
            scores = scores.masked_fill(torch.ones(seq, seq).triu(1).bool(), float("-inf"))
        z = scores.softmax(-1) @ v  # [batch, n_heads, pos, d_head]
        resid = resid + torch.einsum("bhpe,hed->bpd", z, a.W_O) + a.b_O
        m = block.mlp
        hidden = F.gelu(norm(resid, block.ln2) @ m.W_in + m.b_in, approximate="tanh")
        resid = resid + hidden @ m.W_out + m.b_out
    return norm(resid, model.ln_final) @ model.unembed.W_U + model.unembed.b_U


def _slow_hooks(model: HookedTransformer) -> list[tuple[str, object]]:
    """A no-op hook on every hook point a fast path skips, which forces the slow path."""
    return [(name, lambda act, hook: None) for name in model.hook_dict if name.endswith(SKIPPED)]


def _tokens() -> torch.Tensor:
    return torch.randint(0, 5, (4, 7), generator=torch.Generator().manual_seed(2))  # [batch, pos]


@pytest.mark.parametrize("causal", [True, False])
def test_fast_path_equals_slow_path_and_plain_reference(causal):
    model, tokens = _model(causal), _tokens()
    fast = model(tokens)  # [batch, pos, d_vocab_out]
    slow = model.run_with_hooks(tokens, fwd_hooks=_slow_hooks(model))
    torch.testing.assert_close(fast, slow, atol=ATOL, rtol=0)
    torch.testing.assert_close(fast, _reference(model, tokens), atol=ATOL, rtol=0)


def test_fast_path_gradients_equal_slow_path():
    # float64, so that float32 rounding (the fused kernels sum in another order) cannot hide a bug.
    model, tokens = _model(True).to(torch.float64), _tokens()

    def grads(hooks: list) -> list[torch.Tensor]:
        model.zero_grad()
        with model.hooks(fwd_hooks=hooks):
            model(tokens).pow(2).sum().backward()
        return [p.grad.clone() for p in model.parameters()]

    for fast, slow in zip(grads([]), grads(_slow_hooks(model))):
        torch.testing.assert_close(fast, slow, atol=1e-10, rtol=1e-10)


def test_cache_sees_the_hooked_values_and_hooks_are_detected():
    model, tokens = _model(True), _tokens()
    assert not any(is_observed(model.hook_dict[name]) for name in model.hook_dict)
    _, cache = model.run_with_cache(tokens)
    assert not any(is_observed(model.hook_dict[name]) for name in model.hook_dict)  # hooks removed
    x = cache["blocks.0.hook_resid_pre"]  # [batch, pos, d_model]
    centred = x - x.mean(-1, keepdim=True)
    torch.testing.assert_close(cache["blocks.0.ln1.hook_scale"], centred.pow(2).mean(-1, keepdim=True)
                               .add(model.cfg.eps).sqrt(), atol=ATOL, rtol=0)
    pattern = cache["blocks.1.attn.hook_pattern"]  # [batch, n_heads, q, k]
    torch.testing.assert_close(pattern.sum(-1), torch.ones(pattern.shape[:-1]), atol=ATOL, rtol=0)
    assert (pattern.triu(1) == 0).all()
    handle = model.blocks[0].attn.hook_pattern.add_hook(lambda act, hook: None, dir="bwd")
    assert is_observed(model.blocks[0].attn.hook_pattern)
    handle.hook.remove()


def test_in_place_edit_of_z_on_the_fast_path_keeps_backward_working():
    # TL patching edits hook_z in place; SDPA's backward reads its output, so the fast path copies it.
    model, tokens = _model(True), _tokens()

    def zero_head(z: torch.Tensor, hook) -> None:
        z[:, :, 0] = 0.0

    edited = model.run_with_hooks(tokens, fwd_hooks=[("blocks.0.attn.hook_z", zero_head)])
    edited.sum().backward()
    slow = model.run_with_hooks(tokens, fwd_hooks=[("blocks.0.attn.hook_z", zero_head), *_slow_hooks(model)])
    torch.testing.assert_close(edited, slow, atol=ATOL, rtol=0)
