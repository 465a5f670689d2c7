"""TransformerLens 4.3 on our models: every public `ActivationCache` method and every
`transformer_lens.patching` function, on a random LayerNorm model (non-trivial LN weights
and biases), a random no-LN model and two compiled RASP programs. Numbers are checked
against independent computations (hand-written hooks, plain tensor algebra)."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
import torch
from transformer_lens import patching
from transformer_lens.tools.analysis.attribution_patching import (
    EdgeAttributionConfig,
    attribution_patch,
)

from interp.analysis import direct_logit_attribution, eap, logit_lens, path_patch
from interp.circuit import Edge
from interp.model import HookedTransformer, ModelConfig

ATOL = 1e-5
# Tiny models: one thread is ~25x faster than several competing for the shared cores.
torch.set_num_threads(1)


@dataclass
class Subject:
    name: str
    model: HookedTransformer
    clean: torch.Tensor  # [batch, pos]
    corrupted: torch.Tensor  # [batch, pos]


def _random(norm: str | None) -> HookedTransformer:
    cfg = ModelConfig(n_layers=2, d_model=12, n_ctx=5, d_vocab=6, n_heads=2, d_mlp=10,
                      normalization_type=norm, causal=True, seed=0)
    model = HookedTransformer(cfg).init_weights(std=0.4)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith(".w"):  # LN weights far from 1: folding mistakes show
                param.copy_(1.5 + torch.randn(param.shape, generator=generator) * 0.5)
            elif name.split(".")[-1].startswith("b"):
                param.copy_(torch.randn(param.shape, generator=generator) * 0.2)
    return model


def _compiled(program: str) -> Subject:
    from rasp.compiler import compile_program
    from rasp.lib import PROGRAMS

    entry = PROGRAMS[program]
    compiled = compile_program(entry.build(), entry.vocab, 4)
    rng = random.Random(0)
    rows = [compiled.encode(entry.sample(rng, 4)[:4]) for _ in range(4)]
    rows = [r for r in rows if len(r) == 5][:2]
    while len(rows) < 2:
        rows.append(compiled.encode([rng.choice(list(entry.vocab)) for _ in range(4)]))
    clean = torch.tensor(rows)
    return Subject(program, compiled.model, clean, clean.flip(0).roll(1, dims=1))


def _subject(name: str) -> Subject:
    if name in ("ln", "no_ln"):
        generator = torch.Generator().manual_seed(2)
        clean = torch.randint(0, 6, (2, 5), generator=generator)
        corrupted = torch.randint(0, 6, (2, 5), generator=generator)
        return Subject(name, _random("LN" if name == "ln" else None), clean, corrupted)
    return _compiled(name)


SUBJECTS = ["ln", "no_ln", "reverse", "sort"]


@pytest.fixture(scope="module", params=SUBJECTS)
def subject(request) -> Subject:
    return _subject(request.param)


def metric(logits: torch.Tensor) -> torch.Tensor:
    """Something every entry of a patching sweep can move: last position, first logits."""
    return logits[:, -1, :2].sum(-1).mean()


def _hand_ln(x: torch.Tensor, ln) -> torch.Tensor:
    """Our LayerNorm written out (the model's own module is not used)."""
    if not hasattr(ln, "w"):
        return x
    centred = x - x.mean(-1, keepdim=True)
    return centred / (centred.pow(2).mean(-1, keepdim=True) + ln.eps).sqrt() * ln.w + ln.b


def _patched(subject: Subject, clean_cache, name: str, index: tuple) -> float:
    """Metric of the corrupted run with `name[index]` taken from the clean cache, by hand."""

    def hook(value, hook):
        value = value.clone()
        value[index] = clean_cache[name][index]
        return value

    with torch.no_grad():
        return float(metric(subject.model.run_with_hooks(subject.corrupted, fwd_hooks=[(name, hook)])))


# ------------------------------------------------------------------ ActivationCache
def test_cache_container_methods(subject):
    model = subject.model
    _, cache = model.run_with_cache(subject.clean)
    assert set(cache.keys()) <= set(model.hook_dict)
    assert len(cache) == len(list(cache.keys())) == len(list(iter(cache)))
    for key, value in cache.items():
        assert value is cache[key]
    assert [v.shape for v in cache.values()] == [cache[k].shape for k in cache.keys()]
    assert torch.equal(cache.to("cpu")["hook_embed"], cache["hook_embed"])
    one = cache.apply_slice_to_batch_dim(1)
    assert torch.equal(one["blocks.0.hook_resid_post"], cache["blocks.0.hook_resid_post"][1])
    _, single = model.run_with_cache(subject.clean[:1])
    pattern = single["blocks.0.attn.hook_pattern"]  # [1, n_heads, q, k]
    squeezed = single.remove_batch_dim()  # in place, as in TL
    assert torch.equal(squeezed["blocks.0.attn.hook_pattern"], pattern[0])
    stacked = cache.stack_activation("resid_pre")
    expected = torch.stack([cache[f"blocks.{i}.hook_resid_pre"] for i in range(model.cfg.n_layers)])
    assert torch.equal(stacked, expected)
    cache.toggle_autodiff(False)
    assert not torch.is_grad_enabled()
    cache.toggle_autodiff(True)
    assert torch.is_grad_enabled()
    # No state-space layers in our models: TL says so rather than returning something.
    assert cache.ssm_layers() == []
    with pytest.raises(RuntimeError, match="No SSM"):
        cache.compute_ssm_state()
    with pytest.raises(RuntimeError, match="No SSM"):
        cache.compute_ssm_effective_attention()


def test_residual_decompositions_sum_to_the_stream(subject):
    model = subject.model
    _, cache = model.run_with_cache(subject.clean)
    n = model.cfg.n_layers
    final = cache[f"blocks.{n - 1}.hook_resid_post"]
    # Independent: embeddings plus every sublayer output, added up by hand.
    running = cache["hook_embed"] + cache["hook_pos_embed"]
    accumulated = cache.accumulated_resid(incl_mid=True)
    for layer in range(n):
        torch.testing.assert_close(accumulated[2 * layer], running, atol=ATOL, rtol=0)
        running = running + cache[f"blocks.{layer}.hook_attn_out"]
        torch.testing.assert_close(accumulated[2 * layer + 1], running, atol=ATOL, rtol=0)
        running = running + cache[f"blocks.{layer}.hook_mlp_out"]
    torch.testing.assert_close(accumulated[-1], final, atol=ATOL, rtol=0)
    torch.testing.assert_close(cache.decompose_resid().sum(0), final, atol=ATOL, rtol=0)
    full = cache.get_full_resid_decomposition(expand_neurons=True)
    torch.testing.assert_close(full.sum(0), final, atol=1e-4, rtol=0)


def test_head_and_neuron_results_by_hand(subject):
    model = subject.model
    _, cache = model.run_with_cache(subject.clean)
    heads, labels = cache.stack_head_results(return_labels=True)
    for i, label in enumerate(labels):
        layer, head = int(label[1 : label.index("H")]), int(label[label.index("H") + 1 :])
        z = cache[f"blocks.{layer}.attn.hook_z"][:, :, head]  # [batch, pos, d_head]
        by_hand = z @ model.blocks[layer].attn.W_O[head]
        torch.testing.assert_close(heads[i], by_hand, atol=ATOL, rtol=0)
    # compute_head_results fills hook_result in a cache made without it.
    model.set_use_attn_result(False)
    try:
        _, bare = model.run_with_cache(subject.clean)
    finally:
        model.set_use_attn_result(True)
    assert "blocks.0.attn.hook_result" not in bare.keys()
    bare.compute_head_results()
    torch.testing.assert_close(
        bare["blocks.0.attn.hook_result"], cache["blocks.0.attn.hook_result"], atol=ATOL, rtol=0
    )
    layer = model.cfg.n_layers - 1
    post = cache[f"blocks.{layer}.mlp.hook_post"]  # [batch, pos, d_mlp]
    by_hand = post[..., :, None] * model.blocks[layer].mlp.W_out  # [batch, pos, d_mlp, d_model]
    torch.testing.assert_close(cache.get_neuron_results(layer), by_hand, atol=ATOL, rtol=0)
    neurons = cache.stack_neuron_results(layer + 1)  # every neuron of layers < layer + 1
    mlp_total = sum(cache[f"blocks.{i}.hook_mlp_out"] - model.blocks[i].mlp.b_out
                    for i in range(layer + 1))
    torch.testing.assert_close(neurons.sum(0), mlp_total, atol=1e-4, rtol=0)


def test_apply_ln_to_stack_is_the_frozen_final_ln(subject):
    model = subject.model
    _, cache = model.run_with_cache(subject.clean)
    stack = cache.decompose_resid()
    final = stack.sum(0)
    scaled = cache.apply_ln_to_stack(stack).sum(0)
    if model.cfg.normalization_type == "LN":
        centred = final - final.mean(-1, keepdim=True)
        expected = centred / (centred.pow(2).mean(-1, keepdim=True) + model.cfg.eps).sqrt()
    else:
        expected = final
    torch.testing.assert_close(scaled, expected, atol=ATOL, rtol=0)


def test_logit_attrs_and_dla_sum_to_the_logit(subject):
    """DLA by hand: each component's piece, centred, divided by this run's final LN scale,
    times ln_final.w, dotted with W_U; plus ln_final.b . W_U + b_U gives the logit."""
    model = subject.model
    logits, cache = model.run_with_cache(subject.clean)
    target = logits.argmax(-1)  # [batch, pos]
    attrs, labels = direct_logit_attribution(cache, target)
    stack = cache.get_full_resid_decomposition(expand_neurons=False)
    w_u = model.W_U[:, target].permute(1, 2, 0)  # [batch, pos, d_model]
    bias = model.b_U[target]
    if model.cfg.normalization_type == "LN":
        ln = model.ln_final
        final = stack.sum(0)
        centred = final - final.mean(-1, keepdim=True)
        scale = (centred.pow(2).mean(-1, keepdim=True) + ln.eps).sqrt()
        pieces = (stack - stack.mean(-1, keepdim=True)) / scale * ln.w
        bias = bias + (ln.b * w_u).sum(-1)
    else:
        pieces = stack
    by_hand = (pieces * w_u).sum(-1)  # [n_components, batch, pos]
    torch.testing.assert_close(attrs, by_hand, atol=ATOL, rtol=0)
    chosen = logits.gather(-1, target[..., None])[..., 0]
    torch.testing.assert_close(attrs.sum(0) + bias, chosen, atol=ATOL, rtol=0)
    # TL's own call agrees with ours, and folding LN leaves logits and DLA unchanged.
    torch.testing.assert_close(cache.logit_attrs(stack, target), attrs, atol=ATOL, rtol=0)


def test_fold_ln_leaves_logits_and_dla_unchanged():
    model = _random("LN")
    tokens = _subject("ln").clean
    logits, cache = model.run_with_cache(tokens)
    target = logits.argmax(-1)
    attrs, _ = direct_logit_attribution(cache, target)
    folded = _random("LN").fold_ln()
    assert torch.all(folded.ln_final.w == 1) and torch.all(folded.blocks[0].ln1.b == 0)
    folded_logits, folded_cache = folded.run_with_cache(tokens)
    torch.testing.assert_close(folded_logits, logits, atol=ATOL, rtol=0)
    folded_attrs, _ = direct_logit_attribution(folded_cache, target)
    torch.testing.assert_close(folded_attrs, attrs, atol=ATOL, rtol=0)
    # On the folded model, DLA sums to logit - b_U (TL's statement).
    chosen = folded_logits.gather(-1, target[..., None])[..., 0]
    torch.testing.assert_close(folded_attrs.sum(0), chosen - folded.b_U[target], atol=ATOL, rtol=0)


def test_logit_lens_by_hand(subject):
    model = subject.model
    logits, cache = model.run_with_cache(subject.clean)
    result = cache.logit_lens(incl_mid=True, positions=None)
    ours, labels = logit_lens(cache)
    assert labels == list(result.labels) and labels[-1] == "final_post"
    torch.testing.assert_close(result.values[-1], logits, atol=ATOL, rtol=0)
    default = cache.logit_lens()  # TL's defaults: last position, no resid_mid
    torch.testing.assert_close(default.values[-1], logits[:, -1], atol=ATOL, rtol=0)
    for layer in range(model.cfg.n_layers):
        resid = cache[f"blocks.{layer}.hook_resid_pre"]
        by_hand = _hand_ln(resid, model.ln_final) @ model.W_U + model.b_U
        torch.testing.assert_close(ours[2 * layer], by_hand, atol=ATOL, rtol=0)


# --------------------------------------------------------------------- patching
ALL = slice(None)
# function: (hook, index into the activation built from the result's index tuple)
SWEEPS = {
    "get_act_patch_resid_pre": ("blocks.{0}.hook_resid_pre", lambda i: (slice(None), i[1])),
    "get_act_patch_resid_mid": ("blocks.{0}.hook_resid_mid", lambda i: (slice(None), i[1])),
    "get_act_patch_attn_out": ("blocks.{0}.hook_attn_out", lambda i: (slice(None), i[1])),
    "get_act_patch_mlp_out": ("blocks.{0}.hook_mlp_out", lambda i: (slice(None), i[1])),
    "get_act_patch_attn_head_out_by_pos": (
        "blocks.{0}.attn.hook_z", lambda i: (slice(None), i[1], i[2])),
    "get_act_patch_attn_head_q_by_pos": ("blocks.{0}.attn.hook_q", lambda i: (slice(None), i[1], i[2])),
    "get_act_patch_attn_head_k_by_pos": ("blocks.{0}.attn.hook_k", lambda i: (slice(None), i[1], i[2])),
    "get_act_patch_attn_head_v_by_pos": ("blocks.{0}.attn.hook_v", lambda i: (slice(None), i[1], i[2])),
    "get_act_patch_attn_head_pattern_by_pos": (
        "blocks.{0}.attn.hook_pattern", lambda i: (ALL, i[1], i[2])),  # layer, head, dest
    "get_act_patch_attn_head_out_all_pos": ("blocks.{0}.attn.hook_z", lambda i: (ALL, ALL, i[1])),
    "get_act_patch_attn_head_q_all_pos": ("blocks.{0}.attn.hook_q", lambda i: (ALL, ALL, i[1])),
    "get_act_patch_attn_head_k_all_pos": ("blocks.{0}.attn.hook_k", lambda i: (ALL, ALL, i[1])),
    "get_act_patch_attn_head_v_all_pos": ("blocks.{0}.attn.hook_v", lambda i: (ALL, ALL, i[1])),
    "get_act_patch_attn_head_pattern_all_pos": ("blocks.{0}.attn.hook_pattern", lambda i: (ALL, i[1])),
    "get_act_patch_attn_head_pattern_dest_src_pos": (
        "blocks.{0}.attn.hook_pattern", lambda i: (slice(None), i[1], i[2], i[3])),
}


def _some_indices(shape: torch.Size, n: int = 3) -> list[tuple]:
    """The first and last entry and a few seeded others."""
    rng = random.Random(0)
    picks = [tuple(0 for _ in shape), tuple(s - 1 for s in shape)]
    picks += [tuple(rng.randrange(s) for s in shape) for _ in range(n)]
    return picks


@pytest.mark.parametrize("function", sorted(SWEEPS))
def test_activation_patching_sweeps_match_hand_written_hooks(subject, function):
    hook, index_of = SWEEPS[function]
    _, clean_cache = subject.model.run_with_cache(subject.clean)
    result = getattr(patching, function)(subject.model, subject.corrupted, clean_cache, metric)
    for index in _some_indices(result.shape):
        expected = _patched(subject, clean_cache, hook.format(index[0]), index_of(index))
        assert result[index].item() == pytest.approx(expected, abs=ATOL), index


EVERY = {
    "get_act_patch_block_every": ["get_act_patch_resid_pre", "get_act_patch_attn_out",
                                  "get_act_patch_mlp_out"],
    "get_act_patch_attn_head_all_pos_every": [
        f"get_act_patch_attn_head_{w}_all_pos" for w in ("out", "q", "k", "v", "pattern")],
    "get_act_patch_attn_head_by_pos_every": [
        f"get_act_patch_attn_head_{w}_by_pos" for w in ("out", "q", "k", "v")] + ["pattern"],
}
# In the by-pos stack, the pattern sweep is laid out [layer, pos, head] like the others.
SWEEPS_IN_STACK = {"pattern": ("blocks.{0}.attn.hook_pattern", lambda i: (ALL, i[2], i[1]))}


@pytest.mark.parametrize("function", sorted(EVERY))
def test_every_sweeps_stack_the_single_sweeps(function):
    subject = _subject("ln")
    _, clean_cache = subject.model.run_with_cache(subject.clean)
    stacked = getattr(patching, function)(subject.model, subject.corrupted, clean_cache, metric)
    for part, single in zip(stacked, EVERY[function]):
        hook, index_of = {**SWEEPS, **SWEEPS_IN_STACK}[single]
        for index in _some_indices(part.shape, n=2):
            expected = _patched(subject, clean_cache, hook.format(index[0]), index_of(index))
            assert part[index].item() == pytest.approx(expected, abs=ATOL), (single, index)


def test_generic_patch_setters_and_index_frames():
    subject = _subject("no_ln")
    _, clean_cache = subject.model.run_with_cache(subject.clean)
    frame = patching.make_df_from_ranges([2, 5], ["layer", "pos"])
    assert len(frame) == 10 and list(frame.columns) == ["layer", "pos"]
    result = patching.generic_activation_patch(
        subject.model, subject.corrupted, clean_cache, metric,
        patch_setter=patching.layer_pos_patch_setter, activation_name="resid_pre",
        index_df=frame,
    )
    expected = _patched(subject, clean_cache, "blocks.1.hook_resid_pre", (slice(None), 3))
    assert result[8].item() == pytest.approx(expected, abs=ATOL)  # row 8: layer 1, pos 3
    # The setters themselves, on plain tensors.
    corrupted, clean = torch.zeros(2, 5, 3, 4), torch.ones(2, 5, 3, 4)
    out = patching.layer_pos_head_vector_patch_setter(corrupted.clone(), [0, 2, 1], clean)
    assert out[:, 2, 1].eq(1).all() and out.sum() == 2 * 4
    out = patching.layer_head_vector_patch_setter(corrupted.clone(), [0, 1], clean)
    assert out[:, :, 1].eq(1).all() and out.sum() == 2 * 5 * 4
    patterns, clean_patterns = torch.zeros(2, 3, 5, 5), torch.ones(2, 3, 5, 5)
    out = patching.layer_head_pattern_patch_setter(patterns.clone(), [0, 1], clean_patterns)
    assert out[:, 1].eq(1).all() and out[:, 0].eq(0).all()
    out = patching.layer_head_pos_pattern_patch_setter(patterns.clone(), [0, 1, 2], clean_patterns)
    assert out[:, 1, 2].eq(1).all() and out.sum() == 2 * 5
    out = patching.layer_head_dest_src_pos_pattern_patch_setter(
        patterns.clone(), [0, 1, 2, 3], clean_patterns)
    assert out[:, 1, 2, 3].eq(1).all() and out.sum() == 2


def test_direct_path_patching_equals_our_path_patch(subject):
    """TL: corrupted run, sender's clean output added to one receiver's q/k/v input.
    Ours (`path_patch`) with clean and corrupted swapped is the same intervention."""
    model = subject.model
    _, clean_cache = model.run_with_cache(subject.clean)
    _, corrupted_cache = model.run_with_cache(subject.corrupted)
    n_layers, n_heads = model.cfg.n_layers, model.cfg.n_heads
    for component in ("q", "k", "v"):
        every = patching.get_act_patch_direct_path_all_sources(
            model, subject.corrupted, clean_cache, corrupted_cache, metric, component=component,
            verbose=False,
        )
        one = patching.get_act_patch_direct_path(
            model, subject.corrupted, clean_cache, corrupted_cache, metric, 0, 0,
            component=component, verbose=False,
        )
        torch.testing.assert_close(one, every[0, 0], atol=ATOL, rtol=0)
        for dst_layer in range(1, n_layers):
            for dst_head in range(n_heads):
                ours = path_patch(model, subject.corrupted, subject.clean, "L0H0",
                                  [(f"L{dst_layer}H{dst_head}", component)], metric)
                assert every[0, 0, dst_layer, dst_head].item() == pytest.approx(ours, abs=ATOL)


def test_attribution_patching_edges_equal_our_eap(subject):
    """TL's edge attribution patching (gradients at its `corrupt` run) with the roles
    swapped, summed over positions, equals our plain EAP, and our EAP-IG with one step
    (whose only point is the clean run)."""
    model = subject.model
    clean, corrupted = subject.clean[:1], subject.corrupted[:1]
    result = attribution_patch(model, corrupted, clean, metric, EdgeAttributionConfig(granularity="edge"))
    ours = eap(model, clean, ablation="resample", corrupted=corrupted,
               metric=lambda _clean_logits: metric)
    summed: dict[Edge, float] = {}
    for (writer, reader), value in result.edge_scores.items():
        src = {"embed": "embed", "mlp_out": f"MLP{writer.layer}"}.get(
            writer.kind, f"L{writer.layer}H{writer.head}")
        if reader.kind.endswith("_input"):
            edge = Edge(src, f"L{reader.layer}H{reader.head}", reader.kind[0])
        else:
            edge = Edge(src, "logits" if reader.kind == "logits" else f"MLP{reader.layer}")
        summed[edge] = summed.get(edge, 0.0) + value
    assert set(summed) == {e for e in ours.scores if e.src != "pos_embed"}
    for edge, value in summed.items():
        # rel: the runs may take different kernels (fused when no hook watches LN scale or
        # attention pattern, hooked otherwise): float32 rounding of scores up to ~5.
        assert abs(value) == pytest.approx(ours.scores[edge], abs=ATOL, rel=2e-5), str(edge)
    one_step = eap(model, clean, ablation="resample", corrupted=corrupted, ig_steps=1,
                   metric=lambda _clean_logits: metric)
    for edge, value in ours.scores.items():
        assert one_step.scores[edge] == pytest.approx(value, abs=ATOL, rel=2e-5), str(edge)
    # Node granularity: each writer's score is the sum of its edges' (TL's own identity),
    # and the node sweep computes it from the writer's own gradient.
    nodes = attribution_patch(model, corrupted, clean, metric).node_scores
    for node, value in nodes.items():
        assert value == pytest.approx(result.node_scores[node], abs=1e-4), node
