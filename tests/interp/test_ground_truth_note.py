"""Each subject with a ground truth says what that truth is (the Circuit view's caption comes
from the subject, never from a kind check in the app); subjects without one say nothing."""

from __future__ import annotations

import pytest

from interp.subjects import load_subject


@pytest.mark.parametrize("name,words", [
    ("reverse", "compiler's circuit"),
    ("siit-sort", "SIIT trained it to implement"),
    ("program:hist", "non-silent edges"),
])
def test_subjects_with_a_truth_describe_it(name: str, words: str) -> None:
    assert words in load_subject(name).ground_truth_note()


def test_a_trained_model_has_no_truth_and_no_note() -> None:
    subject = load_subject("addition-1l")
    assert subject.ground_truth() is None and subject.ground_truth_note() == ""
