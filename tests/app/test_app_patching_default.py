"""The default Patching view of the Markov model (64 tokens, a tiny model) runs its sweeps and
shows an effect, instead of a "this model is large" button; checked with the model itself."""

from __future__ import annotations

import re

import torch
from app_harness import chart, choose_view, open_shipped

from app.subject import named_subject


def test_markov_patching_opens_on_an_effect_not_a_button():
    at = choose_view(open_shipped("markov-switching"), "Patching")
    assert not [i.value for i in at.info if "Press Run patching" in i.value]
    chart(at, "patch_positions")  # the sweeps ran
    chart(at, "patch_heads")
    line = [m.value for m in at.markdown if m.value.startswith("**Clean**")][0]
    clean, corrupted = (text.split() for text in re.findall(r"`([^`]*)`", line))
    assert clean != corrupted
    # The corruption moves the model's next-token distribution (read here, not from the app).
    subject = named_subject("model:markov-switching")
    vocab = subject.model.cfg.vocab
    ids = torch.tensor([[vocab.index(t) for t in clean], [vocab.index(t) for t in corrupted]])
    with torch.no_grad():
        probs = subject.model(ids).softmax(-1)  # [2, pos, vocab]
    assert (probs[0] - probs[1]).abs().max() > 1e-3
    clean_value, corrupted_value = (float(m.value) for m in at.metric[:2])
    assert clean_value != corrupted_value
