"""Values at the BOS position are kept clean only where a later head reads them there
(rasp/compiler/hygiene.py). Programs that chain heads through MLPs and defaults, where a
missed dependency shows up as wrong outputs at real positions, checked against the
interpreter."""

from __future__ import annotations

import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_compile_properties import mlp_or_width_step, selectors

import rasp
from rasp import Comparison
from rasp.compiler import CompileError, CompileWarning, compile_program

VOCAB = [0, 1, 2]


def _verify(program, max_len: int, **options) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CompileWarning)
            compiled = compile_program(program, VOCAB, max_len, **options)
    except CompileError:
        return
    report = compiled.verify()
    assert report.exhaustive
    assert report.ok, str(report)


@pytest.mark.parametrize("kind", ["softmax", "hard"])
def test_default_read_through_a_chain_of_heads(kind: str) -> None:
    # The last head reads a8 -> a15 at its BOS key (its default). a15 is a head whose query
    # comes from an MLP of another defaulted head: all of them must stay clean at BOS.
    i, t = rasp.indices, rasp.tokens
    a8 = rasp.Aggregate(rasp.Select(i, rasp.Map(lambda x: x - 1, i), Comparison.EQ), t, default=0)
    a15 = rasp.Aggregate(rasp.Select(i, rasp.Map(lambda x: x, a8), Comparison.EQ), t, default=0)
    a18 = rasp.Aggregate(rasp.Select(i, rasp.Map(lambda x: x - 1, t), Comparison.EQ), a15)
    _verify(rasp.Map(lambda x: x + 1, a18), 4, attention_kind=kind)


@st.composite
def chained_programs(draw):
    """Up to 7 steps mixing heads (None and non-None defaults, widths, means) and MLPs."""
    sops = [rasp.tokens, rasp.indices]
    for _ in range(draw(st.integers(2, 7))):
        kind = draw(st.sampled_from(["map", "seqmap", "agg", "agg_none", "agg_default",
                                     "width", "mean"]))
        new = mlp_or_width_step(draw, kind, sops)
        if kind.startswith("agg"):
            # Select on indices with EQ picks at most one key, so values never conflict.
            offset = draw(st.integers(-1, 1))
            source = draw(st.sampled_from(sops))
            target = rasp.Map(lambda x, o=offset: x + o, source)
            sel = rasp.Select(rasp.indices, target, Comparison.EQ)
            if draw(st.booleans()):
                sel = sel & draw(selectors(sops))
            if kind == "agg_default":
                # Any earlier SOp, None-able ones included: a picked None must stay None.
                values = draw(st.sampled_from(sops))
                new = rasp.Aggregate(sel, values, default=draw(st.integers(0, 3)))
            else:
                new = rasp.Aggregate(sel, draw(st.sampled_from(sops)))
                if kind == "agg":
                    new = rasp.Map(lambda x: 0 if x is None else x, new)
        sops.append(new)
    return sops[-1]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chained_programs(), st.sampled_from(["softmax", "hard"]), st.booleans())
def test_chained_programs_agree(program, kind: str, causal: bool) -> None:
    _verify(program, 4, attention_kind=kind, causal=causal)
