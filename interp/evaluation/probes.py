"""Linear probes on the residual stream (Akyürek et al. 2023, Fig. 4): ridge regression from a
layer's activations at one position to a quantity of the prompt (w_OLS, X^T Y), scored by R^2
on prompts the probe was not fitted on."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from interp.errors import InputError
from interp.model import HookedTransformer


@dataclass(frozen=True)
class LinearProbe:
    """An affine read-out targets ~ features @ weights + bias, fitted by ridge regression."""

    weights: torch.Tensor  # [n_features, n_targets], float64
    bias: torch.Tensor  # [n_targets], float64

    def predict(self, features: torch.Tensor) -> torch.Tensor:
        """Probe outputs [n, n_targets] (float64)."""
        return features.to(torch.float64) @ self.weights + self.bias


def fit_linear_probe(features: torch.Tensor, targets: torch.Tensor, lam: float = 1e-3) -> LinearProbe:
    """Ridge regression with an unpenalised bias: argmin |F W + b - T|^2 + lam |W|^2.

    features [n, f], targets [n, t]; float64 throughout (the Gram matrix of activations is
    ill-conditioned in float32). Centring both sides first makes the bias unpenalised exactly.
    """
    if features.dim() != 2 or targets.dim() != 2 or features.shape[0] != targets.shape[0]:
        raise InputError(f"expected features [n, f] and targets [n, t] with the same n, got "
                         f"{tuple(features.shape)} and {tuple(targets.shape)}.")
    if lam < 0:
        raise InputError(f"the ridge penalty must be >= 0, got lam={lam}.")
    f64, t64 = features.to(torch.float64), targets.to(torch.float64)
    f_mean, t_mean = f64.mean(0), t64.mean(0)
    fc, tc = f64 - f_mean, t64 - t_mean  # [n, f], [n, t]
    if lam == 0:
        weights = torch.linalg.lstsq(fc, tc, driver="gelsd").solution  # min-norm, as numpy's lstsq
    else:
        gram = fc.T @ fc + lam * torch.eye(fc.shape[1], dtype=torch.float64)  # [f, f]
        weights = torch.linalg.solve(gram, fc.T @ tc)  # [f, t]
    return LinearProbe(weights, t_mean - f_mean @ weights)


def r_squared(predicted: torch.Tensor, targets: torch.Tensor) -> float:
    """Coefficient of determination, 1 - SS_res / SS_tot per target column, averaged over columns."""
    if predicted.shape != targets.shape or targets.dim() != 2:
        raise InputError(f"expected predicted and targets of one shape [n, t], got {tuple(predicted.shape)} "
                         f"and {tuple(targets.shape)}.")
    p64, t64 = predicted.to(torch.float64), targets.to(torch.float64)
    ss_res = (t64 - p64).pow(2).sum(0)
    ss_tot = (t64 - t64.mean(0)).pow(2).sum(0)
    return float((1 - ss_res / ss_tot).mean())


def residual_streams(model: HookedTransformer, inputs: torch.Tensor, position: int) -> list[torch.Tensor]:
    """The residual stream at `position` after the embedding and after each layer:
    n_layers + 1 tensors [batch, d_model] (blocks.0.hook_resid_pre, then blocks.L.hook_resid_post)."""
    if not -inputs.shape[1] <= position < inputs.shape[1]:
        raise InputError(f"position {position} is outside the {inputs.shape[1]} positions of the inputs.")
    names = ["blocks.0.hook_resid_pre"]
    names += [f"blocks.{layer}.hook_resid_post" for layer in range(model.cfg.n_layers)]
    with torch.no_grad():
        _, cache = model.run_with_cache(inputs, names_filter=lambda name: name in names)
    return [cache[name][:, position].detach() for name in names]


def probe_r2_by_layer(
    model: HookedTransformer,
    fit_inputs: torch.Tensor,
    fit_targets: torch.Tensor,
    test_inputs: torch.Tensor,
    test_targets: torch.Tensor,
    position: int,
    lam: float = 1e-3,
) -> list[float]:
    """Held-out R^2 of a ridge probe from each residual stream (embedding, then every layer) at
    `position` to the targets: one probe per layer, fitted on fit_*, scored on test_*."""
    fit_streams = residual_streams(model, fit_inputs, position)
    test_streams = residual_streams(model, test_inputs, position)
    scores = []
    for fit_features, test_features in zip(fit_streams, test_streams):
        probe = fit_linear_probe(fit_features, fit_targets, lam)
        scores.append(r_squared(probe.predict(test_features), test_targets))
    return scores


def xty(xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
    """X^T Y of a prompt's context [batch, d] (Akyürek et al.'s intermediate quantity)."""
    return torch.einsum("bkd,bk->bd", xs.to(torch.float64), ys.to(torch.float64))
