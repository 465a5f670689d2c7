"""Programs evaluated per second by the reference interpreter, per library program, length 16."""

from __future__ import annotations

import random
import time

import rasp
from rasp.lib import PROGRAMS

LENGTH = 16
MIN_SECONDS = 0.3


def evaluations_per_second(name: str) -> tuple[int, float]:
    """(input length, evaluations per second) for one library program."""
    entry = PROGRAMS[name]
    program = entry.build()
    length = min(LENGTH, entry.max_seq_len)
    inputs = [entry.sample(random.Random(seed), length) for seed in range(32)]
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < MIN_SECONDS:
        rasp.evaluate(program, inputs[count % len(inputs)])
        count += 1
    return len(inputs[0]), count / (time.perf_counter() - start)


def main() -> None:
    print(f"{'program':<16} {'length':>6} {'nodes':>6} {'evals/s':>10}")
    for name in PROGRAMS:
        length, rate = evaluations_per_second(name)
        nodes = len(rasp.walk(PROGRAMS[name].build()))
        print(f"{name:<16} {length:>6} {nodes:>6} {rate:>10.0f}")


if __name__ == "__main__":
    main()
