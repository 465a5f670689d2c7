"""tracr compatibility: `compile_rasp_to_model(...).apply(["BOS", ...]).decoded`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from rasp import core
from rasp.compiler.compiled import CompiledModel
from rasp.compiler.errors import CompileError
from rasp.compiler.pipeline import compile_program


@dataclass
class TracrStyleOutput:
    """Like tracr's AssembledTransformerModelOutput: decoded has the BOS token first."""

    decoded: list[Any]
    unembedded: torch.Tensor
    residuals: list[torch.Tensor]


class TracrStyleModel:
    """Wraps a CompiledModel with tracr's `apply` convention (input includes BOS)."""

    def __init__(self, compiled: CompiledModel, compiler_bos: str):
        self.compiled = compiled
        self.compiler_bos = compiler_bos
        self.residual_labels = compiled.model.residual_labels.names()

    def apply(self, tokens: Sequence[Any]) -> TracrStyleOutput:
        """Run on [BOS, t1, ...]; decoded is [BOS, out1, ...] as in tracr."""
        if not tokens or tokens[0] != self.compiler_bos:
            raise CompileError(f"tracr-style input must start with the BOS token "
                               f"{self.compiler_bos!r}, got {list(tokens)[:3]!r}")
        ids = torch.tensor([self.compiled.encode(list(tokens[1:]))])
        logits, cache = self.compiled.model.run_with_cache(ids)
        decoded = [self.compiler_bos] + self.compiled.decode(logits[0, 1:])
        residuals = [cache[f"blocks.{i}.hook_resid_post"] for i in range(self.compiled.model.cfg.n_layers)]
        return TracrStyleOutput(decoded=decoded, unembedded=logits, residuals=residuals)


def compile_rasp_to_model(
    program: core.SOp,
    vocab: Sequence[Any] | set,
    max_seq_len: int,
    compiler_bos: str = "BOS",
    compiler_pad: str | None = None,
    causal: bool = False,
) -> TracrStyleModel:
    """tracr's entry point; compiler_pad is accepted and unused (inputs are never padded)."""
    if compiler_bos in set(vocab):
        raise CompileError(f"compiler_bos {compiler_bos!r} is also a vocabulary token; "
                           "choose another BOS name")
    compiled = compile_program(program, list(vocab) if not isinstance(vocab, set) else vocab,
                               max_seq_len, causal=causal, bos=compiler_bos)
    return TracrStyleModel(compiled, compiler_bos)
