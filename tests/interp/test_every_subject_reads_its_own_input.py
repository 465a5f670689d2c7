"""Every name `interp models` lists reads back what it shows: the example input `interp info`
prints, typed back, encodes to the same token ids (or the same prompt), and a sample does too.
(siit-hist_bos once showed 'BOS b b a' and refused it: its own BOS token was taken for the
model's.)"""

from __future__ import annotations

import random

import pytest
import torch

from interp.subjects import catalogue, load_subject

NAMES = [row["name"] for row in catalogue()]


@pytest.mark.parametrize("name", NAMES)
def test_the_shown_example_and_a_sample_read_back_to_the_same_model_input(name):
    subject = load_subject(name)
    for given in (subject.default_input(), subject.sample(random.Random(1))):
        names, ids = subject.encode(given)
        again_names, again_ids = subject.encode(subject.parse_input(subject.format_input(given)))
        assert again_names == names and torch.equal(again_ids, ids), subject.format_input(given)
