"""The one transformer every producer emits: compiled RASP programs, Transformer Programs,
toy-task models. Built on TransformerLens' HookedRootModule with TL hook names, so
`run_with_hooks`, `ActivationCache` and `transformer_lens.patching` work unchanged.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformer_lens.ActivationCache import ActivationCache
from transformer_lens.hook_points import HookPoint
from transformer_lens.HookedRootModule import HookedRootModule
from transformer_lens.utilities import lm_cross_entropy_loss

from interp.errors import InputError
from interp.model.components import Embed, LayerNorm, PosEmbed, TransformerBlock, Unembed
from interp.model.config import ModelConfig
from interp.model.labels import ResidualLabels
from interp.model.loops import tie_loop_blocks
from interp.model.processing import TLWeightsMixin
from interp.model.tl_compat import TLTextMixin

# Hook names that TL < 4.3 put on the block and TL 4.3 puts on `attn`; kept as aliases.
LEGACY_BLOCK_HOOKS = ("hook_q_input", "hook_k_input", "hook_v_input", "hook_attn_in")


class HookedTransformer(TLTextMixin, TLWeightsMixin, HookedRootModule):
    """A small transformer with TransformerLens hooks, optional residual labels and metadata.

    TransformerLens' string, generation and weight-processing surface comes from the two
    mixins (interp.model.tl_compat, interp.model.processing).
    """

    def __init__(
        self,
        cfg: ModelConfig,
        labels: ResidualLabels | None = None,
        metadata: dict[str, Any] | None = None,
    ):
        super().__init__()
        self.cfg = cfg
        self.residual_labels = labels
        # JSON-able facts about where the model came from (producer, program, task, ...).
        self.metadata: dict[str, Any] = dict(metadata or {})
        compiler_bos = (self.metadata.get("compiler") or {}).get("bos")
        if cfg.bos_token is None and cfg.vocab and compiler_bos == cfg.vocab[0]:
            cfg.bos_token = compiler_bos  # compiled checkpoints saved before cfg.bos_token existed
        self.embed = Embed(cfg)
        self.hook_embed = HookPoint()  # [batch, pos, d_model]
        if cfg.positional_embedding == "learned":
            self.pos_embed = PosEmbed(cfg)
        self.hook_pos_embed = HookPoint()  # [batch, pos, d_model]
        self.blocks = nn.ModuleList(TransformerBlock(cfg, layer) for layer in range(cfg.n_layers))
        tie_loop_blocks(self.blocks, cfg)  # a looped model's repeated blocks share parameters
        self.ln_final = LayerNorm(cfg) if cfg.normalization_type == "LN" else nn.Identity()
        self.unembed = Unembed(cfg)
        self.setup()  # registers every HookPoint under its TL name
        self.eval()
        self._sync_cfg_placement()

    def _apply(self, fn: Any, *args: Any, **kwargs: Any) -> HookedTransformer:
        """Every cast / move (`.to`, `.double()`, `.cuda()`) keeps cfg.dtype and cfg.device true."""
        result = super()._apply(fn, *args, **kwargs)
        self._sync_cfg_placement()
        return result

    def _sync_cfg_placement(self) -> None:
        weight = self.embed.W_E
        if weight.device.type != "meta":  # shape-only models built to check a checkpoint
            self.cfg.dtype = weight.dtype
            self.cfg.device = str(weight.device)

    def setup(self) -> None:
        """Register hook points under their TL 4.3 names, plus the pre-4.3 names as aliases.

        Aliases live in `mod_dict` only, so `run_with_hooks` / `add_hook` accept them while
        caches hold each activation once, under its TL name.
        """
        super().setup()
        for layer, block in enumerate(self.blocks):
            for name in LEGACY_BLOCK_HOOKS:
                self.mod_dict[f"blocks.{layer}.{name}"] = getattr(block.attn, name)

    # ------------------------------------------------------------------ forward
    def forward(
        self,
        input: Any,
        return_type: str | None = "logits",
        loss_per_token: bool = False,
        prepend_bos: bool | None = None,
        padding_side: str | None = None,
        start_at_layer: int | None = None,
        tokens: torch.Tensor | None = None,
        stop_at_layer: int | None = None,
        attention_mask: torch.Tensor | None = None,
        past_kv_cache: Any = None,
    ) -> Any:
        """Run the model on token ids [batch, pos] (or [pos]), strings, or vectors (TL's signature).

        return_type: "logits", "loss" / "both" (TL's next-token cross-entropy: next-token
        models only, [batch, pos - 1] with loss_per_token) or None. start_at_layer: `input` is
        the residual stream entering that block (pass `tokens` for a loss); stop_at_layer:
        return the residual stream entering that block. Both take negative indices, as in TL.
        prepend_bos / padding_side apply to string inputs.
        """
        if return_type not in ("logits", "loss", "both", None):
            raise InputError(f"return_type={return_type!r}; use 'logits', 'loss', 'both' or None.")
        if attention_mask is not None or past_kv_cache is not None:
            raise InputError("this model has no attention mask or KV cache; pass equal-length, "
                             "unpadded inputs in full.")
        if return_type in ("loss", "both"):
            self.require_next_token(f"return_type={return_type!r}")
        n_layers = self.cfg.n_layers
        start = 0 if start_at_layer is None else _layer_index(start_at_layer, n_layers, "start_at_layer")
        stop = n_layers if stop_at_layer is None else _layer_index(stop_at_layer, n_layers, "stop_at_layer")
        if start_at_layer is None:
            inputs = self.validate_inputs(input, prepend_bos, padding_side)  # ids or [b, p, d_input]
            batch, seq = inputs.shape[:2]
            resid = self.hook_embed(self.embed(inputs))  # [batch, pos, d_model]
            if self.cfg.positional_embedding == "learned":
                resid = resid + self.hook_pos_embed(self.pos_embed(batch, seq))
            tokens = inputs if self.cfg.d_input is None else None  # TL: `tokens` is for start_at_layer
        else:
            resid = torch.as_tensor(input)  # [batch, pos, d_model]
            if resid.dim() != 3 or resid.shape[-1] != self.cfg.d_model or not resid.is_floating_point():
                raise InputError(f"with start_at_layer, input is the residual stream [batch, pos, "
                                 f"{self.cfg.d_model}]; got shape {tuple(resid.shape)}.")
        for block in self.blocks[start:stop]:
            resid = block(resid)
        if stop_at_layer is not None:
            return resid  # [batch, pos, d_model], as TL: the last residual stream computed
        logits = self.unembed(self.ln_final(resid))  # [batch, pos, d_vocab_out]
        if return_type is None:
            return None
        if return_type == "logits":
            return logits
        if tokens is None:
            raise InputError("a loss after start_at_layer needs the token ids: pass tokens=[batch, pos].")
        tokens = self.validate_inputs(tokens)
        if tokens.shape != logits.shape[:2]:
            raise InputError(f"tokens {tuple(tokens.shape)} do not match the residual stream's "
                             f"[batch, pos] {tuple(logits.shape[:2])}.")
        loss = lm_cross_entropy_loss(logits, tokens, per_token=loss_per_token)
        return loss if return_type == "loss" else (logits, loss)

    def validate_inputs(self, inputs: Any, prepend_bos: bool | None = None,
                        padding_side: str | None = None) -> torch.Tensor:
        """Turn user input into a batched tensor, or raise InputError naming the problem.

        Strings and lists of strings go through `to_tokens` (TL: a list is a batch), never
        truncated; a list of token-name lists is read verbatim; other lists are ids.
        """
        cfg = self.cfg
        if not isinstance(inputs, torch.Tensor):
            if isinstance(inputs, str) or (isinstance(inputs, (list, tuple)) and inputs and all(
                    isinstance(x, (str, list, tuple)) for x in inputs) and _holds_str(inputs)):
                inputs = self.to_tokens(inputs, prepend_bos, padding_side, truncate=False)
            else:
                try:
                    inputs = torch.as_tensor(inputs)
                except (TypeError, ValueError, RuntimeError) as err:
                    raise InputError(f"cannot read {type(inputs).__name__} input as ids, strings "
                                     f"or vectors: {err}") from err
        if cfg.d_input is not None:
            if not inputs.is_floating_point():
                raise InputError(f"this model reads vectors [batch, pos, {cfg.d_input}] (d_input), "
                                 f"not token ids; got {inputs.dtype} of shape {tuple(inputs.shape)}.")
            if inputs.dim() == 2:
                inputs = inputs.unsqueeze(0)
            if inputs.dim() != 3 or inputs.shape[-1] != cfg.d_input:
                raise InputError(
                    f"expected vectors [batch, pos, {cfg.d_input}], got shape {tuple(inputs.shape)}."
                )
            inputs = inputs.to(self.embed.W_E.dtype)
        else:
            if inputs.dim() == 1:
                inputs = inputs.unsqueeze(0)
            if inputs.dim() != 2 or inputs.dtype.is_floating_point:
                raise InputError(
                    f"expected integer token ids [batch, pos], got {inputs.dtype} "
                    f"of shape {tuple(inputs.shape)}."
                )
            if inputs.numel() and (inputs.min() < 0 or inputs.max() >= cfg.d_vocab):
                bad = inputs[(inputs < 0) | (inputs >= cfg.d_vocab)][0].item()
                raise InputError(f"token id {bad} is outside the vocabulary [0, {cfg.d_vocab}).")
        if inputs.shape[1] == 0:
            raise InputError("the input is empty; give at least one position.")
        if inputs.shape[1] > cfg.n_ctx:
            raise InputError(
                f"the input has {inputs.shape[1]} positions but the model's context is "
                f"{cfg.n_ctx} (n_ctx); shorten it."
            )
        return inputs

    # ---------------------------------------------------------- TL integration
    def run_with_cache(self, *model_args: Any, **kwargs: Any) -> tuple[Any, ActivationCache]:
        """Like TransformerLens: returns (output, ActivationCache)."""
        output, cache_dict = super().run_with_cache(*model_args, **kwargs)
        has_batch_dim = not kwargs.get("remove_batch_dim", False)
        return output, ActivationCache(cache_dict, self, has_batch_dim=has_batch_dim)

    def tokens_to_residual_directions(self, tokens: Any) -> torch.Tensor:
        """Unembedding direction(s) of output token(s) in the normalised final stream: [..., d_model].

        With LayerNorm, the direction includes `ln_final.w` (TL folds it into W_U with
        fold_ln; ours is unfolded), so `cache.logit_attrs` on `apply_ln_to_stack` output is exact.
        """
        if isinstance(tokens, str):
            tokens = self.to_single_token(tokens)
        tokens = torch.as_tensor(tokens)
        W_U = self.unembed.W_U  # [d_model, d_vocab_out]
        if isinstance(self.ln_final, LayerNorm):
            W_U = self.ln_final.w[:, None] * W_U
        return W_U[:, tokens].movedim(0, -1)

    def fold_ln(self) -> HookedTransformer:
        """Fold every LayerNorm's weight and bias into the weights that read it, as TL's
        `fold_ln` does (LNs keep only centring and scaling); logits are unchanged. In place."""
        if self.cfg.normalization_type != "LN":
            return self
        with torch.no_grad():
            folded: set[int] = set()
            for block in self.blocks:
                if id(block.attn.W_Q) in folded:
                    continue  # a looped model's repeated block: its (shared) weights are done
                folded.add(id(block.attn.W_Q))
                w, b = block.ln1.w, block.ln1.b  # [d_model]
                attn = block.attn
                for W, bias in ((attn.W_Q, attn.b_Q), (attn.W_K, attn.b_K), (attn.W_V, attn.b_V)):
                    bias += torch.einsum("d,hde->he", b, W)  # [n_heads, d_head]
                    W *= w[None, :, None]  # [n_heads, d_model, d_head]
                if not self.cfg.attn_only:
                    mlp, w, b = block.mlp, block.ln2.w, block.ln2.b
                    mlp.b_in += b @ mlp.W_in
                    mlp.W_in *= w[:, None]
            self.unembed.b_U += self.ln_final.b @ self.unembed.W_U
            self.unembed.W_U *= self.ln_final.w[:, None]
            for module in self.modules():
                if isinstance(module, LayerNorm):
                    module.w.fill_(1.0)
                    module.b.zero_()
        return self

    def to_single_token(self, name: str) -> int:
        """Index of an output token name in `cfg.vocab_out` (or `cfg.vocab`)."""
        vocab = self.cfg.vocab_out or self.cfg.vocab
        if not vocab or name not in vocab:
            raise InputError(f"output token {name!r} is not in the output vocabulary {vocab}.")
        return vocab.index(name)

    def accumulated_bias(
        self, layer: int, mlp_input: bool = False, include_mlp_biases: bool = True
    ) -> torch.Tensor:
        """Sum of attention and MLP output biases written before `layer` (TL semantics)."""
        total = torch.zeros(self.cfg.d_model)
        for i in range(layer):
            total = total + self.blocks[i].attn.b_O
            if include_mlp_biases and not self.cfg.attn_only:
                total = total + self.blocks[i].mlp.b_out
        if mlp_input:
            total = total + self.blocks[layer].attn.b_O
        return total

    def set_use_attn_result(self, value: bool) -> None:
        self.cfg.use_attn_result = value

    def set_use_split_qkv_input(self, value: bool) -> None:
        self.cfg.use_split_qkv_input = value

    def set_use_attn_in(self, value: bool) -> None:
        self.cfg.use_attn_in = value

    def set_use_hook_mlp_in(self, value: bool) -> None:
        self.cfg.use_hook_mlp_in = value

    # --------------------------------------------------- stacked weight views
    @property
    def W_E(self) -> torch.Tensor:
        return self.embed.W_E  # [d_vocab (or d_input), d_model]

    @property
    def W_pos(self) -> torch.Tensor:
        if self.cfg.positional_embedding != "learned":
            return torch.zeros(self.cfg.n_ctx, self.cfg.d_model)
        return self.pos_embed.W_pos  # [n_ctx, d_model]

    @property
    def W_U(self) -> torch.Tensor:
        return self.unembed.W_U  # [d_model, d_vocab_out]

    @property
    def b_U(self) -> torch.Tensor:
        return self.unembed.b_U  # [d_vocab_out]

    def _stack(self, module: str, name: str) -> torch.Tensor:
        return torch.stack([getattr(getattr(b, module), name) for b in self.blocks])

    W_Q = property(lambda self: self._stack("attn", "W_Q"))  # [n_layers, n_heads, d_model, d_head]
    W_K = property(lambda self: self._stack("attn", "W_K"))  # [n_layers, n_heads, d_model, d_head]
    W_V = property(lambda self: self._stack("attn", "W_V"))  # [n_layers, n_heads, d_model, d_head]
    W_O = property(lambda self: self._stack("attn", "W_O"))  # [n_layers, n_heads, d_head, d_model]
    b_Q = property(lambda self: self._stack("attn", "b_Q"))  # [n_layers, n_heads, d_head]
    b_K = property(lambda self: self._stack("attn", "b_K"))  # [n_layers, n_heads, d_head]
    b_V = property(lambda self: self._stack("attn", "b_V"))  # [n_layers, n_heads, d_head]
    b_O = property(lambda self: self._stack("attn", "b_O"))  # [n_layers, d_model]
    W_in = property(lambda self: self._stack("mlp", "W_in"))  # [n_layers, d_model, d_mlp]
    W_out = property(lambda self: self._stack("mlp", "W_out"))  # [n_layers, d_mlp, d_model]
    b_in = property(lambda self: self._stack("mlp", "b_in"))  # [n_layers, d_mlp]
    b_out = property(lambda self: self._stack("mlp", "b_out"))  # [n_layers, d_model]

    # --------------------------------------------------------------- helpers
    def init_weights(self, std: float = 0.02, seed: int | None = None) -> HookedTransformer:
        """Random normal init of every weight matrix (biases zero, LN scales one); seeded."""
        generator = torch.Generator().manual_seed(seed if seed is not None else (self.cfg.seed or 0))
        with torch.no_grad():
            for name, param in self.named_parameters():
                if name.endswith((".w",)):
                    param.fill_(1.0)
                elif name.split(".")[-1].startswith("b"):
                    param.zero_()
                else:
                    param.copy_(torch.randn(param.shape, generator=generator) * std)
        return self

    def n_params(self) -> int:
        """Number of parameters."""
        return sum(p.numel() for p in self.parameters())

    def save(self, path: str) -> None:
        """Save to a directory: model.safetensors + config.json (see interp.model.checkpoint)."""
        from interp.model.checkpoint import save_model

        save_model(self, path)

    @classmethod
    def load(cls, path: str) -> HookedTransformer:
        """Load a model saved with `save`; raises CheckpointError on a bad directory."""
        from interp.model.checkpoint import load_model

        return load_model(path)


def _layer_index(index: int, n_layers: int, name: str) -> int:
    """TL's start_at_layer / stop_at_layer: 0..n_layers, or negative from the end."""
    if not isinstance(index, int) or isinstance(index, bool) or not -n_layers <= index <= n_layers:
        raise InputError(f"{name}={index!r}; use an integer in [-{n_layers}, {n_layers}].")
    return index + n_layers if index < 0 else index


def _holds_str(items: Any) -> bool:
    """Whether a (nested) list holds strings: text or token names rather than ids or vectors."""
    first = items[0]
    return isinstance(first, str) or (isinstance(first, (list, tuple)) and bool(first)
                                      and isinstance(first[0], str))
