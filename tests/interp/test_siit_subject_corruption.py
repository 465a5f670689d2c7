"""A SIIT model's task-aware corruption changes one token so that the program's answer
changes (judged here by the RASP reference interpreter, not by the compiled model the subject
asks), so the default Patching view has an effect to attribute."""

from __future__ import annotations

import random

import pytest

import rasp
from interp.subjects import catalogue, load_subject
from interp.tasks.siit_programs import library_program

SIIT_MODELS = [row["name"] for row in catalogue() if row["kind"] == "shipped SIIT model"]


@pytest.mark.parametrize("name", SIIT_MODELS)
def test_the_default_corruption_changes_one_token_and_the_programs_answer_when_one_can(name):
    subject = load_subject(name)
    library = library_program(subject.task.program)
    program, values = library.build(), {str(v): v for v in library.vocab}

    def answer(tokens):  # the reference interpreter on the program's own token values
        return rasp.evaluate(program, [values[t] for t in tokens])

    for seed in range(3):
        clean = subject.sample(random.Random(seed))
        corrupted = subject.corrupt(clean, seed)
        assert len(corrupted) == len(clean) and sum(a != b for a, b in zip(clean, corrupted)) == 1
        # Brute force: does any one-token change alter the answer?
        can = any(answer([*clean[:p], v, *clean[p + 1:]]) != answer(clean)
                  for p in range(len(clean)) for v in values if v != clean[p])
        assert (answer(corrupted) != answer(clean)) == can, (clean, corrupted)


def test_a_programs_own_bos_token_is_an_input_not_the_models_bos():
    subject = load_subject("siit-hist_bos")
    clean = subject.parse_input("BOS b b a")  # hist_bos reads its own BOS first; the model's is added
    names, ids = subject.encode(clean)
    assert names == ["BOS", "BOS", "b", "b", "a"] and ids[0, 0] == 0 and ids[0, 1] != 0
    assert subject.run(clean)[1:] == ["2", "2", "1"]  # hist of b b a, computed by hand


def test_the_task_corruption_is_listed_first_and_not_shadowed_by_a_generic_one():
    subject = load_subject(SIIT_MODELS[0])
    names = list(subject.corruptions())
    assert names[0] == "change one token so the program's output changes"
    assert len(names) == len(set(names)) and "replace one random token" in names
