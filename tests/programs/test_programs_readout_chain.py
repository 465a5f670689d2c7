"""The decompiled read-out chain (classes of partial score sums) equals the direct argmax of
bias + every row, summed left to right in float64, on every combination of values."""

from __future__ import annotations

import itertools
import random

from interp.programs.decompile import readout_classes


def _direct(bias: list[float], rows: list[list[list[float]]], pick: tuple[int, ...]) -> int:
    total = list(bias)
    for table, i in zip(rows, pick):
        total = [x + y for x, y in zip(total, table[i])]
    return max(range(len(total)), key=total.__getitem__)


def _chained(steps: list, pick: tuple[int, ...]) -> int:
    state = steps[0][pick[0]]
    for k, i in enumerate(pick[1:], 1):
        state = steps[k][state][i]
    return state


def test_chain_equals_the_direct_argmax_everywhere() -> None:
    rng = random.Random(0)
    for trial in range(30):
        width = rng.randint(2, 4)
        # Coarse values make ties common, so the first-maximum rule is exercised too.
        rows = [[[rng.choice([-1.0, 0.0, 0.5, 1.0, 0.1 * trial]) for _ in range(width)]
                 for _ in range(rng.randint(1, 4))] for _ in range(rng.randint(1, 4))]
        bias = [rng.choice([0.0, 0.25, -0.5]) for _ in range(width)]
        steps = readout_classes(tuple(bias), rows)
        for pick in itertools.product(*(range(len(table)) for table in rows)):
            assert _chained(steps, pick) == _direct(bias, rows, pick), (trial, pick)


def test_float_rounding_order_is_kept() -> None:
    # 0.1 + 0.2 + 0.3 differs from 0.1 + (0.2 + 0.3) in float64: the chain must add left to right.
    rows = [[[0.1, 0.0]], [[0.2, 0.0]], [[0.3, 0.6]]]
    bias = (0.0, 0.0)
    steps = readout_classes(bias, rows)
    assert _chained(steps, (0, 0, 0)) == _direct(list(bias), rows, (0, 0, 0))
