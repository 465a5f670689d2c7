"""Learned residual compression: the hooked compression, its folded transformer and training.

References: the uncompressed model (an identity projection must leave it unchanged), the
two independent implementations against each other (hooks vs weight algebra), and the
interpreter (rasp.evaluate) for the trained model's accuracy."""

from __future__ import annotations

import random

import pytest
import torch

from interp.analysis.compression import (
    Compression,
    compressed_forward,
    evaluate_compression,
    fold_compression,
    smallest_width,
    train_compression,
)
from interp.errors import InputError
from rasp.compiler import compile_program
from rasp.evaluate import evaluate
from rasp.lib import PROGRAMS

VOCAB = ["a", "b"]


@pytest.fixture(scope="module")
def compiled():
    return compile_program(PROGRAMS["reverse"].build(), VOCAB, 3, one_per_op=True)


def _data(n: int, seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    return [[rng.choice(VOCAB) for _ in range(rng.randint(1, 3))] for _ in range(n)]


def _reference(compiled):
    return lambda tokens: evaluate(compiled.program, tokens)


def _ids(compiled, length: int = 3) -> torch.Tensor:
    return torch.tensor([compiled.encode(x) for x in _data(40, 5) if len(x) == length])


def test_identity_projection_leaves_the_model_unchanged(compiled) -> None:
    d = compiled.model.cfg.d_model
    comp = Compression(d, d)
    with torch.no_grad():
        comp.W_down.copy_(torch.eye(d))
        comp.W_up.copy_(torch.eye(d))
        ids = _ids(compiled)
        got, resid = compressed_forward(compiled.model, comp, ids, keep_resid=True)
        torch.testing.assert_close(got, compiled.model(ids))
    assert len(resid) == compiled.model.cfg.n_layers
    report = evaluate_compression(compiled, comp, _data(60, 1), _reference(compiled))
    assert report.accuracy == 1.0
    assert all(v["decoded"] == 1.0 and v["rel_error"] < 1e-9 for v in report.variables.values())


def test_folded_transformer_equals_the_hooked_compression(compiled) -> None:
    d = compiled.model.cfg.d_model
    torch.manual_seed(0)
    comp = Compression(d, 7)
    with torch.no_grad():
        comp.W_down.copy_(torch.randn(d, 7) / 3)
        comp.W_up.copy_(torch.randn(7, d) / 3)
        ids = _ids(compiled)
        hooked, _ = compressed_forward(compiled.model, comp, ids)
        folded = fold_compression(compiled, comp)
        assert folded.cfg.d_model == 7
        torch.testing.assert_close(folded(ids), hooked, rtol=1e-4, atol=1e-4)


def test_tiny_program_compresses_well_below_d_model(compiled) -> None:
    d = compiled.model.cfg.d_model
    width = d // 3
    comp = train_compression(compiled, width, _data(200, 0), steps=600)
    folded = fold_compression(compiled, comp)
    test = _data(150, 1)
    agree = 0
    with torch.no_grad():
        for tokens in test:
            logits = folded(torch.tensor([compiled.encode(tokens)]))[0]
            agree += compiled.decode(logits[1:]) == evaluate(compiled.program, tokens)
    assert agree / len(test) >= 0.99
    report = evaluate_compression(compiled, comp, test, _reference(compiled))
    assert report.accuracy >= 0.99 and report.width == width < d
    assert smallest_width([report]) == width


def test_refusals(compiled) -> None:
    d = compiled.model.cfg.d_model
    with pytest.raises(InputError, match="width"):
        train_compression(compiled, d + 1, _data(10, 0), steps=1)
    comp = train_compression(compiled, 4, _data(20, 0), steps=2, nonlinear=True)
    assert comp.decode(torch.zeros(2, 4)).shape == (2, d)
    with pytest.raises(InputError, match="linear"):
        fold_compression(compiled, comp)


def test_attention_only_model_keeps_one_residual_per_block() -> None:
    """shift_by compiles to heads only: its residual after each block is read after the head."""
    entry = PROGRAMS["shift_by"]
    compiled = compile_program(entry.build(), entry.vocab, 3, one_per_op=True)
    assert compiled.model.cfg.attn_only
    d = compiled.model.cfg.d_model
    comp = Compression(d, d)
    with torch.no_grad():
        comp.W_down.copy_(torch.eye(d))
        comp.W_up.copy_(torch.eye(d))
    report = evaluate_compression(compiled, comp, [["a", "b", "c"], ["b", "a"]],
                                  _reference(compiled))
    assert report.accuracy == 1.0
    assert all(v["rel_error"] < 1e-9 for v in report.variables.values())
