"""Closed-form expected errors of the regression baselines for x ~ N(0, I_d), w ~ N(0, tau^2 I_d).

Every error here is the expected squared error against the noisy target,
E[(y_hat - y_query)^2], so it includes the irreducible noise_var. Divide by d for Garg et
al.'s "error / d" (with tau = 1, E[y^2] = d).
"""

from __future__ import annotations

import math

from interp.tasks.checks import integer, number


def _check(d: int, n: int, noise_var: float = 0.0, w_scale: float = 1.0) -> None:
    """d >= 1 and n >= 0 integers, noise_var >= 0 and w_scale > 0 finite (InputError naming which)."""
    integer("d", d, minimum=1)
    integer("n (context points)", n, minimum=0)
    number("noise_var", noise_var, minimum=0)
    number("w_scale", w_scale, above=0)


def gd_step_mse(d: int, n: int, lr: float, noise_var: float = 0.0, w_scale: float = 1.0) -> float:
    """MSE of one GD step from zero with step lr on L = 1/(2n) sum (w . x_i - y_i)^2.

    w_hat = lr S w + lr X^T eps / n with S = X^T X / n; E[S] = I, E[S^2] = (1 + (d+1)/n) I.
    """
    _check(d, n, noise_var, w_scale)
    number("lr", lr)
    if n == 0:
        return d * w_scale**2 + noise_var
    tau2 = w_scale**2
    excess = tau2 * d * (lr**2 * (1 + (d + 1) / n) - 2 * lr + 1) + lr**2 * noise_var * d / n
    return excess + noise_var


def optimal_gd_step(d: int, n: int, noise_var: float = 0.0, w_scale: float = 1.0) -> float:
    """The step minimising `gd_step_mse`: n / (n + d + 1 + noise_var / tau^2)."""
    _check(d, n, noise_var, w_scale)
    if n == 0:
        return 0.0
    return n / (n + d + 1 + noise_var / w_scale**2)


def optimal_gd_step_mse(d: int, n: int, noise_var: float = 0.0, w_scale: float = 1.0) -> float:
    """MSE at the optimal step: tau^2 d (d + 1 + s) / (n + d + 1 + s) + noise_var, s = noise_var/tau^2."""
    return gd_step_mse(d, n, optimal_gd_step(d, n, noise_var, w_scale), noise_var, w_scale)


def averaging_mse(d: int, k: int, noise_var: float = 0.0, w_scale: float = 1.0) -> float:
    """MSE of (1/k) sum y_i x_i (one GD step, lr = 1): tau^2 d (d+1)/k + noise_var d/k + noise_var."""
    return gd_step_mse(d, k, 1.0, noise_var, w_scale)


def least_squares_mse(d: int, k: int, noise_var: float = 0.0, w_scale: float = 1.0) -> float:
    """MSE of minimum-norm least squares from k points (inf where it diverges).

    k < d: tau^2 (d - k) unexplained + noise_var k / (d - k - 1) from the noise (inverse Wishart);
    k > d + 1: noise_var d / (k - d - 1); noiseless k >= d: 0. Plus noise_var.
    """
    _check(d, k, noise_var, w_scale)
    tau2 = w_scale**2
    if noise_var == 0:
        return tau2 * max(d - k, 0)
    if k == 0:
        return tau2 * d + noise_var
    if k < d - 1:
        return tau2 * (d - k) + noise_var * k / (d - k - 1) + noise_var
    if k > d + 1:
        return noise_var * d / (k - d - 1) + noise_var
    return math.inf
