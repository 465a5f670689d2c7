"""Analysis inputs of a loop program, spread over the number of loop steps they need.

A loop model unrolls one weight-shared block per step, and an input that needs T steps
exercises steps 1..T only. On its own task distribution a program may almost never need
its later steps: add_loop needs one step per column a carry crosses, so most of its
analysis inputs would leave steps 4-8 idle and no discovery method could find them. The
sampler here draws a pool of inputs per length, counts the steps the interpreter takes on
each (`rasp.evaluate.trace(...).loop_steps`, summed over the program's loops) and hands
them out one step count at a time, most steps first: with k inputs per length the k
largest step counts in the pool each get one, so every step the pool reaches acts on some
input.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

Sampler = Callable[[random.Random, int], list[Any]]
POOL = 8  # draws per input handed out


def spread_over_loop_steps(program: Any, sample: Sampler, per_length: int, causal: bool = False,
                           pool: int = POOL) -> Sampler:
    """A sampler drawing `pool * per_length` inputs from `sample` on the first call at a
    length and handing them out by loop step count, most steps first, one of each count in
    turn (inputs the interpreter rejects are left out; `program`: the rasp.SOp)."""
    from rasp.errors import RASPError
    from rasp.evaluate import trace

    queues: dict[int, list[list[Any]]] = {}

    def fill(rng: random.Random, length: int) -> list[list[Any]]:
        by_steps: dict[int, list[list[Any]]] = {}
        for _ in range(pool * per_length):
            tokens = list(sample(rng, length))
            if len(tokens) != length:
                continue
            try:
                steps = sum(trace(program, tokens, causal=causal).loop_steps.values())
            except RASPError:
                continue  # the model is exact only where the interpreter accepts
            by_steps.setdefault(steps, []).append(tokens)
        groups = [by_steps[s] for s in sorted(by_steps, reverse=True)]
        deepest = max((len(g) for g in groups), default=0)
        return [g[i] for i in range(deepest) for g in groups if i < len(g)]

    def draw(rng: random.Random, length: int) -> list[Any]:
        if length not in queues:
            queues[length] = fill(rng, length)
        if queues[length]:
            return queues[length].pop(0)
        return list(sample(rng, length))

    return draw


def makeable_lengths(sample: Sampler, lengths: list[int], max_len: int, seed: int = 0,
                     tries: int = 50) -> list[int]:
    """`lengths` with each one `sample` never makes (in `tries` draws) replaced by the
    nearest length it makes that is not used yet (the shorter at a tie; left out if none).

    alta_add's sampler makes only odd lengths ('A+B', equal operands), so of the analysis
    lengths 1, 2, 3, 4, 8, 9 it made inputs at 3 and 9 only, and no discovery input had
    the step counts of lengths 5 and 7.
    """
    rng = random.Random(seed)
    makes = {n for n in range(1, max_len + 1)
             if any(len(sample(rng, n)) == n for _ in range(tries))}
    chosen = [n for n in lengths if n in makes]
    for n in lengths:
        if n in makes:
            continue
        free = sorted((m for m in makes if m not in chosen), key=lambda m: (abs(m - n), m))
        if free:
            chosen.append(free[0])
    return sorted(chosen)
