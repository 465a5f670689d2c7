"""DSL semantics, trace, graph helpers, errors, parser and CLI."""

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rasp
from interp.cli import main as cli_main
from rasp import lib

T, I = rasp.tokens, rasp.indices
PAPER = (Path(__file__).parent / "paper_programs.rasp").read_text()


def test_operators_and_labels():
    x = rasp.numerical(rasp.Map(lambda t: t, T))
    assert rasp.evaluate(1 - x * 2 + 3, [1, 2]) == [2, 0]
    assert rasp.evaluate((T == "a") | (T == "b"), list("abc")) == [True, True, False]
    assert rasp.evaluate(~(T == "a"), list("ab")) == [False, True]
    m = rasp.Map(lambda t: t, T)
    assert m.label.startswith("map_") and m.label != rasp.Map(lambda t: t, T).label
    assert m.named("mine").label == "mine" and rasp.is_numerical(x) and rasp.is_categorical(m)
    assert rasp.get_encoding(x) == rasp.Encoding.NUMERICAL
    assert (T + I).children == [T, I]


def test_select_is_key_then_query_and_none_default():
    sel = rasp.Select(I, I, rasp.Comparison.LT)  # key < query
    assert rasp.trace(rasp.SelectorWidth(sel), list("abc")).output == [0, 1, 2]
    prev = rasp.Aggregate(rasp.Select(I, I - 1, rasp.Comparison.EQ), T)
    assert rasp.evaluate(prev, list("abc")) == [None, "a", "b"]
    assert rasp.evaluate(rasp.Map(lambda v: v + "!", prev), list("ab")) == [None, "a!"]


def test_numerical_aggregate_is_mean_and_same_values_are_fine():
    mean = rasp.numerical(
        rasp.Aggregate(rasp.Select(I, I, rasp.Comparison.TRUE), rasp.numerical(rasp.Map(float, T)))
    )
    assert rasp.evaluate(mean, [1, 2, 3, 6]) == [3.0] * 4
    same = rasp.Aggregate(rasp.Select(T, T, rasp.Comparison.TRUE), rasp.Full("z"))
    assert rasp.evaluate(same, list("ab")) == ["z", "z"]


def test_causal_mode_is_prefix_semantics():
    assert rasp.evaluate(rasp.length, list("abc"), causal=True) == [1, 2, 3]
    assert rasp.evaluate(lib.make_hist(), list("aab"), causal=True) == [1, 2, 1]


def test_trace_records_every_node_once_in_order():
    calls = []
    shared = rasp.Map(lambda t: calls.append(t) or t, T).named("shared")
    program = rasp.SequenceMap(lambda a, b: a + b, shared, shared).named("out")
    result = rasp.trace(program, list("ab"))
    assert calls == ["a", "b"]  # memoised: the shared Map ran once per position
    assert list(result.values) == ["tokens", "shared", "out"]
    assert result.output == ["aa", "bb"]
    rev = rasp.trace(lib.make_reverse(T), list("ab"))
    assert rev.selectors["reverse_selector"] == [[False, True], [True, False]]


def test_walk_and_edges():
    program = lib.make_reverse(T)
    nodes = rasp.walk(program)
    assert nodes[-1] is program and len({id(n) for n in nodes}) == len(nodes)
    position = {id(n): i for i, n in enumerate(nodes)}
    assert all(position[id(c)] < position[id(n)] for n in nodes for c in n.children)
    assert ("reverse_selector", "reverse") in rasp.dataflow_edges(program)


@pytest.mark.parametrize(
    "build,fragment",
    [
        (lambda: rasp.Map(3, T), "callable"),
        (lambda: rasp.Aggregate(T, T), "must be a Selector"),
        (lambda: rasp.Map(lambda x: x, "tokens"), "must be an SOp"),
        (lambda: rasp.Select(T, T, "LTE"), "unknown comparison"),
    ],
)
def test_bad_programs_fail_at_construction(build, fragment):
    with pytest.raises(rasp.RASPError, match=fragment):
        build()


def test_mixed_encoding_aggregates_evaluate_like_tracr_but_are_flagged_for_the_compiler():
    # tracr builds and evaluates these; only compiling them is refused.
    mean_of_categorical = rasp.numerical(rasp.Aggregate(rasp.Select(T, T, rasp.Comparison.EQ), T))
    assert mean_of_categorical([3]) == [3]
    assert rasp.evaluate(mean_of_categorical, [2, 4]) == [2, 4]
    with pytest.raises(rasp.RASPError, match="categorical"):
        rasp.core.check_aggregate_encoding(mean_of_categorical)
    categorical_of_numerical = rasp.Aggregate(rasp.Select(T, T, rasp.Comparison.EQ), rasp.numerical(T))
    with pytest.raises(rasp.RASPError, match=r"numerical\(\.\.\.\)"):
        rasp.core.check_aggregate_encoding(categorical_of_numerical)


def test_bad_inputs_and_runtime_errors():
    with pytest.raises(rasp.RASPError, match="empty input"):
        rasp.evaluate(T, [])
    with pytest.raises(rasp.RASPError, match="'z' at position 1 is not in the vocabulary"):
        rasp.evaluate(T, ["a", "z"], vocab=["a"])
    with pytest.raises(rasp.RASPError, match="length 3 but max_seq_len is 2"):
        rasp.evaluate(T, list("abc"), max_seq_len=2)
    bad_map = rasp.Map(lambda x: 1 / x, T).named("inverse")
    with pytest.raises(rasp.RASPError, match="'inverse' failed on input value 0"):
        rasp.evaluate(bad_map, [1, 0])
    mixed = rasp.Aggregate(rasp.Select(T, T, rasp.Comparison.TRUE), T).named("mix")
    with pytest.raises(rasp.RASPError, match=r"'mix' at position 0 selects several different"):
        rasp.evaluate(mixed, list("ab"))
    clash = rasp.SequenceMap(lambda a, b: a, T.named("x"), I.named("x"))
    with pytest.raises(rasp.RASPError, match="both labelled 'x'"):
        rasp.trace(clash, list("ab"))


@pytest.mark.parametrize(
    "text,line,column",
    [
        ("x = select(tokens, tokens, ==;\n", 1, 30),
        ("a = tokens;\nb = (a +;\n", 2, 9),
        ("y = foo(tokens);", 1, 5),
        ("z = tokens @ 1;", 1, 12),
    ],
)
def test_syntax_errors_have_line_and_column(text, line, column):
    with pytest.raises(rasp.RASPSyntaxError) as info:
        rasp.parse(text)
    assert (info.value.line, info.value.column) == (line, column)
    assert f"line {line}, column {column}" in str(info.value)


def test_parse_program_returns_named_assignments():
    programs = rasp.parse_program(PAPER)
    assert {"hist", "hist_bos", "reverse", "sorted_tokens", "double_hist", "dyck1", "dyck2"} <= set(programs)
    assert programs["reverse"].label == "reverse"
    assert rasp.evaluate(rasp.parse(PAPER, output="reverse"), list("abc")) == list("cba")
    assert rasp.parse("a = tokens; b = a + 1;").label == "b"


letters = st.lists(st.sampled_from("abc"), min_size=1, max_size=12)


@settings(max_examples=25, deadline=None)
@given(letters, st.lists(st.sampled_from("(){}"), min_size=1, max_size=12))
def test_textual_paper_programs_agree_with_dsl(xs, brackets):
    text = rasp.parse_program(PAPER)
    ev = rasp.evaluate
    assert ev(text["hist"], xs) == ev(lib.make_hist(), xs)
    assert ev(text["hist_bos"], ["BOS", *xs]) == ev(lib.make_hist_bos(), ["BOS", *xs])
    assert ev(text["reverse"], xs) == ev(lib.make_reverse(T), xs)
    assert ev(text["sorted_tokens"], xs) == sorted(xs)
    assert ev(text["double_hist"], xs) == ev(lib.make_double_hist(), xs)
    one = [b for b in brackets if b in "()"] or ["("]
    assert ev(text["dyck1"], one) == ev(lib.make_dyck1_ptf(), one)
    assert ev(text["dyck2"], brackets) == ev(lib.make_dyck2_ptf(), brackets)


def test_cli_library_program_json(capsys):
    assert cli_main(["rasp", "reverse", "--input", "a b c", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert payload["output"] == ["c", "b", "a"] and "reverse" in payload["trace"]["values"]


def test_cli_reports_bad_token(capsys):
    assert cli_main(["rasp", "hist", "--input", "a z"]) == 2
    assert "'z'" in capsys.readouterr().err
