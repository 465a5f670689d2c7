"""Library programs written with loops (`rasp.loop`): their depth grows with the input.

- `make_parity_loop`: running parity, one position per step (ALTA's sequential parity:
  a position whose left neighbour is done takes its parity and becomes done; halts when
  every position is done).
- `make_add_loop`: A+B for operands of any lengths, by carry propagation (digit sums
  first, then each step moves every pending carry one digit up; halts when none is left).
"""

from __future__ import annotations

from rasp.core import (
    Aggregate,
    Comparison,
    Map,
    Select,
    SelectorWidth,
    SequenceMap,
    SOp,
    indices,
    tokens,
)
from rasp.loops import loop


def make_parity_loop(max_steps: int) -> SOp:
    """Running parity of 0/1 tokens (position i: parity of tokens 0..i); needs length-1 steps."""
    # Position 0 reads itself; it starts done, so it never changes.
    left = Select(indices, indices, lambda k, q: k == max(q - 1, 0)).named("left")
    start = SequenceMap(lambda t, i: (t, i == 0), tokens, indices).named("parity_start")

    def step(state: SOp) -> SOp:
        seen = Aggregate(left, state, default=(0, True)).named("left_state")
        return SequenceMap(_take_left, state, seen).named("parity_step")

    final = loop(step, start, until=lambda s: Map(lambda v: v[1], s).named("done"),
                 max_steps=max_steps, name="parity")
    return Map(lambda v: v[0], final).named("parity_loop")


def _take_left(me: tuple, left: tuple) -> tuple:
    """(parity, done) of a position after one step, given its left neighbour's."""
    parity, done = me
    if not done and left[1]:
        return (parity ^ left[0], True)
    return me


def make_add_loop(max_steps: int) -> SOp:
    """Digits of A+B for input 'A+B' (digit tokens, operands of any lengths).

    Position p holds the sum's digit of weight 10^(n-1-p), so the whole output read as a
    number (leading zeros included) is A+B. Needs as many steps as the longest carry chain
    (at most the number of digits of the longer operand).
    """
    digit = Map(lambda t: 0 if t == "+" else int(t), tokens).named("digit")
    plus = Aggregate(Select(tokens, tokens, lambda k, q: k == "+"), indices, default=0).named("plus")
    # Heads (not Maps) carry each digit to where it is added, so no lookup table gets wide:
    # a's digit of weight n-1-p sits at p - (n - plus); b's at p itself, right of the '+'.
    gap = SelectorWidth(Select(indices, plus, Comparison.GEQ)).named("gap")
    a_source = SequenceMap(lambda i, g: i - g, indices, gap).named("a_source")
    a = Aggregate(Select(indices, a_source, Comparison.EQ), digit, default=0).named("a_digit")
    b_source = SequenceMap(lambda i, pl: i if i > pl else -1, indices, plus).named("b_source")
    b = Aggregate(Select(indices, b_source, Comparison.EQ), digit, default=0).named("b_digit")
    start = SequenceMap(lambda x, y: x + y, a, b).named("digit_sum")
    right = Select(indices, indices, lambda k, q: k == q + 1).named("right")

    def step(value: SOp) -> SOp:
        lower = Aggregate(right, value, default=0).named("lower_value")
        return SequenceMap(lambda v, low: v % 10 + (1 if low >= 10 else 0), value,
                           lower).named("carry_step")

    return loop(step, start, until=lambda v: Map(lambda x: x < 10, v).named("no_carry"),
                max_steps=max_steps, name="add_loop")


def make_alta_add(max_steps: int) -> SOp:
    """ALTA's addition example: pointers walk two equal-length operands one digit per step.

    Input 'A+B' (A and B the same length m). Two pointers start on the last digits of A and
    B; each step reads the digits under them (a head each), writes (a + b + carry) % 10 at
    B's pointer, keeps the carry, and moves both pointers one position left. When B's
    pointer reaches the '+', the final carry is written there; the loop halts once it has
    moved past. Output: the m+1 digits of A+B at the '+' and B's positions, None on A's.
    Needs m + 1 steps.
    """
    digit = Map(lambda t: 0 if t == "+" else int(t), tokens).named("alta_digit")
    plus = Aggregate(Select(tokens, tokens, lambda k, q: k == "+"), indices,
                     default=0).named("alta_plus")
    last = SelectorWidth(Select(indices, indices, Comparison.TRUE)).named("alta_length")
    before_plus = SequenceMap(lambda i, pl: i < pl, indices, plus).named("alta_before_plus")
    ptr_a = SequenceMap(lambda i, pl: i == pl - 1, indices, plus).named("alta_ptr_a0")
    ptr_b = SequenceMap(lambda i, n: i == n - 1, indices, last).named("alta_ptr_b0")
    carry = Map(lambda t: 0, tokens).named("alta_carry0")
    out = Map(lambda t: -1, tokens).named("alta_out0")  # -1: nothing written yet
    right = Select(indices, indices, lambda k, q: k == q + 1).named("alta_right")
    under = lambda pointer: Select(pointer, pointer, lambda k, q: k)  # noqa: E731 - keys where set

    def step(ptr_a: SOp, ptr_b: SOp, carry: SOp, out: SOp) -> tuple[SOp, ...]:
        a = Aggregate(under(ptr_a), digit, default=0).named("alta_a")
        b = Aggregate(under(ptr_b), digit, default=0).named("alta_b")
        total = SequenceMap(lambda x, c: x + c,
                            SequenceMap(lambda x, y: x + y, a, b).named("alta_ab"),
                            carry).named("alta_total")
        written = SequenceMap(lambda here, t: t % 10 if here else -1, ptr_b,
                              total).named("alta_written")
        new_out = SequenceMap(lambda w, o: o if w < 0 else w, written, out).named("alta_out")
        new_carry = Map(lambda t: t // 10, total).named("alta_carry")
        new_a = Aggregate(right, ptr_a, default=False).named("alta_ptr_a")
        new_b = Aggregate(right, ptr_b, default=False).named("alta_ptr_b")
        return new_a, new_b, new_carry, new_out

    def finished(ptr_a: SOp, ptr_b: SOp, carry: SOp, out: SOp) -> SOp:
        return SequenceMap(lambda here, before: before or not here, ptr_b,
                           before_plus).named("alta_finished")

    final = loop(step, (ptr_a, ptr_b, carry, out), until=finished, max_steps=max_steps,
                 name="alta_add")
    return Map(lambda o: None if o < 0 else o, final[3]).named("alta_add")
