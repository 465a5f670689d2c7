"""Regression prompts on screen: Patching says what the corruption changed (was two JSON dumps
cut at 300 characters, identical on screen) and opens on the sweeps' result; the Component
view names its top prompts instead of dumping their JSON."""

from __future__ import annotations

import random
import re

import pytest
from app_harness import assert_clean, chart, choose_view, open_shipped

from interp.app.subject import named_subject


@pytest.fixture(scope="module")
def patching():
    return choose_view(open_shipped("icl-gpt"), "Patching")


def _line(at) -> str:
    return [m.value for m in at.markdown if m.value.startswith("**Clean**")][0]


def test_resampling_w_changes_every_y_and_no_x(patching):
    at = patching
    at.selectbox(key="patch_corruption").set_value("resample the task vector w").run()
    assert_clean(at)
    line = _line(at)
    assert "{" not in line  # no JSON
    assert "x changed at: none" in line
    changed_y = re.search(r"y changed at: ([^(]*)\(", line)[1]
    k = int(at.number_input(key="icl_k").value)  # in-context examples before the query
    names = [n.strip() for n in changed_y.split(",")]
    assert names == [f"example {i}" for i in range(k)] + ["query"]
    chart(at, "patch_positions")  # the sweeps ran on their own (a small model)


def test_resampling_the_query_changes_only_the_query(patching):
    at = patching
    at.selectbox(key="patch_corruption").set_value("resample the query x").run()
    assert_clean(at)
    line = _line(at)
    assert "x changed at: query;" in line


def test_component_top_inputs_name_prompts_not_json(patching):
    """The Component view's top-activating prompts, regenerated here from the task (seed 0)."""
    at = choose_view(patching, "Component")
    table = [d.value for d in at.dataframe if "activation" in d.value.columns][0]  # the top inputs
    subject = named_subject("model:icl-gpt")
    rng = random.Random(0)
    prompts = [subject.sample(rng) for _ in range(64)]
    for text in table["input"]:
        match = re.fullmatch(r"prompt (\d+): (\d+) examples, query y (\S+)", text)
        assert match, text
        xs, ys = prompts[int(match[1])]
        assert int(match[2]) == len(xs) - 1
        assert float(match[3]) == pytest.approx(float(ys[-1]), rel=1e-3, abs=1e-3)
