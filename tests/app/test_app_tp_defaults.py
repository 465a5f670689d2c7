"""Defaults on the Transformer Program `sort`: the Residual stream view opens on a variable
the model computes (not `tokens`, whose row is the same at every stage) and shows `<s>`/`</s>`
rather than blank cells (plotly reads cell text as HTML); the Program view opens on the head
whose zero-ablation moves the answers most (brute force with the model's hooks, here)."""

from __future__ import annotations

import html

import pytest
import torch
from app_harness import array, assert_clean, chart, choose_view, shipped_program_view

from interp.analysis import residual_readout
from interp.app.model_run import model_input
from interp.app.subject import named_subject


@pytest.fixture(scope="module")
def residual():
    return shipped_program_view("sort", "Residual stream")


def _readout(at):
    """Every variable's decoded values per stage, read here with the model's readout."""
    subject = named_subject("program:sort")
    _, ids = model_input(subject, at.session_state["input_text"].split())
    with torch.no_grad():
        return residual_readout(subject.model, ids)


def test_residual_opens_on_the_most_varied_computed_variable(residual):
    at = residual
    picked = at.session_state["residual_variable"]
    readout = _readout(at)
    first = readout.values[readout.hooks[0]]
    assert first.get(picked) is None, f"{picked} is an input, held from the embedding on"

    def distinct(var: str) -> int:
        held = [h for h in readout.hooks if readout.values[h].get(var) is not None]
        return len({repr(v) for v in readout.values[held[-1]][var]}) if held else 0

    computed = [v for v in readout.variables if first.get(v) is None]
    assert distinct(picked) == max(distinct(v) for v in computed) > 1
    # The chart shades where a sublayer wrote the variable: not a flat, unchanging row.
    assert any(v == 1 for row in array(chart(at, "residual_variable_chart")["data"][0]["z"]) for v in row)
    assert any(c.value.startswith(f"Opened on {picked}:") for c in at.caption)


def test_bos_and_eos_show_in_the_decoded_chart(residual):
    at = residual
    at.selectbox(key="residual_variable").set_value("tokens").run()
    assert_clean(at)
    cells = chart(at, "residual_variable_chart")["data"][0]["text"]
    tokens = at.session_state["input_text"].split()  # <s> 3 0 2 4 </s>
    assert tokens[0] == "<s>" and tokens[-1] == "</s>"
    embed_row = cells[0]
    # Position 0 is the sink; then the input tokens, escaped so the browser shows them.
    assert embed_row[1:] == [html.escape(t, quote=False) for t in tokens]


def _brute_force_head(at) -> str:
    """Zero each head's z alone; the largest mean KL(clean || ablated) over the answers (the
    input's digits: model positions 2.. before `</s>`, after the sink and `<s>`)."""
    subject = named_subject("program:sort")
    model = subject.model
    tokens = at.session_state["input_text"].split()
    _, ids = model_input(subject, tokens)
    answers = [1 + i for i, t in enumerate(tokens) if t not in ("<s>", "</s>")]
    with torch.no_grad():
        clean = model(ids)[0, answers].log_softmax(-1)  # [answers, vocab]
    effects = {}
    for layer in range(model.cfg.n_layers):
        for head in range(model.cfg.n_heads):
            def zero(z, hook, head=head):  # z: [batch, pos, n_heads, d_head]
                z = z.clone()
                z[:, :, head] = 0.0
                return z

            with torch.no_grad(), model.hooks(fwd_hooks=[(f"blocks.{layer}.attn.hook_z", zero)]):
                ablated = model(ids)[0, answers].log_softmax(-1)
            effects[f"L{layer}H{head}"] = float((clean.exp() * (clean - ablated)).sum(-1).mean())
    return max(effects, key=effects.get)


def test_program_view_opens_on_the_most_effective_head(residual):
    at = choose_view(residual, "Program")
    expected = _brute_force_head(at)
    assert at.session_state["tp_head"].component == expected
    assert any(c.value.startswith(f"Opened on {expected}:") for c in at.caption)


def test_component_without_direct_effect_says_so_instead_of_a_blank_chart(residual):
    at = choose_view(residual, "Component")
    name = at.session_state["component_name"].split()[0]  # the salient head, e.g. L2H4
    layer, head = (int(x) for x in name[1:].split("H"))
    model = named_subject("program:sort").model
    # What the head can write (W_O's row space) read by the unembedding: exactly nothing.
    direct = (model.blocks[layer].attn.W_O[head] @ model.unembed.W_U).detach()  # [d_head, d_vocab_out]
    assert float(direct.abs().max()) < 1e-9
    assert any("no direct effect on the output logits" in i.value for i in at.info)
    assert not [c for c in at.get("plotly_chart") if "component_logits" in c.proto.id]
