"""Attention-head constructions for Aggregate and SelectorWidth.

Scores: the sum of the selector's conjunct tables (each 0 or 1), so selected keys score
exactly theta = number of conjuncts. The BOS key scores theta - 1/2 for Aggregate (it
wins only when nothing is selected, giving the default) and theta for SelectorWidth (it
joins the selected keys, so its weight is 1/(width+1)). The query at the BOS position
always prefers the BOS key. Scores are multiplied by a sharpness chosen in numerics.py.
"""

from __future__ import annotations

from typing import Any

from rasp.compiler.ir import BOS_DIR, NUM, Dir, HeadSpec, Var

Affine = tuple[dict[Dir, float], float]


def _sum(features: list[Affine]) -> Affine:
    weights: dict[Dir, float] = {}
    bias = 0.0
    for w, b in features:
        for d, x in w.items():
            weights[d] = weights.get(d, 0.0) + x
        bias += b
    return {d: x for d, x in weights.items() if x != 0}, bias


def table_dims(
    rows: list[Affine], cols: list[Affine], table: list[list[bool]]
) -> list[tuple[Affine, Affine]]:
    """Factor a 0/1 table into (query, key) dimension pairs: q_row . k_col = table[row][col].

    Rows (or columns) with the same pattern share one dimension; the cheaper side wins.
    """
    by_row: dict[tuple[bool, ...], list[int]] = {}
    for i, row in enumerate(table):
        if any(row):
            by_row.setdefault(tuple(row), []).append(i)
    by_col: dict[tuple[bool, ...], list[int]] = {}
    for j in range(len(cols)):
        column = tuple(table[i][j] for i in range(len(rows)))
        if any(column):
            by_col.setdefault(column, []).append(j)
    if len(by_row) <= len(by_col):
        return [
            (
                _sum([rows[i] for i in members]),
                _sum([cols[j] for j, on in enumerate(pattern) if on]),
            )
            for pattern, members in by_row.items()
        ]
    return [
        (
            _sum([rows[i] for i, on in enumerate(pattern) if on]),
            _sum([cols[j] for j in members]),
        )
        for pattern, members in by_col.items()
    ]


def selection_head(
    dims: list[tuple[Affine, Affine]], theta: int, bos_score: float
) -> tuple[list[Affine], list[Affine]]:
    """q and k dimensions of a selector with `theta` conjuncts; BOS key scores `bos_score`."""
    q = [qd for qd, _ in dims]
    k = [kd for _, kd in dims]
    # At real queries the BOS key gets bos_score; at the BOS query it gets theta + 1,
    # more than any real key can reach, so the BOS position only looks at itself. That
    # query weight (the last dimension) matters only where some later computation reads
    # this head's output at the BOS position; hygiene.py drops it everywhere else.
    q.append(({BOS_DIR: theta + 1.0 - bos_score}, bos_score))
    k.append(({BOS_DIR: 1.0}, 0.0))
    return q, k


def aggregate_values(sop: Var, out: Var) -> tuple[list[dict[Dir, float]], list[dict[Dir, float]]]:
    """v/o dimensions copying `sop` (one-hot or number) from the attended keys into `out`."""
    if sop.numerical:
        return [{(sop.name, NUM): 1.0}], [{(out.name, NUM): 1.0}]
    v: list[dict[Dir, Any]] = []
    o: list[dict[Dir, Any]] = []
    for value in sop.values or []:
        if value in set(out.values or []):
            v.append({(sop.name, value): 1.0})
            o.append({(out.name, value): 1.0})
    return v, o


def make_head(
    dims: list[tuple[Affine, Affine]],
    theta: int,
    bos_score: float,
    v: list[dict[Dir, float]],
    o: list[dict[Dir, float]],
) -> HeadSpec:
    """A complete head (unscaled scores)."""
    q, k = selection_head(dims, theta, bos_score)
    return HeadSpec(q=q, k=k, v=v, o=o, theta=theta)
