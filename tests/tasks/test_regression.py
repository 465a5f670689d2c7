"""In-context regression prompts: shapes, dtypes, seeds, encodings and the distributions drawn."""

import pytest
import torch

from interp.errors import ConfigError, InputError
from interp.tasks.regression import RegressionTask


def test_garg_encoding_interleaves_x_and_y_tokens():
    task = RegressionTask(d=4, n_points=6, noise_std=0.1)
    prompts = task.prompts(3, seed=0)
    inputs, targets = task.encode(prompts)
    assert inputs.shape == (3, 12, 4) and targets.shape == (3, 12)
    assert inputs.dtype == targets.dtype == torch.float32
    assert (task.d_input, task.seq_len, task.d_vocab_out) == (4, 12, 1)
    for i in range(6):
        assert torch.equal(inputs[:, 2 * i], prompts.xs[:, i])
        assert torch.equal(inputs[:, 2 * i + 1, 0], prompts.ys[:, i])
        assert not inputs[:, 2 * i + 1, 1:].any()
        assert torch.equal(targets[:, 2 * i], prompts.ys[:, i])
        assert targets[:, 2 * i + 1].isnan().all()


def test_oswald_encoding_hides_the_query_y():
    task = RegressionTask(d=3, n_points=5, encoding="oswald")
    prompts = task.prompts(2, seed=1)
    inputs, targets = task.encode(prompts)
    assert inputs.shape == (2, 5, 4) and task.seq_len == 5 and task.d_input == 4
    assert torch.equal(inputs[:, :4, :3], prompts.xs[:, :4])
    assert torch.equal(inputs[:, :4, 3], prompts.ys[:, :4])
    assert torch.equal(inputs[:, 4, :3], prompts.xs[:, 4]) and not inputs[:, 4, 3].any()
    assert targets[:, :4].isnan().all() and torch.equal(targets[:, 4], prompts.ys[:, 4])


def test_ys_are_the_linear_function_plus_noise_of_the_right_size():
    task = RegressionTask(d=5, n_points=40, noise_std=0.5, w_scale=2.0)
    prompts = task.prompts(2000, seed=0)
    residual = prompts.ys - torch.einsum("bpd,bd->bp", prompts.xs, prompts.weights)
    assert residual.std().item() == pytest.approx(0.5, rel=0.02)
    assert prompts.weights.std().item() == pytest.approx(2.0, rel=0.03)
    noiseless = RegressionTask(d=5, n_points=4).prompts(10, seed=0)
    assert torch.allclose(noiseless.ys, torch.einsum("bpd,bd->bp", noiseless.xs, noiseless.weights))


def test_same_seed_same_prompts_and_different_seed_different():
    task = RegressionTask()
    a, b, c = task.batch(4, seed=7), task.batch(4, seed=7), task.batch(4, seed=8)
    assert torch.equal(a[0], b[0]) and torch.allclose(a[1], b[1], equal_nan=True)
    assert not torch.equal(a[0], c[0])


@pytest.mark.parametrize("kind, low, high", [("uniform", -1.0, 1.0), ("uniform_half", -0.5, 0.5)])
def test_uniform_x_ranges(kind, low, high):
    xs = RegressionTask(x_distribution=kind, n_points=50).prompts(200, seed=0).xs
    assert xs.min() >= low and xs.max() <= high
    assert xs.min() < low * 0.98 and xs.max() > high * 0.98


def test_skewed_inputs_have_the_stated_spectrum():
    xs = RegressionTask(d=4, x_distribution="skewed", n_points=100).prompts(1000, seed=0).xs.reshape(-1, 4)
    eigenvalues = torch.linalg.eigvalsh(xs.T @ xs / len(xs)).flip(0)
    expected = 1 / torch.arange(1, 5.0) ** 2
    assert torch.allclose(eigenvalues, expected * 4 / expected.sum(), rtol=0.05)


def test_finite_pool_prompts_use_only_pool_vectors():
    task = RegressionTask(d=3, pool_size=4, pool_seed=5)
    pool = task.pool()
    assert pool.shape == (4, 3) and torch.equal(pool, RegressionTask(d=3, pool_size=4, pool_seed=5).pool())
    weights = task.prompts(100, seed=0).weights
    matches = (weights.unsqueeze(1) == pool.unsqueeze(0)).all(-1)  # [100, 4]
    assert (matches.sum(1) == 1).all() and matches.any(0).all()


def test_sparse_linear_has_exactly_s_nonzero_coordinates():
    weights = RegressionTask(d=8, function_class="sparse_linear", sparsity=3).prompts(50, seed=0).weights
    assert ((weights != 0).sum(1) == 3).all()


def test_relu_net_values_match_a_per_prompt_recomputation():
    task = RegressionTask(d=3, n_points=7, function_class="relu_net", hidden=5)
    generator = torch.Generator().manual_seed(3)
    prompts = task.sample_prompts(4, generator)
    replay = torch.Generator().manual_seed(3)
    xs = torch.randn(4, 7, 3, generator=replay)
    torch.randn(4, 7, generator=replay)  # the (zero-scaled) noise draw
    w_in = torch.randn(4, 3, 5, generator=replay)
    w_out = torch.randn(4, 5, generator=replay) * (2 / 5) ** 0.5
    for b in range(4):
        expected = torch.stack([torch.relu(x @ w_in[b]) @ w_out[b] for x in xs[b]])
        assert torch.allclose(prompts.ys[b], expected, atol=1e-5)
    assert prompts.weights is None


def test_predictions_read_the_x_positions_or_the_query():
    task = RegressionTask(d=2, n_points=3)
    outputs = torch.arange(12.0).view(2, 6, 1)
    assert torch.equal(task.predictions(outputs), outputs[:, 0::2, 0])
    oswald = RegressionTask(d=2, n_points=6, encoding="oswald")
    assert torch.equal(oswald.predictions(outputs), outputs[:, 5, 0])
    with pytest.raises(InputError, match="expected outputs"):
        task.predictions(torch.zeros(2, 5, 1))


@pytest.mark.parametrize("options, message", [
    (dict(encoding="bert"), "encoding"),
    (dict(x_distribution="cauchy"), "x_distribution"),
    (dict(pool_size=0), "pool_size"),
    (dict(function_class="sparse_linear", sparsity=9, d=5), "sparsity"),
])
def test_bad_options_raise_config_errors(options, message):
    with pytest.raises(ConfigError, match=message):
        RegressionTask(**options)
    with pytest.raises(ConfigError, match="no finite pool"):
        RegressionTask().pool()
