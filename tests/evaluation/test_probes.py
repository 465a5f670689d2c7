"""Linear probes against numpy: the fit equals numpy's lstsq (with the ridge penalty as extra
rows), R^2 equals its textbook formula, and a probe recovers a quantity a model writes linearly."""

import numpy as np
import pytest
import torch

from interp.errors import InputError
from interp.evaluation.probes import fit_linear_probe, probe_r2_by_layer, r_squared, residual_streams, xty
from interp.model import HookedTransformer, ModelConfig


def _data(n=200, f=6, t=3, seed=0):
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n, f)) * rng.uniform(0.1, 3.0, size=f)
    targets = features @ rng.normal(size=(f, t)) + rng.normal(size=t) + 0.3 * rng.normal(size=(n, t))
    return features, targets


@pytest.mark.parametrize("lam", [0.0, 0.5, 20.0])
def test_the_probe_equals_numpy_lstsq_on_the_augmented_system(lam):
    features, targets = _data()
    n, f = features.shape
    # Ridge with an unpenalised bias is least squares on [F 1; sqrt(lam) I 0] against [T; 0].
    design = np.block([[features, np.ones((n, 1))], [np.sqrt(lam) * np.eye(f), np.zeros((f, 1))]])
    rhs = np.vstack([targets, np.zeros((f, targets.shape[1]))])
    expected = np.linalg.lstsq(design, rhs, rcond=None)[0]
    probe = fit_linear_probe(torch.tensor(features, dtype=torch.float32), torch.tensor(targets), lam)
    np.testing.assert_allclose(probe.weights.numpy(), expected[:f], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(probe.bias.numpy(), expected[f], rtol=1e-4, atol=1e-5)


def test_r_squared_matches_its_formula_and_is_one_for_a_perfect_fit():
    features, targets = _data(seed=1)
    predicted = targets + np.random.default_rng(2).normal(size=targets.shape)
    expected = np.mean(1 - ((targets - predicted) ** 2).sum(0) / ((targets - targets.mean(0)) ** 2).sum(0))
    assert r_squared(torch.tensor(predicted), torch.tensor(targets)) == pytest.approx(expected, rel=1e-12)
    assert r_squared(torch.tensor(targets), torch.tensor(targets)) == 1.0
    with pytest.raises(InputError, match="one shape"):
        r_squared(torch.zeros(3, 2), torch.zeros(3, 1))


def test_a_probe_reads_what_the_embedding_writes_and_not_what_no_layer_holds():
    cfg = ModelConfig(n_layers=1, d_model=8, n_ctx=4, d_vocab=0, d_vocab_out=1, d_input=3, causal=True)
    model = HookedTransformer(cfg).init_weights(std=0.3, seed=0)
    inputs = torch.randn(400, 4, 3, generator=torch.Generator().manual_seed(0))
    streams = residual_streams(model, inputs, position=-1)
    assert len(streams) == 2 and streams[0].shape == (400, 8)
    # The embedding is linear in the last token's input, so a probe reads it back exactly...
    fit, test = inputs[:200], inputs[200:]
    r2 = probe_r2_by_layer(model, fit, fit[:, -1], test, test[:, -1], position=-1, lam=1e-6)
    assert r2[0] == pytest.approx(1.0, abs=1e-6)
    # ...while a quantity independent of the inputs is not readable from any layer.
    noise = torch.randn(400, 2, generator=torch.Generator().manual_seed(1))
    assert max(probe_r2_by_layer(model, inputs[:200], noise[:200], inputs[200:], noise[200:], -1)) < 0.2
    with pytest.raises(InputError, match="position 9"):
        residual_streams(model, inputs, position=9)


def test_xty_is_the_sum_of_y_times_x():
    xs, ys = torch.randn(2, 5, 3), torch.randn(2, 5)
    expected = np.einsum("bkd,bk->bd", xs.numpy(), ys.numpy())
    np.testing.assert_allclose(xty(xs, ys).numpy(), expected, rtol=1e-6, atol=1e-6)
