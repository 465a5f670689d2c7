"""Tokenizers trained on a sample of a source (character, BPE, LZW) and cross-entropy per
character, so tokenized and untokenized models compare (Rajaraman et al. 2024).

Source symbols 0..k-1 are written as the characters 'a', 'b', ... (`to_text`).
BPE is the `tokenizers` library's; LZW is short enough to write here.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import torch
from tokenizers import Tokenizer, models, trainers

from interp.errors import InputError
from interp.tasks.checks import integer

_CHUNK = 512  # characters per BPE "word": BPE merges inside a chunk, never across one


def to_text(symbols: torch.Tensor | Sequence[int]) -> str:
    """Symbol ids (any shape, flattened) as characters 'a', 'b', ..."""
    values = symbols.flatten().tolist() if isinstance(symbols, torch.Tensor) else list(symbols)
    return "".join(chr(ord("a") + int(s)) for s in values)


class CharTokenizer:
    """One token per character."""

    def __init__(self, alphabet: str):
        _check_text(alphabet)
        if not alphabet:
            raise InputError("the alphabet is empty; a tokenizer needs at least one character.")
        self.alphabet = "".join(sorted(set(alphabet)))
        self.index = {c: i for i, c in enumerate(self.alphabet)}

    @property
    def vocab_size(self) -> int:
        return len(self.alphabet)

    def encode(self, text: str) -> list[int]:
        """Token ids of `text`."""
        _check_text(text)
        try:
            return [self.index[c] for c in text]
        except KeyError as err:
            raise InputError(f"character {err.args[0]!r} is not in the alphabet {self.alphabet!r}.") from None

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(self.alphabet[i] for i in ids)


class BPETokenizer:
    """Byte-pair encoding trained with the `tokenizers` library (no pre-tokenisation)."""

    def __init__(self, text: str, vocab_size: int):
        alphabet = _alphabet(text, vocab_size)
        self.alphabet = frozenset(alphabet)
        self.tokenizer = Tokenizer(models.BPE())
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=alphabet, show_progress=False,
                                      special_tokens=[], min_frequency=1)
        self.tokenizer.train_from_iterator(_chunks(text), trainer=trainer)

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size()

    def encode(self, text: str) -> list[int]:
        """Token ids of `text` (encoded in the same chunks as training)."""
        _check_text(text)
        unseen = set(text) - self.alphabet
        if unseen:  # the BPE model would silently drop them
            raise InputError(f"characters {sorted(unseen)!r} were not in the training text.")
        ids: list[int] = []
        for encoding in self.tokenizer.encode_batch(_chunks(text)):
            ids.extend(encoding.ids)
        return ids

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(self.tokenizer.id_to_token(i) for i in ids)


class LZWTokenizer:
    """Dictionary from an LZW parse of the training text (each new phrase = longest known
    phrase + one character, until vocab_size); encoding is greedy longest match."""

    def __init__(self, text: str, vocab_size: int):
        alphabet = _alphabet(text, vocab_size)
        phrases = list(alphabet)
        known = set(phrases)
        start = 0
        while start < len(text) and len(phrases) < vocab_size:
            end = start + 1
            while end < len(text) and text[start:end + 1] in known:
                end += 1
            if end < len(text):
                phrases.append(text[start:end + 1])
                known.add(text[start:end + 1])
            start = end
        self.phrases = phrases
        self.index = {p: i for i, p in enumerate(phrases)}
        self.longest = max(len(p) for p in phrases)

    @property
    def vocab_size(self) -> int:
        return len(self.phrases)

    def encode(self, text: str) -> list[int]:
        """Greedy longest-match token ids of `text`."""
        _check_text(text)
        ids, start = [], 0
        while start < len(text):
            for size in range(min(self.longest, len(text) - start), 0, -1):
                token = self.index.get(text[start:start + size])
                if token is not None:
                    ids.append(token)
                    start += size
                    break
            else:
                raise InputError(f"character {text[start]!r} was not in the training text.")
        return ids

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(self.phrases[i] for i in ids)


def unigram_nats_per_char(tokenizer: CharTokenizer | BPETokenizer | LZWTokenizer, train_text: str,
                          test_text: str, alpha: float = 0.5) -> float:
    """Cross-entropy per character on test_text of the unigram model over tokens fitted (add-alpha)
    on train_text: the best a model that ignores context can do with this dictionary."""
    counts = Counter(tokenizer.encode(train_text))
    total = sum(counts.values()) + alpha * tokenizer.vocab_size
    test_ids = tokenizer.encode(test_text)
    nats = -sum(math.log((counts[i] + alpha) / total) for i in test_ids)
    return nats / len(test_text)


def nats_per_char(nats_per_token: float, n_tokens: int, n_chars: int) -> float:
    """Convert a mean token cross-entropy to nats per character of the encoded text."""
    return nats_per_token * n_tokens / n_chars


class TokenWindows:
    """A text encoded once and cut into windows of `seq_len` tokens, for training a next-token model
    on tokens: random windows (`sample`, the training loop's sampler), consecutive ones for
    evaluation (`consecutive`), and the characters the predicted tokens cover (`predicted_chars`),
    so a model's token cross-entropy converts to nats per character."""

    def __init__(self, tokenizer: CharTokenizer | BPETokenizer | LZWTokenizer, text: str, seq_len: int):
        ids = tokenizer.encode(text)
        if not isinstance(seq_len, int) or seq_len < 2 or len(ids) < seq_len:
            raise InputError(f"need windows of >= 2 tokens and a text of >= seq_len={seq_len!r} tokens; "
                             f"the text encodes to {len(ids)} tokens.")
        self.ids = torch.tensor(ids, dtype=torch.long)  # [n_tokens]
        self.token_chars = torch.tensor([len(tokenizer.decode([i])) for i in range(tokenizer.vocab_size)])
        self.seq_len, self.d_vocab = seq_len, tokenizer.vocab_size
        self.chars_per_token = len(text) / len(ids)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """n windows [n, seq_len] starting at uniformly drawn token positions."""
        starts = torch.randint(0, len(self.ids) - self.seq_len + 1, (n,), generator=generator)
        return self.ids[starts[:, None] + torch.arange(self.seq_len)]

    def consecutive(self) -> torch.Tensor:
        """The text as non-overlapping windows [n_windows, seq_len] (a tail shorter than one is dropped)."""
        usable = len(self.ids) // self.seq_len * self.seq_len
        return self.ids[:usable].view(-1, self.seq_len)

    def predicted_chars(self, windows: torch.Tensor) -> int:
        """Characters covered by the tokens a next-token loss predicts (positions 1.. of each window)."""
        return int(self.token_chars[windows[:, 1:]].sum())


def _check_text(text: object) -> None:
    if not isinstance(text, str):
        raise InputError(f"text must be a str, got {type(text).__name__}.")


def _alphabet(text: str, vocab_size: int) -> list[str]:
    """The training text's characters, checked: a non-empty str and a vocab_size that holds them."""
    _check_text(text)
    if not text:
        raise InputError("the training text is empty; a tokenizer is trained on at least one character.")
    integer("vocab_size", vocab_size, minimum=1, limit="vocab_size")
    alphabet = sorted(set(text))
    if vocab_size < len(alphabet):
        raise InputError(f"vocab_size={vocab_size} is smaller than the alphabet ({len(alphabet)}).")
    return alphabet


def _chunks(text: str) -> list[str]:
    return [text[i:i + _CHUNK] for i in range(0, len(text), _CHUNK)]
