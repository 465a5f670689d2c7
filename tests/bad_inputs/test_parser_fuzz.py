"""Random token soups and random well-formed expressions: the textual-RASP front end either
builds a program or raises one RASPError; never another exception, never unbounded work."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rasp
from rasp.limits import Limits
from rasp.textual.repl import Repl

SMALL = Limits(parse_nesting=30, parse_steps=5_000, int_bits=512, list_length=2_000)
WORDS = [
    "tokens", "indices", "length", "x", "y", "f", "0", "1", "3", "2.5", '"a"', '"ab"', "True",
    "select", "aggregate", "selector_width", "indicator", "round", "range", "zip", "len", "count",
    "def", "return", "if", "else", "and", "or", "not", "in", "for", "load", "draw", "set", "example",
    "(", ")", "[", "]", "{", "}", ",", ";", ":", "=", "==", "!=", "<", ">", "<=", ">=",
    "+", "-", "*", "/", "%", "^",
]  # fmt: skip

soups = st.lists(st.sampled_from(WORDS), min_size=1, max_size=40).map(" ".join)

atoms = st.sampled_from(["tokens", "indices", "length", "1", "0", "2", '"a"', "[1, 2]", "x", "True"])


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "%", "^", "==", "<", "and", "or"]),
                       children).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
    select = st.tuples(children, children, st.sampled_from(["==", "<", ">="])).map(
        lambda t: f"select({t[0]}, {t[1]}, {t[2]})")
    aggregate = st.tuples(children, children).map(lambda t: f"aggregate({t[0]}, {t[1]})")
    unary = st.tuples(st.sampled_from(["-", "not ", "indicator", "round", "selector_width"]), children).map(
        lambda t: f"{t[0]}({t[1]})")
    ternary = st.tuples(children, children, children).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})")
    return st.one_of(binary, select, aggregate, unary, ternary)


expressions = st.recursive(atoms, _combine, max_leaves=12)


def _check(text: str) -> None:
    try:
        program = rasp.parse_program(text, limits=SMALL)
    except rasp.RASPError:
        return
    for value in program.values():
        try:
            value(["a", "b"])
        except rasp.RASPError:
            pass


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(soups)
def test_token_soup_gives_a_program_or_one_rasp_error(text):
    _check(text)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions, expressions)
def test_random_expressions_give_a_program_or_one_rasp_error(first, second):
    _check(f"x = {first};\ny = {second};\nz = x;")


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(soups, min_size=1, max_size=6))
def test_the_repl_never_dies(lines):
    import io

    repl = Repl(io.StringIO(), limits=SMALL)
    repl.run(line + "\n" for line in lines)
    repl.pending = ""
    repl.feed("ok = 1;\n")
    assert repl.finished or repl.interpreter.globals.get("ok") == 1
