"""Causal evaluation entry point, like tracr's `tracr.rasp.causal_eval`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rasp.core import RASPExpr
from rasp.evaluate import DefaultRASPEvaluator
from rasp.evaluate import evaluate as _evaluate


class CausalEvaluator(DefaultRASPEvaluator):
    """tracr's causal evaluator class (prefix semantics; see `evaluate`)."""

    causal = True


def evaluate(expr: RASPExpr, xs: Sequence[Any]) -> Any:
    """Evaluate `expr` on `xs` with causal (prefix) semantics: query i sees keys 0..i.

    Unlike tracr's causal evaluator, `length` at position i is i+1 here: that is what a
    causal model can know there (tracr's gives the full length).
    """
    return _evaluate(expr, list(xs) if isinstance(xs, str) else xs, causal=True)
