"""Configuration of the one hooked transformer.

Field names follow TransformerLens' config where a field exists there, because
`ActivationCache` and `transformer_lens.patching` read them from `model.cfg`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from interp.errors import ConfigError

ATTENTION_KINDS = ("softmax", "hard", "linear")
ACTIVATIONS = ("relu", "gelu", "gelu_new", "silu", "identity")
NORMALIZATIONS = (None, "LN")
POSITIONAL_EMBEDDINGS = ("learned", "none")


@dataclass
class ModelConfig:
    """Shape and behaviour of a `HookedTransformer`.

    attention_kind: "softmax" (standard), "hard" (uniform over the arg-max keys, as
    in RASP/tracr semantics) or "linear" (scores used as weights, no softmax, as in
    linear self-attention ICL studies).
    d_input: when set, the model reads real vectors [batch, pos, d_input] through a
    linear embedding instead of token ids (in-context regression studies).
    """

    n_layers: int
    d_model: int
    n_ctx: int
    d_vocab: int
    n_heads: int = 1
    d_head: int | None = None
    d_mlp: int | None = None  # None or 0: attention-only
    d_vocab_out: int | None = None
    d_input: int | None = None
    act_fn: str = "relu"
    normalization_type: str | None = None
    causal: bool = False
    positional_embedding: str = "learned"
    attention_kind: str = "softmax"
    attn_scale: float | None = None  # None: sqrt(d_head)
    eps: float = 1e-5
    seed: int | None = None
    # Optional token names so users can type strings instead of ids.
    vocab: list[str] | None = None
    vocab_out: list[str] | None = None
    # Hook switches, as in TransformerLens.
    use_attn_result: bool = True
    use_split_qkv_input: bool = False
    use_attn_in: bool = False
    use_hook_mlp_in: bool = False
    # Read by TransformerLens tools; constant for our models.
    device: str = "cpu"
    n_key_value_heads: int | None = field(default=None, repr=False)
    model_name: str = "interp-model"

    def __post_init__(self) -> None:
        if self.d_head is None:
            if self.d_model % self.n_heads:
                raise ConfigError(
                    f"d_model={self.d_model} is not divisible by n_heads={self.n_heads}; "
                    "pass d_head explicitly."
                )
            self.d_head = self.d_model // self.n_heads
        if self.d_vocab_out is None:
            self.d_vocab_out = self.d_vocab
        if self.d_mlp == 0:
            self.d_mlp = None
        for name in ("n_layers", "d_model", "n_ctx", "n_heads", "d_head", "d_vocab_out"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < (0 if name == "n_layers" else 1):
                raise ConfigError(f"{name} must be a positive integer, got {value!r}.")
        if self.d_input is None and self.d_vocab < 1:
            raise ConfigError(f"d_vocab must be a positive integer, got {self.d_vocab!r}.")
        self._check_choice("attention_kind", ATTENTION_KINDS)
        self._check_choice("act_fn", ACTIVATIONS)
        self._check_choice("normalization_type", NORMALIZATIONS)
        self._check_choice("positional_embedding", POSITIONAL_EMBEDDINGS)
        if self.vocab is not None and len(self.vocab) != self.d_vocab:
            raise ConfigError(f"vocab has {len(self.vocab)} names but d_vocab={self.d_vocab}.")
        if self.vocab_out is not None and len(self.vocab_out) != self.d_vocab_out:
            raise ConfigError(
                f"vocab_out has {len(self.vocab_out)} names but d_vocab_out={self.d_vocab_out}."
            )

    def _check_choice(self, name: str, choices: tuple) -> None:
        if getattr(self, name) not in choices:
            raise ConfigError(f"{name}={getattr(self, name)!r} is not one of {list(choices)}.")

    @property
    def attn_only(self) -> bool:
        """True when the blocks have no MLP (TransformerLens reads this)."""
        return self.d_mlp is None

    @property
    def attention_dir(self) -> str:
        """TransformerLens' name for the causal switch."""
        return "causal" if self.causal else "bidirectional"

    @property
    def scale(self) -> float:
        """Divisor of the attention scores."""
        return self.attn_scale if self.attn_scale is not None else math.sqrt(self.d_head)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (the saved form)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """Build from `to_dict` output; unknown keys are an error, not silently dropped."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown config fields {unknown}; known fields: {sorted(known)}.")
        return cls(**data)
