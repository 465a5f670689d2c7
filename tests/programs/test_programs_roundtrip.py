"""The Transformer Program round trip: to_rasp(program) compiled by our compiler predicts what the
program predicts, on every input of small settings (random 2-layer programs with their full
random read-out, causal or not) and on sampled inputs of the shipped hist program."""

from __future__ import annotations

import json

import pytest
import torch

import rasp
from interp.programs.data import all_inputs as task_inputs
from interp.programs.decompile import to_rasp
from interp.programs.program import ProgramShape
from interp.programs.shipped import load_shipped_program, shipped_program_dir
from rasp.compiler import compile_program
from tests.programs.helpers import all_inputs, random_program

TOKENS = ["<s>", "a", "b", "c"]


def _labels(program, tokens: torch.Tensor, lengths: torch.Tensor) -> list[list[str]]:
    predicted = program.predict(tokens, lengths)
    return [[program.shape.labels[i] for i in row[:n].tolist()] for row, n in zip(predicted, lengths)]


@pytest.mark.parametrize(("causal", "removed"), [
    (False, {}),
    (True, {}),
    # Removed components are constants (here a head's key and value, and a counting head).
    (False, {"attn_0_1": 2, "count_0_0": 3, "mlp_0_0": 1}),
])
def test_compiled_rasp_equals_a_random_two_layer_program_on_every_input(causal: bool, removed: dict) -> None:
    shape = ProgramShape(tokens=TOKENS, labels=["x", "y", "z"], n_ctx=5, causal=causal, n_layers=2,
                         n_cat_heads=2, n_num_heads=1, n_cat_mlps=1, n_num_mlps=1)
    program = random_program(shape, 1)
    program.removed = removed
    rasp_program = to_rasp(program)
    assert any(isinstance(node, rasp.ArgmaxReadout) for node in rasp.walk(rasp_program))
    compiled = compile_program(rasp_program, vocab=TOKENS, max_seq_len=5, causal=causal,
                               attention_kind="hard", compact=True)
    tokens, lengths = all_inputs(shape, max_body=4)  # every input: 121 sequences
    words = [[TOKENS[t] for t in row[:n].tolist()] for row, n in zip(tokens, lengths)]
    expected = _labels(program, tokens, lengths)
    assert compiled.run_batch(words) == expected
    assert len({label for row in expected for label in row}) > 1  # not a constant program


def test_shipped_hist_round_trip_on_sampled_task_inputs() -> None:
    program = load_shipped_program("hist", simplified=True)
    task = json.loads((shipped_program_dir("hist") / "task.json").read_text())
    compiled = compile_program(to_rasp(program), vocab=task["tokens"], max_seq_len=task["n_ctx"],
                               attention_kind="hard", compact=True)
    tokens, lengths = task_inputs("hist", task["tokens"], task["n_ctx"])
    pick = torch.randperm(len(tokens), generator=torch.Generator().manual_seed(0))[:300]
    tokens, lengths = tokens[pick], lengths[pick]
    words = [[task["tokens"][t] for t in row[:n].tolist()] for row, n in zip(tokens, lengths)]
    argmax_program = load_shipped_program("hist")  # the simplified form equals it on every input
    assert compiled.run_batch(words) == _labels(argmax_program, tokens, lengths)
