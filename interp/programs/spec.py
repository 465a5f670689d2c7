"""The one semantics of a Transformer Program's categorical attention, shared by the trained
model, its exact (argmax) form, the hooked-transformer conversion, the decompiled Python and
the decompiled RASP program.

A categorical head at query position q selects, among the key positions k whose key value
matches the query (``predicate[query_value] == key_value``), the one of lowest `rank(q, k)`:
the closest position, the earlier one when two are equally close, and q itself last — the
order the paper's fixed relative-position bias induces. Position 0 (BOS) is an ordinary key.
When no key matches, the head attends to BOS (`NO_MATCH_POSITION`) and copies its value
variable's value there, as the paper's model does (it adds a match at BOS for a query that
matches nothing). Numerical heads count the matching keys (RASP's SelectorWidth); ties do not
arise there.
"""

from __future__ import annotations

import torch

NO_MATCH_POSITION = 0  # BOS


def rank(query: int, key: int, n_ctx: int) -> int:
    """Priority of `key` for `query` (lower wins): distance first, earlier first, self last."""
    if key == query:
        return 2 * n_ctx
    return 2 * (abs(key - query) - 1) + (0 if key < query else 1)


def rank_matrix(n_ctx: int) -> torch.Tensor:
    """rank(q, k) for every query q and key k: [n_ctx, n_ctx] int64."""
    return torch.tensor([[rank(q, k, n_ctx) for k in range(n_ctx)] for q in range(n_ctx)])


def offsets_by_rank(n_ctx: int) -> list[int]:
    """Key offsets k - q in the order the spec tries them: -1, +1, -2, +2, ..., then 0."""
    order = [d for distance in range(1, n_ctx) for d in (-distance, distance)]
    return order + [0]
