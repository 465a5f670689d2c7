"""A Transformer Program's output variable: the computed variable the output equals most often
on its task's inputs (its output is an argmax over a linear read-out of every variable), not
the last residual label (`attn_2_3_at_bos`, a scratch direction). Checked against the lossless
hooked model: each variable decoded from its residual stream next to the model's own output,
on the same task inputs; and the Residual stream view opens on it, or says why not."""

from __future__ import annotations

import random

import pytest
import torch
from app_harness import assert_clean, choose_view, start_app

from interp.app.subject import named_subject
from interp.model.labels import residual_stage
from interp.programs.program import BOS, EOS
from interp.programs.views import OUTPUT_MATCH_INPUTS
from interp.subjects.base import argmax_names


def _reference(name: str) -> dict[str, tuple[float, int]]:
    """Per computed variable the read-out depends on: (fraction of answer positions where its
    value, decoded from the hooked model's final residual stream, equals its output (argmax);
    distinct values), over the inputs the subject's sampler draws with seed 0."""
    subject = named_subject(name)
    program, model = subject.exact, subject.model
    shape = program.shape
    cat, num = shape.cat_var_names(), shape.num_var_names()
    # The read-out depends on a variable when its weights differ between values (categorical)
    # or are non-zero (counts), straight from the program's read-out tensors.
    read = [n for i, n in enumerate(cat) if (program.readout_cat[i] != program.readout_cat[i][0]).any()]
    read += [n for i, n in enumerate(num) if program.readout_num[i].any()]
    computed = [n for n in read if n not in ("tokens", "positions", "ones")]
    rng = random.Random(0)
    by_length: dict[int, list[list[str]]] = {}
    for _ in range(OUTPUT_MATCH_INPUTS):
        row = subject.sample(rng, None)
        by_length.setdefault(len(row), []).append(row)
    labels, last = model.residual_labels, f"blocks.{model.cfg.n_layers - 1}.hook_resid_post"
    final = residual_stage(last)
    equal = dict.fromkeys(computed, 0)
    seen: dict[str, set] = {n: set() for n in computed}
    total = 0
    for rows in by_length.values():
        ids = torch.cat([subject.encode(row)[1] for row in rows])  # [batch, 1 + pos]: sink first
        with torch.no_grad():
            logits, cache = model.run_with_cache(ids, names_filter=lambda n: n == last)
        output = [argmax_names(model, logits[r:r + 1]) for r in range(len(rows))]  # per position
        decoded = {var: labels.read(cache[last], var, final) for var in computed}  # [batch][pos]
        for r, row in enumerate(rows):
            answers = [1 + p for p, t in enumerate(row) if t not in (BOS, EOS)]
            total += len(answers)
            for var in computed:
                for p in answers:
                    seen[var].add(str(decoded[var][r][p]))
                    equal[var] += str(decoded[var][r][p]) == str(output[r][p])
    return {var: (equal[var] / total, len(seen[var])) for var in computed}


@pytest.mark.parametrize("name", ["program:hist", "program:sort"])
def test_output_variable_is_the_one_the_output_equals_most(name):
    reference = _reference(name)
    picked = named_subject(name).output_variable()
    varied = {v: share for v, (share, distinct) in reference.items() if distinct >= 2}
    assert picked in varied, (picked, reference)
    assert varied[picked] == max(varied.values()) > 0
    if name == "program:hist":
        assert picked == "count_0_1" and varied[picked] == 1.0  # hist's output is exactly a count


def test_residual_view_opens_on_the_output_variable_with_its_note():
    at = start_app()
    at.radio(key="source").set_value("Transformer Program").run()
    at.selectbox(key="shipped_program").set_value("hist").run()
    choose_view(at, "Residual stream")
    assert_clean(at)
    assert at.session_state["residual_variable"] == "count_0_1"
    notes = [c.value for c in at.caption if c.value.startswith("Opened on ")]
    assert notes and notes[0].startswith("Opened on count_0_1: the output variable ("), notes
