"""One-prompt comparison of an in-context regression model with the baselines, against numpy
closed forms and a hand-built one-step-GD layer whose predictions are known."""

import numpy as np
import pytest
import torch

from interp.errors import InputError
from interp.evaluation.icl_prompt import (
    compare_on_prompt,
    encode_points,
    max_examples,
    position_names,
    prompt_task,
    sample_prompt,
    scored_positions,
)
from interp.model import HookedTransformer, ModelConfig
from interp.tasks.regression import RegressionTask

D, N_CTX, STEP = 3, 8, 0.7


def gd_layer(d: int = D, n_ctx: int = N_CTX, step: float = STEP) -> HookedTransformer:
    """Linear self-attention predicting step * sum_i y_i x_i . x_query (oswald encoding)."""
    cfg = ModelConfig(n_layers=1, d_model=d + 1, n_ctx=n_ctx, d_vocab=0, d_vocab_out=1, d_input=d + 1,
                      n_heads=1, attention_kind="linear", positional_embedding="none", attn_scale=1.0)
    options = {"d": d, "n_points": n_ctx, "encoding": "oswald"}
    model = HookedTransformer(cfg, metadata={"task": "regression", "task_options": options})
    with torch.no_grad():
        model.embed.W_E.copy_(torch.eye(d + 1))
        attn = model.blocks[0].attn
        attn.W_Q[0].copy_(torch.eye(d + 1))
        attn.W_K[0, :d, :d] = torch.eye(d) * step
        attn.W_V[0].copy_(torch.eye(d + 1))
        attn.W_O[0, d, d] = 1.0
        model.unembed.W_U[d, 0] = 1.0
    return model.eval()


def test_the_gd_layer_predicts_every_prefix_as_the_closed_form():
    model = gd_layer()
    task = prompt_task(model, n_examples=5, noise_std=0.1)
    xs, ys = sample_prompt(task, seed=3)
    got = compare_on_prompt(model, task, xs, ys).predictions["model"].numpy()
    x, y = xs.double().numpy(), ys.double().numpy()
    # The query's own y is hidden (0), so only the p examples before it contribute.
    expected = [STEP * sum(y[i] * x[i] @ x[p] for i in range(p)) for p in range(len(x))]
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_baselines_match_numpy_closed_forms():
    model = gd_layer()
    task = prompt_task(model, n_examples=6, noise_std=0.0)
    xs, ys = sample_prompt(task, seed=1)
    comparison = compare_on_prompt(model, task, xs, ys, ridge_lambda=0.5, gd_steps=3, gd_lr=0.3)
    x, y = xs.double().numpy(), ys.double().numpy()
    for p in range(1, len(x)):
        cx, cy, q = x[:p], y[:p], x[p]
        lstsq = np.linalg.lstsq(cx, cy, rcond=None)[0] @ q
        ridge = np.linalg.solve(cx.T @ cx + 0.5 * np.eye(D), cx.T @ cy) @ q
        w = np.zeros(D)
        for _ in range(3):
            w = w - 0.3 * cx.T @ (cx @ w - cy) / p
        averaging = (cy @ cx / p) @ q
        nearest = np.argsort(((cx - q) ** 2).sum(1), kind="stable")[:3]
        for name, expected in (("least_squares", lstsq), ("ridge", ridge), ("gd", w @ q),
                               ("averaging", averaging), ("knn3", cy[nearest].mean())):
            assert comparison.predictions[name][p].item() == pytest.approx(expected, abs=1e-6), (name, p)
    assert all(values[0].item() == 0.0 for name, values in comparison.predictions.items() if name != "model")
    assert comparison.truth.tolist() == pytest.approx(y.tolist())
    errors = comparison.squared_errors()
    assert errors["least_squares"][-1].item() == pytest.approx((lstsq - y[-1]) ** 2, abs=1e-6)


def test_default_gd_step_is_the_optimal_one_step_size_per_k():
    model = gd_layer()
    task = prompt_task(model, n_examples=4, noise_std=0.5)
    xs, ys = sample_prompt(task, seed=0)
    steps = compare_on_prompt(model, task, xs, ys).gd_lr
    s = 0.25  # sigma^2 / tau^2
    assert steps == pytest.approx([k / (k + D + 1 + s) for k in range(5)])


def test_garg_encoding_interleaves_and_scores_the_xs():
    task = RegressionTask(d=2, n_points=3)
    xs, ys = torch.arange(6.0).reshape(3, 2), torch.tensor([10.0, 11.0, 12.0])
    inputs = encode_points(task, xs, ys)
    assert inputs[0].tolist() == [[0, 1], [10, 0], [2, 3], [11, 0], [4, 5], [12, 0]]
    assert position_names(task, 3) == ["x0", "y0", "x1", "y1", "x2", "y2"]
    assert scored_positions(task, 3) == [0, 2, 4]
    oswald = RegressionTask(d=2, n_points=3, encoding="oswald")
    assert encode_points(oswald, xs, ys)[0].tolist() == [[0, 1, 10], [2, 3, 11], [4, 5, 0]]
    assert scored_positions(oswald, 3) == [2] and position_names(oswald, 3)[-1] == "x2?"


def test_bad_prompts_are_refused_by_name():
    model = gd_layer()
    assert max_examples(model, prompt_task(model, 1, 0.0)) == N_CTX - 1
    with pytest.raises(InputError, match="do not fit"):
        prompt_task(model, N_CTX, 0.0)
    with pytest.raises(InputError, match="noise"):
        prompt_task(model, 2, -1.0)
    task = prompt_task(model, 2, 0.0)
    xs, ys = sample_prompt(task, 0)
    with pytest.raises(InputError, match="non-finite"):
        compare_on_prompt(model, task, xs, torch.tensor([0.0, float("nan"), 1.0]))
    with pytest.raises(InputError, match="lambda"):
        compare_on_prompt(model, task, xs, ys, ridge_lambda=0.0)
    untrained = HookedTransformer(ModelConfig(n_layers=1, d_model=4, n_ctx=4, d_vocab=0, d_vocab_out=1,
                                              d_input=4))
    with pytest.raises(InputError, match="no task"):
        prompt_task(untrained, 1, 0.0)
