"""A Hugging Face-style tokenizer over a model's own token names, for the TransformerLens
tools that tokenize strings (`test_prompt`, `detect_head`, `to_string`, `generate`).

Strings split into the longest vocabulary names, left to right (a shorter name only where
the longer one leaves a rest that cannot be split); whitespace between tokens is skipped
unless it belongs to a name. Decoding joins names with "" when every name is one
non-space character (addition: "12+34="), else with " " (compiled: "BOS a b"), so a decoded
string tokenizes back to the same ids (for names without spaces). There is no EOS or
padding token: batches of unequal length are refused, because the model has no attention
mask to hide padding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from interp.errors import InputError


class VocabTokenizer:
    """Tokenizer of one model's vocabulary (`cfg.vocab`, or "0".."d_vocab-1" when unnamed)."""

    eos_token: str | None = None
    eos_token_id: int | None = None
    pad_token: str | None = None
    pad_token_id: int | None = None
    unk_token: str | None = None
    unk_token_id: int | None = None

    def __init__(self, vocab: Sequence[str], bos_token: str | None = None,
                 padding_side: str = "right", model_max_length: int | None = None):
        self.vocab = [str(name) for name in vocab]
        if not self.vocab:
            raise InputError("a tokenizer needs at least one token name.")
        self.ids: dict[str, list[int]] = {}
        for i, name in enumerate(self.vocab):
            self.ids.setdefault(name, []).append(i)
        if bos_token is not None and bos_token not in self.ids:
            raise InputError(f"BOS token {bos_token!r} is not in the vocabulary {self.vocab}.")
        self.bos_token = bos_token
        self.bos_token_id = self.ids[bos_token][0] if bos_token is not None else None
        self.padding_side = padding_side
        self.model_max_length = model_max_length
        self.name_or_path = "interp-vocab"
        # Longest names first: the matcher tries them in this order at each character.
        self._by_length = sorted(self.ids, key=len, reverse=True)
        single = all(len(n) == 1 and not n.isspace() for n in self.vocab)
        self.separator = "" if single else " "

    # ------------------------------------------------------------ vocabulary
    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def __len__(self) -> int:
        return len(self.vocab)

    def get_vocab(self) -> dict[str, int]:
        """Name -> id (the first id of a name that occurs twice)."""
        return {name: ids[0] for name, ids in self.ids.items()}

    @property
    def all_special_tokens(self) -> list[str]:
        return [self.bos_token] if self.bos_token is not None else []

    @property
    def all_special_ids(self) -> list[int]:
        return [self.bos_token_id] if self.bos_token_id is not None else []

    # -------------------------------------------------------------- encoding
    def tokenize(self, text: str, **_: Any) -> list[str]:
        """Token names of `text`: the longest vocabulary match at each character, backing off to
        a shorter one only when the rest cannot be split otherwise; spaces between tokens skipped."""
        if not isinstance(text, str):
            raise InputError(f"expected a string to tokenize, got the {type(text).__name__} {text!r}.")
        n = len(text)
        # splits[i]: the step taken at character i (a name, or "" to skip a space) when text[i:]
        # can be split; filled from the end, so each choice knows whether the rest works.
        splits: list[str | None] = [None] * (n + 1)
        splits[n] = ""
        for i in range(n - 1, -1, -1):
            name = next((m for m in self._by_length
                         if m and text.startswith(m, i) and splits[i + len(m)] is not None), None)
            if name is not None:
                splits[i] = name
            elif text[i].isspace() and splits[i + 1] is not None:
                splits[i] = ""
        if splits[0] is None:
            reached = [True] + [False] * n  # characters some left-to-right split reaches
            for j in range(n):
                if reached[j]:
                    for m in self._by_length:
                        if m and text.startswith(m, j):
                            reached[j + len(m)] = True
                    if text[j].isspace():
                        reached[j + 1] = True
            i = max(j for j in range(n) if reached[j])  # where every split gets stuck
            raise InputError(
                f"cannot tokenize {_short(text)}: no split into vocabulary tokens gets past "
                f"{_short(text[i:])} (character {i}); the vocabulary is {_short(self.vocab, 200)}."
            )
        names, i = [], 0
        while i < n:
            step = splits[i]
            names.extend([step] if step else [])
            i += len(step) if step else 1
        return names

    def convert_tokens_to_ids(self, tokens: str | Sequence[str]) -> int | list[int]:
        """Id of one name, or ids of a list of names."""
        if isinstance(tokens, str):
            return self._id(tokens)
        return [self._id(name) for name in tokens]

    def _id(self, name: str) -> int:
        ids = self.ids.get(name)
        if ids is None:
            raise InputError(f"token {name!r} is not in the vocabulary {self.vocab}.")
        if len(ids) > 1:
            raise InputError(f"token name {name!r} names ids {ids}; pass token ids instead.")
        return ids[0]

    def encode(self, text: str, add_special_tokens: bool = True, **_: Any) -> list[int]:
        """Ids of `text`. Never adds BOS (cfg.tokenizer_prepends_bos is False: to_tokens does)."""
        return [self._id(name) for name in self.tokenize(text)]

    def __call__(self, text: str | Sequence[str], return_tensors: str | None = None,
                 padding: bool | str = False, padding_side: str | None = None,
                 truncation: bool = False, max_length: int | None = None,
                 add_special_tokens: bool = True, **_: Any) -> dict[str, Any]:
        """{"input_ids", "attention_mask"} of one string or a batch; unequal lengths refused."""
        batch = [text] if isinstance(text, str) else list(text)
        rows = [self.encode(t) for t in batch]
        if truncation and max_length is not None:
            rows = [r[:max_length] for r in rows]
        lengths = sorted({len(r) for r in rows})
        if len(lengths) > 1:
            raise InputError(
                f"strings of different lengths ({', '.join(map(str, lengths))} tokens) in one batch: "
                "this model has no padding token and no attention mask; pass equal-length strings."
            )
        masks = [[1] * len(r) for r in rows]
        if return_tensors == "pt":
            ids_out: Any = torch.tensor(rows, dtype=torch.long).reshape(len(rows), -1)
            mask_out: Any = torch.tensor(masks, dtype=torch.long).reshape(len(rows), -1)
        elif return_tensors is None:
            ids_out, mask_out = (rows[0], masks[0]) if isinstance(text, str) else (rows, masks)
        else:
            raise InputError(f"return_tensors={return_tensors!r}; use 'pt' or None.")
        return {"input_ids": ids_out, "attention_mask": mask_out}

    # -------------------------------------------------------------- decoding
    def convert_ids_to_tokens(self, ids: Any, skip_special_tokens: bool = False) -> str | list[str]:
        """Name of one id, or names of a sequence of ids."""
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        if isinstance(ids, int):
            return self._name(ids)
        return [self._name(int(i)) for i in ids
                if not (skip_special_tokens and int(i) in self.all_special_ids)]

    def _name(self, i: int) -> str:
        if not 0 <= i < len(self.vocab):
            raise InputError(f"token id {i} is outside the vocabulary [0, {len(self.vocab)}).")
        return self.vocab[i]

    def decode(self, token_ids: Any, skip_special_tokens: bool = False, **_: Any) -> str:
        """One string from ids (an int, a list, or a 0-d / 1-d tensor)."""
        if isinstance(token_ids, torch.Tensor):
            if token_ids.dim() > 1:
                raise InputError(f"decode takes one sequence, got shape {tuple(token_ids.shape)}; "
                                 "use batch_decode.")
            token_ids = token_ids.tolist()
        if isinstance(token_ids, int):
            token_ids = [token_ids]
        return self.separator.join(self.convert_ids_to_tokens(list(token_ids), skip_special_tokens))

    def batch_decode(self, sequences: Any, skip_special_tokens: bool = False, **kwargs: Any) -> list[str]:
        """One string per sequence."""
        if isinstance(sequences, torch.Tensor):
            sequences = sequences.tolist()
        return [self.decode(s, skip_special_tokens, **kwargs) for s in sequences]

    def __repr__(self) -> str:
        return (f"VocabTokenizer(vocab_size={len(self.vocab)}, bos_token={self.bos_token!r}, "
                f"padding_side={self.padding_side!r})")


def _short(value: object, limit: int = 40) -> str:
    """repr of `value`, cut to about `limit` characters so an error stays one readable line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
