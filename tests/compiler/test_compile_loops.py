"""Compiled loops: one weight-shared layer group applied T times, exact against rasp.evaluate."""

from __future__ import annotations

import random

import pytest
import torch

import rasp
from interp.errors import InputError
from interp.model.loops import forward_with_steps
from interp.threads import torch_threads
from rasp import Aggregate, Comparison, Map, Select, indices, tokens
from rasp.compiler import CompiledModel, CompileError, compile_program
from rasp.lib import PROGRAMS, make_parity_loop


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # Tiny models: one torch thread (interp.threads); two busy cores make each op 100x slower.
    with torch_threads():
        yield


def _loop_info(compiled: CompiledModel) -> dict:
    return compiled.model.metadata["compiler"]["loop"]


@pytest.fixture(scope="module")
def parity() -> CompiledModel:
    entry = PROGRAMS["parity_loop"]
    return compile_program(entry.build(), entry.vocab, entry.max_seq_len)


def test_parity_loop_exact_on_every_input_up_to_its_length(parity: CompiledModel) -> None:
    report = parity.verify()
    assert report.exhaustive and report.n_inputs == 2**11 - 2 and report.ok, str(report)
    # And it is the running parity (an independent reference, not the interpreter).
    bits = [1, 0, 1, 1, 0, 0, 1, 1, 1, 0]
    assert parity.run(bits) == [1, 1, 0, 1, 1, 1, 0, 1, 0, 0]


def test_add_loop_exact_on_10000_random_inputs() -> None:
    entry = PROGRAMS["add_loop"]
    compiled = compile_program(entry.build(), entry.vocab, 7)
    rng = random.Random(0)
    inputs = [entry.sample(rng, rng.randint(1, 7)) for _ in range(7000)]
    inputs += [[rng.choice(entry.vocab) for _ in range(rng.randint(1, 7))] for _ in range(3000)]
    report = compiled.verify(inputs=inputs)
    assert report.n_inputs > 9000 and report.ok, str(report)
    a, b = ["9", "9", "9"], ["0", "0", "1"]  # the longest carry chain
    assert compiled.run([*a, "+", *b]) == [0, 0, 0, 1, 0, 0, 0]


def test_alta_add_exact_on_10000_random_inputs() -> None:
    entry = PROGRAMS["alta_add"]
    compiled = compile_program(entry.build(), entry.vocab, entry.max_seq_len)
    assert len(_loop_info(compiled)["states"]) == 4  # two pointers, the carry, the output
    rng = random.Random(0)
    inputs = [entry.sample(rng, rng.randint(1, 9)) for _ in range(7000)]
    inputs += [[rng.choice(entry.vocab) for _ in range(rng.randint(1, 9))] for _ in range(3000)]
    report = compiled.verify(inputs=inputs)
    assert report.n_inputs > 9000 and report.ok, str(report)
    assert compiled.run(list("9999+0001")) == [None] * 4 + [1, 0, 0, 0, 0]


def test_the_loop_is_one_layer_group_applied_t_times(parity: CompiledModel) -> None:
    info, cfg = _loop_info(parity), parity.model.cfg
    start, layers, steps = info["start"], info["layers"], info["steps"]
    assert (cfg.loop_start, cfg.loop_layers, cfg.loop_steps) == (start, layers, steps)
    assert steps == 9 and info["halting"]
    blocks = parity.model.blocks
    for t in range(1, steps):
        for j in range(layers):
            first, later = blocks[start + j], blocks[start + t * layers + j]
            assert later.attn.W_Q is first.attn.W_Q and later.mlp.W_out is first.mlp.W_out
    assert blocks[0].mlp.W_in is not blocks[start].mlp.W_in
    per_block = sum(p.numel() for p in blocks[start].parameters())
    assert parity.model.n_params() < sum(p.numel() for p in blocks.parameters()) + per_block
    # The circuit names a component of every application.
    nodes = set(parity.circuit().nodes)
    assert {f"MLP{start + t * layers + layers - 1}" for t in range(steps)} <= nodes


def test_cache_has_every_step_and_the_state_changes_between_steps(parity: CompiledModel) -> None:
    info = _loop_info(parity)
    start, layers, steps = info["start"], info["layers"], info["steps"]
    tokens_ = torch.tensor([parity.encode([1, 1, 1, 1, 1])])
    _, cache = parity.model.run_with_cache(tokens_)
    state = parity.layout.directions[info["states"][0]]
    ends = [cache[f"blocks.{start + t * layers + layers - 1}.hook_resid_post"][0, :, state]
            for t in range(steps)]
    assert all(f"blocks.{start + t * layers}.attn.hook_pattern" in cache for t in range(steps))
    # Position 1 is done after step 1, position 2 after step 2, ...: every step differs
    # until the loop halts (4 steps for 5 tokens), then the state stays.
    for t in range(1, 4):
        assert not torch.allclose(ends[t], ends[t - 1], atol=1e-3), t
    for t in range(4, steps):
        assert torch.allclose(ends[t], ends[t - 1], atol=1e-3), t


def test_save_and_load_keep_the_tying(parity: CompiledModel, tmp_path) -> None:
    parity.save(tmp_path / "m")
    loaded = CompiledModel.load(tmp_path / "m")
    start, layers = loaded.model.cfg.loop_start, loaded.model.cfg.loop_layers
    assert loaded.model.blocks[start + layers].attn.W_V is loaded.model.blocks[start].attn.W_V
    rng = random.Random(1)
    inputs = [[rng.randint(0, 1) for _ in range(rng.randint(1, 10))] for _ in range(50)]
    assert loaded.run_batch(inputs) == parity.run_batch(inputs)


def test_a_cap_shorter_than_the_input_is_exact_against_the_interpreter() -> None:
    # Three steps reach four positions; longer inputs keep the interpreter's capped values.
    compiled = compile_program(make_parity_loop(3), [0, 1], 7)
    report = compiled.verify()
    assert report.exhaustive and report.ok, str(report)
    assert compiled.run([1] * 7) == [1, 0, 1, 0, 1, 1, 1]


def test_fixed_count_loops_with_several_and_numerical_states() -> None:
    left = Select(indices, indices, lambda k, q: k == q - 1)
    shifted = rasp.loop(lambda s: Aggregate(left, s), tokens, steps=2)
    compiled = compile_program(shifted, ["a", "b", "c"], 5)
    assert not _loop_info(compiled)["halting"]
    report = compiled.verify()
    assert report.exhaustive and report.ok, str(report)

    digits = Map(int, tokens)
    fib = rasp.loop(lambda a, b: (b, rasp.SequenceMap(lambda x, y: (x + y) % 10, a, b)),
                    (digits, Map(lambda t: 1, tokens)), steps=4)
    compiled = compile_program(fib[1], list("0123456789"), 3)
    assert compiled.verify().ok

    counter = rasp.loop(lambda s: rasp.numerical(Map(lambda v: v + 0.5, s)),
                        rasp.numerical(Map(lambda t: 0.0, tokens)), steps=3)
    compiled = compile_program(counter, ["a"], 2)
    assert compiled.run(["a", "a"]) == [1.5, 1.5]


def test_the_step_count_can_be_chosen_at_run_time_up_to_the_cap() -> None:
    left = Select(indices, indices, lambda k, q: k == q - 1)

    def shifted(steps: int) -> rasp.SOp:
        return Map(lambda v: v, rasp.loop(lambda s: Aggregate(left, s), tokens, steps=steps))

    compiled = compile_program(shifted(4), list("abc"), 6)
    ids = torch.tensor([compiled.encode(list("abcab"))])
    for steps in range(5):
        logits = forward_with_steps(compiled.model, ids, steps)
        assert compiled.decode(logits[0, 1:]) == rasp.evaluate(shifted(steps), list("abcab"))
    with pytest.raises(InputError, match="0 to 4 times"):
        forward_with_steps(compiled.model, ids, 5)


def test_zero_steps_and_the_hard_attention_option() -> None:
    never = rasp.loop(lambda s: Map(lambda v: v + 1, s), Map(int, tokens), steps=0)
    compiled = compile_program(never, ["1", "2"], 3)
    assert compiled.model.cfg.loop_steps is None and compiled.run(["2", "1"]) == [2, 1]
    hard = compile_program(make_parity_loop(4), [0, 1], 5, attention_kind="hard")
    assert hard.verify().ok


def test_unsupported_loops_are_refused_with_the_reason() -> None:
    one = rasp.loop(lambda s: s + 1, Map(int, tokens), steps=1, name="first")
    two = rasp.loop(lambda s: s + 1, Map(int, tokens), steps=1, name="second")
    with pytest.raises(CompileError, match="2 loops"):
        compile_program(rasp.SequenceMap(lambda x, y: x + y, one, two), ["1"], 2)
    nested = rasp.loop(lambda s: rasp.loop(lambda r: r + 1, s, steps=1), Map(int, tokens), steps=1)
    with pytest.raises(CompileError, match="nested loops"):
        compile_program(nested, ["1"], 2)
    # A halting SOp that may be None (an Aggregate with no default) is refused.
    left = Select(indices, indices, Comparison.LT)
    maybe = rasp.loop(lambda s: Aggregate(left, s), Map(int, tokens),
                      until=lambda s: Map(lambda v: v > 0, s), max_steps=2, name="maybe")
    with pytest.raises(CompileError, match="can be None"):
        compile_program(maybe, ["1"], 2)
    # Halting needs every position; a causal model sees a prefix. Fixed counts compile.
    with pytest.raises(CompileError, match="causal model cannot know"):
        compile_program(make_parity_loop(3), [0, 1], 4, causal=True)


def test_causal_fixed_count_loop_matches_causal_eval() -> None:
    everything = Select(indices, indices, Comparison.TRUE)
    mean = rasp.loop(lambda s: rasp.numerical(Aggregate(everything, s, default=0)),
                     rasp.numerical(Map(float, tokens)), steps=2)
    compiled = compile_program(mean, [0, 2], 4, causal=True)
    report = compiled.verify()
    assert report.exhaustive and report.ok, str(report)
    assert compiled.run([2, 0, 2]) == pytest.approx(rasp.causal_eval.evaluate(mean, [2, 0, 2]))



def test_fold_ln_folds_a_looped_models_shared_weights_once() -> None:
    from interp.model import HookedTransformer, ModelConfig

    cfg = ModelConfig(n_layers=5, d_model=8, n_ctx=6, d_vocab=5, n_heads=2, d_mlp=8,
                      normalization_type="LN", loop_start=1, loop_layers=2, loop_steps=2)
    model = HookedTransformer(cfg).init_weights(std=0.5, seed=3)
    with torch.no_grad():
        for param in model.parameters():  # LN weights and biases away from 1 and 0
            if param.dim() == 1:
                param.add_(torch.randn(param.shape, generator=torch.Generator().manual_seed(1)))
    ids = torch.tensor([[0, 1, 2, 3, 4]])
    before = model(ids)
    assert torch.allclose(model.fold_ln()(ids), before, atol=1e-4)
