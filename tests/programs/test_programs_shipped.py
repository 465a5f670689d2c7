"""Shipped trained programs load, reproduce their recorded test accuracy on their stored test
split (whose labels are rechecked against the RASP library), and their hooked model and
decompiled Python equal them exactly."""

from __future__ import annotations

import json

import pytest
import torch

import rasp
from interp.errors import InputError
from interp.programs.convert import hooked_predict
from interp.programs.decompile import load_python, to_python
from interp.programs.shipped import (
    load_shipped_model,
    load_shipped_program,
    shipped_program_dir,
    shipped_programs,
    shipped_test_accuracy,
)

SHIPPED = shipped_programs()
# task -> (the RASP library program for n_ctx, the scored body of an input, as the program's inputs)
LIBRARY = {
    "sort": (lambda n: rasp.lib.make_sort(rasp.tokens, rasp.tokens, max_seq_len=n, min_key=1),
             lambda words: [int(w) for w in words[1:-1]]),  # [BOS] + digits + [EOS]; keys are numbers
    "hist": (lambda n: rasp.lib.make_hist(), lambda words: words[1:]),  # [BOS] + digits
}


def test_something_is_shipped() -> None:
    assert SHIPPED, "interp/shipped/programs/index.json lists no program"
    for entry in SHIPPED.values():
        assert {"task", "command", "seed", "hard_test_accuracy", "dir"} <= set(entry)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_program_accuracy_and_forms(name: str) -> None:
    entry = SHIPPED[name]
    program = load_shipped_program(name)
    shape = program.shape
    stored = json.loads((shipped_program_dir(name) / "test.json").read_text())
    inputs, targets = stored["inputs"], stored["targets"]
    if entry["task"] in LIBRARY:  # score against the RASP interpreter, not the stored labels
        build, body_of = LIBRARY[entry["task"]]
        library = build(shape.n_ctx)
        checked = []
        for words, labels in zip(inputs, targets):
            reference = iter(str(v) for v in rasp.evaluate(library, body_of(words)))
            checked.append([None if label is None else next(reference) for label in labels])
        targets = checked
    index = {t: i for i, t in enumerate(shape.tokens)}
    tokens = torch.zeros(len(inputs), shape.n_ctx, dtype=torch.long)
    lengths = torch.tensor([len(x) for x in inputs])
    for row, words in enumerate(inputs):
        tokens[row, : len(words)] = torch.tensor([index[w] for w in words])
    predicted = program.predict(tokens, lengths)
    right = total = 0
    for row, labels in zip(predicted, targets):
        for position, label in enumerate(labels):
            if label is not None:
                total += 1
                right += shape.labels[int(row[position])] == label
    assert right / total == pytest.approx(entry["hard_test_accuracy"], abs=1e-9)
    # the helper the notebooks use: recorded by training's own accuracy() on the same split
    assert shipped_test_accuracy(name) == pytest.approx(entry["hard_test_accuracy"], abs=1e-9)
    rows = slice(0, 150)
    real = torch.arange(shape.n_ctx)[None] < lengths[rows, None]
    hooked = hooked_predict(load_shipped_model(name), tokens[rows], lengths[rows])
    assert torch.equal(hooked[real], predicted[rows][real])
    simplified = load_shipped_program(name, simplified=True)
    run = load_python(to_python(simplified))
    for words, row in zip(inputs[rows], predicted[rows]):
        assert run(words) == [shape.labels[i] for i in row[: len(words)].tolist()]


def test_shipped_test_accuracy_names_an_unknown_program() -> None:
    with pytest.raises(InputError, match="no shipped Transformer Program"):
        shipped_test_accuracy("no-such-program")
