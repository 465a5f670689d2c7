"""ICL evaluations on models whose answer is known: von Oswald's hand-built GD layer and a zero model."""

import dataclasses

import pytest
import torch
from torch import nn

from interp import baselines as B
from interp.baselines import optimal_gd_step
from interp.errors import InputError
from interp.evaluation.icl import (
    error_curves,
    evaluate_lsa,
    evaluate_regression_gpt,
    lsa_matrices,
    lsa_preconditioner,
    prediction_differences,
    regression_report,
)
from interp.model import HookedTransformer, ModelConfig
from interp.tasks.regression import RegressionTask


def gd_layer(d: int, n: int, step: float) -> HookedTransformer:
    """One linear self-attention layer that is exactly one GD step (von Oswald et al.'s construction)."""
    cfg = ModelConfig(n_layers=1, d_model=d + 1, n_ctx=n + 1, d_vocab=0, d_vocab_out=1, d_input=d + 1,
                      n_heads=1, attention_kind="linear", positional_embedding="none", attn_scale=1.0)
    model = HookedTransformer(cfg)
    with torch.no_grad():
        model.embed.W_E.copy_(torch.eye(d + 1))
        attn = model.blocks[0].attn
        attn.W_Q[0].copy_(torch.eye(d + 1))
        attn.W_K[0, :d, :d] = torch.eye(d) * step / n  # scores: step/n * x_query . x_j
        attn.W_V[0].copy_(torch.eye(d + 1))
        attn.W_O[0, d, d] = 1.0  # values carry y_j into the y slot
        model.unembed.W_U[d, 0] = 1.0
    return model


@pytest.mark.parametrize("x_distribution", ["normal", "uniform"])
def test_the_gd_construction_scores_as_optimal_gd(x_distribution):
    task = RegressionTask(d=5, n_points=21, encoding="oswald", x_distribution=x_distribution)
    step = optimal_gd_step(5, 20) if x_distribution == "normal" else 2.2
    report = evaluate_lsa(gd_layer(5, 20, step), task, n_prompts=3000)
    assert report["cosine_to_gd"] == pytest.approx(1.0, abs=1e-5)
    if x_distribution == "normal":
        assert report["gd_step_source"] == "closed_form"
        assert report["mse_vs_gd_optimal"] == pytest.approx(1.0, abs=1e-5)
        assert report["weight_rel_diff"] < 1e-5
    else:  # a step that is not the fitted optimum scores worse than it, in MSE and in |w - w_GD|
        assert report["gd_step_source"] == "fitted_on_eval_prompts"
        assert report["mse_vs_gd_optimal"] > 1.0 and report["weight_rel_diff"] > 0.05


def test_a_zero_model_has_error_one_per_dimension_and_baselines_are_reported():
    task = RegressionTask(d=3, n_points=7)
    cfg = ModelConfig(n_layers=1, d_model=8, n_ctx=14, d_vocab=0, d_vocab_out=1, d_input=3, causal=True)
    zero = HookedTransformer(cfg)  # all-zero weights: predicts 0 everywhere
    report = evaluate_regression_gpt(zero, task, n_prompts=4000)
    assert report["k"] == 6
    assert report["error_per_dim"] == pytest.approx(1.0, rel=0.05)  # E[y^2] / d = tau^2 = 1
    assert report["least_squares"] < 1e-6 and report["averaging"] == pytest.approx(4 / 6, rel=0.1)
    curves = error_curves(zero, task, n_prompts=500)
    assert set(curves) == {"model", "least_squares", "averaging", "knn3"} and curves["knn3"].shape == (7,)


def test_wrong_encoding_or_too_few_points_is_an_input_error():
    with pytest.raises(InputError, match="'oswald' encoding"):
        evaluate_lsa(gd_layer(2, 3, 1.0), RegressionTask(d=2, n_points=4))
    with pytest.raises(InputError, match="k = 2d"):
        evaluate_regression_gpt(gd_layer(2, 3, 1.0), RegressionTask(d=2, n_points=4))


def test_the_gd_construction_reads_back_as_step_times_identity():
    model = gd_layer(3, 10, 0.7)
    qk, ov = lsa_matrices(model)
    assert qk.shape == (1, 4, 4) and ov.shape == (1, 4)
    assert torch.allclose(lsa_preconditioner(model, 10), 0.7 * torch.eye(3))
    with torch.no_grad():  # a rotated embedding changes the weights, not the map in input coordinates
        rotation, _ = torch.linalg.qr(torch.randn(4, 4, generator=torch.Generator().manual_seed(0)))
        model.embed.W_E.copy_(rotation)
        for name in ("W_Q", "W_K", "W_V"):
            getattr(model.blocks[0].attn, name)[0] = rotation.T @ getattr(model.blocks[0].attn, name)[0]
        model.blocks[0].attn.W_O[0] = model.blocks[0].attn.W_O[0] @ rotation
        model.unembed.W_U.copy_(rotation.T @ model.unembed.W_U)
    assert torch.allclose(lsa_preconditioner(model, 10), 0.7 * torch.eye(3), atol=1e-5)


class LeastSquaresReader(nn.Module):
    """Reads Garg-encoded prompts and predicts each x's y by least squares on the earlier points."""

    def forward(self, inputs):
        xs, ys = inputs[:, 0::2], inputs[:, 1::2, 0]
        return B.prefix_predictions(xs, ys, B.least_squares).repeat_interleave(2, dim=1).unsqueeze(-1)


def test_spd_is_zero_to_the_algorithm_a_model_runs_and_matches_direct_differences():
    task = RegressionTask(d=3, n_points=6)
    spd = prediction_differences(LeastSquaresReader(), task, n_prompts=300, seed=2)
    assert spd["least_squares"].abs().max() < 1e-8
    prompts = task.prompts(300, seed=2)
    ls = B.prefix_predictions(prompts.xs, prompts.ys, B.least_squares)
    averaged = B.prefix_predictions(prompts.xs, prompts.ys, B.averaging)
    assert torch.allclose(spd["averaging"], (ls - averaged).pow(2).mean(0) / 3, atol=1e-6)
    # From k = d on, least squares is exact, so the step fitted to y is also the closest to it.
    assert spd["gd_one_step"][0] == 0 and (spd["gd_one_step"][3:] <= spd["averaging"][3:] + 1e-6).all()


def test_the_eval_report_fits_the_encoding():
    oswald = RegressionTask(d=5, n_points=21, encoding="oswald")
    lsa = regression_report(gd_layer(5, 20, optimal_gd_step(5, 20)), oswald)
    assert lsa["task"] == "regression" and lsa["mse_vs_gd_optimal"] == pytest.approx(1.0, abs=1e-5)
    cfg = ModelConfig(n_layers=1, d_model=8, n_ctx=14, d_vocab=0, d_vocab_out=1, d_input=3, causal=True)
    gpt = regression_report(HookedTransformer(cfg), RegressionTask(d=3, n_points=7))
    assert gpt["k"] == 6 and gpt["error_per_dim"] == pytest.approx(1.0, rel=0.1) and "knn3" in gpt


class _PredictsWith(nn.Module):
    """A stand-in model that decodes Garg's encoding and predicts each point with an estimator."""

    def __init__(self, estimator):
        super().__init__()
        self.estimator = estimator

    def forward(self, inputs):
        xs, ys = inputs[:, 0::2], inputs[:, 1::2, 0]  # [b, n, d], [b, n]
        predicted = B.prefix_predictions(xs, ys, self.estimator)  # [b, n]
        return predicted.repeat_interleave(2, dim=1).unsqueeze(-1).to(inputs.dtype)


def test_task_diversity_losses_against_the_baselines_themselves_and_a_zero_model():
    from interp.evaluation.icl import task_diversity_losses

    task = RegressionTask(d=4, n_points=6, noise_std=0.5, pool_size=3)
    as_dmmse = _PredictsWith(lambda x, y, q: B.dmmse(x, y, q, task.pool(), 0.25))
    report = task_diversity_losses(as_dmmse, task, n_prompts=400)
    assert report["pretrain_delta_dmmse"] < 1e-10 and report["new_delta_dmmse"] < 1e-10
    assert report["pretrain_model"] == pytest.approx(report["pretrain_dmmse"], rel=1e-6)
    assert report["pretrain_dmmse"] < report["pretrain_ridge"]  # Bayes-optimal on its own pool...
    assert report["new_dmmse"] > report["new_ridge"]  # ...and not on fresh tasks
    # A model predicting 0 has loss E[y^2] / d = (d tau^2 + sigma^2) / d on fresh tasks.
    zero = _PredictsWith(lambda x, y, q: torch.zeros(len(q)))
    fresh = task_diversity_losses(zero, dataclasses.replace(task, pool_size=None), n_prompts=4000)
    assert fresh["new_model"] == pytest.approx((4 + 0.25) / 4, rel=0.03)
    assert "new_dmmse" not in fresh and fresh["new_delta_ridge"] > 0.3
    with pytest.raises(InputError, match="noise_std > 0"):
        task_diversity_losses(zero, dataclasses.replace(task, noise_std=0.0))


def test_query_spd_of_the_gd_construction_is_zero_to_gd_only():
    from interp.evaluation.icl import query_prediction_differences

    task = RegressionTask(d=4, n_points=9, encoding="oswald")
    prompts = task.prompts(3000, seed=1)
    step = B.best_gd_step(*prompts.context(8), *prompts.query(8))  # the step the evaluation fits
    report = query_prediction_differences(gd_layer(4, 8, step), task, n_prompts=3000, seed=1)
    assert report["gd_one_step"] < 1e-10 and report["gd_step"] == pytest.approx(step)
    # 8 noiseless points in d = 4: least squares is exact, one GD step is not
    assert report["least_squares"] > 0.1
    assert report["model_error"] == pytest.approx(report["least_squares"], rel=1e-6)
    with pytest.raises(InputError, match="oswald"):
        query_prediction_differences(gd_layer(4, 8, step), RegressionTask(d=4, n_points=9))
