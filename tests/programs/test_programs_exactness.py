"""Claims checked as stated: a simplified program is checked on every input of the task when
there are few enough, its program.py header and result.json say over which inputs, and the
enumerated input space holds every input the task's sampler produces (brute force)."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import pytest
import torch

from interp.limits import set_limits
from interp.programs.data import PAPER_TASKS, all_inputs, input_space_size, make_task_data, task_vocab
from interp.programs.decompile import load_python
from interp.programs.pipeline import load_discrete_program, verify
from interp.programs.program import ProgramShape
from tests.programs.helpers import random_program


def _sort_setting(size: int):
    data = make_task_data("sort", vocab_size=6, max_len=6, size=size, seed=1)  # 3 digits, bodies 1..4
    shape = ProgramShape(tokens=data.tokens, labels=data.labels, n_ctx=data.n_ctx, n_layers=2, n_cat_heads=2,
                         n_num_heads=1, n_cat_mlps=1, n_num_mlps=1)
    return data, shape


def _every_sort_input(data) -> list[list[str]]:
    """Independent enumeration: [BOS] + 1..n_ctx-2 digits + [EOS]."""
    digits = data.tokens[1:-1]
    return [[data.tokens[0], *body, data.tokens[-1]]
            for n in range(1, data.n_ctx - 1) for body in itertools.product(digits, repeat=n)]


def _predict_words(program, data, words: list[list[str]]) -> list[list[str]]:
    index = {t: i for i, t in enumerate(data.tokens)}
    tokens = torch.zeros(len(words), data.n_ctx, dtype=torch.long)
    lengths = torch.tensor([len(w) for w in words])
    for row, w in enumerate(words):
        tokens[row, : len(w)] = torch.tensor([index[t] for t in w])
    predicted = program.predict(tokens, lengths)
    return [[data.labels[i] for i in row[:n].tolist()] for row, n in zip(predicted, lengths.tolist())]


@pytest.mark.parametrize("seed", range(4))
def test_a_program_called_exact_equals_the_argmax_model_on_every_input(tmp_path: Path, seed: int):
    # 20 sampled inputs of 120: simplifying on those alone removed components other inputs need.
    data, shape = _sort_setting(size=20)
    program = random_program(shape, seed)
    result = verify(program, data, compile_rasp=False, out_dir=tmp_path)
    every = _every_sort_input(data)
    assert input_space_size("sort", data.tokens, data.n_ctx) == len(every) == 120
    run = load_python((tmp_path / "program.py").read_text())
    assert [run(w) for w in every] == _predict_words(program, data, every)
    assert "all 120 inputs of the task" in (tmp_path / "program.py").read_text()
    assert result["exhaustive"] and result["simplified_matches_model"] == 1.0
    assert result["checked_on"]["program_matches_model"] == "all 120 inputs of the task"
    assert result["checked_on"]["hooked_matches_model"].startswith("the ")  # test split, said so
    assert "all 120 inputs" in load_discrete_program(tmp_path).checked


def test_over_the_exhaustive_limit_the_header_says_only_the_sampled_inputs(tmp_path: Path):
    data, shape = _sort_setting(size=20)
    previous = set_limits()
    try:
        set_limits(exhaustive_inputs=100)
        result = verify(random_program(shape, 0), data, compile_rasp=False, out_dir=tmp_path)
    finally:
        set_limits(**dataclasses.asdict(previous))
    header = (tmp_path / "program.py").read_text().split('"""')[1]
    assert "sampled" in header and "unchecked" in header and "exact" not in header.lower()
    assert not result["exhaustive"]
    assert "sampled" in result["checked_on"]["simplified_matches_model"]


def test_an_unsimplified_program_says_it_is_the_same_computation():
    from interp.programs.decompile import to_python

    data, shape = _sort_setting(size=20)
    assert "same computation as the argmax program" in to_python(random_program(shape, 0))


@pytest.mark.parametrize("name,vocab,length", [("reverse", 6, 5), ("sort", 6, 5), ("hist", 5, 4),
                                               ("double_hist", 5, 4), ("most_freq", 5, 4), ("dyck1", 4, 6),
                                               ("dyck2", 6, 5), ("induction", 10, 5)])
def test_the_input_space_holds_every_sampled_input(name, vocab, length):
    tokens, _ = task_vocab(name, vocab, length)
    ids, lengths = all_inputs(name, tokens, length)
    space = {tuple(row[:n].tolist()) for row, n in zip(ids, lengths.tolist())}
    assert len(space) == len(ids) == input_space_size(name, tokens, length)  # no duplicates
    data = make_task_data(name, vocab, length, size=300, seed=0)
    for split in (data.train, data.val, data.test):
        for row, n in zip(split.tokens, split.lengths.tolist()):
            assert tuple(row[:n].tolist()) in space


def test_the_paper_settings_that_are_verified_exhaustively():
    sizes = {}
    for name, spec in PAPER_TASKS.items():
        tokens, _ = task_vocab(name, spec.vocab_size, spec.max_len)
        sizes[name] = input_space_size(name, tokens, spec.max_len)
    # sum of 5^n for n = 1..6 (sort, reverse), 6^n for n = 1..7 (hist-like), 2^15 (Dyck-1)
    assert sizes["sort"] == sizes["reverse"] == sum(5**n for n in range(1, 7)) == 19_530
    assert sizes["hist"] == sum(6**n for n in range(1, 8)) == 335_922
    assert sizes["dyck1"] == 2**15
    assert sizes["dyck2"] == 4**15 and sizes["induction"] == 8**9  # over 10^6: sampled only
