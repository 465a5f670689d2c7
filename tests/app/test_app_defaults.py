"""Informative defaults: views open on the head whose ablation changes the answers most (checked
against one-head-at-a-time ablation), on a variable that is not blank, on an answer position;
grids of many heads hide the empty ones behind a toggle and page their layers."""

from __future__ import annotations

import pytest
import torch
from app_harness import assert_clean, chart, choose_view, start_app

from interp.analysis import ablation_effect, kl_divergence
from rasp.compiler import compile_program
from rasp.lib import PROGRAMS


@pytest.fixture(scope="module")
def app():
    return start_app()


def _expected_head(at) -> str:
    """Brute force: zero each head with non-zero weights alone, KL at the answer positions
    (compiled: BOS first, every input position answers)."""
    entry = PROGRAMS["reverse"]
    compiled = compile_program(entry.build(), entry.vocab, 8)
    model = compiled.model
    ids = torch.tensor([compiled.encode(at.session_state["input_text"].split())])  # [1, pos]
    metric = kl_divergence(model(ids).detach(), list(range(1, ids.shape[1])))
    used = [(la, h) for la in range(model.cfg.n_layers) for h in range(model.cfg.n_heads)
            if model.blocks[la].attn.W_O[h].abs().max() > 0]
    effects = {f"L{la}H{h}": ablation_effect(model, ids, metric, heads=[(la, h)]) for la, h in used}
    return max(effects, key=effects.get)


def test_views_open_on_the_head_that_changes_the_answer_most(app):
    expected = _expected_head(app)
    assert app.session_state["attention_head"] == expected
    assert any(c.value.startswith(f"Opened on {expected}:") for c in app.caption)
    at = choose_view(app, "Weights")
    assert at.session_state["weights_head"] == expected
    at = choose_view(app, "Token attention")
    assert f"L{at.session_state['tokens_layer']}{at.session_state['tokens_head']}" == expected


def test_a_chosen_head_stays_until_the_input_changes(app):
    at = choose_view(app, "Attention")
    picked = at.session_state["attention_head"]
    other = [h for h in at.selectbox(key="attention_head").options if h != picked][0]
    at.selectbox(key="attention_head").set_value(other).run()
    at.radio(key="view").set_value("Weights").run()
    at.radio(key="view").set_value("Attention").run()
    assert at.session_state["attention_head"] == other


def test_residual_opens_on_a_variable_with_values_and_dla_on_an_answer(app):
    at = choose_view(app, "Residual stream")
    assert_clean(at)
    cells = chart(at, "residual_variable_chart")["data"][0]["text"]
    assert any(cell not in ("", "·") for row in cells for cell in row)
    assert any(c.value.startswith("Opened on ") for c in at.caption)


def test_many_heads_hide_empty_ones_and_page_layers():
    at = start_app()
    at.selectbox(key="library_program").set_value("alta_add").run()
    assert_clean(at)
    grid = chart(at, "attention_grid")
    names = [t["name"] for t in grid["data"]]
    assert 0 < len(names) <= 24 and all(t["coloraxis"] == "coloraxis" for t in grid["data"])
    assert at.radio(key="attention_page").options  # more used heads than one page holds
    assert at.session_state["attention_head"].split("H")[0] in {n.split("H")[0] for n in names}
    at.toggle(key="attention_show_unused").set_value(True).run()
    assert_clean(at)
    shown = chart(at, "attention_grid")["data"]
    assert any(t["coloraxis"] == "coloraxis2" for t in shown)  # the empty heads, in grey
