"""Constructs tracr gets wrong or rejects, compared with the interpreter."""

from __future__ import annotations

import warnings

import pytest
import torch

import rasp
from rasp import Comparison, Select, indices, tokens
from rasp.compiler import CompileWarning, compile_program, compile_rasp_to_model


def _agrees(program, vocab, max_len, **kwargs) -> None:
    compiled = compile_program(program, vocab, max_len, **kwargs)
    report = compiled.verify(n=1500)
    assert report.ok, str(report)


def test_composite_selectors_and_or_not() -> None:
    same = Select(tokens, tokens, Comparison.EQ)
    before = Select(indices, indices, Comparison.LT)
    _agrees(rasp.SelectorWidth(same & before), list("abc"), 5)
    _agrees(rasp.SelectorWidth(~same), list("abc"), 5)
    # Or across different variables needs a joint variable; still exact.
    _agrees(rasp.SelectorWidth(same | before), list("abc"), 5)
    _agrees(rasp.numerical(rasp.Aggregate(same | before, rasp.numerical(tokens == "a"), default=0)),
            list("abc"), 4)


def test_length_full_and_constant_sop() -> None:
    _agrees(rasp.length, list("ab"), 6)
    _agrees(rasp.SequenceMap(lambda x, y: f"{x}{y}", tokens, rasp.Full("!")), list("ab"), 4)
    _agrees(rasp.SequenceMap(lambda x, c: x * c, rasp.indices, rasp.ConstantSOp([3, 1, 4, 1, 5],
                                                                              check_length=False)),
            list("ab"), 5)


def test_map_on_numerical_aggregate_uses_true_value_set() -> None:
    frac = rasp.lib.make_frac_prevs(tokens == "x")
    # tracr decodes this wrongly: the mean's value set is not the input's {0, 1}.
    percent = rasp.Map(lambda f: round(100 * f), frac)
    _agrees(percent, ["x", "y"], 8)


def test_numerical_mean_of_non_binary_values() -> None:
    values = rasp.numerical(rasp.Map(lambda t: {"a": 1, "b": 3, "c": 7}[t], tokens))
    mean = rasp.numerical(rasp.Aggregate(Select(indices, indices, Comparison.LEQ), values, default=0))
    _agrees(rasp.Map(lambda m: round(m, 3), mean), list("abc"), 5)


def test_selector_width_is_exact_at_forty_positions() -> None:
    compiled = compile_program(rasp.lib.make_hist(), list("ab"), 40)
    report = compiled.verify(n=300)
    assert report.ok, str(report)


def test_categorical_none_default_decodes_as_none() -> None:
    shifted = rasp.lib.shift_by(2, tokens)
    compiled = compile_program(shifted, list("abc"), 5)
    assert compiled.run(list("abca")) == [None, None, "a", "b"]


def test_non_none_categorical_default() -> None:
    agg = rasp.Aggregate(Select(tokens, tokens, lambda k, q: k == "z"), tokens, default="-")
    compiled = compile_program(agg, list("az"), 4)
    assert compiled.run(list("aa")) == ["-", "-"]
    assert compiled.verify().ok


def test_causal_safe_program_compiles_and_agrees() -> None:
    program = rasp.lib.make_frac_prevs(tokens == "x")
    compiled = compile_program(program, ["x", "y"], 6, causal=True)
    assert compiled.model.cfg.causal
    assert compiled.verify().ok


def test_causal_compiles_length_and_future_selectors_to_causal_eval() -> None:
    # A causal model computes rasp.causal_eval (tracr's semantics); nothing is refused.
    from rasp.evaluate import evaluate

    peek = rasp.Aggregate(Select(tokens, tokens, Comparison.EQ), tokens).named("peek")
    for program in (rasp.length + 0, peek, rasp.lib.make_reverse(tokens)):
        compiled = compile_program(program, list("ab"), 4, causal=True)
        for tokens_in in (list("abab"), list("bba"), list("a")):
            assert compiled.run(tokens_in) == evaluate(program, tokens_in, causal=True)


def test_tracr_shim_keeps_bos_in_decoded() -> None:
    model = compile_rasp_to_model(rasp.lib.make_reverse(tokens), {"a", "b", "c"}, 5, compiler_bos="BOS")
    out = model.apply(["BOS", "a", "b", "c"])
    assert out.decoded == ["BOS", "c", "b", "a"]


def test_run_errors_are_project_errors() -> None:
    from interp.errors import InterpError

    compiled = compile_program(rasp.lib.make_hist(), list("ab"), 3)
    with pytest.raises(InterpError, match="not in the vocabulary"):
        compiled.run(["a", "z"])
    with pytest.raises(InterpError, match="max_seq_len"):
        compiled.run(list("aaaa"))


def test_layout_names_components_and_captions() -> None:
    compiled = compile_program(rasp.lib.make_reverse(tokens), list("abc"), 5)
    layout = compiled.layout
    head = layout.component_of["reverse"][0]
    assert head.startswith("L") and "H" in head
    assert "reverse" in layout.node_of[head]
    assert layout.captions[head].startswith(f"{head}: reverse = Aggregate(Select(indices, ")
    assert set(layout.directions["tokens"])
    # opp_idx is composed into opp_idx-1's MLP; the layout still says where it is computed.
    assert layout.component_of["opp_idx"] == layout.component_of["opp_idx-1"]
    stats = compiled.stats()
    assert stats["params"] == compiled.model.n_params()
    assert compiled.model.to_tokens("a").tolist() == [compiled.encode(["a"])]  # BOS prepended


def test_bos_name_clash_is_resolved() -> None:
    compiled = compile_program(rasp.lib.make_hist_bos(), ["BOS", "a", "b"], 4)
    assert compiled.model.cfg.vocab[0] != "BOS"
    word = ["BOS", "a", "b", "a"]
    assert compiled.run(word) == rasp.evaluate(rasp.lib.make_hist_bos(), word)


def test_imprecise_numerics_warn() -> None:
    values = rasp.numerical(rasp.Map(lambda t: {"a": 1000.0, "b": 1000.0001}[t], tokens))
    mean = rasp.numerical(rasp.Aggregate(Select(indices, indices, Comparison.LEQ), values, default=0))
    with pytest.warns(CompileWarning, match="float32"):
        compile_program(rasp.Map(lambda v: v > 1000.00005, mean), ["a", "b"], 3)


def test_register_reuse_labels_stages() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CompileWarning)
        compiled = compile_program(rasp.lib.make_dyck1_ptf(), ["(", ")"], 8)
    labels = compiled.model.residual_labels.labels
    assert all(0 <= lb.index < compiled.model.cfg.d_model for lb in labels)
    assert compiled.verify(n=500).ok


def test_selecting_a_none_value_stays_none_with_a_default() -> None:
    shifted = rasp.lib.shift_by(1, tokens)
    same = rasp.Aggregate(Select(indices, indices, Comparison.EQ), shifted, default="-")
    compiled = compile_program(same, list("ab"), 4)
    assert compiled.run(list("ab")) == [None, "a"]
    assert compiled.verify().ok


@pytest.mark.parametrize("name", ["reverse", "hist", "frac_prevs", "dyck2"])
def test_hard_attention_option_agrees(name: str) -> None:
    entry = rasp.lib.PROGRAMS[name]
    compiled = compile_program(entry.build(), entry.vocab, 6, attention_kind="hard")
    assert compiled.model.cfg.attention_kind == "hard"
    assert compiled.verify(n=500).ok


def test_tracr_api_pads_and_output_fields() -> None:
    from rasp.evaluate import evaluate

    program = rasp.lib.make_reverse(tokens)
    model = compile_rasp_to_model(program, {"a", "b", "c"}, 5)  # tracr's default BOS and pad
    out = model.apply(["compiler_bos", "a", "b", "c", "compiler_pad", "compiler_pad"])
    assert out.decoded == ["compiler_bos", *evaluate(program, list("abc")), "compiler_pad", "compiler_pad"]
    n_layers = model.compiled.model.cfg.n_layers
    assert len(out.residuals) == len(out.layer_outputs) == 2 * n_layers
    # As tracr, pad positions run too (as masked keys): T counts BOS, 3 tokens and 2 pads.
    assert tuple(out.attn_logits[0].shape) == (1, 6, 6, model.compiled.model.cfg.n_heads)
    # The residual stream is the embeddings plus every sublayer's output.
    total = out.input_embeddings + sum(out.layer_outputs)
    assert torch.allclose(total, out.transformer_output, atol=1e-4)


def test_causal_check_is_exact_for_position_structure() -> None:
    from rasp.evaluate import evaluate

    not_later = ~Select(indices, indices, Comparison.GT)  # == LEQ, once refused (a Not)
    same_token_before = Select(tokens, tokens, Comparison.EQ) & not_later
    either = (Select(tokens, tokens, Comparison.EQ) | Select(indices, indices, Comparison.LT)) \
        & Select(indices, indices, Comparison.LEQ)
    for selector in (not_later, same_token_before, either):
        program = rasp.SelectorWidth(selector)
        compiled = compile_program(program, list("ab"), 4, causal=True)
        for tokens_in in (list("abab"), list("bba")):
            # Causal and non-causal semantics agree on a causal selector.
            assert compiled.run(tokens_in) == evaluate(program, tokens_in) == \
                evaluate(program, tokens_in, causal=True)
    later = ~Select(indices, indices, Comparison.LT) & Select(tokens, tokens, Comparison.EQ)
    compiled = compile_program(rasp.SelectorWidth(later).named("sees_later"), list("ab"), 4, causal=True)
    assert compiled.run(list("abab")) == evaluate(rasp.SelectorWidth(later), list("abab"), causal=True)
