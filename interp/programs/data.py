"""Data for Transformer Programs: the paper's RASP tasks, labelled by the RASP library
through the reference interpreter (one source of truth), with the paper's BOS/EOS handling
(princeton-nlp/TransformerPrograms, src/utils/data_utils.py) and 16k/2k/2k splits.

Input lengths, vocabularies and label conventions follow the paper's generators: e.g. sort
and reverse with vocab_size V use V-3 digit tokens (BOS, EOS and padding take the rest),
[BOS] + digits + [EOS] and no label at BOS/EOS; hist-like tasks use V-2 digits and [BOS] +
digits. The in-context (induction) task has no library program; its labels are computed
directly (the previous occurrence's digit, or <unk> for a letter not seen before).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache

import torch

import rasp
from interp.errors import InputError
from interp.programs.program import BOS, EOS

UNK = "<unk>"
Example = tuple[list[str], list[str | None]]  # (tokens, label per position or None)


@dataclass(frozen=True)
class TaskSpec:
    """A task and its paper settings (layers, categorical/numerical heads and MLPs per layer)."""

    name: str
    vocab_size: int
    max_len: int
    causal: bool = False
    n_layers: int = 3
    n_cat_heads: int = 4
    n_num_heads: int = 4
    n_cat_mlps: int = 2
    n_num_mlps: int = 2


# The shapes of the paper's published best programs (programs/rasp/<task>/<task>.py in
# princeton-nlp/TransformerPrograms; Table 1's L/H/M): heads and MLPs are split evenly between
# categorical and numerical. Their scripts/rasp.sh and dyck.sh pass the MLP counts through
# unset shell variables, so the programs are the record of what was run. vocab = length = 8
# (d_var 8); Dyck length 16, autoregressive as src/run.py makes it; induction (in-context) from
# scripts/induction.sh: 2 layers, 1 categorical head, no MLPs.
PAPER_TASKS = {
    "reverse": TaskSpec("reverse", 8, 8, n_cat_mlps=1, n_num_mlps=1),
    "hist": TaskSpec("hist", 8, 8, n_layers=1, n_cat_heads=2, n_num_heads=2, n_cat_mlps=1, n_num_mlps=1),
    "double_hist": TaskSpec("double_hist", 8, 8, n_cat_mlps=1, n_num_mlps=1),
    "sort": TaskSpec("sort", 8, 8),
    "most_freq": TaskSpec("most_freq", 8, 8),
    "dyck1": TaskSpec("dyck1", 4, 16, causal=True, n_cat_mlps=1, n_num_mlps=1),
    "dyck2": TaskSpec("dyck2", 6, 16, causal=True, n_cat_heads=2, n_num_heads=2),
    "induction": TaskSpec(
        "induction", 10, 10, causal=True, n_layers=2, n_cat_heads=1, n_num_heads=0, n_cat_mlps=0, n_num_mlps=0
    ),
}


@dataclass
class Split:
    """Padded token ids [n, n_ctx] (pad = 0), lengths [n], label ids [n, n_ctx] (-100 = unscored)."""

    tokens: torch.Tensor
    lengths: torch.Tensor
    targets: torch.Tensor

    def __len__(self) -> int:
        return len(self.lengths)


@dataclass
class TaskData:
    name: str
    tokens: list[str]
    labels: list[str]
    n_ctx: int
    causal: bool
    train: Split
    val: Split
    test: Split


# ----------------------------------------------------------------- labelling via RASP
@cache
def _program(name: str, max_len: int) -> rasp.SOp:
    lib = rasp.lib
    builders: dict[str, Callable[[], rasp.SOp]] = {
        "reverse": lambda: lib.make_reverse(rasp.tokens),
        "hist": lib.make_hist,
        "double_hist": lib.make_double_hist,
        "sort": lambda: lib.make_sort(rasp.tokens, rasp.tokens, max_seq_len=max_len, min_key=1),
        "most_freq": lambda: lib.make_sort_by_most_freq(max_len, filler=BOS),
        "dyck1": lib.make_dyck1_ptf,
        "dyck2": lib.make_dyck2_ptf,
    }
    return builders[name]()


@lru_cache(maxsize=200_000)
def _labels(name: str, body: tuple, max_len: int) -> tuple:
    """The library program's output on the task's body (no BOS/EOS), as strings."""
    values = body
    if name in ("sort",):
        values = tuple(int(t) for t in body)  # sort keys are numbers
    out = rasp.evaluate(_program(name, max_len), list(values))
    return tuple(str(v) for v in out)


# ----------------------------------------------------------------- sampling (paper's)
def _digits(n: int) -> list[str]:
    return [str(i) for i in range(n)]


def _sample(name: str, spec_vocab: int, max_len: int, rng: random.Random) -> Example:
    if name in ("reverse", "sort"):
        body = [rng.choice(_digits(spec_vocab - 3)) for _ in range(rng.randint(1, max_len - 2))]
        return [BOS, *body, EOS], [None, *_labels(name, tuple(body), max_len), None]
    if name in ("hist", "double_hist", "most_freq"):
        body = [rng.choice(_digits(spec_vocab - 2)) for _ in range(rng.randint(1, max_len - 1))]
        return [BOS, *body], [None, *_labels(name, tuple(body), max_len)]
    if name in ("dyck1", "dyck2"):
        pairs = ["()", "{}"][: 1 if name == "dyck1" else 2]
        body = _dyck_body(pairs, max_len - 1, rng)
        return [BOS, *body], [None, *_labels(name, tuple(body), max_len)]
    if name == "induction":
        return _induction(max_len, rng)
    raise InputError(f"unknown task {name!r}; known tasks: {sorted(PAPER_TASKS)}.")


def _dyck_body(pairs: list[str], length: int, rng: random.Random) -> list[str]:
    """The paper's make_dyck_pft: half a balanced word of (length + 1) // 2 pairs, each appended
    or wrapped around the word so far, cut (or extended at random) to `length`; half uniform."""
    vocab = [c for pair in pairs for c in pair]
    if rng.randrange(2):
        word: list[str] = []
        for _ in range((length + 1) // 2):
            left, right = rng.choice(pairs)
            word = word + [left, right] if rng.randrange(2) == 0 else [left] + word + [right]
        word = word[:length]
        return word + [rng.choice(vocab) for _ in range(length - len(word))]
    return [rng.choice(vocab) for _ in range(length)]


def _induction(length: int, rng: random.Random) -> Example:
    """The paper's make_induction: (length - 2) // 2 letter/digit pairs under a per-sequence
    letter->digit map, then either a stray digit inserted after BOS or a final query letter
    (one coin flip); each letter is labelled by the digit that followed its previous occurrence
    (<unk> if none), digits are unlabelled."""
    letters, digits = list("abcd"), _digits(4)
    mapping = {c: rng.choice(digits) for c in letters}
    seq, labels = [BOS], [None]
    for _ in range((length - 2) // 2):
        c = rng.choice(letters)
        labels += [mapping[c] if c in seq else UNK, None]
        seq += [c, mapping[c]]
    if rng.randrange(2):
        seq.insert(1, rng.choice(digits))
        labels.insert(1, None)
    else:
        c = rng.choice(letters)
        labels.append(mapping[c] if c in seq else UNK)
        seq.append(c)
    return seq, labels


def task_vocab(name: str, vocab_size: int, max_len: int) -> tuple[list[str], list[str]]:
    """(input tokens with BOS first, output labels) of a task."""
    if name in ("reverse", "sort"):
        digits = _digits(vocab_size - 3)
        return [BOS, *digits, EOS], digits
    if name in ("hist", "double_hist"):
        return [BOS, *_digits(vocab_size - 2)], _digits(max_len)
    if name == "most_freq":
        digits = _digits(vocab_size - 2)
        return [BOS, *digits], [BOS, *digits]
    if name in ("dyck1", "dyck2"):
        return [BOS, *("()" if name == "dyck1" else "(){}")], ["F", "P", "T"]
    if name == "induction":
        return [BOS, *"abcd", *_digits(4)], [*_digits(4), UNK]
    raise InputError(f"unknown task {name!r}; known tasks: {sorted(PAPER_TASKS)}.")


def make_task_data(
    name: str, vocab_size: int | None = None, max_len: int | None = None, size: int = 20000,
    seed: int = 0, exhaustive: bool = False,
) -> TaskData:
    """Unique examples (up to `size`, fewer where the input space is smaller) split 80/10/10.

    exhaustive=True: every input the sampler can produce, for tiny settings (tests).
    """
    if name not in PAPER_TASKS:
        raise InputError(f"unknown task {name!r}; known tasks: {sorted(PAPER_TASKS)}.")
    spec = PAPER_TASKS[name]
    vocab_size = vocab_size or spec.vocab_size
    max_len = max_len or spec.max_len
    if max_len < 3 or (name not in ("dyck1", "dyck2", "induction") and vocab_size < 4):
        raise InputError(f"--max-len must be >= 3 and --vocab-size >= 4, got {max_len} and {vocab_size}.")
    tokens, labels = task_vocab(name, vocab_size, max_len)
    rng = random.Random(seed)
    examples: dict[tuple, list] = {}
    if exhaustive:
        for example in _all_inputs(name, vocab_size, max_len):
            examples.setdefault(tuple(example[0]), example[1])
    else:
        repeats = 0
        for _ in range(5 * size):  # the paper draws up to 5x the size, keeping unique inputs
            seq, labs = _sample(name, vocab_size, max_len, rng)
            repeats = repeats + 1 if tuple(seq) in examples else 0
            examples.setdefault(tuple(seq), labs)
            if len(examples) >= size or repeats > 5000:  # input space exhausted
                break
    items = list(examples.items())
    rng.shuffle(items)
    n_test = n_val = max(1, len(items) // 10)
    if len(items) < 3:
        raise InputError(f"task {name!r} with max_len={max_len} has too few inputs to split.")
    parts = [items[n_test + n_val :], items[n_test : n_test + n_val], items[:n_test]]
    splits = [encode_split(part, tokens, labels, max_len) for part in parts]
    return TaskData(name, tokens, labels, max_len, spec.causal, *splits)


def _all_inputs(name: str, vocab_size: int, max_len: int) -> list[Example]:
    """Every input of the deterministic tasks up to `max_len` (tests: tiny settings only)."""
    import itertools

    if name in ("reverse", "sort"):
        digits, extra, tail = _digits(vocab_size - 3), 2, [EOS]
    elif name in ("hist", "double_hist", "most_freq"):
        digits, extra, tail = _digits(vocab_size - 2), 1, []
    else:
        raise InputError(
            f"exhaustive data is only for reverse/sort/hist/double_hist/most_freq, not {name!r}."
        )
    out = []
    for n in range(1, max_len - extra + 1):
        for body in itertools.product(digits, repeat=n):
            labs = _labels(name, tuple(body), max_len)
            out.append(([BOS, *body, *tail], [None, *labs] + [None] * len(tail)))
    return out


def input_space(name: str, tokens: list[str], n_ctx: int) -> tuple[list[str], list[int], list[str]]:
    """(body tokens, body lengths, suffix) of the inputs the task's sampler can produce: each input
    is [BOS] + a body + the suffix. For induction it is a superset (any of its tokens anywhere)."""
    body = [t for t in tokens if t not in (BOS, EOS)]
    if name in ("reverse", "sort"):
        return body, list(range(1, n_ctx - 1)), [EOS]
    if name in ("hist", "double_hist", "most_freq"):
        return body, list(range(1, n_ctx)), []
    if name in ("dyck1", "dyck2"):
        return body, [n_ctx - 1], []
    if name == "induction":
        return body, [2 * ((n_ctx - 2) // 2) + 1], []
    raise InputError(f"unknown task {name!r}; known tasks: {sorted(PAPER_TASKS)}.")


def input_space_size(name: str, tokens: list[str], n_ctx: int) -> int:
    """How many inputs `input_space` describes."""
    body, lengths, _ = input_space(name, tokens, n_ctx)
    return sum(len(body) ** n for n in lengths)


def all_inputs(name: str, tokens: list[str], n_ctx: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every input of `input_space` as padded ids [N, n_ctx] (pad 0) and lengths [N]; the caller
    checks `input_space_size` against its budget first."""
    body, lengths, suffix = input_space(name, tokens, n_ctx)
    index = {t: i for i, t in enumerate(tokens)}
    body_ids = torch.tensor([index[t] for t in body])
    blocks, sizes = [], []
    for n in lengths:
        count = len(body) ** n
        # Row r's body is r written in base len(body), most significant digit first.
        digits = torch.arange(count)[:, None] // len(body) ** torch.arange(n - 1, -1, -1)[None] % len(body)
        block = torch.zeros(count, n_ctx, dtype=torch.long)
        block[:, 0] = index[BOS]
        block[:, 1 : n + 1] = body_ids[digits]
        for j, token in enumerate(suffix):
            block[:, n + 1 + j] = index[token]
        blocks.append(block)
        sizes.append(torch.full((count,), 1 + n + len(suffix)))
    return torch.cat(blocks), torch.cat(sizes)


def encode_split(items: list, tokens: list[str], labels: list[str], n_ctx: int) -> Split:
    """(words, labels) pairs -> a padded Split; a None label is unscored (-100)."""
    tok_index = {t: i for i, t in enumerate(tokens)}
    lab_index = {t: i for i, t in enumerate(labels)}
    n = len(items)
    ids = torch.zeros(n, n_ctx, dtype=torch.long)
    targets = torch.full((n, n_ctx), -100, dtype=torch.long)
    lengths = torch.zeros(n, dtype=torch.long)
    for row, (seq, labs) in enumerate(items):
        lengths[row] = len(seq)
        ids[row, : len(seq)] = torch.tensor([tok_index[t] for t in seq])
        for col, lab in enumerate(labs):
            if lab is not None:
                targets[row, col] = lab_index[lab]
    return Split(ids, lengths, targets)
