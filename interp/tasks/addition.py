"""n-digit addition `a+b=` with zero-padded answer digits (Quirke & Barez 2023), every
question labelled with its carry structure.

Tokens: digits 0-9, then '+' (10) and '=' (11). A question of n digits is
`a_{n-1}..a_0 + b_{n-1}..b_0 = c_n..c_0` (3n + 3 tokens; with reverse_answer the answer is
written c_0..c_n). The model is causal and is scored on predicting each answer digit from
the tokens before it; teacher-forced exact match equals greedy-decoding exact match.

Carry classes (per question): "no_carry" (no column sums to 10 or more), "simple_carry"
(carries occur but none passes through a column summing to 9) and "cascade" (a carry
ripples through one or more 9-sum columns). `cascade_length` is the longest run of 9-sum
columns a carry passes through; the known 1-layer algorithm fails on runs of 2 or more.
"""

from __future__ import annotations

import torch

from interp.errors import InputError
from interp.tasks.base import IGNORE, Task
from interp.tasks.checks import integer, number

PLUS, EQUALS = 10, 11
VOCAB = [str(d) for d in range(10)] + ["+", "="]
CARRY_CLASSES = ("no_carry", "simple_carry", "cascade")


class Addition(Task):
    """Addition questions; `enrich` is the fraction of each batch drawn with a forced cascade
    (start column and length uniform), because cascades are rare under uniform sampling."""

    loss = "per_position_ce"
    causal = True

    def __init__(self, n_digits: int = 5, reverse_answer: bool = False, enrich: float = 0.0):
        if not isinstance(n_digits, int) or not 1 <= n_digits <= 18:
            raise InputError(f"n_digits must be an integer in 1..18, got {n_digits!r}.")
        number("enrich", enrich, minimum=0.0, maximum=1.0)
        if not isinstance(reverse_answer, bool):
            raise InputError(f"reverse_answer must be true or false, got {reverse_answer!r}.")
        if enrich and n_digits < 2:
            raise InputError("enrich needs n_digits >= 2 (a cascade needs two columns).")
        self.n_digits, self.reverse_answer, self.enrich = n_digits, reverse_answer, enrich
        self.name = f"addition{n_digits}"
        self.d_vocab = self.d_vocab_out = len(VOCAB)
        self.vocab = self.vocab_out = list(VOCAB)
        self.seq_len = 3 * n_digits + 3

    @property
    def answer_positions(self) -> list[int]:
        """Positions whose next token is an answer digit (the '=' and all answer digits but the last)."""
        start = 2 * self.n_digits + 1  # the '=' token
        return list(range(start, start + self.n_digits + 1))

    def sample_operands(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Digits of a and b, least significant first: two [n, n_digits] long tensors."""
        a = torch.randint(0, 10, (n, self.n_digits), generator=generator)
        b = torch.randint(0, 10, (n, self.n_digits), generator=generator)
        if self.enrich:
            forced = torch.rand(n, generator=generator) < self.enrich
            a, b = self._force_cascades(a, b, forced, generator)
        return a, b

    def _force_cascades(self, a: torch.Tensor, b: torch.Tensor, forced: torch.Tensor,
                        generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Make rows `forced` carry out of a column j and through the 9-sum columns j+1..j+L."""
        n, digits = a.shape
        start = torch.randint(0, digits - 1, (n,), generator=generator)  # the carrying column
        room = digits - 1 - start  # columns above it
        length = (torch.rand(n, generator=generator) * room).long() + 1  # 1..room, uniform
        column = torch.arange(digits)
        nines = forced[:, None] & (column > start[:, None]) & (column <= (start + length)[:, None])
        b = torch.where(nines, 9 - a, b)
        # The carrying column sums to 10..18: a in 1..9, b in 10-a..9.
        a_low = torch.randint(1, 10, (n,), generator=generator)
        b_low = 10 - a_low + (torch.rand(n, generator=generator) * a_low).long()
        rows = forced.nonzero().flatten()
        a[rows, start[rows]] = a_low[rows]
        b[rows, start[rows]] = b_low[rows]
        return a, b

    def answer_digits(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Digits of a + b, least significant first: [n, n_digits + 1]."""
        digits, carry = [], torch.zeros(a.shape[0], dtype=torch.long)
        for column in range(self.n_digits):
            total = a[:, column] + b[:, column] + carry
            digits.append(total % 10)
            carry = total // 10
        digits.append(carry)
        return torch.stack(digits, dim=1)

    def encode(self, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Token sequences [n, seq_len] and next-token targets on the answer positions."""
        n = a.shape[0]
        answer = self.answer_digits(a, b)  # least significant first
        if not self.reverse_answer:
            answer = answer.flip(1)
        tokens = torch.cat([a.flip(1), torch.full((n, 1), PLUS), b.flip(1), torch.full((n, 1), EQUALS),
                            answer], dim=1)
        targets = torch.full_like(tokens, IGNORE)
        positions = self.answer_positions
        targets[:, positions] = tokens[:, [p + 1 for p in positions]]
        return tokens, targets

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encode(*self.sample_operands(n, generator))

    def operands_from_tokens(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Digits of a and b (least significant first) read back from token sequences."""
        digits = self.n_digits
        return tokens[:, :digits].flip(1), tokens[:, digits + 1:2 * digits + 1].flip(1)


def cascade_length(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Longest run of 9-sum columns a carry passes through, per question ([n] long); 0 if none.
    a, b: digits least significant first, [n, n_digits]."""
    sums = a + b
    carry = torch.zeros(a.shape[0], dtype=torch.long)
    run = torch.zeros_like(carry)
    longest = torch.zeros_like(carry)
    for column in range(a.shape[1]):
        rippling = (sums[:, column] == 9) & (carry == 1)
        run = torch.where(rippling, run + 1, torch.zeros_like(run))
        longest = torch.maximum(longest, run)
        carry = ((sums[:, column] + carry) >= 10).long()
    return longest


def carry_class(a: torch.Tensor, b: torch.Tensor) -> list[str]:
    """The carry class (one of CARRY_CLASSES) of each question; digits least significant first."""
    any_carry = ((a + b) >= 10).any(dim=1)
    cascades = cascade_length(a, b) > 0
    return ["cascade" if c else "simple_carry" if k else "no_carry"
            for k, c in zip(any_carry.tolist(), cascades.tolist())]


def digits_of(numbers: list[int], n_digits: int) -> torch.Tensor:
    """Integers to digits, least significant first: [len(numbers), n_digits]."""
    integer("n_digits", n_digits, minimum=1, maximum=18)
    for x in numbers:  # a float would be truncated digit by digit (1.5 -> [1, 0, 0])
        integer("every operand", x)
    if any(not 0 <= x < 10**n_digits for x in numbers):
        raise InputError(f"every operand must be in 0..{10**n_digits - 1}, got {numbers}.")
    return torch.tensor([[(x // 10**i) % 10 for i in range(n_digits)] for x in numbers], dtype=torch.long)
