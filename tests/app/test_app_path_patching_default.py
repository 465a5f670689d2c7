"""Path patching opens on a head, not on "pick a head": the head whose clean output, patched
alone into the corrupted run, moves the task's metric most (by size), with a one-line note,
for any model kind. Checked by patching each head's z here with a hook, one head at a time."""

from __future__ import annotations

import pytest
import torch
from app_harness import assert_clean, chart, choose_view, open_shipped, start_app

from interp.app.subject import named_subject


def _open(name: str):
    if name.startswith("program:"):
        at = start_app()
        at.radio(key="source").set_value("Transformer Program").run()
        at.selectbox(key="shipped_program").set_value(name.split(":", 1)[1]).run()
        assert_clean(at)
        return at
    return open_shipped(name)


def _brute_force(name: str, text: str) -> dict[str, float]:
    """Fraction of the effect restored by each head's clean z in the corrupted run, with the
    subject's own corruption (seed 0) and first patching metric on its answer positions."""
    subject = named_subject(name)
    model = subject.model
    clean_input = subject.parse_input(text)
    _, clean = subject.encode(clean_input)
    _, corrupted = subject.encode(subject.corrupt(clean_input, 0))
    with torch.no_grad():
        _, cache = model.run_with_cache(clean)
        clean_logits, corrupted_logits = model(clean), model(corrupted)
        make = next(iter(subject.patch_metrics().values()))
        metric = make(clean_logits, corrupted_logits, subject.answer_positions(clean.shape[1]))
        low, high = float(metric(corrupted_logits)), float(metric(clean_logits))
        restored = {}
        for layer in range(model.cfg.n_layers):
            for head in range(model.cfg.n_heads):
                def patch(z, hook, layer=layer, head=head):  # z: [batch, pos, n_heads, d_head]
                    z = z.clone()
                    z[:, :, head] = cache[f"blocks.{layer}.attn.hook_z"][:, :, head]
                    return z

                with model.hooks(fwd_hooks=[(f"blocks.{layer}.attn.hook_z", patch)]):
                    value = float(metric(model(corrupted)))
                restored[f"L{layer}H{head}"] = (value - low) / (high - low)
    return restored


@pytest.mark.parametrize("name", ["program:sort", "addition-1l"])
def test_path_patching_opens_on_the_head_that_restores_most(name):
    at = choose_view(_open(name), "Patching")
    restored = _brute_force(name, at.session_state["input_text"])
    best = max(restored, key=lambda h: abs(restored[h]))
    ranked = sorted(abs(v) for v in restored.values())
    assert ranked[-1] - ranked[-2] > 0.01  # a clear winner: not decided by float rounding
    assert at.session_state["patch_sender"] == best
    assert any(c.value.startswith(f"Opened on {best}: its clean output") for c in at.caption)
    chart(at, "patch_paths")  # the path patching ran for it
    # A head the user picks stays picked on the next rerun.
    other = next(h for h in restored if h != best)
    at.selectbox(key="patch_sender").set_value(other).run()
    at.run()
    assert at.session_state["patch_sender"] == other


def test_readers_that_write_nothing_are_left_out():
    """program:sort's L2H4 is read by 41 components; those whose output weights are all zero
    (the lookup-only blocks' heads) carry no effect and are no bars (checked on the weights)."""
    at = choose_view(_open("program:sort"), "Patching")
    at.selectbox(key="patch_sender").set_value("L2H4").run()
    model = named_subject("program:sort").model
    bars = chart(at, "patch_paths")["data"][0]["y"]
    for node in bars:
        if node.startswith("L"):
            layer, head = (int(x) for x in node[1:].split("H"))
            assert model.blocks[layer].attn.W_O[head].abs().sum() > 0, node
        elif node.startswith("MLP"):
            assert model.blocks[int(node[3:])].mlp.W_out.abs().sum() > 0, node
    heads = [(layer, head) for layer in range(3, model.cfg.n_layers) for head in range(model.cfg.n_heads)]
    silent = [f"L{layer}H{head}" for layer, head in heads
              if model.blocks[layer].attn.W_O[head].abs().sum() == 0]
    assert silent and not set(silent) & set(bars)
    assert "logits" in bars and any("zero output weights" in c.value for c in at.caption)
