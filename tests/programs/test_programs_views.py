"""The dashboard's views of a Transformer Program: each head's predicate matrix is where the
converted model's head actually attends, and each lookup table gives the program's own values."""

import random

import pytest
import torch
from helpers import random_program

from interp.programs import to_hooked
from interp.programs.program import ProgramShape
from interp.programs.views import component_roles, head_predicates, lookup_tables

SHAPE = ProgramShape(tokens=["<s>", "a", "b", "c"], labels=["x", "y", "z"], n_ctx=5, n_layers=2,
                     n_cat_heads=2, n_num_heads=1, n_cat_mlps=1, n_num_mlps=1)


def inputs(seed: int, count: int = 6) -> list[list[int]]:
    rng = random.Random(seed)
    return [[0] + [rng.randrange(1, 4) for _ in range(rng.randrange(1, SHAPE.n_ctx))] for _ in range(count)]


def label_of(program, trace, name: str, position: int):
    """A variable's value at a position, as the views label it (counts are their own label)."""
    cat, num = program.shape.cat_var_names(), program.shape.num_var_names()
    if name in num:
        return int(trace.num[num.index(name)][0, position])
    index = cat.index(name)
    return program.value_labels[index][int(trace.cat[index][0, position])]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_head_attends_where_its_predicate_matrix_says(seed):
    program = random_program(SHAPE, seed)
    model = to_hooked(program)
    sink = model.cfg.d_vocab - 1
    heads = head_predicates(program)
    assert len(heads) == SHAPE.n_layers * (SHAPE.n_cat_heads + SHAPE.n_num_heads)
    for tokens in inputs(seed):
        trace = program.run(torch.tensor([tokens]))
        _, cache = model.run_with_cache(torch.tensor([[sink, *tokens]]))
        for head in heads:
            block, slot = (int(x) for x in head.component[1:].split("H"))
            pattern = cache[f"blocks.{block}.attn.hook_pattern"][0, slot]  # [1 + n, 1 + n], sink at 0
            for q in range(len(tokens)):
                row = head.selects[head.query_values.index(label_of(program, trace, head.query, q))]
                matched = [k for k in range(len(tokens))
                           if row[head.key_values.index(label_of(program, trace, head.key, k))]]
                on_matches = float(pattern[q + 1, [k + 1 for k in matched]].sum()) if matched else 0.0
                if head.counting:  # uniform over the matches and the sink
                    assert on_matches + float(pattern[q + 1, 0]) == pytest.approx(1.0, abs=1e-5)
                    assert on_matches == pytest.approx(len(matched) / (len(matched) + 1), abs=1e-5)
                else:  # the best match, or the sink when nothing matches
                    chosen = on_matches if matched else float(pattern[q + 1, 0])
                    assert chosen == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("seed", [0, 3])
def test_lookup_tables_give_the_programs_values(seed):
    program = random_program(SHAPE, seed)
    tables = lookup_tables(program)
    assert [t.component for t in tables] == ["MLP1", "MLP1", "MLP3", "MLP3"]
    checked = 0
    for tokens in inputs(seed):
        trace = program.run(torch.tensor([tokens]))
        for table in tables:
            for p in range(len(tokens)):
                a = table.a_values.index(label_of(program, trace, table.a, p))
                b = table.b_values.index(label_of(program, trace, table.b, p))
                assert table.table[a][b] == label_of(program, trace, table.name, p)
                checked += 1
    assert checked > 0


def test_roles_name_every_head_and_the_count_decoders():
    program = random_program(SHAPE, 0)
    roles = component_roles(program)
    assert roles["L0H2"].startswith("count_0_0 = select_width(")
    assert "decode count_0_0" in roles["MLP0"]
    assert roles["L2H0"].startswith("attn_1_0 = aggregate(select(")
    assert roles["MLP3"].count("table(") == 2
