"""tracr compatibility: `compile_rasp_to_model(...)` returns tracr's model object.

The entry point and the object's fields follow tracr's `compiler/compiling.py` and
`compiler/assemble.py` (`apply`, `forward`, `params`, `model_config`, `residual_labels`,
`input_encoder`, `output_encoder`, `get_compiled_model`); arrays are numpy / torch.
Differences are listed in rasp/compiler/README.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from rasp import core
from rasp.compiler.compiled import CompiledModel
from rasp.compiler.errors import CompileError, UnsupportedProgramError
from rasp.compiler.pipeline import compile_program
from rasp.compiler.tracr_model import (
    CategoricalEncoder,
    CompiledTransformerModelOutput,
    NumericalEncoder,
    export_params,
    forward,
    tracr_layout,
)

# tracr's defaults (compiler/compiling.py).
COMPILER_BOS = "compiler_bos"
COMPILER_PAD = "compiler_pad"


@dataclass
class TracrStyleOutput:
    """tracr's AssembledTransformerModelOutput: decoded has the BOS token first."""

    decoded: list[Any]  # [T]: BOS, then one output per input position (pad positions: pad)
    unembedded: torch.Tensor  # [1, T]: argmax ids (categorical) or values (numerical), as tracr
    layer_outputs: list[torch.Tensor]  # per sublayer (attn, mlp, ...): [1, T, D]
    residuals: list[torch.Tensor]  # per sublayer, the residual after it: [1, T, D]
    attn_logits: list[torch.Tensor]  # per layer: [1, T, T, n_heads] (query, key, head)
    transformer_output: torch.Tensor  # [1, T, D]
    input_embeddings: torch.Tensor  # [1, T, D]
    logits: torch.Tensor  # [1, T, n_outputs]: the output-space scores (ours, not tracr's)


class TracrStyleModel:
    """tracr's AssembledTransformerModel around a CompiledModel (`.compiled`).

    `params` / `residual_labels` use tracr's module names and a residual basis with the
    output directions first; `forward(params, ids)` runs those params (pad keys masked, as
    tracr does); `apply([BOS, ...])` encodes, runs and decodes one input.
    """

    def __init__(self, compiled: CompiledModel, compiler_bos: str, compiler_pad: str | None = None):
        self.compiled = compiled
        self.compiler_bos = compiler_bos
        self.compiler_pad = compiler_pad
        model = compiled.model
        # Token ids are the compiled model's (BOS 0, vocabulary 1..V), then the pad.
        encoding = {compiler_bos: 0, **{t: i + 1 for i, t in enumerate(compiled.vocab)}}
        if compiler_pad is not None:
            encoding[compiler_pad] = len(encoding)
        self.input_encoder = CategoricalEncoder(encoding, enforce_bos=True, bos_token=compiler_bos,
                                                pad_token=compiler_pad,
                                                max_seq_len=compiled.max_seq_len + 1)
        self.categorical = not compiled.numerical_output
        self.output_encoder: CategoricalEncoder | NumericalEncoder = (
            CategoricalEncoder({v: j for j, v in enumerate(compiled.output_values)})
            if self.categorical else NumericalEncoder())
        self._layout = tracr_layout(model, len(encoding))
        self.residual_labels = self._layout.labels
        self.params, self.model_config = export_params(model, self._layout, compiler_pad is not None)

    def get_compiled_model(self) -> Any:
        """The PyTorch HookedTransformer these params were exported from."""
        return self.compiled.model

    def forward(self, params: dict[str, dict[str, Any]], tokens: Any) -> CompiledTransformerModelOutput:
        """tracr's forward: `params` (tracr layout) on token ids [B, T] (pads allowed)."""
        return forward(params, tokens, self.model_config, self._layout.n_outputs, self.categorical,
                       self.input_encoder.pad_encoding)

    def apply(self, tokens: Sequence[Any]) -> TracrStyleOutput:
        """Run on [BOS, t1, ..., (pad, ...)]; decoded is [BOS, out1, ..., (pad, ...)]."""
        tokens = list(tokens)
        if not tokens or tokens[0] != self.compiler_bos:
            raise CompileError(f"tracr-style input must start with the BOS token "
                               f"{self.compiler_bos!r}, got {tokens[:3]!r}")
        body = tokens[1:]
        n_pad = 0
        if self.compiler_pad is not None:
            while n_pad < len(body) and body[len(body) - 1 - n_pad] == self.compiler_pad:
                n_pad += 1
            if self.compiler_pad in body[: len(body) - n_pad]:
                position = body.index(self.compiler_pad) + 1
                raise CompileError(f"pad token {self.compiler_pad!r} at position {position} is "
                                   "followed by real tokens; padding goes at the end")
        real = body[: len(body) - n_pad]
        # The compiled model's encode gives the project's messages (unknown token, too long).
        ids = self.compiled.encode(real) + [self.input_encoder.pad_encoding] * n_pad
        out = self.forward(self.params, np.array([ids]))
        logits = out.logits[0, 1: 1 + len(real)]  # [n_real, n_outputs]
        # Our decoding (None where nothing was selected), not a bare argmax; pads stay pads.
        decoded = [self.compiler_bos] + self.compiled.decode(logits) + [self.compiler_pad] * n_pad
        t = out.transformer_output
        return TracrStyleOutput(
            decoded=decoded, unembedded=out.unembedded_output, layer_outputs=t.layer_outputs,
            residuals=t.residuals, attn_logits=t.attn_logits, transformer_output=t.output,
            input_embeddings=t.input_embeddings, logits=out.logits)


def compile_rasp_to_model(
    program: core.SOp,
    vocab: Sequence[Any] | set,
    max_seq_len: int,
    causal: bool = False,
    compiler_bos: str = COMPILER_BOS,
    compiler_pad: str = COMPILER_PAD,
    mlp_exactness: int = 100,
) -> TracrStyleModel:
    """tracr's entry point (same parameters and defaults). `mlp_exactness` is accepted and
    unused: our MLPs are exact by construction (numerics.py). A program that cannot be
    compiled raises UnsupportedProgramError: a CompileError that is also tracr's
    NotImplementedError."""
    vocab_set = set(vocab)
    if compiler_bos in vocab_set:
        raise CompileError(f"compiler_bos {compiler_bos!r} is also a vocabulary token; "
                           "choose another BOS name")
    if compiler_pad is not None and compiler_pad in vocab_set:
        raise CompileError(f"compiler_pad {compiler_pad!r} is also a vocabulary token; "
                           "choose another pad name")
    if compiler_pad is not None and compiler_pad == compiler_bos:
        raise CompileError(f"compiler_pad and compiler_bos are both {compiler_bos!r}; "
                           "give them different names")
    try:
        compiled = compile_program(program, list(vocab) if not isinstance(vocab, set) else vocab,
                                   max_seq_len, causal=causal, bos=compiler_bos)
    except UnsupportedProgramError:
        raise
    except CompileError as error:
        raise UnsupportedProgramError(str(error)) from error
    return TracrStyleModel(compiled, compiler_bos, compiler_pad)
