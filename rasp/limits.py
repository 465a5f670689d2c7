"""Resource caps for everything that runs user-written RASP: the textual parser, the
interpreter and the compiler.

This module is the one place that defines them (the model/checkpoint side has its own in
`interp/limits.py`, because `rasp` imports nothing of `interp`). Every cap can be raised
per call (functions that enforce a cap take `limits=`) or for the whole process with
`set_limits(...)`; every error a cap raises names the cap's field so the user knows what
to raise. The defaults keep any single operation within seconds (a runaway textual program:
about 20 s) and a few hundred MB on a laptop, while admitting every real program (see each
field's comment for what it allows).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Caps on parse, evaluation and compilation work. Field names appear in errors."""

    # Each default says what it allows; a cap stops runaway input, never a legitimate program
    # (measured on a 2-core CPU; every error names the field to raise).
    # Textual RASP parser and its constant evaluation.
    parse_nesting: int = 60  # nested brackets / expressions / calls: any hand-written program (< 20)
    # Evaluation steps of one textual program: parse_steps, plus parse_steps_per_statement for
    # every statement of its source (loaded files included), so a long program is never mistaken
    # for a runaway one. An ordinary statement takes ~6 steps (a 100,000-line file: 575,000 steps,
    # 21 s; it is allowed 5.2 million); a short runaway loop (~250,000 steps/s) stops in ~1 s.
    parse_steps: int = 200_000
    parse_steps_per_statement: int = 50
    int_bits: int = 4096  # size of any integer a textual program computes (1,233 decimal digits)
    list_length: int = 100_000  # length of any list/range a textual program builds
    # Interpreter: selectors are n x n, so time and memory grow with the square of the input.
    input_length: int = 2048  # tokens in one evaluated input (n=1000 takes ~4 s)
    # Compiler (checked from value sets before any weight is built).
    value_set: int = 20_000  # distinct values one SOp may take (a 20,000-word vocabulary)
    table_entries: int = 2_000_000  # input combinations tabulated for one MLP / selector / mean
    model_parameters: int = 50_000_000  # parameters of one compiled model (200 MB of float32)
    joint_values: int = 4096  # joint values of the variables one |/~ selector combines
    # Not a refusal: above this many input combinations a chain of Maps is stored stepwise
    # (one MLP per Map) instead of being fused into one lookup.
    fused_table_entries: int = 200_000


DEFAULT_LIMITS = Limits()
_current = DEFAULT_LIMITS


def current_limits() -> Limits:
    """The caps in force for this process."""
    return _current


def set_limits(**changes: int) -> Limits:
    """Change caps process-wide (e.g. `set_limits(model_parameters=10**9)`); returns the new caps."""
    global _current
    _current = dataclasses.replace(_current, **changes)
    return _current
