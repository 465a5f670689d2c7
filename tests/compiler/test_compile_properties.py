"""Random well-typed RASP programs compile and agree with the interpreter, or raise CompileError."""

from __future__ import annotations

import warnings

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rasp
from rasp import Comparison
from rasp.compiler import CompileError, CompileWarning, compile_program

VOCAB = [0, 1, 2]
MAX_LEN = 3
COMPARISONS = [Comparison.EQ, Comparison.LT, Comparison.LEQ, Comparison.GT, Comparison.NEQ,
               Comparison.TRUE, Comparison.FALSE]
MAPS = [lambda x: x + 1, lambda x: x % 2, lambda x: min(x, 2), lambda x: x * x % 5]
PAIRS = [lambda x, y: x + y, lambda x, y: max(x, y), lambda x, y: (x - y) % 3]


@st.composite
def selectors(draw, sops):
    def select():
        return rasp.Select(draw(st.sampled_from(sops)), draw(st.sampled_from(sops)),
                           draw(st.sampled_from(COMPARISONS)))

    sel = select()
    combine = draw(st.sampled_from(["none", "and", "or", "not"]))
    if combine == "and":
        sel = sel & select()
    elif combine == "or":
        sel = sel | select()
    elif combine == "not":
        sel = ~sel
    return sel


def mlp_or_width_step(draw, kind: str, sops: list):
    """One generator step shared by the random-program strategies: a Map ("map"), a
    SequenceMap ("seqmap"), a SelectorWidth ("width") or a numerical mean read by a Map
    ("mean"); None for any other kind."""
    if kind == "map":
        return rasp.Map(draw(st.sampled_from(MAPS)), draw(st.sampled_from(sops)))
    if kind == "seqmap":
        return rasp.SequenceMap(draw(st.sampled_from(PAIRS)), draw(st.sampled_from(sops)),
                                draw(st.sampled_from(sops)))
    if kind == "width":
        return rasp.SelectorWidth(draw(selectors(sops)))
    if kind == "mean":
        bits = rasp.numerical(rasp.Map(lambda x: x % 2, draw(st.sampled_from(sops))))
        mean = rasp.numerical(rasp.Aggregate(draw(selectors(sops)), bits, default=0))
        return rasp.Map(lambda m: round(3 * m), mean)
    return None


@st.composite
def programs(draw):
    """Categorical integer SOps built from tokens and indices in 1-4 steps."""
    sops = [rasp.tokens, rasp.indices]
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["map", "seqmap", "aggregate", "width", "mean"]))
        new = mlp_or_width_step(draw, kind, sops)
        if kind == "aggregate":
            # Select on indices with EQ picks at most one key, so values never conflict.
            offset = draw(st.integers(-1, 1))
            target = rasp.Map(lambda i, o=offset: i + o, rasp.indices)
            sel = rasp.Select(rasp.indices, target, Comparison.EQ)
            if draw(st.booleans()):
                sel = sel & draw(selectors(sops))
            new = rasp.Aggregate(sel, draw(st.sampled_from(sops)))
            new = rasp.Map(lambda x: 0 if x is None else x, new)
        sops.append(new)
    return sops[-1]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_random_programs_agree_or_refuse(program) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CompileWarning)
            compiled = compile_program(program, VOCAB, MAX_LEN)
    except CompileError:
        return
    report = compiled.verify()
    assert report.exhaustive
    assert report.ok, str(report)
