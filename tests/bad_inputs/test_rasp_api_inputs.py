"""Bad inputs to the Python RASP API (DSL, interpreter, library, textual REPL API): one
RASPError naming the offender, in bounded time and memory (child under a 1 GiB rlimit)."""

from __future__ import annotations

import pytest
from rasp_sandbox import run_cases

MAX_SECONDS = 5.0
PRELUDE = "import rasp\nfrom rasp import tokens as T, indices as I, Comparison as C\n"

# name: (code after PRELUDE, exact error class, fragment the message must contain)
CASES: dict[str, tuple[str, str, str]] = {
    "map_of_non_callable": ("rasp.Map(3, T)", "RASPError", "got 3"),
    "map_of_string": ("rasp.Map(lambda x: x, 'tokens')", "RASPError", "got 'tokens'"),
    "aggregate_of_sop_selector": ("rasp.Aggregate(T, T)", "RASPError", "must be a Selector"),
    "unknown_comparison": ("rasp.Select(T, T, 'LTE')", "RASPError", "unknown comparison 'LTE'"),
    "selector_and_with_sop": ("rasp.selector_and(rasp.Select(T, T, C.EQ), T)", "RASPError",
                              "SelectorAnd: the second input must be a Selector"),
    "selector_width_of_sop": ("rasp.SelectorWidth(T)", "RASPError", "SelectorWidth: its input"),
    "linear_map_string_coefficient": ("rasp.LinearSequenceMap(T, I, 'a', 1)", "RASPError",
                                      "coefficients must be numbers, got 'a'"),
    "constant_sop_of_string": ("rasp.ConstantSOp('abc')", "RASPError", "got 'abc'"),
    "annotate_non_expression": ("rasp.annotate(3, name='x')", "RASPError", "got 3"),
    "numerical_of_selector": ("rasp.numerical(rasp.Select(T, T, C.EQ))", "RASPError",
                              "numerical(): the argument must be an SOp"),
    "bad_encoding_annotation": ("T.annotated(encoding='numerical')", "RASPError",
                                "encoding must be an rasp.Encoding, got 'numerical'"),
    "encoding_of_selector": ("rasp.get_encoding(rasp.Select(T, T, C.EQ))", "RASPError",
                             "only SOps have an encoding"),
    "empty_input": ("rasp.evaluate(T, [])", "RASPError", "empty input"),
    "string_input": ("rasp.evaluate(T, 'abc')", "RASPError", "the string 'abc'"),
    "integer_input": ("T(5)", "RASPError", "tokens must be a list, got int 5"),
    "iterator_input": ("rasp.evaluate(T, iter([1, 2]))", "RASPError", "got list_iterator"),
    "token_outside_vocab": ("rasp.evaluate(T, ['a', 'z'], vocab=['a'])", "RASPError",
                            "'z' at position 1 is not in the vocabulary"),
    "unhashable_token": ("rasp.evaluate(T, [['a']], vocab=['a'])", "RASPError",
                         "token ['a'] at position 0 is not in the vocabulary"),
    "too_long": ("rasp.evaluate(T, list('abc'), max_seq_len=2)", "RASPError",
                 "length 3 but max_seq_len is 2"),
    # Without this cap a 100k-token input would build 10^10-entry selectors for hours.
    "over_interpreter_input_cap": ("rasp.evaluate(rasp.lib.make_hist(), ['a'] * 100_000)", "RASPError",
                                   "100000 tokens, over the interpreter's cap of 2048"),
    "program_not_expression": ("rasp.evaluate(3, ['a'])", "RASPError", "got 3"),
    "user_map_raises": ("rasp.Map(lambda x: 1 / x, T).named('inverse')([1, 0])", "RASPError",
                        "'inverse' failed on input value 0: ZeroDivisionError"),
    "user_sequence_map_raises": ("rasp.SequenceMap(lambda x, y: x + y, T, I).named('glue')(['a'])",
                                 "RASPError", "'glue' failed on input value ('a', 0)"),
    "user_predicate_raises": ("rasp.Select(T, I, C.LT).named('cmp')(['a'])", "RASPError",
                              "'cmp' cannot compare key 'a' with query 0"),
    "categorical_aggregate_of_different_values": (
        "rasp.Aggregate(rasp.Select(T, T, C.TRUE), T).named('mix')(list('ab'))", "RASPError",
        "'mix' at position 0 selects several different values ['a', 'b']"),
    "numerical_mean_of_strings": (
        "rasp.numerical(rasp.Aggregate(rasp.Select(T, T, C.TRUE), T)).named('avg')(list('ab'))",
        "RASPError", "'avg' at position 0 cannot average ['a', 'b']"),
    "numerical_mean_of_none": (
        "prev = rasp.Aggregate(rasp.Select(I, I - 1, C.EQ), rasp.numerical(T))\n"
        "rasp.numerical(rasp.Aggregate(rasp.Select(I, I, C.TRUE), rasp.numerical(prev))).named('m')([1, 2])",
        "RASPError", "'m' at position 0 selected a None value"),
    "constant_sop_wrong_length": ("rasp.ConstantSOp([1, 2]).named('c')(list('abc'))", "RASPError",
                                  "'c' has 2 values but the input has 3 tokens"),
    "constant_selector_wrong_shape": ("rasp.ConstantSelector([[True]]).named('cs')(list('ab'))",
                                      "RASPError", "'cs' is not 2x2"),
    "two_nodes_one_label": ("rasp.trace(rasp.SequenceMap(lambda a, b: a, T.named('x'), I.named('x')), ['a'])",
                            "RASPError", "both labelled 'x'"),
    "causal_eval_bad_input": ("from rasp import causal_eval\ncausal_eval.evaluate(T, [])", "RASPError",
                              "empty input"),
    "shuffle_dyck_bad_pairs": ("from rasp import lib\nlib.make_shuffle_dyck(['(', ')'])", "RASPError",
                               "make_shuffle_dyck needs pairs"),
    "textual_program_raises_at_run": ("rasp.parse('x = tokens + 1;')(['a'])", "RASPError",
                                      "'x' failed on input value 'a': TypeError"),
}  # fmt: skip


@pytest.fixture(scope="module")
def results() -> dict[str, dict]:
    return run_cases({name: PRELUDE + code for name, (code, _, _) in CASES.items()})


@pytest.mark.parametrize("name", list(CASES))
def test_bad_api_input_gives_one_clear_error(name: str, results: dict[str, dict]):
    _, error, fragment = CASES[name]
    result = results[name]
    assert result["error"] == error, result
    assert fragment in result["message"], result["message"]
    assert result["seconds"] < MAX_SECONDS, result
