"""A lighter Residual stream view for big labelled models (the Transformer Program `sort`:
81 components): the component norms, logit lens and attribution are drawn only on demand
(a collapsed expander still drew them), and components whose output is exactly zero on the
input are no rows; checked against each head's and MLP's output computed here from the cache."""

from __future__ import annotations

import pytest
import torch
from app_harness import assert_clean, chart, shipped_program_view

from interp.app.model_run import model_input
from interp.app.subject import named_subject

COMPONENT_CHARTS = ("component_norms", "logit_lens", "dla_bars")


@pytest.fixture(scope="module")
def residual():
    return shipped_program_view("sort", "Residual stream")


def _writing_components(tokens: list[str]) -> set[str]:
    """Heads and MLPs whose output (z·W_O per head, the MLP's output) is non-zero somewhere."""
    subject = named_subject("program:sort")
    model = subject.model
    _, ids = model_input(subject, tokens)
    with torch.no_grad():
        _, cache = model.run_with_cache(ids)
        writing = set()
        for layer in range(model.cfg.n_layers):
            z = cache[f"blocks.{layer}.attn.hook_z"][0]  # [pos, n_heads, d_head]
            for head in range(model.cfg.n_heads):
                if (z[:, head] @ model.blocks[layer].attn.W_O[head]).abs().max() > 0:  # [pos, d_model]
                    writing.add(f"L{layer}H{head}")
            if cache[f"blocks.{layer}.hook_mlp_out"][0].abs().max() > 0:
                writing.add(f"MLP{layer}")
    return writing


def test_components_are_drawn_only_on_demand(residual):
    at = residual
    drawn = [e.proto.id for e in at.get("plotly_chart")]
    assert not [key for key in COMPONENT_CHARTS if any(key in i for i in drawn)], drawn
    at.toggle(key="residual_components").set_value(True).run()
    assert_clean(at)
    for key in COMPONENT_CHARTS:
        chart(at, key)


def test_silent_components_are_no_rows(residual):
    at = residual
    at.toggle(key="residual_components").set_value(True).run()
    rows = chart(at, "component_norms")["layout"]["yaxis"]["ticktext"]
    bars = chart(at, "dla_bars")["data"][0]["y"]
    components = {r for r in rows if r.startswith(("L", "MLP"))}
    expected = _writing_components(at.session_state["input_text"].split())
    assert components == expected and len(expected) < 72  # most of the 72 heads write nothing
    assert list(bars) == list(rows)
    assert any("write nothing on this input" in c.value for c in at.caption)
