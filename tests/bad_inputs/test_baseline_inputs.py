"""Bad baseline arguments: each is one InputError naming the argument (under an address-space
cap of the current size + 512 MB); before, most returned a number (silently wrong)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from bounded import bounded_memory

from interp.baselines import (
    averaging_mse,
    best_gd_step,
    dmmse,
    gd_step_mse,
    gradient_descent,
    knn3,
    least_squares,
    least_squares_mse,
    nearest_neighbours,
    optimal_gd_step,
    predict,
    prefix_predictions,
    ridge,
)
from interp.errors import InputError

B, K, D = 3, 6, 4
XS, YS, Q = torch.randn(B, K, D), torch.randn(B, K), torch.randn(B, D)
NAN_Q = Q.clone()
NAN_Q[0, 0] = math.nan

# name, call, fragment naming the argument
CASES = [
    ("query_b_by_1_with_d_4", lambda: least_squares(XS, YS, Q[:, :1]), "x_query"),
    ("query_1_by_d_broadcast", lambda: ridge(XS, YS, Q[:1], 0.1), "x_query"),
    ("knn_nan_query", lambda: knn3(XS, YS, NAN_Q), "x_query"),
    ("knn_zero_neighbours", lambda: nearest_neighbours(XS, YS, Q, n_neighbours=0), "n_neighbours"),
    ("knn_float_neighbours", lambda: nearest_neighbours(XS, YS, Q, n_neighbours=2.5), "n_neighbours"),
    ("gd_negative_steps", lambda: gradient_descent(XS, YS, Q, steps=-3), "steps"),
    ("gd_nan_lr", lambda: gradient_descent(XS, YS, Q, lr=math.nan), "lr"),
    ("dmmse_empty_pool", lambda: dmmse(XS, YS, Q, torch.zeros(0, D), 0.25), "pool"),
    ("dmmse_pool_other_d", lambda: dmmse(XS, YS, Q, torch.zeros(5, D + 1), 0.25), "pool"),
    ("dmmse_nan_pool", lambda: dmmse(XS, YS, Q, torch.full((5, D), math.nan), 0.25), "pool"),
    ("dmmse_negative_noise", lambda: dmmse(XS, YS, Q, torch.zeros(5, D), -1.0), "noise_var"),
    ("ridge_nan_lam", lambda: ridge(XS, YS, Q, math.nan), "lam"),
    ("inf_ys", lambda: least_squares(XS, torch.full((B, K), math.inf), Q), "ys"),
    ("nan_xs", lambda: least_squares(torch.full((B, K, D), math.nan), YS, Q), "xs"),
    ("bool_xs", lambda: least_squares(XS > 0, YS, Q), "xs"),
    ("list_xs", lambda: least_squares(XS.tolist(), YS, Q), "xs"),
    ("ys_wrong_shape", lambda: least_squares(XS, YS[:, :2], Q), "ys"),
    ("predict_broadcast", lambda: predict(Q[:, :1], Q), "same [batch, d]"),
    ("best_gd_step_all_zero", lambda: best_gd_step(torch.zeros(B, K, D), torch.zeros(B, K), Q, YS[:, 0]),
     "all 0"),
    ("best_gd_step_y_shape", lambda: best_gd_step(XS, YS, Q, YS), "y_query"),
    ("prefix_empty", lambda: prefix_predictions(XS[:, :0], YS[:, :0], least_squares), "at least one"),
    ("theory_negative_noise", lambda: least_squares_mse(5, 20, noise_var=-1), "noise_var"),
    ("theory_w_scale_zero", lambda: optimal_gd_step(5, 20, noise_var=1.0, w_scale=0), "w_scale"),
    ("theory_d_zero", lambda: averaging_mse(0, 10), "d"),
    ("theory_d_float", lambda: gd_step_mse(2.5, 10, 0.5), "d"),
    ("theory_nan_lr", lambda: gd_step_mse(5, 10, math.nan), "lr"),
    ("theory_negative_points", lambda: least_squares_mse(5, -1), "n (context points)"),
]  # fmt: skip


@pytest.mark.parametrize("name,call,fragment", CASES, ids=[c[0] for c in CASES])
def test_bad_baseline_arguments_are_one_error_naming_the_argument(name, call, fragment):
    with bounded_memory(), pytest.raises(InputError) as info:
        call()
    assert type(info.value) is InputError and fragment in str(info.value), str(info.value)


def test_integer_inputs_give_numpys_least_squares_not_a_truncated_one():
    xs = torch.tensor([[[1, 0], [0, 1], [1, 1]]])  # int64
    ys = torch.tensor([[1, 3, 2]])
    query = torch.tensor([[1, 1]])
    want = np.linalg.lstsq(xs[0].double().numpy(), ys[0].double().numpy(), rcond=None)[0] @ [1, 1]
    got = least_squares(xs, ys, query)
    assert got.dtype == torch.float64 and abs(float(got[0]) - want) < 1e-12  # was 1 for 1.778-like values
