"""The front door (interp/subjects): one rule each for programs, vocabularies, tokens,
input lengths and saved models."""

from __future__ import annotations

import random

import pytest

import rasp
from interp.errors import CheckpointError, InputError
from interp.subjects import (
    ProgramFileError,
    input_lengths,
    load_program,
    load_subject,
    parse_tokens,
    parse_vocab,
    saved_subject,
)
from interp.subjects.plain import PlainSubject
from rasp.compiler import compile_program
from rasp.lib import PROGRAMS


@pytest.mark.parametrize("text,like,expected", [
    ("a,b,c", None, ["a", "b", "c"]),
    ("a b  c", None, ["a", "b", "c"]),
    ("a, b ,c,", ["x"], ["a", "b", "c"]),
    ("1,2,-3", None, [1, 2, -3]),
    ("1 2", [5, 6], [1, 2]),
    ("1,2", ["a"], ["1", "2"]),  # the default is text: numbers stay text
    ("1,x", None, ["1", "x"]),
    ("b,a,b", None, ["b", "a"]),  # duplicates dropped, first order kept
    ("1-2,3", None, ["1-2", "3"]),
    ("1,²", None, ["1", "²"]),  # '²'.isdigit() is True but int('²') fails
    ("--1,2", None, ["--1", "2"]),
])
def test_parse_vocab(text, like, expected):
    assert parse_vocab(text, like) == expected


@pytest.mark.parametrize("text", ["", " , ", ","])
def test_empty_vocab_is_an_error(text):
    with pytest.raises(InputError, match="empty"):
        parse_vocab(text)


def test_parse_tokens_matches_the_vocabulary_by_text():
    assert parse_tokens("1 2 1", [1, 2, 3]) == [1, 2, 1]
    assert parse_tokens("a b", ["a", "b"]) == ["a", "b"]
    assert parse_tokens("1 x -2", None, ints=True) == [1, "x", -2]
    assert parse_tokens("1 x", None) == ["1", "x"]
    with pytest.raises(InputError, match=r"token 'z' at position 2"):
        parse_tokens("a b z", ["a", "b"])
    with pytest.raises(InputError, match="empty"):
        parse_tokens("   ", ["a"])


@pytest.mark.parametrize("n,expected", [(1, [1]), (3, [1, 2, 3]), (5, [1, 2, 3, 4, 5]),
                                         (8, [1, 2, 3, 4, 7, 8]), (20, [1, 2, 3, 4, 10, 19, 20])])
def test_input_lengths(n, expected):
    assert input_lengths(n) == expected


def test_a_library_name_that_is_also_a_file_here_is_refused_as_ambiguous(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reverse").write_text("out = tokens;\n")
    with pytest.raises(InputError, match=r"ambiguous.*write ./reverse for the file or lib:reverse"):
        load_program("reverse")
    assert load_program("lib:reverse").library_name == "reverse"
    source = load_program("./reverse")
    assert source.library_name is None
    assert rasp.evaluate(source.program, ["a", "b"]) == ["a", "b"]  # the file's program


def test_python_and_textual_program_files(tmp_path):
    (tmp_path / "p.py").write_text("import rasp\nprogram = rasp.Map(lambda x: x + 1, rasp.tokens)\n"
                                   "vocab = {1, 2}\nmax_seq_len = 3\n")
    source = load_program(str(tmp_path / "p.py"))
    assert sorted(source.vocab) == [1, 2] and source.max_seq_len == 3
    assert rasp.evaluate(source.program, [1, 2]) == [2, 3]
    (tmp_path / "p.txt").write_text("a = tokens;\nb = indices;\n")
    assert rasp.evaluate(load_program(str(tmp_path / "p.txt"), output="a").program, ["x"]) == ["x"]


def test_a_raising_program_file_is_the_programs_error(tmp_path):
    (tmp_path / "p.py").write_text("import rasp\n\n\ndef f():\n    raise KeyError('oops')\n\n\nf()\n")
    with pytest.raises(ProgramFileError, match=r"p\.py \(line 5\) raised KeyError: 'oops'"):
        load_program(str(tmp_path / "p.py"))


def test_library_subject_compiles_with_its_defaults_and_samples_valid_inputs():
    subject = load_subject("dyck1", max_len=6)
    entry = PROGRAMS["dyck1"]
    assert subject.vocab == list(entry.vocab) and subject.max_seq_len == 6
    assert subject.library_name == "dyck1"  # the library's sampler (balanced words) applies
    batches = subject.analysis_inputs(per_length=2, seed=0).batches
    assert [b.shape[1] for b in batches] == [n + 1 for n in input_lengths(6)]  # BOS first
    sample = subject.sample(random.Random(0), 4)
    assert rasp.evaluate(entry.build(), sample) == subject.compiled.run(sample)
    assert load_subject("dyck1", ")", 6).library_name is None  # other vocab: uniform sampling


def test_saved_compiled_subject_reads_the_weights_once(tmp_path, monkeypatch):
    from interp.model import checkpoint

    compiled = compile_program(PROGRAMS["reverse"].build(), ["a", "b"], 3)
    compiled.save(tmp_path / "m")
    reads = []
    original = checkpoint.load_file
    monkeypatch.setattr(checkpoint, "load_file", lambda path: reads.append(path) or original(path))
    subject = saved_subject(tmp_path / "m")
    assert len(reads) == 1
    assert subject.ground_truth() is not None and subject.vocab == ["a", "b"] and subject.max_seq_len == 3
    assert subject.run(subject.parse_input("a b b")) == ["b", "b", "a"]


def test_saved_plain_subject_and_its_random_batches(tmp_path):
    from interp.model import HookedTransformer, ModelConfig

    cfg = ModelConfig(n_layers=1, d_model=4, n_ctx=5, d_vocab=3, seed=0)
    HookedTransformer(cfg).save(tmp_path / "m")
    subject = load_subject(str(tmp_path / "m"), max_len=4)
    assert isinstance(subject, PlainSubject) and subject.vocab == [0, 1, 2]
    (batch,) = subject.analysis_inputs(per_length=2, seed=1).batches
    assert batch.shape == (16, 4) and int(batch.max()) < 3
    with pytest.raises(CheckpointError, match="not a compiled RASP model"):
        from interp.subjects import load_compiled

        load_compiled(tmp_path / "m")
