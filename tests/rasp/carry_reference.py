"""Hand references for the addition programs' carries, written from the arithmetic (not
from rasp/), shared by the loop tests."""

from __future__ import annotations


def column_sums(text: str) -> list[int]:
    """The digit sums of 'A+B' column by column, units first (a missing digit counts 0)."""
    a, b = text.split("+")
    columns = max(len(a), len(b))
    return [(int(a[-1 - c]) if c < len(a) else 0) + (int(b[-1 - c]) if c < len(b) else 0)
            for c in range(columns)]


def carry_steps(text: str) -> int:
    """add_loop's steps on 'A+B', by hand: a carry made in a column moves one column per
    step and stops at the first column whose digits do not sum to 9; 0 without a carry."""
    sums = column_sums(text)
    steps = 0
    for start, total in enumerate(sums):
        if total >= 10:
            end = start + 1
            while end < len(sums) and sums[end] == 9:
                end += 1
            steps = max(steps, end - start)
    return steps
