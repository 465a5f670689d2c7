"""One in-context regression prompt, looked at closely: sample or edit its points, encode it
for a vector-input model, and put the model's prediction of every point (from the points
before it) next to the baselines' on the same prompt and the true y. The dashboard's input
editor for vector-input models reads this; the error curves over many prompts are in `icl`."""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import nn

from interp import baselines as B
from interp.errors import InputError
from interp.evaluation.task_reports import task_of
from interp.tasks.regression import RegressionPrompts, RegressionTask

# Names of the predictions `compare_on_prompt` returns, in display order.
ESTIMATORS = ("model", "least_squares", "ridge", "gd", "averaging", "knn3")


@dataclass(frozen=True)
class PromptComparison:
    """Every point's true y and each estimator's prediction of it from the points before it."""

    truth: torch.Tensor  # [n_points]
    predictions: dict[str, torch.Tensor]  # name -> [n_points]; point p predicted from points < p
    ridge_lambda: float
    gd_steps: int
    gd_lr: list[float]  # the step size used at each point (one per number of examples)

    def squared_errors(self) -> dict[str, torch.Tensor]:
        """(prediction - y)^2 per estimator and point [n_points]."""
        return {name: (values - self.truth).pow(2) for name, values in self.predictions.items()}


def regression_task_of(model: nn.Module) -> RegressionTask:
    """The in-context regression task a shipped/trained vector-input model was trained on."""
    task = task_of(model)
    if not isinstance(task, RegressionTask):
        raise InputError(f"this model was trained on {type(task).__name__}, not in-context regression; "
                         "the prompt editor is for regression models.")
    return task


def max_examples(model: nn.Module, task: RegressionTask) -> int:
    """The most in-context examples (points before the query) that fit the model's context."""
    n_ctx = model.cfg.n_ctx
    points = n_ctx // 2 if task.encoding == "garg" else n_ctx
    return points - 1


def prompt_task(model: nn.Module, n_examples: int, noise_std: float) -> RegressionTask:
    """The model's task with `n_examples` examples before the query and noise std `noise_std`."""
    task = regression_task_of(model)
    most = max_examples(model, task)
    if not 0 <= n_examples <= most:
        raise InputError(f"{n_examples} in-context examples do not fit this model's context of "
                         f"{model.cfg.n_ctx} positions; choose 0..{most}.")
    if noise_std < 0:
        raise InputError(f"the noise std must be >= 0, got {noise_std}.")
    return replace(task, n_points=max(n_examples + 1, 2 if task.encoding == "oswald" else 1),
                   noise_std=float(noise_std))


def sample_prompt(task: RegressionTask, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One seeded prompt of the task: xs [n_points, d], ys [n_points] (the last point is the query)."""
    prompts = task.prompts(1, seed=seed)
    return prompts.xs[0], prompts.ys[0]


def _check_points(task: RegressionTask, xs: torch.Tensor, ys: torch.Tensor) -> None:
    if xs.dim() != 2 or xs.shape[1] != task.d or ys.shape != xs.shape[:1] or not len(xs):
        raise InputError(f"expected xs [n_points, {task.d}] and ys [n_points] with n_points >= 1, got "
                         f"{tuple(xs.shape)} and {tuple(ys.shape)}.")
    if not (torch.isfinite(xs).all() and torch.isfinite(ys).all()):
        raise InputError("the prompt holds a non-finite value (NaN or inf); give real numbers.")


def encode_points(task: RegressionTask, xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
    """The model input for points xs [n, d], ys [n]: [1, seq, d_input] (the last point is the query)."""
    _check_points(task, xs, ys)
    if task.encoding == "oswald" and len(xs) == 1:
        # A query alone (no examples): one token (x, y hidden = 0). The task refuses
        # n_points = 1 for training, so it is written here rather than by `encode`.
        return torch.cat([xs, torch.zeros(1, 1)], dim=-1)[None].float()
    prompt = RegressionPrompts(xs[None].float(), ys[None].float(), None)
    inputs, _ = replace(task, n_points=len(xs)).encode(prompt)
    return inputs  # [1, seq, d_input]


def position_names(task: RegressionTask, n_points: int) -> list[str]:
    """One name per model position: x0, y0, x1, ... (garg) or (x0,y0), ..., x_query (oswald)."""
    if task.encoding == "garg":
        return [name for p in range(n_points) for name in (f"x{p}", f"y{p}")]
    return [f"(x{p},y{p})" for p in range(n_points - 1)] + [f"x{n_points - 1}?"]


def scored_positions(task: RegressionTask, n_points: int) -> list[int]:
    """Positions whose read-out is a prediction: every x (garg), the query (oswald)."""
    return list(range(0, 2 * n_points, 2)) if task.encoding == "garg" else [n_points - 1]


def default_ridge_lambda(task: RegressionTask) -> float:
    """sigma^2 / tau^2 (ridge is then the posterior mean); 0.1 for noiseless prompts."""
    ratio = task.noise_std**2 / task.w_scale**2
    return ratio if ratio > 0 else 0.1


def model_prefix_predictions(model: nn.Module, task: RegressionTask, xs: torch.Tensor,
                             ys: torch.Tensor) -> torch.Tensor:
    """The model's prediction of each point from the points before it [n_points]: one causal
    forward (garg), or one forward per prefix with that point as the query (oswald)."""
    _check_points(task, xs, ys)
    with torch.no_grad():
        if task.encoding == "garg":
            return model(encode_points(task, xs, ys))[0, 0::2, 0]  # [n_points]
        return torch.stack([model(encode_points(task, xs[: p + 1], ys[: p + 1]))[0, -1, 0]
                            for p in range(len(xs))])


def compare_on_prompt(model: nn.Module, task: RegressionTask, xs: torch.Tensor, ys: torch.Tensor,
                      ridge_lambda: float | None = None, gd_steps: int = 1,
                      gd_lr: float | None = None) -> PromptComparison:
    """Model and baselines on one prompt, each point predicted from the points before it.

    Baselines (interp.baselines): least squares, ridge (`ridge_lambda`, default
    `default_ridge_lambda`), `gd_steps` steps of GD from zero (step `gd_lr`; default the
    optimal one-step size k / (k + d + 1 + sigma^2/tau^2) for k examples), averaging, 3-NN.
    """
    _check_points(task, xs, ys)
    if gd_steps < 1:
        raise InputError(f"gd_steps must be >= 1, got {gd_steps}.")
    lam = default_ridge_lambda(task) if ridge_lambda is None else float(ridge_lambda)
    if lam <= 0:
        raise InputError(f"the ridge lambda must be > 0, got {lam}; least squares is lambda = 0.")
    noise_var = task.noise_std**2
    steps = [gd_lr if gd_lr is not None else B.optimal_gd_step(task.d, k, noise_var, task.w_scale)
             for k in range(len(xs))]
    xb, yb = xs[None].double(), ys[None].double()  # a batch of one prompt

    def gd(context_x: torch.Tensor, context_y: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        return B.gradient_descent(context_x, context_y, query, gd_steps, steps[context_x.shape[1]])

    estimators = {
        "least_squares": B.least_squares,
        "ridge": lambda cx, cy, q: B.ridge(cx, cy, q, lam),
        "gd": gd,
        "averaging": B.averaging,
        "knn3": B.knn3,
    }
    predictions = {"model": model_prefix_predictions(model, task, xs, ys).double()}
    for name, estimator in estimators.items():
        predictions[name] = B.prefix_predictions(xb, yb, estimator)[0]
    return PromptComparison(ys.double(), predictions, lam, gd_steps, steps)
