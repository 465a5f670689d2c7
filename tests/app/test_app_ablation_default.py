"""The Ablation view opens with the head that matters most switched off (not on an empty
selection), checked against a brute-force ablation written here with the model's own hooks."""

from __future__ import annotations

import pytest
import torch
from app_harness import assert_clean, choose_view, open_shipped, start_app

from interp.app.subject import named_subject
from rasp.compiler import compile_program
from rasp.lib import PROGRAMS


def _zeroed_logits(model, ids: torch.Tensor, layer: int, head: int) -> torch.Tensor:
    """Logits with head (layer, head)'s output z zeroed at every position."""
    def hook(z, hook):  # z: [batch, pos, n_heads, d_head]
        z = z.clone()
        z[:, :, head] = 0.0
        return z

    with torch.no_grad(), model.hooks(fwd_hooks=[(f"blocks.{layer}.attn.hook_z", hook)]):
        return model(ids)


def _brute_force(text: str) -> tuple[str, list[bool]]:
    """(head whose zeroing moves the answers most by KL, which answers that changes), over the
    heads with non-zero weights; answers are every position after BOS."""
    entry = PROGRAMS["reverse"]
    compiled = compile_program(entry.build(), entry.vocab, 8)
    model = compiled.model
    ids = torch.tensor([compiled.encode(text.split())])  # [1, pos]
    with torch.no_grad():
        raw = model(ids)[0, 1:]  # [answers, vocab]
    clean = raw.log_softmax(-1)
    effects, changed = {}, {}
    for layer in range(model.cfg.n_layers):
        for head in range(model.cfg.n_heads):
            if model.blocks[layer].attn.W_O[head].abs().max() == 0:
                continue
            zeroed = _zeroed_logits(model, ids, layer, head)[0, 1:]
            ablated = zeroed.log_softmax(-1)
            name = f"L{layer}H{head}"
            effects[name] = float((clean.exp() * (clean - ablated)).sum(-1).mean())
            changed[name] = [a != c for a, c in zip(compiled.decode(zeroed), compiled.decode(raw))]
    best = max(effects, key=effects.get)
    return best, changed[best]


@pytest.fixture(scope="module")
def ablation():
    return choose_view(start_app(), "Ablation")


def test_ablation_opens_with_the_most_effective_head_switched_off(ablation):
    at = ablation
    expected, changed = _brute_force(at.session_state["input_text"])
    assert at.session_state["ablate_nodes"] == [expected]
    assert any(c.value.startswith(f"Opened on {expected}:") for c in at.caption)
    assert not [i.value for i in at.info if i.value.startswith("Pick one or more")]
    # The positions marked changed on screen are those the brute-force run changes.
    table = at.dataframe[0].value
    assert [bool(c) for c in table["changed"]] == changed
    assert any(changed), "the default ablation changed no output position"


def test_a_cleared_selection_stays_cleared(ablation):
    at = ablation
    at.pills(key="ablate_nodes").set_value([]).run()
    assert_clean(at)
    at.radio(key="view").set_value("Attention").run()
    at.radio(key="view").set_value("Ablation").run()
    assert_clean(at)
    assert not at.session_state["ablate_nodes"]
    assert any(i.value.startswith("Pick one or more") for i in at.info)


def test_addition_ablation_counts_the_answer_positions_only():
    """`addition-1l`: the answer digits are predicted from `=` on (6 positions of 18); the
    question's own positions are not part of the task and are not counted."""
    at = choose_view(open_shipped("addition-1l"), "Ablation")
    text = at.session_state["input_text"]  # e.g. 17655+10751=028406
    tokens = list(text)
    equals = tokens.index("=")
    answers = list(range(equals, equals + 6))  # '=' predicts the first of the 6 sum digits
    head = at.session_state["ablate_nodes"][0]
    layer, number = (int(x) for x in head[1:].split("H"))
    subject = named_subject("model:addition-1l")
    vocab = subject.model.cfg.vocab
    ids = torch.tensor([[vocab.index(t) for t in tokens]])
    with torch.no_grad():
        clean = subject.model(ids)[0].argmax(-1)
    ablated = _zeroed_logits(subject.model, ids, layer, number)[0].argmax(-1)
    expected = [bool(clean[p] != ablated[p]) for p in answers]
    changed, total = (int(x) for x in at.metric[0].value.split(" / "))
    assert total == len(answers) and changed == sum(expected)
    table = at.dataframe[0].value
    assert list(table["position"]) == answers
    assert [bool(c) for c in table["changed"]] == expected
