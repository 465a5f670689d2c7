"""Path patching opens on a head, not on "pick a head": the head whose clean output, patched
alone into the corrupted run, moves the task's metric most (by size), with a one-line note,
for any model kind. Checked by patching each head's z here with a hook, one head at a time."""

from __future__ import annotations

import pytest
import torch
from app_harness import assert_clean, chart, choose_view, open_shipped, start_app

from interp.analysis import path_patch
from interp.app.path_readers import effective_readers
from interp.app.subject import library_subject, named_subject
from interp.circuit import Circuit


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
    subject's own corruption (seed 0) and first patching metric on its answer positions: one
    batch row per head, that head's z replaced by its clean value in that row only."""
    subject = named_subject(name)
    model = subject.model
    n_layers, n_heads = model.cfg.n_layers, model.cfg.n_heads
    clean_input = subject.parse_input(text)
    _, clean = subject.encode(clean_input)
    _, corrupted = subject.encode(subject.corrupt(clean_input, 0))
    with torch.no_grad():
        _, cache = model.run_with_cache(clean)
        clean_logits, corrupted_logits = model(clean), model(corrupted)
        make = next(iter(subject.patch_metrics().values()))
        metric = make(clean_logits, corrupted_logits, subject.answer_positions(clean.shape[1]))
        low, high = float(metric(corrupted_logits)), float(metric(clean_logits))

        def patch(z, hook):  # z: [n_layers * n_heads, pos, n_heads, d_head]
            layer = int(hook.name.split(".")[1])
            z = z.clone()
            for head in range(n_heads):
                z[layer * n_heads + head, :, head] = cache[hook.name][0, :, head]
            return z

        hooks = [(f"blocks.{layer}.attn.hook_z", patch) for layer in range(n_layers)]
        batch = corrupted.repeat(n_layers * n_heads, *([1] * (corrupted.dim() - 1)))
        with model.hooks(fwd_hooks=hooks):
            logits = model(batch)  # [n_layers * n_heads, pos, vocab]
        return {f"L{row // n_heads}H{row % n_heads}":
                (float(metric(logits[row:row + 1])) - low) / (high - low) for row in range(len(batch))}


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


CASES = [("program:sort", "L2H4"), ("reverse", "L1H0"), ("addition-1l", "L0H0")]


@pytest.mark.parametrize("name, sender", CASES)
def test_left_out_readers_carry_nothing(name, sender):
    """Every reader the view leaves out carries exactly no effect when path-patched here (the
    intervention itself), and every one it keeps is drawn; program:sort's L2H4 (41 readers)
    is seen by MLP2 alone."""
    subject = named_subject(name) if name != "reverse" else library_subject("reverse")
    model = subject.model
    readers = list(dict.fromkeys(e.dst for e in Circuit.full(model.cfg).edges if e.src == sender))
    clean_input = subject.default_input()
    _, clean = subject.encode(clean_input)
    _, corrupted = subject.encode(subject.corrupt(clean_input, 0))
    with torch.no_grad():
        clean_logits = model(clean)
        make = next(iter(subject.patch_metrics().values()))
        metric = make(clean_logits, model(corrupted), subject.answer_positions(clean.shape[1]))
        base = float(metric(clean_logits))
    _, kept = effective_readers(model, sender)
    for reader in readers:
        moved = abs(path_patch(model, clean, corrupted, sender, [reader], metric) - base)
        if reader not in kept:
            assert moved == 0.0, (reader, moved)
    if name == "program:sort":
        assert kept == ["MLP2"] and len(readers) == 41


def test_the_view_draws_only_the_readers_that_can_carry():
    at = choose_view(_open("program:sort"), "Patching")
    at.selectbox(key="patch_sender").set_value("L2H4").run()
    assert chart(at, "patch_paths")["data"][0]["y"] == ["MLP2"]
    assert any("40 of the 41 components reading L2H4 are left out" in c.value for c in at.caption)
