"""The regression baselines agree with numpy (an independent implementation) on random and
ill-conditioned prompts, integer inputs included; malformed inputs are refused.

Quick profile by default (a few seconds); FUZZ_PROFILE=long runs many more examples."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from interp.baselines import (
    dmmse_weights,
    gradient_descent_weights,
    least_squares,
    least_squares_weights,
    nearest_neighbours,
    ridge_weights,
)
from interp.errors import InputError

LONG = os.environ.get("FUZZ_PROFILE") == "long"
PROFILE = settings(max_examples=1500 if LONG else 30, deadline=None, derandomize=not LONG,
                   suppress_health_check=[HealthCheck.too_slow])


@st.composite
def prompts(draw, ill_conditioned: bool = False, integer: bool = False):
    """(xs [b, k, d], ys [b, k], x_query [b, d]) as float64 numpy arrays (integer-valued if asked)."""
    b, k, d = draw(st.integers(1, 3)), draw(st.integers(1, 8)), draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if integer:
        xs = rng.integers(-9, 10, (b, k, d)).astype(np.float64)
        ys = rng.integers(-9, 10, (b, k)).astype(np.float64)
        query = rng.integers(-9, 10, (b, d)).astype(np.float64)
        return xs, ys, query
    xs = rng.standard_normal((b, k, d)) * draw(st.sampled_from([1e-3, 1.0, 1e3]))
    if ill_conditioned and min(k, d) > 1:
        # X = U diag(s) V^T with singular values down to 10^-exponent.
        exponent = draw(st.floats(2, 8))
        for i in range(b):
            u, _, vt = np.linalg.svd(rng.standard_normal((k, d)), full_matrices=False)
            xs[i] = u @ np.diag(np.logspace(0, -exponent, min(k, d))) @ vt
    ys = rng.standard_normal((b, k))
    return xs, ys, rng.standard_normal((b, d))


def _t(array: np.ndarray, integer: bool = False) -> torch.Tensor:
    return torch.tensor(array, dtype=torch.int64 if integer else torch.float64)


def _close(got: torch.Tensor, want: np.ndarray, scale: float) -> None:
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, atol=1e-9 * max(1.0, scale))


@PROFILE
@given(prompts())
def test_least_squares_is_numpys_minimum_norm_lstsq(data):
    xs, ys, _ = data
    got = least_squares_weights(_t(xs), _t(ys))
    for i in range(xs.shape[0]):
        want = np.linalg.lstsq(xs[i], ys[i], rcond=None)[0]
        _close(got[i], want, np.linalg.cond(xs[i]) * np.abs(want).max(initial=1.0))


@PROFILE
@given(prompts(ill_conditioned=True))
def test_least_squares_on_ill_conditioned_prompts(data):
    xs, ys, _ = data
    got = least_squares_weights(_t(xs), _t(ys))
    for i in range(xs.shape[0]):
        want = np.linalg.lstsq(xs[i], ys[i], rcond=None)[0]
        # Error grows with the condition number (here at most ~1e8, far from float64's 1e16).
        np.testing.assert_allclose(got[i].numpy(), want, rtol=1e-5,
                                   atol=1e-12 * np.linalg.cond(xs[i]) * max(1.0, np.abs(want).max()))


@PROFILE
@given(prompts(integer=True))
def test_integer_inputs_are_not_truncated(data):
    xs, ys, query = data
    got = least_squares(_t(xs, True), _t(ys, True), _t(query, True))
    assert got.dtype == torch.float64
    for i in range(xs.shape[0]):
        want = np.linalg.lstsq(xs[i], ys[i], rcond=None)[0] @ query[i]
        assert abs(float(got[i]) - want) <= 1e-6 * max(1.0, abs(want)) * max(1.0, np.linalg.cond(xs[i]))


@PROFILE
@given(prompts(), st.floats(1e-3, 1e3))
def test_ridge_is_numpys_regularised_solve(data, lam):
    xs, ys, _ = data
    got = ridge_weights(_t(xs), _t(ys), lam)
    for i in range(xs.shape[0]):
        gram = xs[i].T @ xs[i] + lam * np.eye(xs.shape[2])
        want = np.linalg.solve(gram, xs[i].T @ ys[i])
        _close(got[i], want, np.linalg.cond(gram) * np.abs(want).max(initial=1.0))


@PROFILE
@given(prompts(), st.integers(0, 5), st.floats(-2, 2))
def test_gradient_descent_is_a_numpy_loop(data, steps, lr):
    xs, ys, _ = data
    got = gradient_descent_weights(_t(xs), _t(ys), steps=steps, lr=lr)
    for i in range(xs.shape[0]):
        w = np.zeros(xs.shape[2])
        for _ in range(steps):
            w = w - lr * xs[i].T @ (xs[i] @ w - ys[i]) / xs.shape[1]
        _close(got[i], w, np.abs(w).max(initial=1.0))


@PROFILE
@given(prompts(), st.integers(1, 6))
def test_nearest_neighbours_is_a_numpy_sort(data, n):
    xs, ys, query = data
    distances = ((xs - query[:, None]) ** 2).sum(-1)
    order = np.sort(distances, axis=1)
    m = min(n, xs.shape[1])
    if m < xs.shape[1]:  # a tie across the cut makes the neighbour set ambiguous
        assume(np.all(order[:, m - 1] < order[:, m]))
    got = nearest_neighbours(_t(xs), _t(ys), _t(query), n_neighbours=n)
    want = np.array([ys[i][np.argsort(distances[i], kind="stable")[:m]].mean() for i in range(len(xs))])
    _close(got, want, 1.0)


@PROFILE
@given(prompts(), st.integers(1, 6), st.floats(0.05, 4))
def test_dmmse_is_a_numpy_posterior_mean(data, pool_size, noise_var):
    xs, ys, _ = data
    pool = np.random.default_rng(pool_size).standard_normal((pool_size, xs.shape[2]))
    got = dmmse_weights(_t(xs), _t(ys), _t(pool), noise_var)
    for i in range(xs.shape[0]):
        log_post = -((ys[i][:, None] - xs[i] @ pool.T) ** 2).sum(0) / (2 * noise_var)
        post = np.exp(log_post - log_post.max())
        _close(got[i], (post / post.sum()) @ pool, 1.0)


@pytest.mark.parametrize("call,fragment", [
    (lambda x, y, q: least_squares(x, y, q[:, :1]), "x_query"),  # [b, 1] query with d = 4
    (lambda x, y, q: nearest_neighbours(x, y, q.clone().fill_(float("nan"))), "x_query"),
    (lambda x, y, q: nearest_neighbours(x, y, q, n_neighbours=0), "n_neighbours"),
    (lambda x, y, q: gradient_descent_weights(x, y, steps=-3), "steps"),
    (lambda x, y, q: dmmse_weights(x, y, torch.zeros(0, 4), 1.0), "pool"),
    (lambda x, y, q: least_squares_weights(x, y.clone().fill_(float("inf"))), "ys"),
])
def test_malformed_inputs_are_refused_by_name(call, fragment):
    xs, ys, query = torch.randn(2, 5, 4), torch.randn(2, 5), torch.randn(2, 4)
    with pytest.raises(InputError, match=fragment):
        call(xs, ys, query)
