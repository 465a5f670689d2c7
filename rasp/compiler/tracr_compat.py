"""tracr compatibility: `compile_rasp_to_model(...).apply(["BOS", ...]).decoded`.

The entry point and output fields follow tracr's `compiler/compiling.py` and
`compiler/assemble.py` (names and meaning; arrays are torch tensors). Differences are
listed in rasp/compiler/README.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from rasp import core
from rasp.compiler.compiled import CompiledModel
from rasp.compiler.errors import CompileError
from rasp.compiler.pipeline import compile_program

# tracr's defaults (compiler/compiling.py).
COMPILER_BOS = "compiler_bos"
COMPILER_PAD = "compiler_pad"


@dataclass
class TracrStyleOutput:
    """Like tracr's AssembledTransformerModelOutput: decoded has the BOS token first."""

    decoded: list[Any]  # [T]: BOS, then one output per input position (pad positions: pad)
    unembedded: torch.Tensor  # [1, T, d_vocab_out]
    layer_outputs: list[torch.Tensor]  # per sublayer (attn, mlp, ...): [1, T, d_model]
    residuals: list[torch.Tensor]  # per sublayer, the residual after it: [1, T, d_model]
    attn_logits: list[torch.Tensor]  # per layer: [1, T, T, n_heads] (query, key, head)
    transformer_output: torch.Tensor  # [1, T, d_model]
    input_embeddings: torch.Tensor  # [1, T, d_model]


class TracrStyleModel:
    """Wraps a CompiledModel with tracr's `apply` convention (input includes BOS; trailing
    `compiler_pad` tokens are accepted and decode to the pad token)."""

    def __init__(self, compiled: CompiledModel, compiler_bos: str, compiler_pad: str | None = None):
        self.compiled = compiled
        self.compiler_bos = compiler_bos
        self.compiler_pad = compiler_pad
        self.residual_labels = compiled.model.residual_labels.names()

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
        # Pad positions are never run: without them the real positions are exact, and no
        # real position can attend to a pad (tracr masks them the same way).
        real = body[: len(body) - n_pad]
        ids = torch.tensor([self.compiled.encode(real)])
        model = self.compiled.model
        logits, cache = model.run_with_cache(ids)
        decoded = [self.compiler_bos] + self.compiled.decode(logits[0, 1:]) + [self.compiler_pad] * n_pad
        n_layers = model.cfg.n_layers
        residuals, layer_outputs = [], []
        for layer in range(n_layers):
            residuals += [cache[f"blocks.{layer}.hook_resid_mid"], cache[f"blocks.{layer}.hook_resid_post"]]
            layer_outputs += [cache[f"blocks.{layer}.hook_attn_out"], cache[f"blocks.{layer}.hook_mlp_out"]]
        attn_logits = [cache[f"blocks.{layer}.attn.hook_attn_scores"][0].permute(1, 2, 0)[None]
                       for layer in range(n_layers)]
        final = cache[f"blocks.{n_layers - 1}.hook_resid_post"] if n_layers else cache["hook_embed"]
        return TracrStyleOutput(
            decoded=decoded, unembedded=logits, layer_outputs=layer_outputs, residuals=residuals,
            attn_logits=attn_logits, transformer_output=final,
            input_embeddings=cache["hook_embed"] + cache["hook_pos_embed"])


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
    unused: our MLPs are exact by construction (numerics.py)."""
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
    compiled = compile_program(program, list(vocab) if not isinstance(vocab, set) else vocab,
                               max_seq_len, causal=causal, bos=compiler_bos)
    return TracrStyleModel(compiled, compiler_bos, compiler_pad)
