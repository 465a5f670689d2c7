"""Tokenizers: round trips, the LZW dictionary on a hand-worked example, and unigram
cross-entropy per character against the source's exact entropies."""

from __future__ import annotations

import pytest
import torch

from interp.errors import InputError
from interp.tasks import MarkovChain
from interp.tasks.tokenization import (
    BPETokenizer,
    CharTokenizer,
    LZWTokenizer,
    TokenWindows,
    nats_per_char,
    to_text,
    unigram_nats_per_char,
)


def test_lzw_dictionary_by_hand():
    # a | b | ab | aba | ba: each new phrase is the longest known one plus the next character.
    tokenizer = LZWTokenizer("ababababa", vocab_size=100)
    assert tokenizer.phrases == ["a", "b", "ab", "ba", "aba", "abab"]
    assert tokenizer.decode(tokenizer.encode("abababb")) == "abababb"
    assert [tokenizer.phrases[i] for i in tokenizer.encode("abababb")] == ["abab", "ab", "b"]


@pytest.fixture(scope="module")
def source_text() -> tuple[MarkovChain, str, str]:
    chain = MarkovChain.switching(0.8, 0.8)
    train = to_text(chain.sample(1, 60_000, torch.Generator().manual_seed(0)))
    test = to_text(chain.sample(1, 20_000, torch.Generator().manual_seed(1)))
    return chain, train, test


@pytest.mark.parametrize("kind", [BPETokenizer, LZWTokenizer])
def test_bigger_dictionaries_approach_the_entropy_rate(source_text, kind):
    chain, train, test = source_text
    char = unigram_nats_per_char(CharTokenizer("ab"), train, test)
    assert char == pytest.approx(chain.unigram_entropy(), abs=0.01)
    small, big = kind(train, 2), kind(train, 128)
    assert small.vocab_size == 2 and big.vocab_size == 128
    assert big.decode(big.encode(test[:500])) == test[:500]
    assert unigram_nats_per_char(small, train, test) == pytest.approx(char, abs=1e-6)
    large = unigram_nats_per_char(big, train, test)
    # Better than characters, never (beyond sampling noise) better than the entropy rate.
    assert chain.entropy_rate() - 0.01 < large < char - 0.1


def test_char_tokenizer_and_per_char():
    tokenizer = CharTokenizer("ba")
    assert tokenizer.encode("abba") == [0, 1, 1, 0] and tokenizer.decode([1, 0]) == "ba"
    with pytest.raises(InputError, match="alphabet"):
        tokenizer.encode("abc")
    assert to_text([0, 2, 1]) == "acb"
    assert nats_per_char(2.0, 10, 40) == 0.5
    with pytest.raises(InputError, match="smaller than the alphabet"):
        LZWTokenizer("abc", 2)


def test_token_windows_cover_the_text(source_text):
    _, train, _ = source_text
    text = train[:5000]
    tokenizer = BPETokenizer(text, 16)
    windows = TokenWindows(tokenizer, text, seq_len=8)
    rows = windows.consecutive()  # [n, 8]
    assert rows.shape[1] == 8 and rows.shape[0] == len(tokenizer.encode(text)) // 8
    assert text.startswith(tokenizer.decode(rows.flatten().tolist()))
    predicted = sum(len(tokenizer.decode(row[1:].tolist())) for row in rows)
    assert windows.predicted_chars(rows) == predicted
    batch = windows.sample(5, torch.Generator().manual_seed(0))
    assert batch.shape == (5, 8) and torch.equal(batch, windows.sample(5, torch.Generator().manual_seed(0)))
    assert all(tokenizer.decode(row.tolist()) in text for row in batch)
    with pytest.raises(InputError, match="seq_len"):
        TokenWindows(tokenizer, "ab", seq_len=8)
