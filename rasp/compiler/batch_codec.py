"""Vectorised encode / decode for `CompiledModel.run_batch`: whole batches, no per-input Python.

`encode_groups` turns a batch into one id tensor per input length (BOS column first) with a
single dictionary pass over all tokens; `decode_rows` turns a [batch, pos, d_out] logit
tensor into nested lists of output values with numpy (argmax / threshold or the snap to the
nearest output value), never a Python loop per position. `run_batch_fast` ties them to the
fused forward (rasp.compiler.fast_forward).

Each step returns None where it cannot be sure to give what the per-input path gives
(a token of an unexpected type, a bad length, a non-finite number); the caller then takes
the per-input path, which raises the precise InputError or decodes value by value.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from rasp.compiler.fast_forward import fusable, fused_logits

if TYPE_CHECKING:
    from rasp.compiler.compiled import CompiledModel

# length -> (indices into the batch [n_L], token ids with BOS [n_L, L + 1])
Groups = dict[int, tuple[np.ndarray, torch.Tensor]]


def _ids_of_tokens(compiled: CompiledModel, flat: list[Any]) -> list[int] | None:
    """Token ids of a flat token list, or None if any token is not in the vocabulary."""
    vocab_types = {type(t) for t in compiled.vocab}
    try:
        if len(vocab_types) == 1 and set(map(type, flat)) <= vocab_types:
            # One token type on both sides: the raw token is as good a key as (type, token).
            table = getattr(compiled, "_raw_token_id", None)
            if table is None:
                table = {t: i + 1 for i, t in enumerate(compiled.vocab)}
                compiled._raw_token_id = table  # type: ignore[attr-defined]
            return list(map(table.__getitem__, flat))
        from rasp.compiler.compiled import _key

        return list(map(compiled._token_id.__getitem__, map(_key, flat)))
    except (KeyError, TypeError):  # unknown or unhashable token: the per-input path names it
        return None


def encode_groups(compiled: CompiledModel, batch: Sequence[Sequence[Any]]) -> Groups | None:
    """Ids with BOS per input length, or None when any input needs the per-input path."""
    if not set(map(type, batch)) <= {list, tuple}:
        return None  # strings, generators, tensors: encode() reads or refuses them one by one
    lengths = np.fromiter(map(len, batch), dtype=np.int64, count=len(batch))
    if lengths.min() < 1 or lengths.max() > compiled.max_seq_len:
        return None
    ids = _ids_of_tokens(compiled, list(itertools.chain.from_iterable(batch)))
    if ids is None:
        return None
    flat = np.asarray(ids, dtype=np.int64)  # [sum of lengths]
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])  # where each input begins in flat
    groups: Groups = {}
    for length in np.unique(lengths).tolist():
        members = np.flatnonzero(lengths == length)  # [n_L], in batch order
        rows = np.zeros((len(members), length + 1), dtype=np.int64)  # column 0: BOS (id 0)
        rows[:, 1:] = flat[starts[members, None] + np.arange(length)]
        groups[length] = (members, torch.from_numpy(rows))
    return groups


def _objects(values: list[Any]) -> np.ndarray:
    """A 1-D object array holding `values` as they are (np.array would unpack tuples)."""
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = v
    return out


def decode_rows(compiled: CompiledModel, logits: torch.Tensor) -> list[list[Any]] | None:
    """`[compiled.decode(row) for row in logits]` for logits [batch, pos, d_out], vectorised.

    None where a row needs the per-value path (numbers that are not finite, output values
    that are not plain ints or floats).
    """
    n, p = logits.shape[:2]
    if compiled.numerical_output:
        x = logits[:, :, 0].double().numpy()  # [n, p]; what .tolist() gives, as float64
        values = compiled.output_values
        if not values:
            return x.tolist()
        if not np.isfinite(x).all() or not all(type(v) in (int, float) for v in values):
            return None
        ordered = sorted(values)
        grid = np.asarray(ordered, dtype=np.float64)
        if np.any(grid != np.asarray([float(v) for v in ordered])) or np.abs(grid).max() >= 2.0**53:
            return None  # an int a float64 cannot hold: _snap's exact arithmetic differs
        i = np.searchsorted(grid, x, side="left")  # bisect_left
        lo, hi = np.clip(i - 1, 0, len(grid) - 1), np.clip(i, 0, len(grid) - 1)
        # min() over [lo, hi] keeps the first on a tie, so lo wins ties.
        pick = np.where(np.abs(grid[hi] - x) < np.abs(grid[lo] - x), hi, lo)
        near = grid[pick]
        snapped = np.abs(near - x) < 1e-2 * np.maximum(1.0, np.abs(near))
        out = x.astype(object)  # python floats where the value is not snapped
        out[snapped] = _objects(ordered)[pick[snapped]]
        return out.tolist()
    if not compiled.output_values:
        return [[None] * p for _ in range(n)]
    best = logits.max(dim=-1)  # the same reduction decode() makes, so the same argmax on ties
    table = _objects([*compiled.output_values, None])
    index = np.where(best.values.numpy() > 0.5, best.indices.numpy(), len(table) - 1)
    return table[index].tolist()


def run_batch_fast(compiled: CompiledModel, batch: Sequence[Sequence[Any]]) -> list[list[Any]] | None:
    """Decoded outputs of every input, or None when the per-input path must answer."""
    if not isinstance(batch, (list, tuple)):
        return None  # a generator would be consumed by the checks below
    if len(batch) == 0:
        return []
    groups = encode_groups(compiled, batch)
    if groups is None:
        return None
    model = compiled.model
    fused = fusable(model)
    results: list[Any] = [None] * len(batch)
    with torch.no_grad():
        for members, ids in groups.values():
            ids = ids.to(model.cfg.device)
            logits = fused_logits(model, ids, first=1) if fused else model(ids)[:, 1:]
            rows = decode_rows(compiled, logits.cpu())
            if rows is None:
                rows = [compiled.decode(row) for row in logits]
            if len(groups) == 1:
                return rows
            for i, row in zip(members.tolist(), rows):
                results[i] = row
    return results
