"""A Transformer Program's components as the dashboard draws them: each head's predicate as a
query-value x key-value matrix with the variables it reads, each MLP's lookup table, and the
hooked-model component (`to_hooked`'s layout) that computes it. Values are the program's own
labels, restricted to the values a variable can take (`variable_domains`)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from interp.errors import InputError
from interp.programs.decompile import _Components
from interp.programs.program import BOS, EOS, DiscreteProgram


@dataclass
class HeadPredicate:
    """One head: which key value each query value selects (categorical heads copy `value`)."""

    name: str  # the decompiled variable it writes, e.g. attn_0_1 or count_1_0
    layer: int  # program layer
    component: str  # the hooked model's head, e.g. L2H1 (program layer l -> block 2l)
    counting: bool  # a numerical head (selector width) rather than a copying one
    query: str  # variable read at the query position
    key: str  # variable read at key positions
    value: str | None  # variable copied from the selected key (None for a counting head)
    query_values: list[Any]  # row labels
    key_values: list[Any]  # column labels
    selects: list[list[bool]]  # [query value][key value]: the predicate holds
    live: bool  # the output depends on it


@dataclass
class LookupTable:
    """One MLP: out = table[a][b] over the values its two inputs can take."""

    name: str  # the decompiled variable it writes, e.g. mlp_0_1 or num_mlp_2_0
    layer: int
    component: str  # the hooked model's MLP (program layer l -> block 2l+1)
    a: str
    b: str
    a_values: list[Any]
    b_values: list[Any]
    table: list[list[Any]]  # [a value][b value] -> output label
    live: bool


def head_predicates(program: DiscreteProgram) -> list[HeadPredicate]:
    """Every head of the program in computation order (categorical, then counting, per layer)."""
    comps = _Components(program)
    n_cat = program.shape.n_cat_heads
    heads, slots = [], {}
    for kind, out, reads, head in comps.items:
        if kind not in ("cat_head", "num_head"):
            continue
        layer = int(out.split("_")[1])
        counting = kind == "num_head"
        slot = slots.setdefault((layer, counting), 0)
        slots[(layer, counting)] += 1
        q, k = reads[0], reads[1]
        q_domain, k_domain = comps.domain(q), comps.domain(k)
        heads.append(HeadPredicate(
            name=out, layer=layer, component=f"L{2 * layer}H{slot + (n_cat if counting else 0)}",
            counting=counting, query=q, key=k, value=None if counting else reads[2],
            query_values=[comps.label(q, v) for v in q_domain],
            key_values=[comps.label(k, v) for v in k_domain],
            selects=[[head.predicate[qv] == kv for kv in k_domain] for qv in q_domain],
            live=out in comps.live and out not in program.removed,
        ))
    return heads


def lookup_tables(program: DiscreteProgram) -> list[LookupTable]:
    """Every MLP lookup table in computation order (categorical, then numerical, per layer)."""
    comps = _Components(program)
    tables = []
    for kind, out, reads, mlp in comps.items:
        if kind not in ("cat_mlp", "num_mlp"):
            continue
        layer = int(out.split("_")[-2])
        a, b = reads
        a_domain, b_domain = comps.domain(a), comps.domain(b)
        tables.append(LookupTable(
            name=out, layer=layer, component=f"MLP{2 * layer + 1}", a=a, b=b,
            a_values=[comps.label(a, i) for i in a_domain], b_values=[comps.label(b, j) for j in b_domain],
            table=[[comps.label(out, mlp.table[i][j]) for j in b_domain] for i in a_domain],
            live=out in comps.live and out not in program.removed,
        ))
    return tables


def component_roles(program: DiscreteProgram) -> dict[str, str]:
    """Hooked-model component -> what it computes, e.g. {"L0H1": "attn_0_1 = aggregate(...)"}."""
    roles: dict[str, list[str]] = {}
    for head in head_predicates(program):
        what = (f"{head.name} = select_width({head.key}, {head.query})" if head.counting else
                f"{head.name} = aggregate(select({head.key}, {head.query}), {head.value})")
        roles.setdefault(head.component, []).append(what)
        if head.counting:  # the head writes 1/(width+1); its block's MLP decodes the count
            roles.setdefault(f"MLP{2 * head.layer}", []).append(f"decode {head.name} to a count")
    for table in lookup_tables(program):
        roles.setdefault(table.component, []).append(f"{table.name} = table({table.a}, {table.b})")
    return {component: "; ".join(parts) for component, parts in roles.items()}


def input_sampler(tokens: list[str], n_ctx: int) -> Callable[[random.Random, int | None], list[str]]:
    """Inputs as the program reads them: BOS, uniform non-special tokens, and EOS when the
    vocabulary has one (sort/reverse); `length` counts every token, BOS and EOS included
    (default: a random length that fits n_ctx)."""
    body_tokens = [t for t in tokens if t not in (BOS, EOS)]
    tail = [EOS] if EOS in tokens else []
    if not body_tokens or tokens[0] != BOS:
        raise InputError(f"a program vocabulary starts with {BOS!r} and has other tokens; got {tokens}.")

    def sample(rng: random.Random, length: int | None = None) -> list[str]:
        n = length - 1 - len(tail) if length is not None else rng.randint(1, n_ctx - 1 - len(tail))
        return [BOS, *(rng.choice(body_tokens) for _ in range(max(n, 0))), *tail]

    return sample


@dataclass(frozen=True)
class OutputMatch:
    """The read-out variable the program's output follows most often on its task's inputs."""

    variable: str
    agreement: float  # fraction of the answer positions where its value equals the output
    positions: int  # answer positions compared


OUTPUT_MATCH_INPUTS = 256  # sampled task inputs: ~10 ms of the exact program for `sort`


def output_variable(program: DiscreteProgram, sample: Callable[[random.Random, int | None], list[str]],
                    n_inputs: int = OUTPUT_MATCH_INPUTS, seed: int = 0) -> OutputMatch | None:
    """The variable whose value equals the program's output label at the most answer positions
    (every token but BOS/EOS) over `n_inputs` inputs drawn by `sample`, among the variables a
    component computes (not the inputs `tokens`, `positions`, `ones`) that the read-out depends
    on and that take two or more values there (a constant one would draw a blank row); ties go
    to the later variable. None when none ever equals the output.

    A Transformer Program's output is the argmax of a linear read-out of every variable, so no
    variable holds it exactly; this is the one closest to it (`hist`: count_0_1, equal everywhere;
    `sort`: attn_2_1, equal at ~40% of the answers)."""
    import torch

    comps = _Components(program)
    inputs = {*comps.cat_names[:2], comps.num_names[0]}  # tokens, positions, ones
    candidates = [name for name in comps.readout_vars if name not in inputs]
    tokens, labels = list(program.shape.tokens), [str(label) for label in program.shape.labels]
    rng = random.Random(seed)
    by_length: dict[int, list[list[str]]] = {}
    for _ in range(n_inputs):
        row = sample(rng, None)
        by_length.setdefault(len(row), []).append(row)
    agree = {name: 0 for name in candidates}
    seen: dict[str, set[str]] = {name: set() for name in candidates}
    total = 0
    for rows in by_length.values():
        ids = torch.tensor([[tokens.index(t) for t in row] for row in rows])  # [batch, pos]
        trace = program.run(ids)
        output = [[labels[i] for i in row] for row in trace.logits.argmax(-1).tolist()]
        answers = [[p for p, t in enumerate(row) if t not in (BOS, EOS)] for row in rows]
        total += sum(len(a) for a in answers)
        for name in candidates:
            if comps.is_numerical(name):
                values = [[str(v) for v in row] for row in trace.num[comps.num_names.index(name)].tolist()]
            else:
                index = comps.cat_names.index(name)
                values = [[str(comps.label(name, v)) for v in row] for row in trace.cat[index].tolist()]
            for r, positions in enumerate(answers):
                for p in positions:
                    seen[name].add(values[r][p])
                    agree[name] += values[r][p] == output[r][p]
    varied = [name for name in candidates if len(seen[name]) >= 2]
    if not varied or total == 0:
        return None
    best = max(reversed(varied), key=lambda name: agree[name])  # reversed: ties to the later one
    if agree[best] == 0:
        return None
    return OutputMatch(best, agree[best] / total, total)
