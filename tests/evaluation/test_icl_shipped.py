"""The shipped in-context-regression models meet the issue's bars (loading only, no training)."""

from interp.evaluation.icl import evaluate_lsa, evaluate_regression_gpt
from interp.model import load_model
from interp.shipped import shipped_path
from interp.training.evaluation import task_of


def test_shipped_icl_gpt_beats_averaging_and_3nn_at_k_2d():
    model = load_model(shipped_path("icl-gpt"))
    report = evaluate_regression_gpt(model, task_of(model), n_prompts=2000, seed=7)
    assert report["k"] == 10
    assert report["error_per_dim"] <= 0.08
    assert report["error_per_dim"] < report["averaging"] and report["error_per_dim"] < report["knn3"]


def test_shipped_lsa_is_one_step_of_gd():
    model = load_model(shipped_path("icl-lsa"))
    report = evaluate_lsa(model, task_of(model), n_prompts=20_000, seed=7)
    assert abs(report["mse_vs_gd_optimal"] - 1) <= 0.01
    assert report["cosine_to_gd"] >= 0.995
