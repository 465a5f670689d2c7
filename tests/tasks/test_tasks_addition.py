"""Addition questions: encoding against Python integer addition, carry labels on hand-made
cases and against a per-question loop, enrichment, and uniform class frequencies against
an exact dynamic programme."""

from __future__ import annotations

import pytest
import torch

from interp.errors import InputError
from interp.tasks import IGNORE, Addition, make_task
from interp.tasks.addition import carry_class, cascade_length, digits_of


def labels(a: list[int], b: list[int]) -> tuple[list[str], list[int]]:
    da, db = digits_of(a, 5), digits_of(b, 5)
    return carry_class(da, db), cascade_length(da, db).tolist()


def test_hand_made_carry_labels():
    cases = {
        (12345, 11111): ("no_carry", 0),
        (9, 0): ("no_carry", 0),  # a 9-sum column without a carry into it is not a cascade
        (5, 5): ("simple_carry", 0),
        (10, 90): ("simple_carry", 0),
        (19, 1): ("simple_carry", 0),  # 9+1 carries into 1+0: no 9-sum column on the way
        (95, 5): ("cascade", 1),
        (950, 50): ("cascade", 1),
        (995, 5): ("cascade", 2),
        (99995, 5): ("cascade", 4),
        (55555, 44445): ("cascade", 4),
        (49, 51): ("cascade", 1),  # 9+1 carries into 4+5 = 9
        (45145, 55155): ("cascade", 1),  # two separate single cascades
        (4905, 5095): ("cascade", 3),  # 5+5 carries through 0+9, 9+0 and 4+5
    }
    classes, lengths = labels([a for a, _ in cases], [b for _, b in cases])
    assert list(zip(classes, lengths)) == list(cases.values())


def python_cascade_length(a: int, b: int, digits: int) -> int:
    """Independent per-question reference: add column by column in Python."""
    carry, run, longest = 0, 0, 0
    for i in range(digits):
        x, y = (a // 10**i) % 10, (b // 10**i) % 10
        run = run + 1 if (x + y == 9 and carry) else 0
        longest = max(longest, run)
        carry = (x + y + carry) // 10
    return longest


@pytest.mark.parametrize("reverse_answer", [False, True])
def test_tokens_encode_python_addition(reverse_answer: bool):
    task = Addition(n_digits=5, reverse_answer=reverse_answer, enrich=0.3)
    tokens, targets = task.batch(300, seed=1)
    assert tokens.shape == targets.shape == (300, 18) and tokens.dtype == targets.dtype == torch.long
    for row, target in zip(tokens.tolist(), targets.tolist()):
        text = "".join(task.vocab[t] for t in row)
        a, b, answer = int(text[:5]), int(text[6:11]), text[12:]
        assert text[5] == "+" and text[11] == "="
        expected = str(a + b).zfill(6)
        assert answer == (expected[::-1] if reverse_answer else expected)
        # Scored: the six predictions made at '=' and the first five answer digits.
        assert [i for i, t in enumerate(target) if t != IGNORE] == list(range(11, 17))
        assert [target[i] for i in range(11, 17)] == row[12:18]
    a, b = task.operands_from_tokens(tokens)
    lengths = cascade_length(a, b).tolist()
    pairs = [(int("".join(map(str, x.flip(0).tolist()))), int("".join(map(str, y.flip(0).tolist()))))
             for x, y in zip(a, b)]
    assert lengths == [python_cascade_length(x, y, 5) for x, y in pairs]


def test_seeded_and_shapes():
    task = make_task("addition3")
    assert task.seq_len == 12 and task.d_vocab == 12
    first, second = task.batch(16, seed=5), task.batch(16, seed=5)
    assert torch.equal(first[0], second[0]) and not torch.equal(first[0], task.batch(16, seed=6)[0])


def test_enrichment_forces_cascades():
    a, b = Addition(enrich=1.0).sample_operands(2000, torch.Generator().manual_seed(0))
    lengths = cascade_length(a, b)
    assert (lengths >= 1).all()
    assert (lengths >= 3).float().mean() > 0.1  # long cascades are no longer rare
    a, b = Addition(enrich=0.0).sample_operands(2000, torch.Generator().manual_seed(0))
    assert (cascade_length(a, b) >= 3).float().mean() < 0.01


def exact_class_probabilities(digits: int) -> dict[str, float]:
    """Exact probabilities of no carry / simple / cascade(1) / cascade(>=2) under uniform digits,
    by a dynamic programme over (carry, current 9-run, any carry, longest run) states."""
    states = {(0, 0, False, 0): 1.0}
    for _ in range(digits):
        nxt: dict = {}
        for (carry, run, any_carry, longest), p in states.items():
            for s in range(19):
                weight = (10 - abs(s - 9)) / 100  # number of digit pairs summing to s
                new_run = run + 1 if (s == 9 and carry) else 0
                key = ((s + carry) // 10, new_run, any_carry or s >= 10, min(2, max(longest, new_run)))
                nxt[key] = nxt.get(key, 0.0) + p * weight
        states = nxt
    out = {"no_carry": 0.0, "simple_carry": 0.0, "cascade1": 0.0, "cascade2+": 0.0}
    for (_, _, any_carry, longest), p in states.items():
        name = "cascade2+" if longest >= 2 else "cascade1" if longest == 1 else \
            "simple_carry" if any_carry else "no_carry"
        out[name] += p
    return out


def test_uniform_class_frequencies_match_exact_probabilities():
    exact = exact_class_probabilities(5)
    assert 1 - exact["cascade2+"] == pytest.approx(0.986, abs=0.001)  # Quirke & Barez's ideal 1-layer score
    n = 100_000
    a, b = Addition().sample_operands(n, torch.Generator().manual_seed(2))
    lengths, classes = cascade_length(a, b), carry_class(a, b)
    observed = {
        "no_carry": classes.count("no_carry") / n,
        "simple_carry": classes.count("simple_carry") / n,
        "cascade1": (lengths == 1).float().mean().item(),
        "cascade2+": (lengths >= 2).float().mean().item(),
    }
    for name, p in exact.items():
        assert abs(observed[name] - p) < 5 * (p * (1 - p) / n) ** 0.5 + 1e-4, name


def test_bad_options():
    with pytest.raises(InputError, match="n_digits"):
        Addition(n_digits=0)
    with pytest.raises(InputError, match="enrich"):
        Addition(enrich=1.5)
    with pytest.raises(InputError, match="bad options"):
        make_task("addition", digits=5)
    with pytest.raises(InputError, match="operand"):
        digits_of([100000], 5)
