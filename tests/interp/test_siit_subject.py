"""A SIIT model as a subject (interp.subjects.siit): BOS is added, only the trained length is
read (another length is refused, not answered), outputs equal the interpreter's, and the
corruption never writes BOS or touches position 0."""

import random

import pytest
import torch

from interp.cli import main
from interp.errors import InputError
from interp.subjects import load_subject
from rasp.evaluate import evaluate
from rasp.lib import PROGRAMS


def test_run_adds_bos_and_matches_the_interpreter(capsys):
    want = " ".join(evaluate(PROGRAMS["reverse"].build(), list("abcd")))  # d c b a
    for text in ("a b c d", "BOS a b c d", "abcd"):
        assert main(["run", "siit-reverse", "--input", text]) == 0
        assert capsys.readouterr().out.strip() == want


def test_other_lengths_are_refused(capsys):
    assert main(["run", "siit-reverse", "--input", "a b c"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "exactly 4 tokens" in err[0] and "got 3" in err[0]
    subject = load_subject("siit-reverse")
    with pytest.raises(InputError, match="BOS may only come first"):
        subject.encode(["a", "BOS", "b", "c"])


def test_corruption_keeps_bos_and_never_writes_it():
    subject = load_subject("siit-sort")
    inputs = subject.analysis_inputs(4)
    clean, corrupted = inputs.batches[0], inputs.corrupted[0]
    assert torch.equal(corrupted[:, 0], clean[:, 0]) and (clean[:, 0] == 0).all()
    assert (corrupted[:, 1:] != 0).all()
    assert ((corrupted != clean).sum(dim=1) == 1).all()  # exactly one token changed per row
    assert all(len(subject.sample(random.Random(s))) == 4 for s in range(5))
