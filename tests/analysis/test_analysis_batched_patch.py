"""Batched activation patching gives TransformerLens' numbers (activation_patch) exactly."""

from __future__ import annotations

import pytest
import torch
from conftest import random_model

from interp.analysis import activation_patch
from interp.analysis.batched_patch import batched_activation_patch, patch_sweeps, sweep_work
from interp.analysis.patch_metrics import (
    accuracy_on_clean,
    fraction_of_effect,
    kl_to_clean,
    logit_difference,
)
from interp.errors import InputError
from interp.threads import torch_threads


@pytest.fixture(autouse=True)
def one_thread():
    with torch_threads():
        yield


@pytest.fixture
def pair():
    model = random_model()
    model.eval()
    generator = torch.Generator().manual_seed(0)
    clean = torch.randint(0, 7, (1, 4), generator=generator)  # short: the reference sweep is slow
    corrupted = torch.randint(0, 7, (1, 4), generator=generator)
    return model, clean, corrupted


@pytest.mark.parametrize("what", ["resid_pre", "attn_out", "mlp_out", "head_out_all_pos"])
@pytest.mark.parametrize("factory", [logit_difference, kl_to_clean, accuracy_on_clean])
def test_batched_patching_equals_transformer_lens(pair, what, factory):
    model, clean, corrupted = pair
    with torch.no_grad():
        metric = factory(model(clean), model(corrupted), [1, 3])
    expected = activation_patch(model, clean, corrupted, metric, what)
    assert torch.allclose(batched_activation_patch(model, clean, corrupted, metric, what), expected,
                          atol=1e-5)


def test_sweeps_run_together_equal_transformer_lens_each(pair):
    model, clean, corrupted = pair
    with torch.no_grad():
        metric = kl_to_clean(model(clean), model(corrupted), [0, 2])
    whats = ("resid_pre", "mlp_out", "head_out_all_pos")
    together = patch_sweeps(model, clean, corrupted, metric, whats)
    for what in whats:
        expected = activation_patch(model, clean, corrupted, metric, what)
        assert torch.allclose(together[what], expected, atol=1e-5)


def test_sweep_work_grows_with_length_and_mlp_width():
    small, wide = random_model(), random_model(d_mlp=64)
    assert sweep_work(small.cfg, 8) > sweep_work(small.cfg, 4) > 0
    assert sweep_work(wide.cfg, 4) > sweep_work(random_model(d_mlp=16).cfg, 4)


def test_logit_difference_is_the_answer_gap(pair):
    model, clean, corrupted = pair
    with torch.no_grad():
        clean_logits, corrupted_logits = model(clean), model(corrupted)
    metric = logit_difference(clean_logits, corrupted_logits, [2])
    a, b = clean_logits[0, 2].argmax(), corrupted_logits[0, 2].argmax()
    assert float(metric(clean_logits)) == pytest.approx(float(clean_logits[0, 2, a] - clean_logits[0, 2, b]))
    assert float(accuracy_on_clean(clean_logits, corrupted_logits)(clean_logits)) == 1.0
    assert float(kl_to_clean(clean_logits, corrupted_logits)(clean_logits)) == pytest.approx(0, abs=1e-6)


def test_fraction_of_effect_both_directions():
    values = torch.tensor([1.0, 3.0, 2.0])
    assert fraction_of_effect(values, clean=3.0, corrupted=1.0).tolist() == [0.0, 1.0, 0.5]
    assert fraction_of_effect(values, 3.0, 1.0, patched_into="clean").tolist() == [1.0, 0.0, 0.5]
    with pytest.raises(InputError, match="no effect"):
        fraction_of_effect(values, 2.0, 2.0)


def test_bad_patch_requests_are_input_errors(pair):
    model, clean, corrupted = pair
    metric = kl_to_clean(model(clean), model(corrupted))
    with pytest.raises(InputError, match="same length"):
        batched_activation_patch(model, clean, corrupted[:, :3], metric)
    with pytest.raises(InputError, match="what="):
        batched_activation_patch(model, clean, corrupted, metric, "neurons")
    with pytest.raises(InputError, match="attention-only"):
        batched_activation_patch(random_model(d_mlp=None), clean, corrupted, metric, "mlp_out")
