"""TransformerLens 4.3's string and generation surface on our model: `tokenizer`, `to_tokens`,
`to_str_tokens`, `to_string`, `generate`, and the next-token check that `return_type="loss"`,
`generate` and `utilities.test_prompt` need. Mixed into `HookedTransformer`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from transformer_lens.utilities import sample_logits

from interp.errors import InputError
from interp.model.tokenizer import VocabTokenizer

if TYPE_CHECKING:
    from interp.model.config import ModelConfig

PADDING_SIDES = (None, "left", "right")
RETURN_TYPES = ("input", "str", "tokens")


class TLTextMixin:
    """Strings in and out, as TransformerLens' `to_tokens` / `to_string` / `generate` do."""

    cfg: ModelConfig
    metadata: dict[str, Any]

    # ------------------------------------------------------------- tokenizer
    @property
    def tokenizer(self) -> VocabTokenizer | None:
        """A tokenizer over `cfg.vocab` ("0".."d_vocab-1" when unnamed); None for vector inputs."""
        cfg = self.cfg
        if cfg.d_input is not None:
            return None
        override = self.__dict__.get("_tokenizer_override")
        if override is not None:
            return override
        vocab = cfg.vocab or [str(i) for i in range(cfg.d_vocab)]
        key = (tuple(vocab), cfg.bos_token, cfg.n_ctx)
        cached = self.__dict__.get("_tokenizer_cache")
        if cached is None or cached[0] != key:
            # Cached so settings a TL user changes (tokenizer.padding_side) persist.
            cached = (key, VocabTokenizer(vocab, cfg.bos_token, model_max_length=cfg.n_ctx))
            self.__dict__["_tokenizer_cache"] = cached
        return cached[1]

    @tokenizer.setter
    def tokenizer(self, value: Any) -> None:
        self.__dict__["_tokenizer_override"] = value

    def _require_tokenizer(self, what: str) -> VocabTokenizer:
        tokenizer = self.tokenizer
        if tokenizer is None:
            raise InputError(
                f"{what} needs token inputs, but this model reads vectors [batch, pos, "
                f"{self.cfg.d_input}] (d_input): it has no tokenizer; pass a float tensor instead."
            )
        return tokenizer

    # ------------------------------------------------------------ to_tokens
    def to_tokens(self, input: Any, prepend_bos: bool | None = None, padding_side: str | None = None,
                  move_to_device: bool = True, truncate: bool = True) -> torch.Tensor:
        """Ids [batch, pos] of a string or a list of strings (a batch), as TL's `to_tokens`.

        BOS is prepended when `prepend_bos` (default `cfg.default_prepend_bos`: True when the
        model has one). `truncate` cuts rows to n_ctx, as TL does. A list of token-name lists
        (our older form) is taken verbatim: exact names, no BOS added.
        """
        tokenizer = self._require_tokenizer("to_tokens")
        if padding_side not in PADDING_SIDES:
            raise InputError(f"padding_side={padding_side!r}; use 'left', 'right' or None.")
        if isinstance(input, str):
            batch: list[str] = [input]
        elif isinstance(input, (list, tuple)) and input and all(isinstance(s, str) for s in input):
            batch = list(input)
        elif isinstance(input, (list, tuple)) and input and all(
            isinstance(row, (list, tuple)) and all(isinstance(n, str) for n in row) for row in input
        ):
            tokens = self._names_to_tokens(input, tokenizer)
            return tokens.to(self.cfg.device) if move_to_device else tokens
        else:
            raise InputError(
                f"to_tokens takes a string or a list of strings, got {type(input).__name__} {input!r}."
            )
        prepend = self.cfg.default_prepend_bos if prepend_bos is None else prepend_bos
        if prepend and tokenizer.bos_token_id is None:
            raise InputError("this model has no BOS token (cfg.bos_token is None); pass prepend_bos=False.")
        rows = [[tokenizer.bos_token_id] * bool(prepend) + tokenizer.encode(text) for text in batch]
        if truncate:
            rows = [row[: self.cfg.n_ctx] for row in rows]
        lengths = sorted({len(row) for row in rows})
        if len(lengths) > 1:
            raise InputError(
                f"strings of different lengths ({', '.join(map(str, lengths))} tokens) in one batch: "
                "this model has no padding token and no attention mask; pass equal-length strings."
            )
        tokens = torch.tensor(rows, dtype=torch.long).reshape(len(rows), -1)  # [batch, pos]
        return tokens.to(self.cfg.device) if move_to_device else tokens

    def _names_to_tokens(self, rows: Any, tokenizer: VocabTokenizer) -> torch.Tensor:
        """Token-name sequences (equal length) to ids [batch, pos]; names exact, nothing added."""
        ids = []
        for row in rows:
            out = []
            for position, name in enumerate(row):
                if name not in tokenizer.ids:
                    raise InputError(f"token {name!r} at position {position} is not in the "
                                     f"vocabulary {tokenizer.vocab}.")
                out.append(tokenizer.convert_tokens_to_ids(name))
            ids.append(out)
        if len({len(r) for r in ids}) > 1:
            raise InputError("sequences in a batch must have equal length.")
        return torch.tensor(ids, dtype=torch.long)

    # ------------------------------------------------------- ids to strings
    def to_str_tokens(self, input: Any, prepend_bos: bool | None = None,
                      padding_side: str | None = None) -> list[str] | list[list[str]]:
        """Token names of a string, of ids ([pos], [1, pos] or a scalar), or of a list of these."""
        tokenizer = self._require_tokenizer("to_str_tokens")
        if isinstance(input, list):
            return [self.to_str_tokens(item, prepend_bos, padding_side) for item in input]
        if isinstance(input, str):
            tokens = self.to_tokens(input, prepend_bos=prepend_bos, padding_side=padding_side)[0]
        elif isinstance(input, (torch.Tensor, np.ndarray)):
            tokens = torch.as_tensor(input).squeeze()
            if tokens.dim() == 0:
                tokens = tokens.unsqueeze(0)
            if tokens.dim() != 1:
                raise InputError(f"to_str_tokens takes one sequence of ids, got shape {tuple(input.shape)}.")
        else:
            raise InputError(f"to_str_tokens takes a string, ids or a list, got {type(input).__name__}.")
        return [tokenizer.decode([int(t)]) for t in tokens.tolist()]

    def to_string(self, tokens: Any) -> str | list[str]:
        """One string from ids [pos] (or a scalar), one per row from ids [batch, pos], as TL."""
        tokenizer = self._require_tokenizer("to_string")
        tokens = torch.as_tensor(tokens)
        if tokens.dim() == 2:
            return tokenizer.batch_decode(tokens)
        if tokens.dim() <= 1:
            return tokenizer.decode(tokens)
        raise InputError(f"to_string takes ids [pos] or [batch, pos], got shape {tuple(tokens.shape)}.")

    def to_single_str_token(self, int_token: int) -> str:
        """Name of one input token id (TL)."""
        return self._require_tokenizer("to_single_str_token").decode([int(int_token)])

    def get_token_position(self, single_token: str | int, input: Any, mode: str = "first",
                           prepend_bos: bool | None = None, padding_side: str | None = None) -> int:
        """Position of an input token (a name or an id) in a string or ids [pos] / [1, pos] (TL)."""
        tokenizer = self._require_tokenizer("get_token_position")
        tokens = (self.to_tokens(input, prepend_bos=prepend_bos, padding_side=padding_side)
                  if isinstance(input, str) else torch.as_tensor(input))
        if tokens.dim() == 2:
            if tokens.shape[0] != 1:
                raise InputError(f"ids of rank two must have shape [1, pos], not {tuple(tokens.shape)}.")
            tokens = tokens[0]
        if isinstance(single_token, str):
            ids = tokenizer.encode(single_token)
            if len(ids) != 1:
                raise InputError(f"{single_token!r} is {len(ids)} tokens, not one.")
            single_token = ids[0]
        hits = (tokens == int(single_token)).nonzero().flatten().tolist()
        if not hits:
            raise InputError(f"token {tokenizer.decode([int(single_token)])!r} does not occur in the input.")
        if mode not in ("first", "last"):
            raise InputError(f"mode={mode!r}; use 'first' or 'last'.")
        return hits[0] if mode == "first" else hits[-1]

    # -------------------------------------------------- next-token objective
    def next_token_problem(self) -> str | None:
        """Why this model's logits are not next-token predictions over its input tokens (None: they are)."""
        cfg = self.cfg
        producer = self.metadata.get("producer")
        if cfg.d_input is not None:
            return f"it reads vectors (d_input={cfg.d_input}), not tokens"
        if producer == "rasp.compiler":
            return "it is a compiled RASP program: each position outputs the program's value there"
        if producer == "transformer_program":
            return "it is a Transformer Program: each position outputs the program's label there"
        if not cfg.causal:
            return "it is bidirectional (causal=False): every position sees the tokens after it"
        if cfg.d_vocab_out != cfg.d_vocab or (cfg.vocab and cfg.vocab_out and cfg.vocab_out != cfg.vocab):
            return (f"its {cfg.d_vocab_out} outputs are not its {cfg.d_vocab} input tokens "
                    "(vocab_out differs from vocab)")
        return None

    def require_next_token(self, what: str) -> None:
        """InputError unless the model predicts the next token of its own vocabulary."""
        problem = self.next_token_problem()
        if problem is not None:
            raise InputError(f"{what} needs a next-token model, and this one is not: {problem}.")

    # -------------------------------------------------------------- generate
    @torch.inference_mode()
    def generate(self, input: Any = "", max_new_tokens: int = 10, stop_at_eos: bool = True,
                 eos_token_id: int | list[int] | None = None, do_sample: bool = True,
                 top_k: int | None = None, top_p: float | None = None, temperature: float = 1.0,
                 freq_penalty: float = 0.0, repetition_penalty: float = 1.0,
                 use_past_kv_cache: bool = True, prepend_bos: bool | None = None,
                 padding_side: str | None = None, return_type: str | None = "input",
                 verbose: bool = True, **unsupported: Any) -> Any:
        """Append `max_new_tokens` next tokens, greedy (`do_sample=False`) or sampled with TL's
        `sample_logits` (top_k, top_p, temperature, penalties), as TL's `generate`.

        Our vocabularies have no EOS token, so `stop_at_eos` acts only with an explicit
        `eos_token_id` (finished rows are then filled with it). Without a KV cache each step
        reruns the prefix: `use_past_kv_cache` changes nothing but speed. `verbose` is ignored.
        """
        if unsupported:
            raise InputError(f"generate does not support {sorted(unsupported)} on this model.")
        self.require_next_token("generate")
        if return_type not in RETURN_TYPES:
            raise InputError(f"return_type={return_type!r}; use one of {list(RETURN_TYPES)}.")
        if isinstance(input, (str, list)):
            tokens = self.to_tokens(input, prepend_bos=prepend_bos, padding_side=padding_side,
                                    truncate=False)
            text_kind = "str" if isinstance(input, str) else "list"
        else:
            tokens = self.validate_inputs(input)  # type: ignore[attr-defined]
            text_kind = None
        if not isinstance(max_new_tokens, int) or max_new_tokens < 0:
            raise InputError(f"max_new_tokens must be a non-negative integer, got {max_new_tokens!r}.")
        if tokens.shape[1] + max_new_tokens > self.cfg.n_ctx:
            raise InputError(
                f"the prompt has {tokens.shape[1]} tokens; {max_new_tokens} more exceed the model's "
                f"context n_ctx={self.cfg.n_ctx}; lower max_new_tokens or shorten the prompt."
            )
        stop_tokens: list[int] = []
        if stop_at_eos and eos_token_id is not None:
            stop_tokens = [eos_token_id] if isinstance(eos_token_id, int) else list(eos_token_id)
        finished = torch.zeros(tokens.shape[0], dtype=torch.bool, device=tokens.device)  # [batch]
        for _ in range(max_new_tokens):
            logits = self(tokens)[:, -1, :]  # type: ignore[operator]  # [batch, d_vocab]
            if do_sample:
                new = sample_logits(logits, top_k=top_k, top_p=top_p, temperature=temperature,
                                    freq_penalty=freq_penalty, repetition_penalty=repetition_penalty,
                                    tokens=tokens)
            else:
                new = sample_logits(logits, temperature=0.0, freq_penalty=freq_penalty,
                                    repetition_penalty=repetition_penalty, tokens=tokens)
            if stop_tokens:
                new[finished] = stop_tokens[0]
                finished |= torch.isin(new, torch.tensor(stop_tokens, device=new.device))
            tokens = torch.cat([tokens, new[:, None]], dim=1)  # [batch, pos + 1]
            if stop_tokens and bool(finished.all()):
                break
        if return_type == "tokens" or (return_type == "input" and text_kind is None):
            return tokens
        tokenizer = self._require_tokenizer("generate")
        texts = [tokenizer.decode(row, skip_special_tokens=True) for row in tokens]
        return texts[0] if text_kind == "str" or len(texts) == 1 else texts
