"""embedding.py and scores.py: what is folded into the embeddings, and joint variables."""

from __future__ import annotations

from rasp import core
from rasp.compiler.lower import lower_program
from rasp.limits import Limits

VOCAB = ["a", "b", "c"]


def test_token_and_position_functions_cost_no_op() -> None:
    upper = core.Map(str.upper, core.tokens).named("upper")
    code = core.SequenceMap(lambda u, t: u + t, upper, core.tokens).named("code")
    half = core.Map(lambda i: i // 2, core.indices).named("half")
    both = core.SequenceMap(lambda c, h: f"{c}{h}", code, half).named("both")
    lowered = lower_program(both, VOCAB, 4, False, Limits())
    v = lowered.variables
    assert v["code"].source == "token" and [v["code"].fn(t) for t in VOCAB] == ["Aa", "Bb", "Cc"]
    assert v["half"].source == "pos" and [v["half"].fn(i) for i in range(4)] == [0, 0, 1, 1]
    # Token and position mix: one MLP, reading the two folded variables.
    assert [(op.kind, op.writes) for op in lowered.ops] == [("mlp", ["both"])]
    assert {d[0] for n in lowered.ops[0].neurons for d in n.w_in} <= {"code", "half", "bos"}


def test_full_and_maps_of_constants_are_constants() -> None:
    three = core.Full(3).named("three")
    nine = core.Map(lambda x: x * x, three).named("nine")
    out = core.SequenceMap(lambda t, n: f"{t}{n}", core.tokens, nine).named("out")
    v = lower_program(out, VOCAB, 4, False, Limits()).variables
    assert (v["nine"].source, v["nine"].const) == ("const", 9)
    assert v["out"].source == "token" and [v["out"].fn(t) for t in VOCAB] == ["a9", "b9", "c9"]


def test_or_across_token_functions_reads_a_folded_joint_variable() -> None:
    vowel = core.Map(lambda t: t == "a", core.tokens).named("vowel")
    sel = (core.Select(core.tokens, core.tokens, core.Comparison.EQ)
           | core.Select(vowel, vowel, core.Comparison.LT)).named("sel")
    out = core.Aggregate(sel, core.tokens).named("out")
    lowered = lower_program(out, VOCAB, 4, False, Limits())
    joint = lowered.variables["(tokens,vowel)"]
    assert joint.source == "token"
    assert [joint.fn(t) for t in VOCAB] == [("a", True), ("b", False), ("c", False)]
    assert [op.kind for op in lowered.ops] == ["attn"]  # no joint MLP
    assert lowered.ops[0].selectors[0] == "sel"


def test_or_across_computed_variables_builds_a_joint_mlp() -> None:
    prev = core.Aggregate(core.Select(core.indices, core.indices, lambda k, q: k == q - 1),
                          core.tokens).named("prev")
    sel = (core.Select(core.tokens, prev, core.Comparison.EQ)
           | core.Select(core.indices, core.indices, core.Comparison.EQ)).named("sel")
    out = core.Aggregate(sel, core.tokens).named("out")
    lowered = lower_program(out, VOCAB, 4, False, Limits())
    query = lowered.variables["(indices,prev)"]
    # prev can be None (position 0): the joint values are every (index, prev-or-None) pair.
    assert set(query.values) == {(i, p) for i in range(4) for p in VOCAB + [None]}
    # Keys mix tokens and positions, queries a head's output: neither folds, two joint MLPs
    # (named after the head that reads them).
    assert [(op.label, op.writes) for op in lowered.ops] == [
        ("prev", ["prev"]), ("out.joint", ["(indices,tokens)"]),
        ("out.joint", ["(indices,prev)"]), ("out", ["out"])]
