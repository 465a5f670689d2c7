"""Property-based fuzzer: random RASP programs over every construct, compiled and compared
with the interpreter on every input (exhaustive), for softmax and hard attention and causal
mode. The contract: exact agreement, or a CompileError at compile time — never a wrong
answer, never another exception.

Profiles (see rasp/compiler/README.md): the quick one runs in `make test` (deterministic,
about a minute); `FUZZ_PROFILE=long` runs many more random programs, e.g.
`FUZZ_PROFILE=long FUZZ_EXAMPLES=5000 FUZZ_LOG=fuzz.log python -m pytest tests/compiler/test_compile_fuzz.py`
(FUZZ_LOG: one line per program, "agreed" or "refused").
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rasp
from rasp import Comparison
from rasp.compiler import CompileError, CompileWarning, compile_program

PROFILE = os.environ.get("FUZZ_PROFILE", "quick")
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12" if PROFILE == "quick" else "2000"))
VOCAB = [0, 1, 2]
MAX_LEN = 3


def num(x: Any) -> int:
    """Any value the programs make (int, bool, float, tuple) as a small int."""
    if isinstance(x, tuple):
        return sum(num(v) for v in x)
    if isinstance(x, float):
        return round(3 * x)
    return int(x)


# Functions: total, None-producing, partial (raise on some values), constant.
MAPS: list[Callable[[Any], Any]] = [
    lambda x: (num(x) + 1) % 4,
    lambda x: num(x) % 2,
    lambda x: None if num(x) == 0 else num(x) % 3,
    lambda x: 6 // num(x) % 4,  # ZeroDivisionError at 0: that input is invalid
    lambda x: 1,
    lambda x: num(x) > 1,
]
PAIRS: list[Callable[[Any, Any], Any]] = [
    lambda x, y: (num(x) + num(y)) % 4,
    lambda x, y: x,  # ignores its second argument (whose None still makes None)
    lambda x, y: y,  # ignores its first argument
    lambda x, y: (num(x) % 2, num(y) % 2),
    lambda x, y: None if num(x) == num(y) else max(num(x), num(y)) % 3,
    lambda x, y: num(x) - num(y),
]
NUM_MAPS: list[Callable[[Any], Any]] = [
    lambda x: num(x) % 2,
    lambda x: num(x) % 3,
    lambda x: float(num(x) == 1),
]
COMPARISONS = list(Comparison)
PREDICATES = [*COMPARISONS, lambda k, q: num(k) % 2 == num(q) % 2]


@st.composite
def selectors(draw, cats: list) -> rasp.Selector:
    """Select over categorical SOps (which may be None), combined with &, | and ~."""

    def select() -> rasp.Selector:
        return rasp.Select(draw(st.sampled_from(cats)), draw(st.sampled_from(cats)),
                           draw(st.sampled_from(PREDICATES)))

    sel = select()
    for _ in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(["and", "or", "not"]))
        sel = sel & select() if kind == "and" else sel | select() if kind == "or" else ~sel
    return sel


@st.composite
def programs(draw) -> rasp.SOp:
    """A program of 2-9 steps over categorical and numerical pools (depth up to 9)."""
    cats: list = [rasp.tokens, rasp.indices, rasp.Full(draw(st.integers(0, 2)))]
    if draw(st.booleans()):
        cats.append(rasp.length)
    if draw(st.booleans()):
        cats.append(rasp.ConstantSOp([2, 0, 1], check_length=False))
    nums: list = []
    for _ in range(draw(st.integers(2, 9))):
        kind = draw(st.sampled_from(
            ["map", "seqmap", "num_map", "mean", "linear", "round", "aggregate", "shift", "width"]))
        if kind == "map":
            cats.append(rasp.Map(draw(st.sampled_from(MAPS)), draw(st.sampled_from(cats)),
                                 simplify=draw(st.booleans())))
        elif kind == "seqmap":
            cats.append(rasp.SequenceMap(draw(st.sampled_from(PAIRS)), draw(st.sampled_from(cats)),
                                         draw(st.sampled_from(cats))))
        elif kind == "num_map":
            nums.append(rasp.numerical(rasp.Map(draw(st.sampled_from(NUM_MAPS)),
                                                draw(st.sampled_from(cats)))))
        elif kind == "mean" and nums:
            nums.append(rasp.numerical(rasp.Aggregate(draw(selectors(cats)),
                                                      draw(st.sampled_from(nums)), default=0)))
        elif kind == "linear" and nums:
            a, b = draw(st.sampled_from(nums)), draw(st.sampled_from(nums))
            nums.append(rasp.numerical(rasp.LinearSequenceMap(
                a, b, draw(st.sampled_from([1, -1, 2])), draw(st.sampled_from([1, 0.5])))))
        elif kind == "round" and nums:
            cats.append(rasp.Map(lambda m: round(2 * m), draw(st.sampled_from(nums))))
        elif kind == "aggregate":
            default = draw(st.sampled_from([None, 0, 2]))
            cats.append(rasp.Aggregate(draw(selectors(cats)), draw(st.sampled_from(cats)),
                                       default=default))
        elif kind == "shift":
            # An index-based selector picks at most one key: the values never conflict.
            offset = draw(st.integers(-2, 1))
            target = rasp.Map(lambda i, o=offset: i + o, rasp.indices)
            sel = rasp.Select(rasp.indices, target, Comparison.EQ)
            if draw(st.booleans()):
                sel = sel & draw(selectors(cats))
            cats.append(rasp.Aggregate(sel, draw(st.sampled_from(cats)),
                                       default=draw(st.sampled_from([None, 1]))))
        elif kind == "width":
            cats.append(rasp.SelectorWidth(draw(selectors(cats))))
    pool = cats + nums if draw(st.booleans()) else cats
    return pool[-1] if draw(st.booleans()) else draw(st.sampled_from(pool[3:] or pool))


def check_contract(program: rasp.SOp, attention_kind: str, causal: bool) -> str:
    """'refused' (CompileError) or 'agreed'; fails the test on any wrong answer."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CompileWarning)
            compiled = compile_program(program, VOCAB, MAX_LEN, causal=causal,
                                       attention_kind=attention_kind)
    except CompileError:
        return "refused"
    report = compiled.verify()
    assert report.exhaustive
    assert report.ok, f"{attention_kind} causal={causal}: {report}"
    return "agreed"


_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=PROFILE == "quick",
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
)


@_SETTINGS
@given(programs(), st.sampled_from(["softmax", "hard"]), st.booleans())
def test_compiled_programs_agree_with_interpreter_or_refuse(program, attention_kind, causal) -> None:
    outcome = check_contract(program, attention_kind, causal)
    if os.environ.get("FUZZ_LOG"):  # the long profile counts programs and outcomes
        with open(os.environ["FUZZ_LOG"], "a") as log:
            log.write(f"{outcome}\n")
