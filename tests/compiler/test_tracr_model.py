"""compile_rasp_to_model's result used as tracr's AssembledTransformerModel.

The loader below is TransformerLens' Tracr_to_Transformer_Lens demo, written from its
description (it reads params, model_config, the encoders and nothing of ours). The installed
TransformerLens (4.x) no longer has HookedTransformer, so the loader fills the project's
TL-compatible interp.model.HookedTransformer (same state-dict names) instead. Every output
is checked against rasp.evaluate, never against our own model's output.
"""

from __future__ import annotations

import itertools

import einops
import numpy as np
import pytest
import torch

import rasp
from rasp import tracr_lib as lib
from rasp.compiler import CompileError, compile_rasp_to_model
from rasp.evaluate import evaluate

BOS = "BOS"


def tl_from_tracr(model):  # noqa: ANN001, ANN201 - tracr-style code, as users write it
    """TransformerLens' tracr loader (demos/Tracr_to_Transformer_Lens_Demo.ipynb)."""
    from interp.model import HookedTransformer
    from interp.model import ModelConfig as HookedTransformerConfig

    n_heads = model.model_config.num_heads
    n_layers = model.model_config.num_layers
    d_head = model.model_config.key_size
    d_mlp = model.model_config.mlp_hidden_size
    n_ctx = model.params["pos_embed"]["embeddings"].shape[0]
    d_vocab = model.params["token_embed"]["embeddings"].shape[0]
    d_model = model.params["token_embed"]["embeddings"].shape[1]
    d_vocab_out = d_vocab - 2
    cfg = HookedTransformerConfig(
        n_layers=n_layers, d_model=d_model, d_head=d_head, n_ctx=n_ctx, d_vocab=d_vocab,
        d_vocab_out=d_vocab_out, d_mlp=d_mlp, n_heads=n_heads, act_fn="relu",
        causal=model.model_config.causal,  # TL: attention_dir="causal" / "bidirectional"
        normalization_type="LN" if model.model_config.layer_norm else None)
    tl_model = HookedTransformer(cfg)
    sd = {"pos_embed.W_pos": model.params["pos_embed"]["embeddings"],
          "embed.W_E": model.params["token_embed"]["embeddings"],
          "unembed.W_U": np.eye(d_model, d_vocab_out)}
    for layer in range(n_layers):
        for ours, theirs in (("K", "key"), ("Q", "query"), ("V", "value")):
            params = model.params[f"transformer/layer_{layer}/attn/{theirs}"]
            sd[f"blocks.{layer}.attn.W_{ours}"] = einops.rearrange(
                params["w"], "d_model (n_heads d_head) -> n_heads d_model d_head",
                d_head=d_head, n_heads=n_heads)
            sd[f"blocks.{layer}.attn.b_{ours}"] = einops.rearrange(
                params["b"], "(n_heads d_head) -> n_heads d_head", d_head=d_head, n_heads=n_heads)
        linear = model.params[f"transformer/layer_{layer}/attn/linear"]
        sd[f"blocks.{layer}.attn.W_O"] = einops.rearrange(
            linear["w"], "(n_heads d_head) d_model -> n_heads d_head d_model",
            d_head=d_head, n_heads=n_heads)
        sd[f"blocks.{layer}.attn.b_O"] = linear["b"]
        sd[f"blocks.{layer}.mlp.W_in"] = model.params[f"transformer/layer_{layer}/mlp/linear_1"]["w"]
        sd[f"blocks.{layer}.mlp.b_in"] = model.params[f"transformer/layer_{layer}/mlp/linear_1"]["b"]
        sd[f"blocks.{layer}.mlp.W_out"] = model.params[f"transformer/layer_{layer}/mlp/linear_2"]["w"]
        sd[f"blocks.{layer}.mlp.b_out"] = model.params[f"transformer/layer_{layer}/mlp/linear_2"]["b"]
    tl_model.load_state_dict({k: torch.tensor(np.array(v)).float() for k, v in sd.items()},
                             strict=False)
    return tl_model


def tl_decode(tl_model, model, batch):  # noqa: ANN001, ANN201
    """The demo's create_model_input / decode_model_output, on a batch of equal-length inputs."""
    tokens = torch.tensor([model.input_encoder.encode(inputs) for inputs in batch])
    with torch.no_grad():
        logits = tl_model(tokens)
    return [[model.input_encoder.bos_token] + model.output_encoder.decode(row)[1:]
            for row in logits.argmax(-1).tolist()]


CATEGORICAL = [
    ("reverse", lambda: lib.make_reverse(rasp.tokens), [1, 2, 3], 5),
    ("sort_unique", lambda: lib.make_sort_unique(rasp.tokens, rasp.tokens), [1, 2, 3, 4], 4),
    ("shift", lambda: lib.shift_by(1, rasp.tokens), list("abc"), 4),
    ("upper", lambda: rasp.Map(lambda x: x.upper(), rasp.tokens), list("ab"), 3),
]


@pytest.mark.parametrize("name,make,vocab,max_len", CATEGORICAL, ids=[c[0] for c in CATEGORICAL])
def test_transformer_lens_loader_matches_the_interpreter(name, make, vocab, max_len) -> None:  # noqa: ANN001
    program = make()
    model = compile_rasp_to_model(program, set(vocab), max_len, compiler_bos=BOS)
    tl_model = tl_from_tracr(model)
    for n in range(1, max_len + 1):
        bodies = [list(b) for b in itertools.product(vocab, repeat=n)
                  if name != "sort_unique" or len(set(b)) == n]  # sort_unique needs distinct keys
        if not bodies:
            continue
        for body, got in zip(bodies, tl_decode(tl_model, model, [[BOS, *b] for b in bodies])):
            want = evaluate(program, body)
            # An empty Aggregate (None) decodes under an argmax as some value, as on tracr.
            assert [g if w is not None else None for g, w in zip(got[1:], want)] == want, body
            assert got[0] == BOS
        assert model.apply([BOS, *bodies[-1]]).decoded == [BOS, *evaluate(program, bodies[-1])]
    # The demo's residual check: every sublayer output equals the model's own.
    inputs = [BOS, *vocab[:max_len]]
    out = model.apply(inputs)
    _, cache = tl_model.run_with_cache(torch.tensor(model.input_encoder.encode(inputs))[None])
    for layer in range(tl_model.cfg.n_layers):
        for k, hook in enumerate(("attn_out", "mlp_out")):
            theirs = cache[hook, layer].numpy()
            assert np.allclose(theirs, out.layer_outputs[2 * layer + k].numpy(), atol=1e-4)


def test_attention_only_last_layer_applies() -> None:
    # tracr's integration case: a model with no MLP at all used to raise KeyError hook_mlp_out.
    program = lib.make_frac_prevs(rasp.tokens == "x")
    model = compile_rasp_to_model(program, {"x", "y"}, 5, compiler_bos=BOS)
    for n in range(1, 6):
        for body in list(itertools.product("xy", repeat=n))[::3]:
            got = model.apply([BOS, *body]).decoded
            assert got[0] == BOS
            assert np.allclose(got[1:], evaluate(program, list(body)), atol=1e-5)
    assert model.model_config.mlp_hidden_size >= 1
    assert model.params["transformer/layer_0/mlp/linear_1"]["w"].shape[0] == len(model.residual_labels)


def test_tracr_fields_and_encoders() -> None:
    model = compile_rasp_to_model(lib.make_hist(), {"a", "b"}, 4, compiler_bos=BOS)
    enc = model.input_encoder
    ids = enc.encode([BOS, "a", "b", "compiler_pad"])
    assert enc.decode(ids) == [BOS, "a", "b", "compiler_pad"]
    assert enc.bos_encoding == ids[0] and enc.pad_encoding == ids[-1] and enc.vocab_size == 4
    assert set(model.output_encoder.encoding_map) >= {1, 2, 3, 4}  # widths (0 may be listed)
    assert model.output_encoder.decoding_map[model.output_encoder.encoding_map[3]] == 3
    with pytest.raises(ValueError, match="not found"):
        enc.encode([BOS, "z"])
    with pytest.raises(ValueError, match="BOS"):
        enc.encode(["a"])
    d_model = model.params["token_embed"]["embeddings"].shape[1]
    assert len(model.residual_labels) == d_model
    assert model.params["pos_embed"]["embeddings"].shape == (5, d_model)
    cfg = model.model_config
    assert (cfg.layer_norm, cfg.causal, cfg.dropout_rate) == (False, False, 0.0)
    query = model.params["transformer/layer_0/attn/query"]["w"]
    assert query.shape == (d_model, cfg.num_heads * cfg.key_size)


def test_forward_runs_a_padded_batch_like_tracr() -> None:
    program = lib.make_hist()
    model = compile_rasp_to_model(program, {"a", "b", "c"}, 5, compiler_bos=BOS)
    inputs = [list(t) for n in range(1, 6) for t in itertools.product("abc", repeat=n)][::7]
    pad = model.input_encoder.pad_token
    ids = np.array([model.input_encoder.encode([BOS, *t] + [pad] * (5 - len(t))) for t in inputs])
    out = model.forward(model.params, ids)
    for row, tokens in zip(out.unembedded_output.tolist(), inputs):
        decoded = model.output_encoder.decode(row[1: 1 + len(tokens)])
        assert decoded == evaluate(program, tokens)


def test_exceptions_are_tracr_compatible() -> None:
    with pytest.raises(ValueError):
        rasp.ConstantSOp([1, 2, 3])("longer string")
    numerical = rasp.numerical(rasp.Map(lambda x: x, rasp.tokens))
    unsupported = rasp.Aggregate(rasp.Select(numerical, numerical, rasp.Comparison.EQ), rasp.tokens)
    with pytest.raises(NotImplementedError):
        compile_rasp_to_model(unsupported, {1, 2}, 3)
    with pytest.raises(CompileError):  # still the project's error
        compile_rasp_to_model(unsupported, {1, 2}, 3)
