"""A head's QK and OV circuits as matrices in a named basis (Elhage et al. 2021; tracr's
figures): in labelled residual directions (`tokens:a`, `indices:3`, ...) for models that
carry residual labels, or in the token basis (W_E QK W_E^T, W_E OV W_U) for any model.
Also the residual layout: which variable occupies how many directions at which stage.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformer_lens import FactoredMatrix

from interp.errors import InputError
from interp.model import HookedTransformer

BASES = ("residual", "tokens")


@dataclass
class NamedMatrix:
    """A matrix [rows, columns] with a name per row and column."""

    values: torch.Tensor  # [rows, columns]
    rows: list[str]
    columns: list[str]


def _check_head(model: HookedTransformer, layer: int, head: int) -> None:
    cfg = model.cfg
    if not (0 <= layer < cfg.n_layers and 0 <= head < cfg.n_heads):
        raise InputError(f"head L{layer}H{head} does not exist: the model has {cfg.n_layers} layers "
                         f"x {cfg.n_heads} heads.")


def qk_matrix(model: HookedTransformer, layer: int, head: int) -> torch.Tensor:
    """W_Q W_K^T of one head [d_model (query side), d_model (key side)]."""
    _check_head(model, layer, head)
    return FactoredMatrix(model.W_Q[layer, head], model.W_K[layer, head].T).AB.detach()


def ov_matrix(model: HookedTransformer, layer: int, head: int) -> torch.Tensor:
    """W_V W_O of one head [d_model (read), d_model (written)]."""
    _check_head(model, layer, head)
    return FactoredMatrix(model.W_V[layer, head], model.W_O[layer, head]).AB.detach()


def _direction_names(model: HookedTransformer, stage: int) -> list[str]:
    """Residual direction names at `stage` (`d7` where nothing is labelled)."""
    labels = model.residual_labels
    names = labels.names(stage) if labels is not None else ["?"] * model.cfg.d_model
    return [name if name != "?" else f"d{i}" for i, name in enumerate(names)]


def _token_names(vocab: list | None, size: int) -> list[str]:
    return [str(v) for v in vocab] if vocab else [str(i) for i in range(size)]


def head_circuits(model: HookedTransformer, layer: int, head: int,
                  basis: str = "residual") -> tuple[NamedMatrix, NamedMatrix]:
    """The (QK, OV) circuits of head L{layer}H{head} in `basis`:

    residual: QK [query direction, key direction], OV [read direction, written direction],
      named by the model's residual labels at the stage the head reads (2l) and writes (2l+1);
    tokens: QK [query token, key token] = W_E QK W_E^T, OV [source token, output] = W_E OV W_U
      (TransformerLens' full circuits; positional embeddings left out).
    """
    if basis not in BASES:
        raise InputError(f"basis {basis!r}; choose one of {BASES}.")
    if model.cfg.d_input is not None and basis == "tokens":
        raise InputError("this model reads vectors, not tokens: use basis='residual'.")
    qk, ov = qk_matrix(model, layer, head), ov_matrix(model, layer, head)
    if basis == "residual":
        reads, writes = _direction_names(model, 2 * layer), _direction_names(model, 2 * layer + 1)
        return NamedMatrix(qk, reads, reads), NamedMatrix(ov, reads, writes)
    w_e, w_u = model.W_E.detach(), model.W_U.detach()  # [d_vocab, d_model], [d_model, d_vocab_out]
    tokens = _token_names(model.cfg.vocab, model.cfg.d_vocab)
    outputs = _token_names(model.cfg.vocab_out or model.cfg.vocab, model.cfg.d_vocab_out)
    return (NamedMatrix(w_e @ qk @ w_e.T, tokens, tokens),  # [d_vocab, d_vocab]
            NamedMatrix(w_e @ ov @ w_u, tokens, outputs))  # [d_vocab, d_vocab_out]


def nonzero_part(matrix: NamedMatrix, tolerance: float = 1e-6) -> NamedMatrix:
    """Only the rows and columns holding an entry above `tolerance` in magnitude: what a
    sparse (compiled) head actually reads and writes. Empty if the head is all zero."""
    big = matrix.values.abs() > tolerance  # [rows, columns]
    rows = big.any(1).nonzero().flatten().tolist()
    cols = big.any(0).nonzero().flatten().tolist()
    return NamedMatrix(matrix.values[rows][:, cols], [matrix.rows[i] for i in rows],
                       [matrix.columns[j] for j in cols])


@dataclass
class ResidualLayout:
    """How many residual directions each variable holds at each stage."""

    variables: list[str]
    stages: list[int]  # 0 embed, 2l+1 after layer l's attention, 2l+2 after its MLP
    directions: torch.Tensor  # [variable, stage] number of directions held


def residual_layout(model: HookedTransformer) -> ResidualLayout:
    """The residual stream's occupancy per variable and stage (needs residual labels)."""
    labels = model.residual_labels
    if labels is None:
        raise InputError("this model has no residual labels (it was not compiled): no layout to show.")
    stages = list(range(2 * model.cfg.n_layers + 1))
    variables = labels.variables()
    counts = torch.zeros(len(variables), len(stages), dtype=torch.long)
    row = {v: i for i, v in enumerate(variables)}
    for label in labels.labels:
        for stage in stages:
            if label.holds_at(stage):
                counts[row[label.variable], stage] += 1
    return ResidualLayout(variables, stages, counts)
