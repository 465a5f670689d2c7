"""Component pages: a head's or a direction's top-activating task inputs (answer positions only,
values checked against a fresh forward pass), its activation histogram and what it computes."""

from __future__ import annotations

import pytest
import torch
from app_harness import array, assert_clean, chart, choose_view, errors, start_app

from interp.app.panels.component import SAMPLES
from rasp.compiler import compile_program
from rasp.lib import PROGRAMS


@pytest.fixture(scope="module")
def page():
    return choose_view(start_app(), "Component")


def test_head_page_lists_top_inputs_with_their_true_activation(page):
    at = page
    assert not errors(at), errors(at)
    name = at.session_state["component_name"]
    assert any("Aggregate" in m.value for m in at.markdown if m.value.startswith("**What it computes**"))
    top = at.dataframe[0].value
    entry = PROGRAMS["reverse"]
    compiled = compile_program(entry.build(), entry.vocab, 8)
    layer, head = (int(x) for x in name[1:].split("H"))
    for _, row in top.head(3).iterrows():
        tokens = row["input"].split()
        position = int(row["at position"].split(":")[0])
        assert position >= 1  # never the BOS: answer positions only
        with torch.no_grad():
            _, cache = compiled.model.run_with_cache(torch.tensor([compiled.encode(tokens)]))
            z = cache[f"blocks.{layer}.attn.hook_z"][0, position, head]
            expected = float((z @ compiled.model.blocks[layer].attn.W_O[head]).norm())
        assert float(row["activation"]) == pytest.approx(expected, rel=1e-3, abs=1e-4)
    values = array(chart(at, "component_histogram")["data"][0]["x"])
    assert len(values) >= SAMPLES  # at least one answer position per sampled input
    assert chart(at, "component_logits")["data"][0]["y"]


def test_direction_page_says_which_variable_value_it_carries(page):
    at = page
    direction = [o for o in at.selectbox(key="component_name").options if o.startswith("R")][0]
    at.selectbox(key="component_name").set_value(direction).run()
    assert_clean(at)
    carried = [m.value for m in at.markdown if m.value.startswith("**What it computes**")]
    assert carried and "carries" in carried[0] and ":" in carried[0]
