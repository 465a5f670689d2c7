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
from interp.model.loops import check_loop_fields

ATTENTION_KINDS = ("softmax", "hard", "linear")
ACTIVATIONS = ("relu", "gelu", "gelu_new", "silu", "identity")
NORMALIZATIONS = (None, "LN")
POSITIONAL_EMBEDDINGS = ("learned", "none")


@dataclass(frozen=True)
class Rule:
    """What one config field may hold: a type, optionally None, a minimum, or a choice."""

    kind: type
    optional: bool = False
    minimum: float | None = None
    strictly_above: float | None = None
    choices: tuple | None = None

    def check(self, name: str, value: Any) -> None:
        """Raise ConfigError naming `name` unless `value` fits this rule."""
        if value is None and (self.optional or None in (self.choices or ())):
            return
        if self.choices is not None:
            if not isinstance(value, str) or value not in self.choices:
                raise ConfigError(f"{name}={value!r} is not one of {list(self.choices)}.")
            return
        if not _is(value, self.kind):
            wanted = {int: "an integer", float: "a number", bool: "true or false", str: "a string",
                      list: "a list of strings"}[self.kind]
            raise ConfigError(f"{name} must be {wanted}{' or null' if self.optional else ''}, "
                              f"got {value!r} ({type(value).__name__}).")
        if self.kind is float and not math.isfinite(value):
            raise ConfigError(f"{name} must be a finite number, got {value!r}.")
        if self.minimum is not None and value < self.minimum:
            raise ConfigError(f"{name} must be >= {self.minimum:g}, got {value!r}.")
        if self.strictly_above is not None and value <= self.strictly_above:
            raise ConfigError(f"{name} must be > {self.strictly_above:g}, got {value!r}.")


def _is(value: Any, kind: type) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if isinstance(value, bool):  # True is an int in Python, never a size
        return False
    if kind is float:
        return isinstance(value, (int, float))
    if kind is list:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, kind)


# One row per ModelConfig field; a new field needs a row (tests/interp checks that).
FIELD_RULES: dict[str, Rule] = {
    "n_layers": Rule(int, minimum=0),
    "d_model": Rule(int, minimum=1),
    "n_ctx": Rule(int, minimum=1),
    "d_vocab": Rule(int, minimum=0),
    "n_heads": Rule(int, minimum=1),
    "d_head": Rule(int, optional=True, minimum=1),
    "d_mlp": Rule(int, optional=True, minimum=0),
    "d_vocab_out": Rule(int, optional=True, minimum=1),
    "d_input": Rule(int, optional=True, minimum=1),
    "act_fn": Rule(str, choices=ACTIVATIONS),
    "normalization_type": Rule(str, choices=NORMALIZATIONS),
    "causal": Rule(bool),
    "positional_embedding": Rule(str, choices=POSITIONAL_EMBEDDINGS),
    "attention_kind": Rule(str, choices=ATTENTION_KINDS),
    "attn_scale": Rule(float, optional=True, strictly_above=0),
    "eps": Rule(float, strictly_above=0),
    "seed": Rule(int, optional=True),
    "vocab": Rule(list, optional=True),
    "vocab_out": Rule(list, optional=True),
    "bos_token": Rule(str, optional=True),
    "use_attn_result": Rule(bool),
    "use_split_qkv_input": Rule(bool),
    "use_attn_in": Rule(bool),
    "use_hook_mlp_in": Rule(bool),
    "device": Rule(str),
    "n_key_value_heads": Rule(int, optional=True, minimum=1),
    "model_name": Rule(str),
    "loop_start": Rule(int, optional=True, minimum=0),
    "loop_layers": Rule(int, optional=True, minimum=1),
    "loop_steps": Rule(int, optional=True, minimum=1),
}


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
    # The vocab name the model expects at position 0 (compiled: "BOS", Transformer Program:
    # "<sink>"); None: no BOS. TransformerLens' to_tokens prepends it by default.
    bos_token: str | None = None
    # Hook switches, as in TransformerLens.
    use_attn_result: bool = True
    use_split_qkv_input: bool = False
    use_attn_in: bool = False
    use_hook_mlp_in: bool = False
    # Read by TransformerLens tools; constant for our models.
    device: str = "cpu"
    n_key_value_heads: int | None = field(default=None, repr=False)
    model_name: str = "interp-model"
    # A weight-shared layer group (interp.model.loops): blocks loop_start + t*loop_layers + j
    # reuse block loop_start + j's parameters for t < loop_steps. None: no loop.
    loop_start: int | None = None
    loop_layers: int | None = None
    loop_steps: int | None = None

    def __post_init__(self) -> None:
        for name, rule in FIELD_RULES.items():
            rule.check(name, getattr(self, name))
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
        if self.d_input is None and self.d_vocab < 1:
            raise ConfigError(f"d_vocab must be a positive integer, got {self.d_vocab!r}.")
        if self.d_vocab_out < 1:
            raise ConfigError(f"d_vocab_out must be a positive integer, got {self.d_vocab_out!r}.")
        if self.vocab is not None and len(self.vocab) != self.d_vocab:
            raise ConfigError(f"vocab has {len(self.vocab)} names but d_vocab={self.d_vocab}.")
        if self.vocab_out is not None and len(self.vocab_out) != self.d_vocab_out:
            raise ConfigError(
                f"vocab_out has {len(self.vocab_out)} names but d_vocab_out={self.d_vocab_out}."
            )
        if self.bos_token is not None and self.bos_token not in (self.vocab or []):
            raise ConfigError(f"bos_token={self.bos_token!r} is not in vocab {self.vocab}.")
        check_loop_fields(self)

    def parameter_count(self) -> int:
        """Number of parameters a model with this config has, computed without building it
        (so a checkpoint can be refused before anything is allocated)."""
        d, h, e = self.d_model, self.n_heads, self.d_head
        ln = 2 * d if self.normalization_type == "LN" else 0
        total = (self.d_input or self.d_vocab) * d + (d if self.d_input is not None else 0)
        total += self.n_ctx * d if self.positional_embedding == "learned" else 0
        per_layer = 4 * h * d * e + 3 * h * e + d + ln
        if self.d_mlp:
            per_layer += 2 * d * self.d_mlp + self.d_mlp + d + ln
        return total + self.n_layers * per_layer + ln + d * self.d_vocab_out + self.d_vocab_out

    @property
    def attn_only(self) -> bool:
        """True when the blocks have no MLP (TransformerLens reads this)."""
        return self.d_mlp is None

    @property
    def attention_dir(self) -> str:
        """TransformerLens' name for the causal switch."""
        return "causal" if self.causal else "bidirectional"

    # ------------------------------------------------ read by TransformerLens' tools
    @property
    def default_prepend_bos(self) -> bool:
        """Whether `to_tokens` prepends BOS when not told (TL); True when the model has a BOS.
        Settable, as TL's LocallyOverridenDefaults and users set it; not saved."""
        override = self.__dict__.get("_default_prepend_bos")
        return self.bos_token is not None if override is None else override

    @default_prepend_bos.setter
    def default_prepend_bos(self, value: bool) -> None:
        self.__dict__["_default_prepend_bos"] = bool(value)

    @property
    def tokenizer_prepends_bos(self) -> bool:
        """False: our tokenizer never adds BOS itself; `to_tokens` adds it (TL reads this)."""
        return False

    @property
    def positional_embedding_type(self) -> str:
        """TL's name: "standard" for a learned table, "none" without one."""
        return "standard" if self.positional_embedding == "learned" else "none"

    @property
    def dtype(self) -> Any:
        """torch dtype of the weights (kept current by HookedTransformer when it is cast)."""
        import torch  # a config stays importable without torch's start-up cost

        return self.__dict__.get("_dtype", torch.float32)

    @dtype.setter
    def dtype(self, value: Any) -> None:
        self.__dict__["_dtype"] = value

    @property
    def n_devices(self) -> int:
        """One device (TL reads it to place blocks)."""
        return 1

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
