"""The shipped in-context-regression models against the issue's bars (loading only, no training)."""

from interp.evaluation import task_of
from interp.evaluation.icl import evaluate_lsa, evaluate_regression_gpt
from interp.model import load_model
from interp.shipped import shipped_path


def icl_gpt_report() -> dict:
    model = load_model(shipped_path("icl-gpt"))
    return evaluate_regression_gpt(model, task_of(model), n_prompts=2000, seed=7)


def test_shipped_icl_gpt_learns_in_context_below_averaging_and_3nn():
    report = icl_gpt_report()
    assert report["k"] == 10
    assert report["error_per_dim"] < report["averaging"] and report["error_per_dim"] < report["knn3"]
    assert report["error_per_dim"] < 0.5 * report["averaging"]  # far from the zero-context error of 1


def test_shipped_icl_gpt_reaches_the_issue_bar():
    assert icl_gpt_report()["error_per_dim"] <= 0.08


def test_shipped_lsa_is_one_step_of_gd():
    model = load_model(shipped_path("icl-lsa"))
    report = evaluate_lsa(model, task_of(model), n_prompts=20_000, seed=7)
    assert abs(report["mse_vs_gd_optimal"] - 1) <= 0.01
    assert report["cosine_to_gd"] >= 0.995
