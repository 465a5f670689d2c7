"""The compiled model as a model: save/load, TransformerLens cache, ground-truth circuit, CLI."""

from __future__ import annotations

import random

import pytest
import torch

import rasp
from rasp import tokens
from rasp.compiler import CompiledModel, compile_program


@pytest.fixture(scope="module")
def reverse_model() -> CompiledModel:
    return compile_program(rasp.lib.make_reverse(tokens), list("abc"), 5)


def test_save_load_runs_identically(tmp_path, reverse_model) -> None:
    reverse_model.save(tmp_path / "m")
    loaded = CompiledModel.load(tmp_path / "m")
    batch = [list("abc"), list("cab"), list("a"), list("bbaca")]
    assert loaded.run_batch(batch) == reverse_model.run_batch(batch)
    assert loaded.run_batch(batch) == [rasp.evaluate(reverse_model.program, x) for x in batch]
    assert loaded.circuit().edge_set() == reverse_model.circuit().edge_set()


def test_decompose_resid_works(reverse_model) -> None:
    ids = torch.tensor([reverse_model.encode(list("abca"))])
    _, cache = reverse_model.model.run_with_cache(ids)
    parts = cache.decompose_resid()
    final = cache[f"blocks.{reverse_model.model.cfg.n_layers - 1}.hook_resid_post"]
    assert torch.allclose(parts.sum(0), final, atol=1e-4)


def _ablated_outputs(compiled: CompiledModel, inputs: list[list], component: str) -> list:
    model = compiled.model
    hooks = []
    if component.startswith("MLP"):
        layer = int(component[3:])
        hooks.append((f"blocks.{layer}.hook_mlp_out", lambda x, hook: torch.zeros_like(x)))
    else:
        layer, head = (int(p) for p in component[1:].split("H"))

        def zero_head(x, hook, head=head):
            x = x.clone()
            x[:, :, head] = 0
            return x

        hooks.append((f"blocks.{layer}.attn.hook_z", zero_head))
    outputs = {}
    by_length: dict[int, list[int]] = {}
    for i, tokens_ in enumerate(inputs):
        by_length.setdefault(len(tokens_), []).append(i)
    for members in by_length.values():
        ids = torch.tensor([compiled.encode(inputs[i]) for i in members])
        logits = model.run_with_hooks(ids, fwd_hooks=hooks)
        for i, row in zip(members, logits):
            outputs[i] = compiled.decode(row[1:])
    return [outputs[i] for i in range(len(inputs))]


@pytest.mark.parametrize("name", ["reverse", "sort", "dyck2", "hist_bos", "detect_pattern"])
def test_circuit_matches_ablations(name: str) -> None:
    """Zeroing a component outside .circuit() changes nothing; zeroing one inside does."""
    entry = rasp.lib.PROGRAMS[name]
    compiled = compile_program(entry.build(), entry.vocab, 5)
    rng = random.Random(0)
    inputs = [entry.sample(rng, rng.randint(1, 5))[:5] for _ in range(100)]
    inputs += [[rng.choice(entry.vocab) for _ in range(rng.randint(1, 5))] for _ in range(100)]
    program = entry.build()
    inputs = [x for x in inputs if _valid(program, x)]
    clean = compiled.run_batch(inputs)
    cfg = compiled.model.cfg
    in_circuit = set(compiled.circuit().nodes)
    for layer in range(cfg.n_layers):
        components = [f"L{layer}H{h}" for h in range(cfg.n_heads)]
        if cfg.d_mlp:
            components.append(f"MLP{layer}")
        for component in components:
            changed = _ablated_outputs(compiled, inputs, component) != clean
            assert changed == (component in in_circuit), component


def _valid(program, tokens_) -> bool:
    try:
        rasp.evaluate(program, tokens_)
        return True
    except rasp.RASPError:
        return False


def test_circuit_edges_follow_variables(reverse_model) -> None:
    circuit = reverse_model.circuit()
    layout = reverse_model.layout
    head = layout.component_of["reverse"][0]
    slots = {e.slot for e in circuit.edges if e.dst == head}
    assert slots == {"q", "k", "v"}
    assert any(e.src == "embed" and e.dst == head and e.slot == "v" for e in circuit.edges)
    assert any(e.src == "pos_embed" and e.dst == head and e.slot == "k" for e in circuit.edges)
    assert any(e.dst == "logits" for e in circuit.edges)


def test_transformer_bridge_gives_same_logits(reverse_model) -> None:
    from interp.model.tl_bridge import to_transformer_bridge

    bridge = to_transformer_bridge(reverse_model.model)
    ids = torch.tensor([reverse_model.encode(list("abca"))])
    assert torch.allclose(bridge(ids), reverse_model.model(ids), atol=1e-4)
