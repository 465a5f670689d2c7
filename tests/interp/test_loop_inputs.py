"""A loop program's analysis inputs are spread over the loop steps they need
(interp/subjects/loop_inputs.py), checked against step counts worked out by hand."""

from __future__ import annotations

import random
import warnings

from interp.subjects import load_subject
from interp.subjects.loop_inputs import makeable_lengths, spread_over_loop_steps
from rasp.compiler.batches import program_batches
from rasp.lib import PROGRAMS
from tests.rasp.carry_reference import carry_steps


def test_hands_out_one_input_per_step_count_most_steps_first() -> None:
    known = ["123+456", "95+0005", "9999+01", "15+0025", "0991+09", "45+0005"]  # length 7
    steps = [carry_steps(t) for t in known]
    assert steps == [0, 2, 4, 1, 3, 1]
    cycle = iter(known * 10)
    sample = spread_over_loop_steps(PROGRAMS["add_loop"].build(), lambda rng, n: list(next(cycle)),
                                    per_length=3, pool=2)
    drawn = ["".join(sample(random.Random(0), 7)) for _ in range(6)]
    # pool of 6 draws: one of each count, most steps first, then the second '1' input
    assert [carry_steps(t) for t in drawn] == [4, 3, 2, 1, 0, 1]


def test_add_loop_analysis_inputs_exercise_its_late_steps() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        subject = load_subject("add_loop", None, None)
    decode = {subject.compiled.encode([t])[1]: t for t in subject.compiled.vocab}  # id -> token
    for seed in (0, 1):
        spread = subject.analysis_inputs(8, seed).batches
        plain = program_batches(subject.compiled, subject.sample, [b.shape[1] - 1 for b in spread], 8, seed)
        for ours, theirs in zip(spread, plain):
            length = ours.shape[1] - 1
            if length < 9:
                continue
            counts = [carry_steps("".join(decode[i] for i in row[1:])) for row in ours.tolist()]
            # counts 0..length-2 are possible; uniform draws rarely pass 4
            assert len(set(counts)) >= 7 and max(counts) >= length - 3, counts
            plain_counts = [carry_steps("".join(decode[i] for i in row[1:])) for row in theirs.tolist()]
            assert max(plain_counts) <= max(counts)


def test_lengths_the_sampler_cannot_make_move_to_the_nearest_free_ones() -> None:
    def odd_only(rng: random.Random, n: int) -> list[str]:  # 'A+B' of equal operands
        m = max(1, (n - 1) // 2)
        return ["1"] * m + ["+"] + ["2"] * m

    assert makeable_lengths(odd_only, [1, 2, 3, 4, 8, 9], 9) == [3, 5, 7, 9]
    assert makeable_lengths(odd_only, [3, 4], 9) == [3, 5]
    assert makeable_lengths(lambda rng, n: ["a"] * n, [1, 2, 16], 16) == [1, 2, 16]
