"""In-context regression models against the baselines on the same prompts (Garg et al.'s
error curves; von Oswald et al.'s comparison of a linear self-attention layer with one GD step)."""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import nn

from interp import baselines as B
from interp.errors import InputError
from interp.model import HookedTransformer
from interp.tasks.regression import RegressionPrompts, RegressionTask

CHUNK = 2000  # prompts per forward pass (memory only; results do not depend on it)


def model_predictions(model: nn.Module, task: RegressionTask, prompts: RegressionPrompts) -> torch.Tensor:
    """Model predictions: each point from the earlier ones [b, n_points] (garg), or the query's [b]."""
    inputs, _ = task.encode(prompts)
    with torch.no_grad():
        outputs = torch.cat([model(inputs[i:i + CHUNK]) for i in range(0, len(inputs), CHUNK)])
    return task.predictions(outputs)


def error_curves(
    model: nn.Module, task: RegressionTask, n_prompts: int = 2000, seed: int = 1
) -> dict[str, torch.Tensor]:
    """Squared error / d at each k = 0..n_points-1 in-context points: the model and Garg's baselines."""
    _require(task, "garg")
    prompts = task.prompts(n_prompts, seed=seed)
    curves = {"model": model_predictions(model, task, prompts)}
    for name, estimator in B.GARG_BASELINES.items():
        curves[name] = B.prefix_predictions(prompts.xs, prompts.ys, estimator)
    return {name: (predicted - prompts.ys).pow(2).mean(0) / task.d for name, predicted in curves.items()}


def prediction_differences(
    model: nn.Module, task: RegressionTask, n_prompts: int = 2000, seed: int = 1
) -> dict[str, torch.Tensor]:
    """Akyurek et al.'s SPD: mean squared difference / d between the model's prediction and each
    baseline's, at every k [n_points]: least squares, averaging, and one GD step at the step
    size that is best for that k on these prompts."""
    _require(task, "garg")
    prompts = task.prompts(n_prompts, seed=seed)
    ours = model_predictions(model, task, prompts)  # [b, n_points]
    gd = [torch.zeros(n_prompts)]
    for k in range(1, task.n_points):
        context, (x_query, y_query) = prompts.context(k), prompts.query(k)
        step = B.best_gd_step(*context, x_query, y_query)
        gd.append(B.gradient_descent(*context, x_query, steps=1, lr=step))
    baselines = {
        "least_squares": B.prefix_predictions(prompts.xs, prompts.ys, B.least_squares),
        "averaging": B.prefix_predictions(prompts.xs, prompts.ys, B.averaging),
        "gd_one_step": torch.stack(gd, dim=1),
    }
    return {name: (ours - predicted).pow(2).mean(0) / task.d for name, predicted in baselines.items()}


def query_prediction_differences(
    model: nn.Module, task: RegressionTask, n_prompts: int = 2000, seed: int = 1
) -> dict[str, float]:
    """Akyurek et al.'s SPD at the query of von Oswald's encoding (N = n_points - 1 context points):
    mean squared difference / d between the model's prediction and least squares, averaging and
    one GD step at the step size best on these prompts; model_error is the model's own error / d."""
    _require(task, "oswald")
    prompts = task.prompts(n_prompts, seed=seed)
    n = task.n_points - 1
    context, (x_query, y_query) = prompts.context(n), prompts.query(n)
    ours = model_predictions(model, task, prompts).to(torch.float64)  # [b]
    step = B.best_gd_step(*context, x_query, y_query)
    baselines = {
        "least_squares": B.least_squares(*context, x_query),
        "averaging": B.averaging(*context, x_query),
        "gd_one_step": B.gradient_descent(*context, x_query, steps=1, lr=step),
    }
    report = {name: (ours - predicted.to(torch.float64)).pow(2).mean().item() / task.d
              for name, predicted in baselines.items()}
    return {**report, "model_error": (ours - y_query.to(torch.float64)).pow(2).mean().item() / task.d,
            "gd_step": step}


def evaluate_regression_gpt(
    model: nn.Module, task: RegressionTask, n_prompts: int = 2000, seed: int = 1
) -> dict[str, Any]:
    """error/d at k = 2d for the model, least squares, averaging and 3-NN (the shipped model's check)."""
    k = 2 * task.d
    if task.n_points <= k:
        raise InputError(f"the task has {task.n_points} points per prompt; k = 2d = {k} needs "
                         f"n_points >= {k + 1}.")
    curves = error_curves(model, task, n_prompts, seed)
    return {
        "k": k,
        "error_per_dim": curves["model"][k].item(),
        **{name: curves[name][k].item() for name in B.GARG_BASELINES},
        "n_prompts": n_prompts,
        "seed": seed,
    }


def task_diversity_losses(
    model: nn.Module, task: RegressionTask, n_prompts: int = 2000, seed: int = 1
) -> dict[str, float]:
    """Raventós et al.'s comparison, every number averaged over all n_points positions and divided by d.

    For prompts from the task's pretraining pool ("pretrain") and prompts with fresh tasks
    w ~ N(0, w_scale^2 I) ("new"): the loss L/D of the model, of dMMSE (Bayes-optimal for the
    pool; only with a finite pool) and of ridge (lam = sigma^2 / w_scale^2, Bayes-optimal for
    fresh tasks), and delta_<baseline>: the mean squared difference / D between the model's
    predictions and the baseline's (Raventós' distance to a baseline).
    """
    _require(task, "garg")
    if task.function_class != "linear" or task.noise_std <= 0:
        raise InputError("task_diversity_losses needs a linear task with noise_std > 0 (dMMSE's posterior "
                         f"needs noise), got function_class={task.function_class!r}, "
                         f"noise_std={task.noise_std}.")
    noise_var = task.noise_std**2
    estimators = {"ridge": lambda x, y, q: B.ridge(x, y, q, lam=noise_var / task.w_scale**2)}
    if task.pool_size is not None:
        pool = task.pool()
        estimators["dmmse"] = lambda x, y, q: B.dmmse(x, y, q, pool, noise_var)
    # Bounded memory: dMMSE holds [prompts, k, M] residuals.
    chunk = max(1, 2**21 // (task.n_points * (task.pool_size or 1)))
    report: dict[str, float] = {}
    for split, split_task in (("pretrain", task), ("new", dataclasses.replace(task, pool_size=None))):
        prompts = split_task.prompts(n_prompts, seed=seed)
        ours = model_predictions(model, split_task, prompts).to(torch.float64)  # [b, n_points]
        ys = prompts.ys.to(torch.float64)
        report[f"{split}_model"] = (ours - ys).pow(2).mean().item() / task.d
        for name, estimator in estimators.items():
            theirs = torch.cat([
                B.prefix_predictions(prompts.xs[i:i + chunk], prompts.ys[i:i + chunk], estimator)
                for i in range(0, n_prompts, chunk)
            ]).to(torch.float64)
            report[f"{split}_{name}"] = (theirs - ys).pow(2).mean().item() / task.d
            report[f"{split}_delta_{name}"] = (ours - theirs).pow(2).mean().item() / task.d
    return report


def query_sensitivity(model: nn.Module, task: RegressionTask, prompts: RegressionPrompts) -> torch.Tensor:
    """d(prediction)/d(x_query) per prompt [b, d]: the linear map the model applies to the query."""
    _require(task, "oswald")
    inputs, _ = task.encode(prompts)
    inputs = inputs.clone().requires_grad_(True)
    # Prompts do not interact, so the gradient of the summed predictions is each prompt's own.
    task.predictions(model(inputs)).sum().backward()
    return inputs.grad[:, -1, : task.d].detach()


def evaluate_lsa(
    model: nn.Module, task: RegressionTask, n_prompts: int = 20_000, seed: int = 1
) -> dict[str, Any]:
    """The model against one step of GD at the best step size, on the same prompts.

    mse_vs_gd_optimal: model MSE / GD MSE; cosine_to_gd: mean cosine between the model's query
    sensitivity and w_GD (von Oswald et al.); weight_rel_diff: mean |sensitivity - w_GD| / |w_GD|.
    """
    _require(task, "oswald")
    prompts = task.prompts(n_prompts, seed=seed)
    n = task.n_points - 1
    xs, ys = prompts.context(n)
    x_query, y_query = prompts.query(n)
    if _closed_form_applies(task):
        step, step_source = B.optimal_gd_step(task.d, n, task.noise_std**2, task.w_scale), "closed_form"
    else:
        step, step_source = B.best_gd_step(xs, ys, x_query, y_query), "fitted_on_eval_prompts"
    w_gd = B.gradient_descent_weights(xs, ys, steps=1, lr=step)  # [b, d]
    mse_gd = (B.predict(w_gd, x_query) - y_query).pow(2).mean().item()
    mse_model = (model_predictions(model, task, prompts) - y_query).pow(2).mean().item()
    sensitivity = torch.cat([
        query_sensitivity(model, task, _slice(prompts, i, i + CHUNK)) for i in range(0, n_prompts, CHUNK)
    ])
    cosine = torch.nn.functional.cosine_similarity(sensitivity, w_gd, dim=-1)
    rel_diff = (sensitivity - w_gd).norm(dim=-1) / w_gd.norm(dim=-1)
    return {
        "mse": mse_model,
        "mse_gd_optimal": mse_gd,
        "mse_vs_gd_optimal": mse_model / mse_gd,
        "cosine_to_gd": cosine.mean().item(),
        "weight_rel_diff": rel_diff.mean().item(),
        "gd_step": step,
        "gd_step_source": step_source,
        "n_prompts": n_prompts,
        "seed": seed,
    }


def lsa_matrices(model: HookedTransformer) -> tuple[torch.Tensor, torch.Tensor]:
    """A 1-layer model's attention in input coordinates, per head: QK [h, d_in, d_in] =
    W_E W_Q W_K^T W_E^T / scale (query rows, key columns) and OV [h, d_in] = W_E W_V W_O W_U[:, 0]
    (how much of each input coordinate of a key reaches the read-out)."""
    if model.cfg.n_layers != 1 or model.cfg.d_input is None:
        raise InputError("lsa_matrices reads a 1-layer model with vector inputs (d_input).")
    attn, w_e = model.blocks[0].attn, model.embed.W_E.detach()  # w_e: [d_in, d_model]
    qk = torch.einsum("ia,hae,hbe,jb->hij", w_e, attn.W_Q.detach(), attn.W_K.detach(), w_e) / model.cfg.scale
    ov = torch.einsum("ia,hae,heb,b->hi", w_e, attn.W_V.detach(), attn.W_O.detach(),
                      model.unembed.W_U.detach()[:, 0])
    return qk, ov


def lsa_preconditioner(model: HookedTransformer, n_context: int) -> torch.Tensor:
    """The d x d matrix G with prediction ~ x_query^T G (1/N) sum_i y_i x_i: step * I for one GD step.

    Reads the y-value path only (the y coordinate is the last input coordinate); terms through
    other paths are what `evaluate_lsa` measures as the gap to GD.
    """
    qk, ov = lsa_matrices(model)
    d = qk.shape[-1] - 1
    return n_context * torch.einsum("hij,h->ij", qk[:, :d, :d], ov[:, d])


def regression_report(model: nn.Module, task: RegressionTask, seed: int = 1) -> dict[str, Any]:
    """What `interp eval` prints for an in-context regression model: Garg's error/d at k = 2d
    next to the baselines (garg encoding), or the comparison with optimal one-step GD (oswald)."""
    model.eval()
    if task.encoding == "garg":
        return {"task": task.name, **evaluate_regression_gpt(model, task, n_prompts=2000, seed=seed)}
    return {"task": task.name, **evaluate_lsa(model, task, n_prompts=20_000, seed=seed)}


def _closed_form_applies(task: RegressionTask) -> bool:
    return (task.x_distribution == "normal" and task.x_scale == 1.0 and task.function_class == "linear"
            and task.pool_size is None)


def _slice(prompts: RegressionPrompts, start: int, stop: int) -> RegressionPrompts:
    weights = None if prompts.weights is None else prompts.weights[start:stop]
    return RegressionPrompts(prompts.xs[start:stop], prompts.ys[start:stop], weights)


def _require(task: RegressionTask, encoding: str) -> None:
    if task.encoding != encoding:
        raise InputError(f"this evaluation needs the {encoding!r} encoding, the task uses {task.encoding!r}.")
