"""Chains of categorical Aggregates with None and non-None defaults agree with the interpreter.

Regression: an Aggregate with a non-None default over a SOp that can be None was compiled
as if its output were never None, so a later Aggregate with a default read None as
"nothing selected" and decoded its default where the interpreter gives None.
"""

import itertools
import warnings

import pytest

import rasp
from rasp import Comparison, Select, indices, tokens
from rasp.compiler import CompileError, compile_program

# LT can select several different values (verify skips inputs the interpreter rejects).
COMPARISONS = (Comparison.LT, Comparison.EQ)
DEFAULTS = (None, "z")


def chain(steps):
    """tokens -> Aggregate -> Aggregate -> Aggregate, each step (comparison, default)."""
    sop = tokens
    for comparison, default in steps:
        sop = rasp.Aggregate(Select(indices, indices, comparison), sop, default=default)
    return sop


STEPS = list(itertools.product(COMPARISONS, DEFAULTS))
CHAINS = list(itertools.product(STEPS, repeat=3))


@pytest.mark.parametrize("steps", CHAINS, ids=lambda c: "-".join(f"{s[0].name}{s[1]}" for s in c))
def test_default_chain_agrees_with_interpreter(steps):
    program = chain(steps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compiled = compile_program(program, ["p", "q"], 4)
        except CompileError:
            return  # refusing is allowed; a silent mismatch is not
    report = compiled.verify()
    assert report.ok, str(report)
