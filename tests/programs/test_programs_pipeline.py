"""A hand-built hist program through the whole pipeline (simplify, decompile, compile,
verify), exhaustively over every input; the task data against the RASP library; the CLI."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import torch

from interp.programs.data import make_task_data
from interp.programs.pipeline import load_discrete_program, verify
from interp.programs.program import DiscreteProgram, LookupMLP, NumHead, ProgramLayer, ProgramShape
from interp.programs.simplify import simplify
from tests.programs.helpers import reference_run


def hist_program(data) -> DiscreteProgram:
    """count = #keys with my token; num_mlp = count; label = num_mlp (plus distractor heads)."""
    shape = ProgramShape(tokens=data.tokens, labels=data.labels, n_ctx=data.n_ctx, n_layers=1,
                         n_cat_heads=0, n_num_heads=2, n_cat_mlps=0, n_num_mlps=2)
    d, c = shape.d_var, shape.n_counts
    identity = list(range(d))
    layer = ProgramLayer(
        num_heads=[NumHead(0, 0, identity), NumHead(0, 0, identity)],  # a duplicate to merge
        num_mlps=[LookupMLP(1, 1, [[min(i, d - 1) if i == j else 0 for j in range(c)] for i in range(c)]),
                  LookupMLP(0, 0, [[0] * c for _ in range(c)])],  # a constant MLP to remove
    )
    n_cat = len(shape.cat_var_names())
    readout_cat = torch.zeros(n_cat, d, len(shape.labels))
    for value in range(min(d, len(shape.labels))):
        readout_cat[2, value, value] = 10.0  # var 2 = num_mlp_0_0
    readout_cat[3, :, 0] = 0.5  # a read-out term that never changes the argmax
    return DiscreteProgram(shape, [layer], readout_cat, torch.zeros(3, len(shape.labels)),
                           torch.zeros(len(shape.labels)))


def test_task_labels_come_from_the_rasp_library() -> None:
    data = make_task_data("hist", vocab_size=5, max_len=5, exhaustive=True)
    assert len(data.train) + len(data.val) + len(data.test) == 3 + 9 + 27 + 81
    for row, n, target in zip(data.test.tokens, data.test.lengths, data.test.targets):
        body = [data.tokens[t] for t in row[1:n].tolist()]
        counts = Counter(body)
        assert [data.labels[t] for t in target[1:n].tolist()] == [str(counts[x]) for x in body]
        assert target[0] == -100
    sort = make_task_data("sort", size=300, seed=1)
    for row, n, target in zip(sort.test.tokens, sort.test.lengths, sort.test.targets):
        body = [sort.tokens[t] for t in row[1 : n - 1].tolist()]
        assert [sort.labels[t] for t in target[1 : n - 1].tolist()] == sorted(body)
        assert sort.tokens[row[n - 1]] == "</s>"


def test_hand_built_hist_is_exact_and_every_form_agrees(tmp_path: Path) -> None:
    data = make_task_data("hist", vocab_size=5, max_len=5, exhaustive=True)
    program = hist_program(data)
    for split in (data.train, data.val, data.test):
        predicted = program.predict(split.tokens, split.lengths)
        scored = split.targets != -100
        assert torch.equal(predicted[scored], split.targets[scored])  # 100% on every input
        for row, n, want in zip(split.tokens, split.lengths, predicted):
            assert reference_run(program, row[:n].tolist()) == want[:n].tolist()
    result = verify(program, data, compile_rasp=True, out_dir=tmp_path)
    for key in ("program_matches_model", "hooked_matches_model", "rasp_interpreter_matches_model",
                "rasp_matches_model"):
        assert result[key] == 1.0, key
    assert ["count_0_1", "count_0_0"] in [list(m) for m in result["simplify"]["merged"]]
    assert "num_mlp_0_1" in result["simplify"]["removed"]
    assert "num_mlp_0_1" in result["simplify"]["readout_dropped"]
    assert result["lines_after"] < result["lines_before"]
    # The simplified program still equals the original on every input (simplified on all).
    simplified = load_discrete_program(tmp_path)
    everything = [data.train, data.val, data.test]
    for split in everything:
        real = torch.arange(5)[None] < split.lengths[:, None]
        assert torch.equal(simplified.predict(split.tokens, split.lengths)[real],
                           program.predict(split.tokens, split.lengths)[real])
    source = (tmp_path / "program.py").read_text()
    assert "def predicate_count_0_0" in source and "num_mlp_0_1" not in source


def test_simplify_keeps_predictions_on_the_given_inputs_only() -> None:
    data = make_task_data("hist", vocab_size=5, max_len=5, exhaustive=True)
    program = hist_program(data)
    short = data.test.lengths <= 3
    simplified, report = simplify(program, data.test.tokens[short], data.test.lengths[short])
    assert report.checked_inputs == int(short.sum())
    real = torch.arange(5)[None] < data.test.lengths[short][:, None]
    assert torch.equal(simplified.predict(data.test.tokens[short], data.test.lengths[short])[real],
                       program.predict(data.test.tokens[short], data.test.lengths[short])[real])


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    from interp.cli import main

    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_train_program_and_decompile(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    code, stdout, stderr = _cli(
        capsys, "train-program", "hist", "--max-len", "4", "--vocab-size", "4", "--n-layers", "1",
        "--n-heads", "0", "--n-num-heads", "1", "--n-mlps", "0", "--n-num-mlps", "1",
        "--epochs", "2", "--batch-size", "8", "--out", str(out), "--json",
    )
    assert code == 0, stderr
    result = json.loads(stdout.strip().splitlines()[-1])
    for key in ("hard_test_accuracy", "soft_test_accuracy", "program_matches_model",
                "rasp_matches_model", "lines_before", "lines_after", "seconds"):
        assert key in result
    assert result["program_matches_model"] == 1.0 and result["rasp_matches_model"] == 1.0
    code, stdout, _ = _cli(capsys, "decompile", str(out))
    assert code == 0 and "def run(tokens):" in stdout


@pytest.mark.parametrize("args", [
    ("train-program", "nonsense"),
    ("train-program", "hist", "--epochs", "0"),
    ("decompile", "/nonexistent/dir"),
])
def test_cli_bad_input_is_one_error_line(args: tuple[str, ...], capsys) -> None:
    code, stdout, stderr = _cli(capsys, *args, "--json")
    assert code == 2
    assert stderr.strip().startswith("error:") and len(stderr.strip().splitlines()) == 1
    assert "error" in json.loads(stdout.strip().splitlines()[-1])


def test_hand_built_induction_program_is_exact_on_the_paper_data() -> None:
    """The in-context task is expressible in the spec (closest match, itself last, no match ->
    BOS): a letter finds its closest earlier occurrence (itself if none), the next position's
    token is the answer; every scored position of the data, labelled independently, is right."""
    from interp.programs.pipeline import PipelineOptions, shape_for
    from interp.programs.program import CatHead

    data = make_task_data("induction", size=1000, seed=3)
    shape = shape_for(data, PipelineOptions(task="induction"))
    d, tokens, labels = shape.d_var, data.tokens, data.labels
    index = {t: i for i, t in enumerate(tokens)}
    find = [index[t] if t in "abcd" else 0 for t in tokens] + [0] * (d - len(tokens))  # else: BOS
    after = [p + 1 if 0 < p < d - 1 else 0 for p in range(d)]  # position -> the next one
    layers = [ProgramLayer(cat_heads=[CatHead(0, 0, 1, find)]),  # q, k = tokens; v = positions
              ProgramLayer(cat_heads=[CatHead(2, 1, 0, after)])]  # q = attn_0_0, k = positions; v = tokens
    readout = torch.zeros(4, d, len(labels))
    for token, i in index.items():  # attn_1_0's token is the label; a letter or BOS means <unk>
        readout[3, i, labels.index(token if token in labels else "<unk>")] = 1.0
    program = DiscreteProgram(shape, layers, readout, torch.zeros(1, len(labels)), torch.zeros(len(labels)))
    for split in (data.train, data.val, data.test):
        scored = split.targets != -100
        assert torch.equal(program.predict(split.tokens, split.lengths)[scored], split.targets[scored])
    # Both forms of the paper's data occur: a stray digit after BOS, and a final query letter.
    assert {tokens[t] in "0123" for t in data.train.tokens[:, 1].tolist()} == {True, False}
