"""Shrink a discrete program without changing any output on the given inputs: merge
identical components, remove components whose removal (output held at its most frequent value
on the inputs) changes no
prediction, drop read-out terms that change no prediction. Every step is re-checked by
running the program on all the inputs; with every possible input it is exact everywhere (the
pipeline passes every input where there are at most `interp.limits` exhaustive_inputs).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import torch

from interp.programs.program import DiscreteProgram


@dataclass
class SimplifyReport:
    merged: list[tuple[str, str]] = field(default_factory=list)  # (duplicate, kept)
    removed: list[str] = field(default_factory=list)
    readout_dropped: list[str] = field(default_factory=list)
    checked_inputs: int = 0


def simplify(
    program: DiscreteProgram, tokens: torch.Tensor, lengths: torch.Tensor,
    screen: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[DiscreteProgram, SimplifyReport]:
    """A smaller program with the same predictions as `program` on every given input.

    screen: (tokens, lengths) of a few inputs each candidate is tried on first; one that changes a
    prediction there is rejected without running every input (the result is the same, since
    every accepted step is still checked on all of them).
    """
    checks = [(tokens, lengths)] if screen is None else [screen, (tokens, lengths)]
    references = []
    for check_tokens, check_lengths in checks:
        real = torch.arange(check_tokens.shape[1])[None] < check_lengths[:, None]
        reference = _predict(program, check_tokens, check_lengths)[real]
        references.append((check_tokens, check_lengths, real, reference))
    real = references[-1][2]
    report = SimplifyReport(checked_inputs=len(tokens))

    def same(candidate: DiscreteProgram) -> bool:
        return all(torch.equal(_predict(candidate, t, n)[r], ref) for t, n, r, ref in references)

    current = _merge_identical(copy.deepcopy(program), report)
    if not same(current):  # float re-association of merged read-outs flipped a near-tie
        current, report.merged = copy.deepcopy(program), []
    shape = current.shape
    names = _component_names(current)
    cat, num = _variables(current, tokens, lengths)
    values = dict(zip(shape.cat_var_names(), cat)) | dict(zip(shape.num_var_names(), num))
    for name in reversed(names):
        if name in current.removed:
            continue
        # Hold the component at its most frequent value on the given inputs.
        candidate = copy.deepcopy(current)
        candidate.removed[name] = int(values[name][real].mode().values)
        if same(candidate):
            current = candidate
            report.removed.append(name)
    cat_names, num_names = shape.cat_var_names(), shape.num_var_names()
    for name in cat_names + num_names:
        candidate = copy.deepcopy(current)
        block = candidate.readout_cat[cat_names.index(name)] if name in cat_names else \
            candidate.readout_num[num_names.index(name)]
        if not block.any():
            continue
        block.zero_()
        if same(candidate):
            current = candidate
            report.readout_dropped.append(name)
    return current, report


# Inputs per forward pass: the exact pass holds [batch, n, n] tensors, so a million inputs at
# once would take gigabytes; chunks of this size stay under ~100 MB at n_ctx 16.
_CHUNK = 32_768


def _predict(program: DiscreteProgram, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """program.predict in chunks: [batch, pos] label ids."""
    return torch.cat([program.predict(tokens[i : i + _CHUNK], lengths[i : i + _CHUNK])
                      for i in range(0, len(tokens), _CHUNK)])


def _variables(program: DiscreteProgram, tokens: torch.Tensor, lengths: torch.Tensor
               ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Every categorical and numerical variable's values [batch, pos], run in chunks."""
    traces = [program.run(tokens[i : i + _CHUNK], lengths[i : i + _CHUNK])
              for i in range(0, len(tokens), _CHUNK)]
    cat = [torch.cat([t.cat[v] for t in traces]) for v in range(len(traces[0].cat))]
    num = [torch.cat([t.num[v] for t in traces]) for v in range(len(traces[0].num))]
    return cat, num


def _component_names(program: DiscreteProgram) -> list[str]:
    """Output variable names of every head and MLP, in program order."""
    shape = program.shape
    cat_names, num_names = shape.cat_var_names(), shape.num_var_names()
    names = []
    for layer_index, layer in enumerate(program.layers):
        c0 = shape.cat_vars_before(layer_index)
        n0 = shape.num_vars_before(layer_index)
        names += cat_names[c0 : c0 + len(layer.cat_heads)]
        names += num_names[n0 : n0 + len(layer.num_heads)]
        m0 = shape.cat_vars_before(layer_index, after_attention=True)
        names += cat_names[m0 : m0 + len(layer.cat_mlps) + len(layer.num_mlps)]
    return names


def _merge_identical(program: DiscreteProgram, report: SimplifyReport) -> DiscreteProgram:
    """Point readers of a duplicate component at the first identical one; move its read-out."""
    shape = program.shape
    cat_alias: dict[int, int] = {}
    num_alias: dict[int, int] = {}
    seen: dict[tuple, int] = {}
    cat_names, num_names = shape.cat_var_names(), shape.num_var_names()

    def c(i: int) -> int:
        return cat_alias.get(i, i)

    def u(i: int) -> int:
        return num_alias.get(i, i)

    for layer_index, layer in enumerate(program.layers):
        c0 = shape.cat_vars_before(layer_index)
        n0 = shape.num_vars_before(layer_index)
        m0 = shape.cat_vars_before(layer_index, after_attention=True)
        for h, head in enumerate(layer.cat_heads):
            head.q, head.k, head.v = c(head.q), c(head.k), c(head.v)
            _dedupe(("cat", head.q, head.k, head.v, tuple(head.predicate)), c0 + h, seen, cat_alias)
        for h, head in enumerate(layer.num_heads):
            head.q, head.k = c(head.q), c(head.k)
            _dedupe(("num", head.q, head.k, tuple(head.predicate)), -(n0 + h) - 1, seen, num_alias)
        for m, mlp in enumerate(layer.cat_mlps):
            mlp.a, mlp.b = c(mlp.a), c(mlp.b)
            _dedupe(("mlp", mlp.a, mlp.b, str(mlp.table)), m0 + m, seen, cat_alias)
        for m, mlp in enumerate(layer.num_mlps):
            mlp.a, mlp.b = u(mlp.a), u(mlp.b)
            _dedupe(("nmlp", mlp.a, mlp.b, str(mlp.table)), m0 + len(layer.cat_mlps) + m, seen, cat_alias)
    for dup, kept in cat_alias.items():
        program.readout_cat[kept] += program.readout_cat[dup]
        program.readout_cat[dup] = 0
        program.removed[cat_names[dup]] = 0
        report.merged.append((cat_names[dup], cat_names[kept]))
    for dup, kept in num_alias.items():
        program.readout_num[kept] += program.readout_num[dup]
        program.readout_num[dup] = 0
        program.removed[num_names[dup]] = 0
        report.merged.append((num_names[dup], num_names[kept]))
    return program


def _dedupe(signature: tuple, index: int, seen: dict[tuple, int], alias: dict[int, int]) -> None:
    # Numerical variables are stored with negative keys so both kinds share `seen`.
    if signature in seen:
        kept = seen[signature]
        alias[abs(index) - 1 if index < 0 else index] = abs(kept) - 1 if kept < 0 else kept
    else:
        seen[signature] = index
