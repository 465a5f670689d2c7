"""Two TransformerLens 4.3 tools that would answer wrongly on our models, guarded on import.

- `SVDInterpreter` checks its result against `cfg.d_vocab`, but the result has one row per
  *output* (W_U's columns): a compiled program (d_vocab_out != d_vocab) crashed. For our
  models the check is made against `d_vocab_out`, and asking for more singular vectors than
  the matrix has is refused (TL's assert named neither). Other models: TL's code unchanged.
- `utilities.test_prompt` reads the logits as next-token probabilities over the input tokens.
  On a compiled program or a Transformer Program they are not, and the answer's rank was
  read at the wrong output (silently). For our models it first checks the model predicts
  next tokens (InputError otherwise). The guard replaces the function in
  `transformer_lens.utilities` and its defining module, so import interp before
  `from transformer_lens.utilities import test_prompt` (calls through the module always see it).

Also: `head_detector`'s "abs" measure asserts (no message) that a pattern is causal; a
bidirectional head (compiled programs, Transformer Programs) now gets an InputError naming
"mul" instead. The score function is looked up at call time, so import order does not matter.
"""

from __future__ import annotations

import functools
from typing import Any

import torch
import transformer_lens.head_detector as tl_head_detector
import transformer_lens.utilities as tl_utilities
import transformer_lens.utilities.exploratory_utils as tl_exploratory
from transformer_lens.SVDInterpreter import SVDInterpreter

from interp.errors import InputError

_TL_SINGULAR_VECTORS = SVDInterpreter._get_singular_vectors_from_matrix


def _is_ours(model: Any) -> bool:
    from interp.model.hooked import HookedTransformer  # hooked.py imports this module

    return isinstance(model, HookedTransformer)


def _singular_vectors(self: SVDInterpreter, V: torch.Tensor, embedding: torch.Tensor,
                      num_vectors: int = 10) -> torch.Tensor:
    """TL's projection of singular vectors onto W_U, checked against W_U's real width."""
    if not _is_ours(self.model):
        return _TL_SINGULAR_VECTORS(self, V, embedding, num_vectors)
    if not 1 <= num_vectors <= V.shape[0]:
        raise InputError(f"num_vectors={num_vectors}, but this matrix has {V.shape[0]} singular "
                         f"vectors; pass num_vectors between 1 and {V.shape[0]}.")
    embedding = embedding.to(dtype=V.dtype)
    vectors = (embedding.T @ V[:num_vectors].T).unsqueeze(1)  # [d_vocab_out, 1, num_vectors]
    assert vectors.shape == (self.cfg.d_vocab_out, 1, num_vectors)
    return vectors


def _guard_test_prompt(test_prompt: Any) -> Any:
    if getattr(test_prompt, "_interp_guarded", False):
        return test_prompt

    @functools.wraps(test_prompt)
    def guarded(prompt: str, answer: Any, model: Any, *args: Any, **kwargs: Any) -> None:
        if _is_ours(model):
            model.require_next_token("test_prompt")
        return test_prompt(prompt, answer, model, *args, **kwargs)

    guarded._interp_guarded = True  # type: ignore[attr-defined]
    return guarded


def _svd_w_matrix(original: Any, which: str) -> Any:
    @functools.wraps(original)
    def checked(self: SVDInterpreter, layer_index: int) -> torch.Tensor:
        if _is_ours(self.model) and self.cfg.attn_only:
            raise InputError(f"SVDInterpreter '{which}' needs an MLP; this model is attention-only.")
        return original(self, layer_index)

    return checked


def _guard_similarity(score: Any) -> Any:
    @functools.wraps(score)
    def checked(attention_pattern: torch.Tensor, detection_pattern: torch.Tensor, **kwargs: Any) -> float:
        if kwargs.get("error_measure") == "abs" and bool((attention_pattern.triu(1) != 0).any()):
            raise InputError("detect_head's error_measure='abs' needs a causal attention pattern; "
                             "this head attends to later positions (a bidirectional model): use 'mul'.")
        return score(attention_pattern, detection_pattern, **kwargs)

    return checked


def install() -> None:
    """Put the guards in place (idempotent)."""
    if getattr(SVDInterpreter, "_interp_guarded", False):
        return
    SVDInterpreter._get_singular_vectors_from_matrix = _singular_vectors
    SVDInterpreter._get_w_in_matrix = _svd_w_matrix(SVDInterpreter._get_w_in_matrix, "w_in")
    SVDInterpreter._get_w_out_matrix = _svd_w_matrix(SVDInterpreter._get_w_out_matrix, "w_out")
    SVDInterpreter._interp_guarded = True
    guarded = _guard_test_prompt(tl_exploratory.test_prompt)
    tl_exploratory.test_prompt = guarded
    tl_utilities.test_prompt = guarded
    tl_head_detector.compute_head_attention_similarity_score = _guard_similarity(
        tl_head_detector.compute_head_attention_similarity_score)
