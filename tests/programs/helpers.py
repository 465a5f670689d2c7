"""Shared test helpers: random discrete programs, every input of a tiny setting, and an
independent brute-force reference of the program semantics (written from the spec text)."""

from __future__ import annotations

import itertools
import random

import torch

from interp.programs.program import (
    CatHead,
    DiscreteProgram,
    LookupMLP,
    NumHead,
    ProgramLayer,
    ProgramShape,
)


def random_program(shape: ProgramShape, seed: int) -> DiscreteProgram:
    """A program with random reads, predicates, tables and read-out (matches made likely)."""
    rng = random.Random(seed)
    d, c = shape.d_var, shape.n_counts
    layers = []
    for layer in range(shape.n_layers):
        n_cat = shape.cat_vars_before(layer)
        n_mid = shape.cat_vars_before(layer, after_attention=True)
        n_num_mid = shape.num_vars_before(layer, after_attention=True)
        small = min(d, 4)  # predicates into few values, so heads both match and miss
        layers.append(ProgramLayer(
            cat_heads=[CatHead(rng.randrange(n_cat), rng.randrange(n_cat), rng.randrange(n_cat),
                               [rng.randrange(small) for _ in range(d)]) for _ in range(shape.n_cat_heads)],
            num_heads=[NumHead(rng.randrange(n_cat), rng.randrange(n_cat),
                               [rng.randrange(small) for _ in range(d)]) for _ in range(shape.n_num_heads)],
            cat_mlps=[LookupMLP(rng.randrange(n_mid), rng.randrange(n_mid),
                                [[rng.randrange(small) for _ in range(d)] for _ in range(d)])
                      for _ in range(shape.n_cat_mlps)],
            num_mlps=[LookupMLP(rng.randrange(n_num_mid), rng.randrange(n_num_mid),
                                [[rng.randrange(small) for _ in range(c)] for _ in range(c)])
                      for _ in range(shape.n_num_mlps)],
        ))
    generator = torch.Generator().manual_seed(seed)
    n_out = len(shape.labels)
    return DiscreteProgram(
        shape=shape, layers=layers,
        readout_cat=torch.randn(len(shape.cat_var_names()), d, n_out, generator=generator),
        readout_num=torch.randn(len(shape.num_var_names()), n_out, generator=generator),
        readout_bias=torch.randn(n_out, generator=generator),
    )


def all_inputs(shape: ProgramShape, max_body: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every [BOS] + body with body tokens from the non-BOS vocabulary, padded with 0."""
    rows, lengths = [], []
    for n in range(0, max_body + 1):
        for body in itertools.product(range(1, len(shape.tokens)), repeat=n):
            row = [0, *body]
            lengths.append(len(row))
            rows.append(row + [0] * (shape.n_ctx - len(row)))
    return torch.tensor(rows), torch.tensor(lengths)


def reference_run(program: DiscreteProgram, tokens: list[int]) -> list[int]:
    """Per-example loops straight from the spec: closest match, earlier on ties, self last, BOS if none."""
    shape = program.shape
    n = len(tokens)

    def rank(q: int, k: int) -> tuple[int, int, int]:
        return (k == q, abs(k - q), k)  # self last, then distance, then earlier

    cat = [list(tokens), list(range(n))]
    num = [[1] * n]
    removed = program.removed
    names_c, names_n = shape.cat_var_names(), shape.num_var_names()
    for layer in program.layers:
        new_cat, new_num = [], []
        for head in layer.cat_heads:
            out = []
            for q in range(n):
                keys = range(q + 1) if shape.causal else range(n)
                matches = [k for k in keys if cat[head.k][k] == head.predicate[cat[head.q][q]]]
                # No match: attend to BOS (position 0) and copy its value.
                out.append(cat[head.v][min(matches, key=lambda k, q=q: rank(q, k)) if matches else 0])
            new_cat.append(out)
        for head in layer.num_heads:
            new_num.append([
                sum(cat[head.k][k] == head.predicate[cat[head.q][q]]
                    for k in (range(q + 1) if shape.causal else range(n)))
                for q in range(n)
            ])
        for values in new_cat:
            name = names_c[len(cat)]
            cat.append([removed[name]] * n if name in removed else values)
        for values in new_num:
            name = names_n[len(num)]
            num.append([removed[name]] * n if name in removed else values)
        outs = [[m.table[a][b] for a, b in zip(cat[m.a], cat[m.b])] for m in layer.cat_mlps]
        outs += [[m.table[a][b] for a, b in zip(num[m.a], num[m.b])] for m in layer.num_mlps]
        for values in outs:
            name = names_c[len(cat)]
            cat.append([removed[name]] * n if name in removed else values)
    labels = []
    for i in range(n):
        scores = program.readout_bias.double().clone()
        for v, values in enumerate(cat):
            scores += program.readout_cat[v][values[i]].double()
        for v, values in enumerate(num):
            scores += values[i] * program.readout_num[v].double()
        labels.append(int(scores.argmax()))
    return labels
