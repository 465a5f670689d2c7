"""Baselines the in-context learning papers compare models against: regression estimators
(least squares, ridge, GD, averaging, k-NN, dMMSE), their closed-form errors, and the
in-context n-gram estimator. They read task data only, never a model."""

from interp.baselines.ngram import in_context_ngram_loss, in_context_ngram_probs
from interp.baselines.regression import (
    GARG_BASELINES,
    averaging,
    averaging_weights,
    best_gd_step,
    dmmse,
    dmmse_weights,
    gradient_descent,
    gradient_descent_weights,
    knn3,
    least_squares,
    least_squares_weights,
    nearest_neighbours,
    predict,
    prefix_predictions,
    ridge,
    ridge_weights,
)
from interp.baselines.theory import (
    averaging_mse,
    gd_step_mse,
    least_squares_mse,
    optimal_gd_step,
    optimal_gd_step_mse,
)

__all__ = [
    "GARG_BASELINES",
    "averaging",
    "averaging_mse",
    "averaging_weights",
    "best_gd_step",
    "dmmse",
    "dmmse_weights",
    "gd_step_mse",
    "gradient_descent",
    "gradient_descent_weights",
    "in_context_ngram_loss",
    "in_context_ngram_probs",
    "knn3",
    "least_squares",
    "least_squares_mse",
    "least_squares_weights",
    "nearest_neighbours",
    "optimal_gd_step",
    "optimal_gd_step_mse",
    "predict",
    "prefix_predictions",
    "ridge",
    "ridge_weights",
]
