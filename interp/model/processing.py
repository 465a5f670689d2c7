"""TransformerLens 4.3's weight views and weight processing on our model: `OV` / `QK` as
`FactoredMatrix`, `center_writing_weights`, `center_unembed`, `refactor_factored_attn_matrices`.
Each processing step changes no output the model is read by, or refuses (ConfigError)
where it would. Mixed into `HookedTransformer`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from transformer_lens.FactoredMatrix import FactoredMatrix

from interp.errors import ConfigError

if TYPE_CHECKING:
    from interp.model.config import ModelConfig


class TLWeightsMixin:
    """Factored circuits and TL's output-preserving weight rewrites."""

    cfg: ModelConfig
    metadata: dict[str, Any]
    blocks: nn.ModuleList

    @property
    def OV(self) -> FactoredMatrix:
        """W_V @ W_O per head: [n_layers, n_heads, d_model, d_model] (TL's `model.OV`)."""
        return FactoredMatrix(self.W_V, self.W_O)  # type: ignore[attr-defined]

    @property
    def QK(self) -> FactoredMatrix:
        """W_Q @ W_K^T per head: [n_layers, n_heads, d_model, d_model] (TL's `model.QK`)."""
        return FactoredMatrix(self.W_Q, self.W_K.transpose(-2, -1))  # type: ignore[attr-defined]

    def center_writing_weights(self) -> Any:
        """Subtract each written vector's mean over d_model (W_E, W_pos, W_O, b_O, W_out, b_out),
        as TL does. In place; outputs unchanged because every reader is a LayerNorm, which
        removes the mean. Refused without LayerNorm, where it would change the outputs."""
        if self.cfg.normalization_type != "LN":
            raise ConfigError(
                "center_writing_weights keeps the outputs only when LayerNorm reads the residual "
                f"stream; this model has normalization_type={self.cfg.normalization_type!r}."
            )
        writers: dict[int, torch.Tensor] = {}
        for name, param in self.named_parameters():  # type: ignore[attr-defined]
            leaf = name.split(".")[-1]
            if leaf in ("W_E", "b_E", "W_pos", "W_O", "b_O", "W_out", "b_out"):
                writers[id(param)] = param  # a weight shared by looped blocks once
        with torch.no_grad():
            for param in writers.values():
                param -= param.mean(-1, keepdim=True)  # last axis is d_model for each of them
        return self

    def center_unembed(self) -> Any:
        """Subtract the mean over outputs from W_U's rows and from b_U, as TL does: logits move by
        one constant per position, so softmax and argmax are unchanged. In place. Refused where
        the raw logits are read: a compiled program's decoder (a 0.5 threshold) or one output."""
        if "compiler" in self.metadata:
            raise ConfigError("center_unembed would change a compiled program's decoded outputs: "
                              "its decoder reads raw logits (a value counts only above 0.5).")
        if self.cfg.d_vocab_out == 1:
            raise ConfigError("center_unembed would zero this model's single output (d_vocab_out=1).")
        unembed = self.unembed  # type: ignore[attr-defined]
        with torch.no_grad():
            unembed.W_U -= unembed.W_U.mean(-1, keepdim=True)  # [d_model, d_vocab_out]
            unembed.b_U -= unembed.b_U.mean()
        return self

    def refactor_factored_attn_matrices(self) -> Any:
        """TL's refactor: W_Q, W_K (with their biases) made an even SVD factorisation of the
        same bilinear form, W_O orthonormal, b_V folded into b_O. Attention scores and outputs
        are unchanged; q, k, v, z hook values change. In place."""
        from transformer_lens.weight_processing import ProcessWeights

        state = {k: v.detach().clone() for k, v in self.state_dict().items()}  # type: ignore[attr-defined]
        state = ProcessWeights.refactor_factored_attn_matrices(state, self.cfg)
        with torch.no_grad():
            self.load_state_dict(state)  # type: ignore[attr-defined]
        return self
