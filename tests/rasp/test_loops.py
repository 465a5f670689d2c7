"""rasp.loop: the interpreter's loop semantics, checked against plain Python references."""

from __future__ import annotations

import itertools
import random

import pytest

import rasp
from rasp import Aggregate, Map, Select, SequenceMap, indices, tokens
from rasp.lib import PROGRAMS, make_add_loop, make_alta_add, make_parity_loop
from tests.rasp.carry_reference import carry_steps


def _count_up(steps=None, until=None, max_steps=None):
    zero = Map(lambda t: 0, tokens)
    return rasp.loop(lambda s: s + 1, zero, steps=steps, until=until, max_steps=max_steps)


def test_fixed_count_applies_the_body_exactly_t_times() -> None:
    for steps in (0, 1, 4):
        assert _count_up(steps=steps)(["a", "b"]) == [steps, steps]


def test_halting_stops_before_the_first_step_where_until_holds_everywhere() -> None:
    assert _count_up(until=lambda s: s > 2, max_steps=10)(["a"]) == [3]
    # Checked before every step, the initial state included: no step runs.
    assert _count_up(until=lambda s: s >= 0, max_steps=10)(["a"]) == [0]
    # The cap wins when the condition never holds.
    assert _count_up(until=lambda s: s > 99, max_steps=5)(["a"]) == [5]


def test_until_must_hold_at_every_position() -> None:
    start = Map(lambda t: t, tokens)
    out = rasp.loop(lambda s: s + 1, start, until=lambda s: s >= 3, max_steps=10)
    assert out([0, 2]) == [3, 5]  # position 0 needs 3 steps; position 1 goes on with it


def test_several_carried_sops_and_outside_reads() -> None:
    fib = rasp.loop(lambda a, b: (b, a + b), (Map(lambda t: 0, tokens), Map(lambda t: 1, tokens)),
                    steps=6)
    assert isinstance(fib, tuple) and len(fib) == 2
    assert fib[0](["x"]) == [8] and fib[1](["x"]) == [13]
    # The body may read SOps built outside it (tokens, indices): they are loop inputs.
    shifted = rasp.loop(lambda s: SequenceMap(lambda v, i: v + i, s, indices),
                        Map(lambda t: t, tokens), steps=2)
    assert shifted([5, 5, 5]) == [5, 7, 9]


def test_parity_loop_is_the_running_parity_on_every_input() -> None:
    program = make_parity_loop(9)
    for n in range(1, 11):
        for bits in itertools.product([0, 1], repeat=n):
            expected = list(itertools.accumulate(bits, lambda a, b: a ^ b))
            assert program(list(bits)) == expected


def test_parity_loop_stops_at_its_cap_on_longer_inputs() -> None:
    program = make_parity_loop(3)  # four positions' worth of steps
    bits = [1, 1, 1, 1, 1, 1]
    assert program(bits)[:4] == [1, 0, 1, 0]
    assert program(bits)[4:] == [1, 1]  # not reached: still its own bit


def test_add_loop_adds_operands_of_any_lengths() -> None:
    program = make_add_loop(8)
    rng = random.Random(0)
    for _ in range(1500):
        n = rng.randint(3, 10)
        n_a = rng.randint(1, n - 2)
        n_b = n - 1 - n_a
        a = [str(rng.randrange(10)) for _ in range(n_a)]
        b = [str(rng.randrange(10)) for _ in range(n_b)]
        if rng.random() < 0.2:  # the longest carry chains: 99..9 + 0..01
            a, b = ["9"] * n_a, ["0"] * (n_b - 1) + ["1"]
        out = program([*a, "+", *b])
        assert int("".join(map(str, out))) == int("".join(a)) + int("".join(b)), (a, b, out)


def test_alta_add_writes_the_sum_from_the_plus_on() -> None:
    program = make_alta_add(5)
    rng = random.Random(1)
    for _ in range(500):
        m = rng.randint(1, 4)
        a = [str(rng.randrange(10)) for _ in range(m)]
        b = [str(rng.randrange(10)) for _ in range(m)]
        out = program([*a, "+", *b])
        assert out[:m] == [None] * m
        assert "".join(map(str, out[m:])) == str(int("".join(a)) + int("".join(b))).zfill(m + 1)


@pytest.mark.parametrize("name", ["parity_loop", "add_loop", "alta_add"])
def test_library_entries_run_on_their_samples(name: str) -> None:
    entry = PROGRAMS[name]
    program = entry.build()
    rasp.check_unique_labels(program)
    for length in range(1, entry.max_seq_len + 1):
        tokens_ = entry.sample(random.Random(length), length)
        assert len(rasp.evaluate(program, tokens_, vocab=entry.vocab)) == len(tokens_)


def test_nested_loops_evaluate_per_outer_step() -> None:
    zero = Map(lambda t: 0, tokens)
    outer = rasp.loop(lambda s: rasp.loop(lambda r: r + 1, s, steps=2), zero, steps=3)
    assert outer(["a"]) == [6]


def test_causal_evaluation_runs_the_body_causally() -> None:
    last_seen = Select(indices, indices, rasp.Comparison.TRUE)
    body = lambda s: rasp.numerical(Aggregate(last_seen, s, default=0))  # noqa: E731
    out = rasp.loop(body, rasp.numerical(Map(float, tokens)), steps=1)
    assert rasp.evaluate(out, [2, 4], causal=True) == [2.0, 3.0]
    assert rasp.evaluate(out, [2, 4]) == [3.0, 3.0]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({}, "exactly one of steps"),
    ({"steps": 2, "until": lambda s: s}, "exactly one of steps"),
    ({"until": lambda s: s}, "needs a cap"),
    ({"steps": -1}, "non-negative integer"),
    ({"steps": 1.5}, "non-negative integer"),
    ({"steps": 2, "max_steps": 3}, "max_steps caps a halting loop"),
])
def test_bad_counts_are_refused(kwargs, message) -> None:
    with pytest.raises(rasp.RASPError, match=message):
        rasp.loop(lambda s: s, tokens, **kwargs)


def test_bad_bodies_are_refused() -> None:
    with pytest.raises(rasp.RASPError, match="returned 2 SOps for 1"):
        rasp.loop(lambda s: (s, s), tokens, steps=1)
    with pytest.raises(rasp.RASPError, match="must be an SOp"):
        rasp.loop(lambda s: 3, tokens, steps=1)
    with pytest.raises(rasp.RASPError, match="one argument per carried SOp"):
        rasp.loop(lambda a, b: a, tokens, steps=1)
    with pytest.raises(rasp.RASPError, match="annotate both alike"):
        rasp.loop(lambda s: rasp.numerical(Map(float, s)), tokens, steps=1)


def test_the_state_placeholder_does_not_leak_out_of_the_body() -> None:
    leaked = []
    rasp.loop(lambda s: leaked.append(s) or s, tokens, steps=1)
    with pytest.raises(rasp.RASPError, match="exists only inside its body"):
        Map(lambda v: v, leaked[0])(["a"])


def test_textual_rasp_loops() -> None:
    text = """
    def step(p) { return p + 1; }
    counted = loop(step, tokens_int, 3);
    def swap(a, b) { return b, a + b; }
    pair = loop(swap, [tokens_int, tokens_int], 4);
    second = pair[1];
    def grow(x) { return x * 2; }
    def big(x) { return x > 20; }
    grown = loop_until(grow, tokens_int, big, 10);
    """
    assert rasp.parse(text, output="counted")([1, 2]) == [4, 5]
    assert rasp.parse(text, output="second")([1, 2]) == [8, 16]  # (a, b) -> (b, a + b), 4 times
    assert rasp.parse(text, output="grown")([1, 2]) == [32, 64]  # until both are > 20
    with pytest.raises(rasp.RASPError, match="must be functions"):
        rasp.parse("x = loop(3, tokens_int, 2);", output="x")


def test_add_loop_sampler_draws_every_step_count() -> None:
    # Uniform digits almost never carry across 3+ columns, so add_loop's later steps would
    # never act on its own task inputs: the sampler must reach every chain length that fits.
    entry = PROGRAMS["add_loop"]
    rng = random.Random(0)
    seen: dict[int, int] = {}
    for _ in range(4000):
        text = "".join(entry.sample(rng, entry.max_seq_len))
        a, b = text.split("+")
        assert len(text) == entry.max_seq_len and a.isdigit() and b.isdigit()
        steps = carry_steps(text)
        seen[steps] = seen.get(steps, 0) + 1
    most = entry.max_seq_len - 2  # operands of 8 and 1 digits: a carry crossing 8 columns
    assert set(seen) == set(range(most + 1)), seen
    assert min(seen.values()) >= 40, seen  # each at least 1% of draws


def test_trace_counts_the_loop_steps_the_interpreter_takes() -> None:
    # add_loop: one step per column the longest carry chain spans (the column that makes
    # the carry included), none without a carry; parity_loop: length - 1 steps.
    from rasp.evaluate import trace

    add = PROGRAMS["add_loop"].build()
    rng = random.Random(5)
    for _ in range(300):
        text = "".join(PROGRAMS["add_loop"].sample(rng, rng.randint(3, 10)))
        assert trace(add, list(text)).loop_steps == {"add_loop": carry_steps(text)}, text
    parity = PROGRAMS["parity_loop"].build()
    for n in range(1, 9):
        assert trace(parity, [1] * n).loop_steps == {"parity": n - 1}
