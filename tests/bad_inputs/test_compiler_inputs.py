"""Bad inputs to the compiler surface (compile_program, CompiledModel, the tracr entry point):
each gives the project's error class, and the message names the offending thing."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

import rasp
from interp.errors import InputError
from rasp import Comparison, Select, indices, tokens
from rasp.compiler import CompileError, compile_program, compile_rasp_to_model
from rasp.limits import Limits

LEQ = Select(indices, indices, Comparison.LEQ)


def _num(f: Callable[[Any], Any], name: str) -> rasp.SOp:
    return rasp.numerical(rasp.Map(f, tokens)).named(name)


def _mean_of(sop: rasp.SOp) -> rasp.SOp:
    return rasp.numerical(rasp.Aggregate(LEQ, sop, default=0))


def _nested_mean() -> rasp.SOp:
    inner = _mean_of(_num(lambda t: 1 if t == "a" else 0, "is_a"))
    return rasp.numerical(rasp.Aggregate(LEQ, inner, default=0)).named("mean_of_mean")


def _compile(program: Any, vocab: Any = ("a", "b"), max_seq_len: Any = 3, **kw: Any) -> Any:
    return lambda: compile_program(program, list(vocab) if isinstance(vocab, tuple) else vocab,
                                   max_seq_len, **kw)


# (case id, callable that must raise, error class, regex the message must contain)
COMPILE_CASES = [
    ("vocab-string", _compile(tokens, "abc"), CompileError, r"'abc'"),
    ("vocab-none", _compile(tokens, None), CompileError, r"vocab.*None"),
    ("vocab-empty", _compile(tokens, []), CompileError, r"vocab is empty"),
    ("vocab-contains-none", _compile(tokens, ["a", None]), CompileError, r"vocab contains None"),
    ("vocab-of-lists", _compile(tokens, [[1], [2]]), CompileError, r"\[1\].*unhashable list"),
    ("vocab-dict", _compile(tokens, {"a": 1}), CompileError, r"\{'a': 1\}"),
    ("vocab-name-clash", _compile(tokens, [1, "1"]), CompileError, r"distinct names"),
    ("vocab-nan", _compile(tokens, [1.0, float("nan")]), CompileError, r"nan"),
    ("vocab-over-cap", _compile(tokens, list(range(50)), limits=Limits(value_set=10)),
     CompileError, r"50 tokens.*value_set=10"),
    ("max-len-zero", _compile(tokens, max_seq_len=0), CompileError, r"max_seq_len.*0"),
    ("max-len-negative", _compile(tokens, max_seq_len=-1), CompileError, r"max_seq_len.*-1"),
    ("max-len-string", _compile(tokens, max_seq_len="3"), CompileError, r"max_seq_len.*'3'"),
    ("max-len-bool", _compile(tokens, max_seq_len=True), CompileError, r"max_seq_len.*True"),
    ("max-len-float", _compile(tokens, max_seq_len=2.5), CompileError, r"max_seq_len.*2\.5"),
    ("max-len-huge", _compile(tokens, max_seq_len=10**9), CompileError,
     r"max_seq_len=1000000000.*value_set"),
    ("attention-kind", _compile(tokens, attention_kind="linear"), CompileError, r"'linear'"),
    ("bos-empty", _compile(tokens, bos=""), CompileError, r"bos.*''"),
    ("bos-not-string", _compile(tokens, bos=5), CompileError, r"bos.*5"),
    ("limits-wrong-type", _compile(tokens, limits={"value_set": 3}), CompileError,
     r"Limits.*value_set"),
    ("program-selector", _compile(LEQ), CompileError, r"selectors are not programs"),
    ("program-string", _compile("tokens"), CompileError, r"'tokens'"),
    ("program-none", _compile(None), CompileError, r"None"),
    ("map-returns-dict", _compile(rasp.Map(lambda t: {t: 1}, tokens).named("to_dict")),
     CompileError, r"'to_dict'.*unhashable dict"),
    ("map-returns-list", _compile(rasp.Map(lambda t: [t], tokens).named("to_list")),
     CompileError, r"'to_list'.*unhashable list"),
    ("map-returns-set", _compile(rasp.Map(lambda t: {t}, tokens).named("to_set")),
     CompileError, r"'to_set'.*unhashable set"),
    ("seqmap-returns-list",
     _compile(rasp.SequenceMap(lambda t, i: [t, i], tokens, indices).named("pairs_list")),
     CompileError, r"'pairs_list'.*unhashable list"),
    ("constant-sop-unhashable", _compile(rasp.ConstantSOp([[1], [2], [3]]).named("const_lists")),
     CompileError, r"'const_lists'.*unhashable"),
    ("map-fails-everywhere", _compile(rasp.Map(lambda t: int(t), tokens).named("to_int")),
     CompileError, r"'to_int'.*fails on every value.*ValueError"),
    ("seqmap-fails-everywhere",
     _compile(rasp.SequenceMap(lambda t, i: t / i, tokens, indices).named("divide")),
     CompileError, r"'divide'.*fails on every value"),
    ("numerical-may-be-none", _compile(_num(lambda t: None if t == "a" else 1, "maybe")),
     CompileError, r"'maybe'.*None"),
    ("numerical-string", _compile(_num(lambda t: t, "letters")), CompileError,
     r"'letters'.*non-number"),
    ("numerical-nan", _compile(_mean_of(_num(lambda t: float("nan"), "nan_map"))),
     CompileError, r"'nan_map'.*nan"),
    ("numerical-inf", _compile(_mean_of(_num(lambda t: float("inf"), "inf_map"))),
     CompileError, r"'inf_map'.*inf"),
    ("select-on-numerical",
     _compile(rasp.SelectorWidth(Select(_mean_of(_num(lambda t: 1, "one")), indices,
                                        Comparison.EQ).named("numeric_select"))),
     CompileError, r"numeric_select.*numerical"),
    ("numerical-default-nonzero",
     _compile(rasp.numerical(rasp.Aggregate(LEQ, _num(lambda t: 1, "ones"), default=5))
              .named("avg5")), CompileError, r"'avg5'.*default must be 0"),
    ("numerical-constant-strings",
     _compile(rasp.numerical(rasp.ConstantSOp(["x", "y", "z"])).named("const_letters")),
     CompileError, r"'const_letters'.*non-number"),
    ("nonlinear-numerical-pair",
     _compile(rasp.numerical(rasp.SequenceMap(lambda x, y: x * y, _mean_of(_num(lambda t: 1, "u")),
                                              _mean_of(_num(lambda t: 2, "v")))).named("prod")),
     CompileError, r"'prod'.*linear"),
    ("value-set-cap",
     _compile(rasp.SequenceMap(lambda t, i: (t, i), tokens, indices).named("tuples"),
              limits=Limits(value_set=3)), CompileError, r"'tuples'.*value_set=3"),
    ("table-entries-cap",
     _compile(rasp.SequenceMap(lambda t, i: t, tokens, indices).named("tabled"),
              limits=Limits(table_entries=2)), CompileError, r"'tabled'.*table_entries=2"),
    ("model-parameters-cap",
     _compile(rasp.SequenceMap(lambda t, i: (t, i), tokens, indices).named("big"),
              limits=Limits(model_parameters=50)), CompileError, r"model_parameters=50"),
    ("joint-values-cap",
     _compile(rasp.SelectorWidth(Select(tokens, tokens, Comparison.EQ)
                                  | Select(indices, indices, Comparison.EQ)).named("either"),
              limits=Limits(joint_values=2)), CompileError, r"'either'.*joint_values=2"),
    ("nested-mean-too-many-values", _compile(_nested_mean(), max_seq_len=8), CompileError,
     r"'mean_of_mean'.*value_set"),
]


@pytest.mark.parametrize("make, error, pattern", [c[1:] for c in COMPILE_CASES],
                         ids=[c[0] for c in COMPILE_CASES])
def test_bad_compile_input_names_the_offender(make, error, pattern) -> None:
    with pytest.raises(error) as info:
        make()
    assert type(info.value) is error
    assert re.search(pattern, str(info.value)), str(info.value)


@pytest.fixture(scope="module")
def compiled() -> Any:
    return compile_program(rasp.Map(lambda t: t.upper(), tokens), ["a", "b"], 3)


RUN_CASES = [
    ("string-input", lambda c: c.run("a b"), r"string 'a b'"),
    ("empty-input", lambda c: c.run([]), r"empty"),
    ("too-long", lambda c: c.run(["a"] * 4), r"4 tokens.*max_seq_len=3"),
    ("unknown-token", lambda c: c.run(["a", "z"]), r"'z' at position 1"),
    ("unhashable-token", lambda c: c.run([["a"]]), r"\['a'\] at position 0"),
    ("dict-token", lambda c: c.run([{"a": 1}]), r"\{'a': 1\}"),
    ("not-iterable", lambda c: c.run(5), r"int 5"),
    ("none-input", lambda c: c.run(None), r"NoneType None"),
    ("batch-string", lambda c: c.run_batch("ab"), r"string 'ab'"),
    ("batch-bad-row", lambda c: c.run_batch([["a"], ["q"]]), r"'q' at position 0"),
    ("int-token-for-str-vocab", lambda c: c.run([1]), r"token 1 at position 0"),
]


@pytest.mark.parametrize("call, pattern", [c[1:] for c in RUN_CASES], ids=[c[0] for c in RUN_CASES])
def test_bad_run_input_names_the_offender(compiled, call, pattern) -> None:
    with pytest.raises(InputError) as info:
        call(compiled)
    assert type(info.value) is InputError
    assert re.search(pattern, str(info.value)), str(info.value)


def test_verify_without_program_says_why(compiled, tmp_path) -> None:
    from rasp.compiler import CompiledModel

    loaded = CompiledModel.load(compiled.save(tmp_path / "m"))
    with pytest.raises(InputError, match=r"verify needs the RASP program"):
        loaded.verify()


def test_tracr_bos_in_vocab_is_named() -> None:
    with pytest.raises(CompileError, match=r"compiler_bos 'a'"):
        compile_rasp_to_model(tokens, {"a", "b"}, 3, compiler_bos="a")


def test_tracr_apply_without_bos_is_named() -> None:
    model = compile_rasp_to_model(tokens, {"a", "b"}, 3)
    with pytest.raises(CompileError, match=r"'compiler_bos'"):
        model.apply(["a", "b"])


def test_tracr_pad_in_vocab_is_named() -> None:
    with pytest.raises(CompileError, match=r"compiler_pad 'b'"):
        compile_rasp_to_model(tokens, {"a", "b"}, 3, compiler_pad="b")


def test_tracr_pad_before_real_tokens_is_named() -> None:
    model = compile_rasp_to_model(tokens, {"a", "b"}, 3)
    with pytest.raises(CompileError, match=r"'compiler_pad' at position 1"):
        model.apply(["compiler_bos", "compiler_pad", "a"])
