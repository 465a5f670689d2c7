"""In-context regression estimators, vectorised over a batch of prompts.

Every estimator reads a prompt's context (xs [batch, k, d], ys [batch, k]) and predicts the
y of a query x [batch, d]. Those that form a task-vector estimate also expose it as
`*_weights` [batch, d]. Computation is in float64 (least squares near k = d is
ill-conditioned in float32); results come back in the inputs' dtype.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from interp.errors import InputError

Estimator = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def _check(xs: torch.Tensor, ys: torch.Tensor) -> None:
    if xs.dim() != 3 or ys.shape != xs.shape[:2]:
        raise InputError(
            f"expected xs [batch, k, d] and ys [batch, k], got {tuple(xs.shape)} and {tuple(ys.shape)}."
        )


def predict(weights: torch.Tensor, x_query: torch.Tensor) -> torch.Tensor:
    """Linear prediction w . x per prompt: [batch, d], [batch, d] -> [batch]."""
    return (weights.to(torch.float64) * x_query.to(torch.float64)).sum(-1).to(x_query.dtype)


def least_squares_weights(xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
    """Minimum-norm least-squares solution pinv(X) y: [batch, d]."""
    _check(xs, ys)
    x64 = xs.to(torch.float64)
    return (torch.linalg.pinv(x64) @ ys.to(torch.float64).unsqueeze(-1)).squeeze(-1).to(xs.dtype)


def ridge_weights(xs: torch.Tensor, ys: torch.Tensor, lam: float) -> torch.Tensor:
    """Ridge solution (X^T X + lam I)^-1 X^T y: [batch, d]. lam = sigma^2/tau^2 is the posterior mean."""
    _check(xs, ys)
    if lam <= 0:
        raise InputError(f"ridge needs lam > 0, got {lam}; use least_squares for lam = 0.")
    x64, y64 = xs.to(torch.float64), ys.to(torch.float64)
    gram = x64.transpose(1, 2) @ x64 + lam * torch.eye(xs.shape[-1], dtype=torch.float64)  # [b, d, d]
    rhs = (x64.transpose(1, 2) @ y64.unsqueeze(-1))  # [b, d, 1]
    return torch.linalg.solve(gram, rhs).squeeze(-1).to(xs.dtype)


def gradient_descent_weights(
    xs: torch.Tensor, ys: torch.Tensor, steps: int = 1, lr: float = 1.0
) -> torch.Tensor:
    """`steps` of GD from w = 0 on L(w) = 1/(2k) sum_i (w . x_i - y_i)^2 with step lr: [batch, d]."""
    _check(xs, ys)
    x64, y64 = xs.to(torch.float64), ys.to(torch.float64)
    k = max(xs.shape[1], 1)
    weights = torch.zeros(xs.shape[0], xs.shape[2], dtype=torch.float64)
    for _ in range(steps):
        residual = torch.einsum("bkd,bd->bk", x64, weights) - y64  # [b, k]
        weights = weights - lr * torch.einsum("bkd,bk->bd", x64, residual) / k
    return weights.to(xs.dtype)


def averaging_weights(xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
    """The averaging estimator (1/k) sum_i y_i x_i (one GD step with lr = 1): [batch, d]."""
    return gradient_descent_weights(xs, ys, steps=1, lr=1.0)


def dmmse_weights(xs: torch.Tensor, ys: torch.Tensor, pool: torch.Tensor, noise_var: float) -> torch.Tensor:
    """Bayes-optimal estimate for a uniform prior over a finite pool [M, d] (Raventós' dMMSE).

    The posterior-weighted mean of the pool, weights proportional to
    exp(-sum_i (y_i - w_m . x_i)^2 / (2 noise_var)).
    """
    _check(xs, ys)
    if noise_var <= 0:
        raise InputError(f"dMMSE needs noise_var > 0 (the posterior is degenerate), got {noise_var}.")
    pool64 = pool.to(torch.float64)
    residuals = ys.to(torch.float64).unsqueeze(-1) - xs.to(torch.float64) @ pool64.T  # [b, k, M]
    log_post = -residuals.pow(2).sum(1) / (2 * noise_var)  # [b, M]
    return (log_post.softmax(-1) @ pool64).to(xs.dtype)


def least_squares(xs: torch.Tensor, ys: torch.Tensor, x_query: torch.Tensor) -> torch.Tensor:
    """Minimum-norm least-squares prediction at x_query: [batch]."""
    return predict(least_squares_weights(xs, ys), x_query)


def ridge(xs: torch.Tensor, ys: torch.Tensor, x_query: torch.Tensor, lam: float) -> torch.Tensor:
    """Ridge prediction at x_query: [batch]."""
    return predict(ridge_weights(xs, ys, lam), x_query)


def gradient_descent(
    xs: torch.Tensor, ys: torch.Tensor, x_query: torch.Tensor, steps: int = 1, lr: float = 1.0
) -> torch.Tensor:
    """Prediction of `steps` GD steps from zero: [batch]."""
    return predict(gradient_descent_weights(xs, ys, steps, lr), x_query)


def averaging(xs: torch.Tensor, ys: torch.Tensor, x_query: torch.Tensor) -> torch.Tensor:
    """Prediction of the averaging estimator: [batch]."""
    return predict(averaging_weights(xs, ys), x_query)


def dmmse(
    xs: torch.Tensor, ys: torch.Tensor, x_query: torch.Tensor, pool: torch.Tensor, noise_var: float
) -> torch.Tensor:
    """Prediction of the finite-pool Bayes estimator: [batch]."""
    return predict(dmmse_weights(xs, ys, pool, noise_var), x_query)


def nearest_neighbours(
    xs: torch.Tensor, ys: torch.Tensor, x_query: torch.Tensor, n_neighbours: int = 3
) -> torch.Tensor:
    """Mean y of the n_neighbours context points nearest x_query (all of them when k is smaller): [batch]."""
    _check(xs, ys)
    if xs.shape[1] == 0:
        return torch.zeros(xs.shape[0], dtype=xs.dtype)
    distances = (xs.to(torch.float64) - x_query.to(torch.float64).unsqueeze(1)).pow(2).sum(-1)  # [b, k]
    nearest = distances.topk(min(n_neighbours, xs.shape[1]), dim=1, largest=False).indices
    return ys.gather(1, nearest).to(torch.float64).mean(1).to(xs.dtype)


def best_gd_step(xs: torch.Tensor, ys: torch.Tensor, x_query: torch.Tensor, y_query: torch.Tensor) -> float:
    """The one-step GD step size with the least squared error on these prompts.

    One step from zero predicts lr * a with a the averaging prediction, so the error is
    quadratic in lr and minimal at sum(a y) / sum(a^2): the optimal step for any x distribution.
    """
    a = averaging(xs, ys, x_query).to(torch.float64)
    return float((a * y_query.to(torch.float64)).sum() / a.pow(2).sum())


def prefix_predictions(xs: torch.Tensor, ys: torch.Tensor, estimator: Estimator) -> torch.Tensor:
    """Predict each point from the points before it: [batch, n_points].

    The first point is predicted from an empty context too, not set to 0: a prior that is not
    centred (dMMSE's pool mean) already predicts something there.
    """
    _check(xs, ys)
    columns = [estimator(xs[:, :k], ys[:, :k], xs[:, k]) for k in range(xs.shape[1])]
    return torch.stack(columns, dim=1)


def knn3(xs: torch.Tensor, ys: torch.Tensor, x_query: torch.Tensor) -> torch.Tensor:
    """3-nearest-neighbour prediction (Garg et al.'s k-NN baseline): [batch]."""
    return nearest_neighbours(xs, ys, x_query, n_neighbours=3)


# The baselines Garg et al. plot next to the model, by the names `interp eval` reports.
GARG_BASELINES: dict[str, Estimator] = {"least_squares": least_squares, "averaging": averaging, "knn3": knn3}
