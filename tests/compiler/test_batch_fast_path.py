"""run_batch's fast path (vectorised codec + fused forward) equals the per-input run and the
interpreter on every library program, causal ones and loops included; it steps aside for
hooks, edited weights and bad inputs."""

from __future__ import annotations

import random

import pytest
import torch

import rasp
from interp.errors import InputError
from rasp.compiler import compile_program
from rasp.compiler.batch_codec import decode_rows, encode_groups
from rasp.compiler.compiled import _same
from rasp.compiler.fast_forward import fusable
from rasp.lib import PROGRAMS

N_INPUTS = 10
# Every program, and causal compiles of a spread of shapes (loops compile only non-causal).
CAUSAL = ["reverse", "hist", "sort_unique", "frac_prevs", "shift_by", "most_freq", "dyck1"]
CASES = [(name, False) for name in PROGRAMS] + [(name, True) for name in CAUSAL]
_MODELS: dict = {}


def _compiled(name: str, causal: bool):
    if (name, causal) not in _MODELS:
        entry = PROGRAMS[name]
        _MODELS[name, causal] = compile_program(entry.build(), entry.vocab, entry.max_seq_len,
                                                causal=causal)
    return _MODELS[name, causal]


def _inputs(name: str, max_len: int, seed: int = 0) -> list[list]:
    """Random inputs of mixed lengths (so several length groups), all valid."""
    rng, entry, out = random.Random(seed), PROGRAMS[name], []
    while len(out) < N_INPUTS:
        x = list(entry.sample(rng, rng.randint(1, max_len)))
        if 1 <= len(x) <= max_len:
            out.append(x)
    return out


def _per_input(cm, tokens: list) -> list:
    """The reference run: one input, per-input encode, the model's own forward, per-row decode."""
    with torch.no_grad():
        return cm.decode(cm.model(torch.tensor([cm.encode(tokens)]))[0, 1:])


def _equal(a: list, b: list) -> bool:
    # Same values, same None positions, same types; unsnapped floats to 1e-6 (fused sums round).
    return len(a) == len(b) and all(
        type(x) is type(y) and _same(x, y) if not (isinstance(x, float) and isinstance(y, float))
        else abs(x - y) <= 1e-6 * max(1.0, abs(y)) for x, y in zip(a, b))


@pytest.mark.parametrize(("name", "causal"), CASES, ids=[f"{n}-{'causal' if c else 'full'}"
                                                         for n, c in CASES])
def test_fast_path_equals_per_input_and_interpreter(name: str, causal: bool) -> None:
    cm = _compiled(name, causal)
    assert fusable(cm.model)  # compiled models take the fused forward
    inputs = _inputs(name, cm.max_seq_len)
    assert encode_groups(cm, inputs) is not None  # ... and the vectorised codec
    fast = cm.run_batch(inputs)
    evaluate = rasp.causal_eval.evaluate if causal else rasp.evaluate
    checked = 0
    for tokens, got in zip(inputs, fast):
        assert _equal(got, _per_input(cm, tokens)), (name, tokens)
        try:
            expected = evaluate(cm.program, tokens)
        except rasp.RASPError:
            continue  # the interpreter rejects this input (e.g. an Aggregate of two values)
        assert all(_same(e, g) for e, g in zip(expected, got)), (name, tokens, expected, got)
        checked += 1
    assert checked >= N_INPUTS // 3


def test_outputs_cover_none_and_numbers() -> None:
    """The library exercises both decode branches: None outputs and snapped numbers."""
    frac = _compiled("frac_prevs", False).run_batch(_inputs("frac_prevs", 16))
    assert _compiled("frac_prevs", False).numerical_output
    assert any(isinstance(v, float) or isinstance(v, int) for row in frac for v in row)
    shift = _compiled("shift_by", False).run_batch(_inputs("shift_by", 16))
    assert all(row[0] is None for row in shift)


def test_decode_rows_equals_decode_on_hard_logits() -> None:
    """Ties, values at the 0.5 threshold, numbers between output values and far off them."""
    cm = _compiled("hist", False)
    gen = torch.Generator().manual_seed(0)
    logits = torch.randint(0, 3, (50, 7, cm.model.cfg.d_vocab_out), generator=gen).float() / 4
    assert decode_rows(cm, logits) == [cm.decode(row) for row in logits]
    num = _compiled("frac_prevs", False)
    grid = torch.tensor(sorted(num.output_values), dtype=torch.float32)
    x = grid[torch.randint(0, len(grid), (40, 9), generator=gen)]
    x = x + torch.randn(x.shape, generator=gen) * torch.tensor([0.0, 1e-4, 1e-2, 0.3])[
        torch.randint(0, 4, x.shape, generator=gen)]
    got, want = decode_rows(num, x[..., None]), [num.decode(row) for row in x[..., None]]
    assert [[type(v) for v in r] for r in got] == [[type(v) for v in r] for r in want]
    assert got == want


def test_hooks_see_their_activations() -> None:
    """With a hook attached, run_batch runs the model itself, so the hook fires and edits count."""
    cm = _compiled("reverse", False)
    inputs = _inputs("reverse", 16)
    calls = []

    def zero(act, hook):
        calls.append(hook.name)
        return torch.zeros_like(act)

    cm.model.add_hook("blocks.0.hook_resid_pre", zero)
    try:
        assert not fusable(cm.model)
        with torch.no_grad():
            ids = torch.tensor([cm.encode(inputs[0])])
            want = cm.decode(cm.model(ids)[0, 1:])
        assert cm.run_batch(inputs[:1]) == [want]
        assert calls
    finally:
        cm.model.reset_hooks()
    assert fusable(cm.model)


def test_edited_weights_are_used() -> None:
    """An in-place weight edit (ablation) reaches the fast path's packed weights."""
    entry = PROGRAMS["hist"]
    cm = compile_program(entry.build(), entry.vocab, entry.max_seq_len)
    inputs = _inputs("hist", 16)
    before = cm.run_batch(inputs)
    with torch.no_grad():
        cm.model.blocks[0].mlp.W_out.mul_(0.5)
    after = cm.run_batch(inputs)
    assert after != before
    assert all(_equal(row, _per_input(cm, x)) for x, row in zip(inputs, after))


def test_bad_inputs_raise_as_before() -> None:
    cm = _compiled("reverse", False)
    assert cm.run_batch([]) == []
    assert cm.run_batch((("a", "b"), ["c"])) == [["b", "a"], ["c"]]
    with pytest.raises(InputError, match="token 'z' at position 1"):
        cm.run_batch([["a", "b"], ["a", "z"]])
    with pytest.raises(InputError, match="max_seq_len=16"):
        cm.run_batch([["a"] * 17])
    with pytest.raises(InputError, match="empty"):
        cm.run_batch([["a"], []])
    with pytest.raises(InputError, match="string"):
        cm.run_batch(["ab"])
    ints = _compiled("sort", False)  # int vocabulary: True and 1.0 are not the token 1
    for bad in (True, 1.0, "1"):
        with pytest.raises(InputError, match="not in the vocabulary"):
            ints.run_batch([[2, bad]])
