"""The default Patching view of the Markov model (64 tokens, a tiny model) runs its sweeps and
shows an effect, instead of a "this model is large" button; checked with the model itself."""

from __future__ import annotations

import re

import torch
from app_harness import chart, choose_view, open_shipped

from interp.app.subject import named_subject


def test_markov_patching_opens_on_an_effect_not_a_button():
    at = open_shipped("markov-switching")
    # Its one head barely matters on this input (zeroed here with a hook): the note says so.
    subject = named_subject("model:markov-switching")
    vocab = subject.model.cfg.vocab
    shown = at.session_state["input_text"]
    tokens = shown.split() if " " in shown else list(shown)
    ids = torch.tensor([[vocab.index(t) for t in tokens]])

    def zero(z, hook):  # z: [batch, pos, n_heads, d_head]
        return torch.zeros_like(z)

    with torch.no_grad():
        clean = subject.model(ids).log_softmax(-1)
        with subject.model.hooks(fwd_hooks=[("blocks.0.attn.hook_z", zero)]):
            ablated = subject.model(ids).log_softmax(-1)
    assert subject.model.cfg.n_layers * subject.model.cfg.n_heads == 1
    assert float((clean.exp() * (clean - ablated)).sum(-1).max()) < 1e-4
    assert any(c.value.startswith("Opened on L0H0:") and "barely" in c.value for c in at.caption)
    at = choose_view(at, "Patching")
    assert not [i.value for i in at.info if "Press Run patching" in i.value]
    chart(at, "patch_positions")  # the sweeps ran
    chart(at, "patch_heads")
    line = [m.value for m in at.markdown if m.value.startswith("**Clean**")][0]
    clean, corrupted = (text.split() for text in re.findall(r"`([^`]*)`", line))
    assert clean != corrupted
    # The corruption moves the model's next-token distribution (read here, not from the app).
    ids = torch.tensor([[vocab.index(t) for t in clean], [vocab.index(t) for t in corrupted]])
    with torch.no_grad():
        probs = subject.model(ids).softmax(-1)  # [2, pos, vocab]
    assert (probs[0] - probs[1]).abs().max() > 1e-3
    clean_value, corrupted_value = (float(m.value) for m in at.metric[:2])
    assert clean_value != corrupted_value


def test_markov_charts_stay_readable_at_64_positions():
    """A fixed [-1, 1] scale for the fraction restored (the one head's ~1e-11 filled a scale of
    its own with saturated blue), and no 64 cell texts or tick labels on top of each other."""
    at = choose_view(open_shipped("markov-switching"), "Patching")
    heads = chart(at, "patch_heads")["data"][0]
    assert (heads["zmin"], heads["zmax"]) == (-1.0, 1.0)
    positions = chart(at, "patch_positions")["layout"]["xaxis"]
    n = len(at.session_state["input_text"].replace(" ", ""))
    assert n == 64 and len(positions["tickvals"]) < n / 2  # every k-th position labelled
    at = choose_view(at, "Residual stream")
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    lens = [s for s in specs if "texttemplate" not in s and "%{text}" in s]
    assert lens, "the logit lens should carry its top tokens in the hover, not 64 crowded cell texts"
