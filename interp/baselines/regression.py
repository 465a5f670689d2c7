"""In-context regression estimators, vectorised over a batch of prompts.

Every estimator reads a prompt's context (xs [batch, k, d], ys [batch, k]) and predicts the
y of a query x [batch, d]. Those that form a task-vector estimate also expose it as
`*_weights` [batch, d]. Computation is in float64 (least squares near k = d is
ill-conditioned in float32); results come back in the inputs' dtype.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from interp.errors import InputError
from interp.tasks.checks import integer, number

Estimator = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def _check(xs: torch.Tensor, ys: torch.Tensor, x_query: torch.Tensor | None = None) -> None:
    """Exact shapes (no broadcasting), real dtypes and finite values, or InputError naming the argument."""
    for name, value in (("xs", xs), ("ys", ys), ("x_query", x_query)):
        if value is None:
            continue
        if not isinstance(value, torch.Tensor):
            raise InputError(f"{name} must be a torch.Tensor, got {type(value).__name__}.")
        if value.dtype == torch.bool or value.is_complex():
            raise InputError(f"{name} must hold real numbers, got {value.dtype}.")
        if value.dtype.is_floating_point and not bool(torch.isfinite(value).all()):
            raise InputError(f"{name} holds NaN or infinite values; every estimator needs finite inputs.")
    if xs.dim() != 3 or ys.shape != xs.shape[:2]:
        raise InputError(
            f"expected xs [batch, k, d] and ys [batch, k], got {tuple(xs.shape)} and {tuple(ys.shape)}."
        )
    if x_query is not None and x_query.shape != (xs.shape[0], xs.shape[2]):
        raise InputError(f"expected x_query [batch, d] = [{xs.shape[0]}, {xs.shape[2]}], got "
                         f"{tuple(x_query.shape)} (no broadcasting: pass one query per prompt).")


def _out_dtype(*tensors: torch.Tensor) -> torch.dtype:
    """The inputs' floating dtype; float64 for integer inputs, whose results are not integers."""
    floating = [t.dtype for t in tensors if t.dtype.is_floating_point]
    return floating[0] if floating else torch.float64


def _finite_number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def predict(weights: torch.Tensor, x_query: torch.Tensor) -> torch.Tensor:
    """Linear prediction w . x per prompt: [batch, d], [batch, d] -> [batch]."""
    for name, value in (("weights", weights), ("x_query", x_query)):
        if not isinstance(value, torch.Tensor) or value.dim() != 2:
            raise InputError(f"{name} must be a [batch, d] tensor, got {getattr(value, 'shape', value)!r}.")
    if weights.shape != x_query.shape:
        raise InputError(f"weights {tuple(weights.shape)} and x_query {tuple(x_query.shape)} must have the "
                         "same [batch, d] shape (no broadcasting).")
    out = _out_dtype(weights, x_query)
    return (weights.to(torch.float64) * x_query.to(torch.float64)).sum(-1).to(out)


def least_squares_weights(xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
    """Minimum-norm least-squares solution pinv(X) y: [batch, d]."""
    _check(xs, ys)
    x64 = xs.to(torch.float64)
    weights = torch.linalg.pinv(x64) @ ys.to(torch.float64).unsqueeze(-1)  # [b, d, 1]
    return weights.squeeze(-1).to(_out_dtype(xs, ys))


def ridge_weights(xs: torch.Tensor, ys: torch.Tensor, lam: float) -> torch.Tensor:
    """Ridge solution (X^T X + lam I)^-1 X^T y: [batch, d]. lam = sigma^2/tau^2 is the posterior mean."""
    _check(xs, ys)
    if not _finite_number(lam) or lam <= 0:
        raise InputError(f"ridge needs a finite lam > 0, got {lam!r}; use least_squares for lam = 0.")
    x64, y64 = xs.to(torch.float64), ys.to(torch.float64)
    gram = x64.transpose(1, 2) @ x64 + lam * torch.eye(xs.shape[-1], dtype=torch.float64)  # [b, d, d]
    rhs = (x64.transpose(1, 2) @ y64.unsqueeze(-1))  # [b, d, 1]
    return torch.linalg.solve(gram, rhs).squeeze(-1).to(_out_dtype(xs, ys))


def gradient_descent_weights(
    xs: torch.Tensor, ys: torch.Tensor, steps: int = 1, lr: float = 1.0
) -> torch.Tensor:
    """`steps` of GD from w = 0 on L(w) = 1/(2k) sum_i (w . x_i - y_i)^2 with step lr: [batch, d]."""
    _check(xs, ys)
    integer("steps", steps, minimum=0)
    number("lr", lr)
    x64, y64 = xs.to(torch.float64), ys.to(torch.float64)
    k = max(xs.shape[1], 1)
    weights = torch.zeros(xs.shape[0], xs.shape[2], dtype=torch.float64)
    for _ in range(steps):
        residual = torch.einsum("bkd,bd->bk", x64, weights) - y64  # [b, k]
        weights = weights - lr * torch.einsum("bkd,bk->bd", x64, residual) / k
    return weights.to(_out_dtype(xs, ys))


def averaging_weights(xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
    """The averaging estimator (1/k) sum_i y_i x_i (one GD step with lr = 1): [batch, d]."""
    return gradient_descent_weights(xs, ys, steps=1, lr=1.0)


def dmmse_weights(xs: torch.Tensor, ys: torch.Tensor, pool: torch.Tensor, noise_var: float) -> torch.Tensor:
    """Bayes-optimal estimate for a uniform prior over a finite pool [M, d] (Raventós' dMMSE).

    The posterior-weighted mean of the pool, weights proportional to
    exp(-sum_i (y_i - w_m . x_i)^2 / (2 noise_var)).
    """
    _check(xs, ys)
    if not _finite_number(noise_var) or noise_var <= 0:
        raise InputError(f"dMMSE needs a finite noise_var > 0 (the posterior is degenerate), got "
                         f"{noise_var!r}.")
    if not isinstance(pool, torch.Tensor) or pool.dim() != 2 or pool.shape[0] < 1 \
            or pool.shape[1] != xs.shape[2]:
        raise InputError(f"pool must be a non-empty [M, d={xs.shape[2]}] tensor of task vectors, got "
                         f"{tuple(getattr(pool, 'shape', ()))}.")
    if pool.dtype == torch.bool or pool.is_complex() or (
            pool.dtype.is_floating_point and not bool(torch.isfinite(pool).all())):
        raise InputError(f"pool must hold finite real numbers ({pool.dtype}, NaN or inf found).")
    pool64 = pool.to(torch.float64)
    residuals = ys.to(torch.float64).unsqueeze(-1) - xs.to(torch.float64) @ pool64.T  # [b, k, M]
    log_post = -residuals.pow(2).sum(1) / (2 * noise_var)  # [b, M]
    return (log_post.softmax(-1) @ pool64).to(_out_dtype(xs, ys))


def least_squares(xs: torch.Tensor, ys: torch.Tensor, x_query: torch.Tensor) -> torch.Tensor:
    """Minimum-norm least-squares prediction at x_query: [batch]."""
    _check(xs, ys, x_query)
    return predict(least_squares_weights(xs, ys), x_query)


def ridge(xs: torch.Tensor, ys: torch.Tensor, x_query: torch.Tensor, lam: float) -> torch.Tensor:
    """Ridge prediction at x_query: [batch]."""
    _check(xs, ys, x_query)
    return predict(ridge_weights(xs, ys, lam), x_query)


def gradient_descent(
    xs: torch.Tensor, ys: torch.Tensor, x_query: torch.Tensor, steps: int = 1, lr: float = 1.0
) -> torch.Tensor:
    """Prediction of `steps` GD steps from zero: [batch]."""
    _check(xs, ys, x_query)
    return predict(gradient_descent_weights(xs, ys, steps, lr), x_query)


def averaging(xs: torch.Tensor, ys: torch.Tensor, x_query: torch.Tensor) -> torch.Tensor:
    """Prediction of the averaging estimator: [batch]."""
    _check(xs, ys, x_query)
    return predict(averaging_weights(xs, ys), x_query)


def dmmse(
    xs: torch.Tensor, ys: torch.Tensor, x_query: torch.Tensor, pool: torch.Tensor, noise_var: float
) -> torch.Tensor:
    """Prediction of the finite-pool Bayes estimator: [batch]."""
    _check(xs, ys, x_query)
    return predict(dmmse_weights(xs, ys, pool, noise_var), x_query)


def nearest_neighbours(
    xs: torch.Tensor, ys: torch.Tensor, x_query: torch.Tensor, n_neighbours: int = 3
) -> torch.Tensor:
    """Mean y of the n_neighbours context points nearest x_query (all of them when k is smaller): [batch]."""
    _check(xs, ys, x_query)
    integer("n_neighbours", n_neighbours, minimum=1)
    out = _out_dtype(xs, ys)
    if xs.shape[1] == 0:
        return torch.zeros(xs.shape[0], dtype=out)
    distances = (xs.to(torch.float64) - x_query.to(torch.float64).unsqueeze(1)).pow(2).sum(-1)  # [b, k]
    nearest = distances.topk(min(n_neighbours, xs.shape[1]), dim=1, largest=False).indices
    return ys.gather(1, nearest).to(torch.float64).mean(1).to(out)


def best_gd_step(xs: torch.Tensor, ys: torch.Tensor, x_query: torch.Tensor, y_query: torch.Tensor) -> float:
    """The one-step GD step size with the least squared error on these prompts.

    One step from zero predicts lr * a with a the averaging prediction, so the error is
    quadratic in lr and minimal at sum(a y) / sum(a^2): the optimal step for any x distribution.
    """
    a = averaging(xs, ys, x_query).to(torch.float64)
    if not isinstance(y_query, torch.Tensor) or y_query.shape != a.shape:
        raise InputError(f"y_query must be a [batch] = [{a.shape[0]}] tensor, got "
                         f"{tuple(getattr(y_query, 'shape', ()))}.")
    if not bool(torch.isfinite(y_query.to(torch.float64)).all()):
        raise InputError("y_query holds NaN or infinite values.")
    energy = a.pow(2).sum()
    if energy == 0:  # every averaging prediction is 0: any step gives the same error
        raise InputError("the averaging predictions are all 0 on these prompts, so no step size is best; "
                         "pass prompts with non-zero xs and ys.")
    return float((a * y_query.to(torch.float64)).sum() / energy)


def prefix_predictions(xs: torch.Tensor, ys: torch.Tensor, estimator: Estimator) -> torch.Tensor:
    """Predict each point from the points before it: [batch, n_points].

    The first point is predicted from an empty context too, not set to 0: a prior that is not
    centred (dMMSE's pool mean) already predicts something there.
    """
    _check(xs, ys)
    if xs.shape[1] == 0:
        raise InputError("prefix_predictions needs prompts of at least one point, got k = 0.")
    columns = [estimator(xs[:, :k], ys[:, :k], xs[:, k]) for k in range(xs.shape[1])]
    return torch.stack(columns, dim=1)


def knn3(xs: torch.Tensor, ys: torch.Tensor, x_query: torch.Tensor) -> torch.Tensor:
    """3-nearest-neighbour prediction (Garg et al.'s k-NN baseline): [batch]."""
    return nearest_neighbours(xs, ys, x_query, n_neighbours=3)


# The baselines Garg et al. plot next to the model, by the names `interp eval` reports.
GARG_BASELINES: dict[str, Estimator] = {"least_squares": least_squares, "averaging": averaging, "knn3": knn3}
