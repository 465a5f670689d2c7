"""Regression baselines against independent computations: numpy lstsq, the Gaussian posterior
in kernel form, per-prompt loops, a brute-force posterior, and Monte Carlo of the closed forms."""

import numpy as np
import pytest
import torch

from interp import baselines as B
from interp.errors import InputError
from interp.tasks.regression import RegressionTask


def context(d=4, k=6, n=8, noise_std=0.0, seed=0, **options):
    task = RegressionTask(d=d, n_points=k + 1, noise_std=noise_std, **options)
    prompts = task.prompts(n, seed=seed)
    xs, ys = prompts.context(k)
    x_query, y_query = prompts.query(k)
    return task, prompts, xs, ys, x_query, y_query


@pytest.mark.parametrize("k", [2, 4, 7])  # under-, exactly and over-determined for d = 4
def test_least_squares_equals_numpy_lstsq_minimum_norm(k):
    _, _, xs, ys, xq, _ = context(k=k, noise_std=0.3)
    ours = B.least_squares_weights(xs, ys)
    for b in range(len(xs)):
        expected = np.linalg.lstsq(xs[b].double().numpy(), ys[b].double().numpy(), rcond=None)[0]
        assert np.allclose(ours[b].numpy(), expected, atol=1e-5)
    assert torch.allclose(B.least_squares(xs, ys, xq), (ours * xq).sum(-1), atol=1e-5)


def test_least_squares_is_exact_from_d_noiseless_points():
    for k in (5, 8):
        _, prompts, xs, ys, xq, yq = context(d=5, k=k, n=200)
        assert (B.least_squares(xs, ys, xq) - yq).pow(2).mean() < 1e-8
        assert torch.allclose(B.least_squares_weights(xs, ys), prompts.weights, atol=1e-4)


def test_ridge_equals_the_gaussian_posterior_mean_in_kernel_form():
    tau, sigma = 1.5, 0.4
    _, _, xs, ys, _, _ = context(d=4, k=3, noise_std=sigma, w_scale=tau)
    ours = B.ridge_weights(xs, ys, lam=sigma**2 / tau**2)
    for b in range(len(xs)):
        x, y = xs[b].double().numpy(), ys[b].double().numpy()
        # Posterior mean of w ~ N(0, tau^2 I) given y = X w + N(0, sigma^2): the k x k (kernel) form.
        posterior = tau**2 * x.T @ np.linalg.solve(tau**2 * x @ x.T + sigma**2 * np.eye(3), y)
        assert np.allclose(ours[b].numpy(), posterior, atol=1e-5)
    with pytest.raises(InputError, match="lam > 0"):
        B.ridge_weights(xs, ys, lam=0.0)


def test_gradient_descent_matches_a_per_prompt_loop():
    _, _, xs, ys, xq, _ = context(d=3, k=5, noise_std=0.2)
    ours = B.gradient_descent_weights(xs, ys, steps=4, lr=0.3)
    for b in range(len(xs)):
        x, y, w = xs[b].double().numpy(), ys[b].double().numpy(), np.zeros(3)
        for _ in range(4):
            w = w - 0.3 * sum((w @ x[i] - y[i]) * x[i] for i in range(5)) / 5
        assert np.allclose(ours[b].numpy(), w, atol=1e-5)
    averaged = np.einsum("bk,bkd->bd", ys.double().numpy(), xs.double().numpy()) / 5
    assert np.allclose(B.averaging_weights(xs, ys).numpy(), averaged, atol=1e-5)


def test_many_gd_steps_converge_to_least_squares():
    _, _, xs, ys, xq, _ = context(d=3, k=10, noise_std=0.5)
    many_steps = B.gradient_descent(xs, ys, xq, steps=500, lr=0.5)
    assert torch.allclose(many_steps, B.least_squares(xs, ys, xq), atol=1e-3)


def test_nearest_neighbours_matches_a_per_prompt_loop():
    _, _, xs, ys, xq, _ = context(d=2, k=7, noise_std=0.1)
    ours = B.nearest_neighbours(xs, ys, xq, n_neighbours=3)
    for b in range(len(xs)):
        distances = [float(((xs[b, i] - xq[b]) ** 2).sum()) for i in range(7)]
        nearest = sorted(range(7), key=distances.__getitem__)[:3]
        assert ours[b].item() == pytest.approx(float(ys[b, nearest].mean()), abs=1e-6)
    assert torch.allclose(B.nearest_neighbours(xs[:, :2], ys[:, :2], xq), ys[:, :2].mean(1))


def test_dmmse_equals_a_brute_force_posterior():
    noise_var = 0.25
    task, _, xs, ys, xq, _ = context(d=3, k=4, noise_std=noise_var**0.5, pool_size=5)
    pool = task.pool().double().numpy()
    ours = B.dmmse_weights(xs, ys, task.pool(), noise_var)
    for b in range(len(xs)):
        x, y = xs[b].double().numpy(), ys[b].double().numpy()
        likelihood = np.array([
            np.prod([np.exp(-((y[i] - w @ x[i]) ** 2) / (2 * noise_var)) for i in range(4)]) for w in pool
        ])
        assert np.allclose(ours[b].numpy(), likelihood @ pool / likelihood.sum(), atol=1e-5)


def test_dmmse_with_one_task_returns_that_task():
    task, _, xs, ys, xq, _ = context(d=3, k=1, noise_std=0.5, pool_size=1)
    assert torch.allclose(B.dmmse_weights(xs, ys, task.pool(), 0.25), task.pool().expand(len(xs), -1))
    with pytest.raises(InputError, match="noise_var > 0"):
        B.dmmse_weights(xs, ys, task.pool(), 0.0)


def test_prefix_predictions_predict_each_point_from_the_previous_ones():
    _, prompts, *_ = context(d=2, k=5)
    table = B.prefix_predictions(prompts.xs, prompts.ys, B.averaging)
    assert table.shape == (8, 6) and not table[:, 0].any()
    assert torch.allclose(table[:, 3], B.averaging(prompts.xs[:, :3], prompts.ys[:, :3], prompts.xs[:, 3]))


def test_dmmse_predicts_the_pool_mean_before_any_context():
    task = RegressionTask(d=3, n_points=4, noise_std=0.5, pool_size=4)
    prompts = task.prompts(6, seed=0)
    table = B.prefix_predictions(prompts.xs, prompts.ys, lambda x, y, q: B.dmmse(x, y, q, task.pool(), 0.25))
    expected = prompts.xs[:, 0] @ task.pool().mean(0)  # the posterior with no data is the uniform prior
    assert torch.allclose(table[:, 0], expected, atol=1e-6) and expected.abs().min() > 0


def test_bad_shapes_raise_input_errors():
    with pytest.raises(InputError, match="expected xs"):
        B.least_squares_weights(torch.zeros(2, 3), torch.zeros(2, 3))


# ------------------------------------------------------ Monte Carlo against closed forms
def mc_mse(estimator, d, k, noise_var, n=40_000, seed=0, **options):
    task = RegressionTask(d=d, n_points=k + 1, noise_std=noise_var**0.5, **options)
    prompts = task.prompts(n, seed=seed)
    xs, ys = prompts.context(k)
    xq, yq = prompts.query(k)
    return (estimator(xs, ys, xq) - yq).double().pow(2).mean().item()


def test_one_step_gd_at_the_optimal_step_matches_the_closed_form():
    eta = B.optimal_gd_step(5, 20)
    assert eta == pytest.approx(0.769, abs=5e-4)
    assert B.optimal_gd_step_mse(5, 20) == pytest.approx(1.154, abs=5e-4)
    measured = mc_mse(lambda x, y, q: B.gradient_descent(x, y, q, 1, eta), d=5, k=20, noise_var=0.0)
    assert measured == pytest.approx(1.154, rel=0.03)
    # The closed form is a minimum: a step 20% off costs more, by the predicted amount.
    assert B.gd_step_mse(5, 20, 1.2 * eta) > B.optimal_gd_step_mse(5, 20)


def test_noisy_one_step_gd_and_averaging_match_the_closed_forms():
    eta = B.optimal_gd_step(5, 20, noise_var=0.25)
    measured = mc_mse(lambda x, y, q: B.gradient_descent(x, y, q, 1, eta), d=5, k=20, noise_var=0.25)
    assert measured == pytest.approx(B.optimal_gd_step_mse(5, 20, 0.25), rel=0.03)
    assert mc_mse(B.averaging, d=5, k=10, noise_var=0.0) / 5 == pytest.approx(0.6, rel=0.03)


@pytest.mark.parametrize("k", [2, 12])
def test_noisy_least_squares_matches_the_closed_form(k):
    measured = mc_mse(B.least_squares, d=5, k=k, noise_var=0.25)
    assert measured == pytest.approx(B.least_squares_mse(5, k, 0.25), rel=0.03)
    assert B.least_squares_mse(5, 5, 0.25) == float("inf") and B.least_squares_mse(5, 3, 0.0) == 2.0


def test_best_gd_step_on_a_sample_approaches_the_closed_form_optimum():
    task = RegressionTask(d=5, n_points=21, noise_std=0.5)
    prompts = task.prompts(40_000, seed=1)
    eta = B.best_gd_step(*prompts.context(20), *prompts.query(20))
    assert eta == pytest.approx(B.optimal_gd_step(5, 20, noise_var=0.25), rel=0.02)
