"""The input editor of vector-input models (in-context regression): sample a prompt (seed,
examples, noise), edit its points in a table, and see the model's prediction of every point
next to the baselines' and the true y (all computed by interp.evaluation.icl_prompt)."""

from __future__ import annotations

import math

import streamlit as st
import torch

from interp.app.display import show_value
from interp.app.figures import prediction_lines
from interp.app.model_run import ModelRun, run_vectors
from interp.app.subject import Subject
from interp.evaluation.icl_prompt import (
    ESTIMATORS,
    compare_on_prompt,
    encode_points,
    max_examples,
    position_names,
    prompt_task,
    regression_task_of,
    sample_prompt,
    scored_positions,
)

REFERENCE_PROMPTS = 32  # sampled prompts for mean ablation


def _number(value) -> float:
    """A table cell as a float (an emptied cell is NaN, which interp refuses by name)."""
    return math.nan if value is None else float(value)


def read_prompt(subject: Subject) -> ModelRun:
    """Draw the prompt editor and the comparison; return the model's run on the prompt."""
    model = subject.model
    task = regression_task_of(model)
    most = max_examples(model, task)
    seed_col, k_col, noise_col = st.columns(3)
    seed = int(seed_col.number_input("Prompt seed", min_value=0, value=0, key="icl_seed"))
    k = int(k_col.number_input(f"In-context examples k (0..{most})", min_value=0, max_value=most,
                               value=min(task.n_points - 1, most), key="icl_k"))
    noise = float(noise_col.number_input("Noise std σ", min_value=0.0, value=float(task.noise_std),
                                         step=0.1, key="icl_noise"))
    task = prompt_task(model, k, noise)
    xs, ys = sample_prompt(task, seed)
    n = len(xs)
    columns = [f"x{j + 1}" for j in range(task.d)]
    table = {"point": [f"example {p}" for p in range(n - 1)] + ["query"],
             **{c: [float(v) for v in xs[:, j]] for j, c in enumerate(columns)},
             "y": [float(v) for v in ys]}
    st.caption(f"Points drawn from the task ({task.x_distribution} x, w ~ N(0, {task.w_scale}² I), "
               f"y = w·x + noise); edit any cell. The last row is the query; its y is the true answer "
               "the model does not see.")
    # Keyed by the sample: a new seed, k or σ starts from the fresh prompt, not old edits.
    editor_key = f"icl_points|{subject.identity}|{seed}|{k}|{noise}"
    st.session_state["icl_points_key"] = editor_key  # where tests (and a reader) find the edits
    edited = st.data_editor(table, key=editor_key, disabled=["point"], hide_index=True)
    xs = torch.tensor([[_number(edited[c][p]) for c in columns] for p in range(n)])
    ys = torch.tensor([_number(v) for v in edited["y"]])
    with st.expander("Baseline settings"):
        lam_col, steps_col, lr_col = st.columns(3)
        lam = lam_col.number_input("Ridge λ (0: σ²/τ², or 0.1 without noise)", min_value=0.0, value=0.0,
                                   format="%.4g", key="icl_ridge")
        steps = int(steps_col.number_input("GD steps", min_value=1, max_value=1000, value=1, key="icl_steps"))
        lr = lr_col.number_input("GD step size (0: the optimal one-step size for each k)", min_value=0.0,
                                 value=0.0, format="%.4g", key="icl_lr")
    comparison = compare_on_prompt(model, task, xs, ys, ridge_lambda=lam if lam > 0 else None,
                                   gd_steps=steps, gd_lr=lr if lr > 0 else None)
    _show_comparison(comparison)
    reference, _ = task.encode(task.prompts(REFERENCE_PROMPTS, seed=seed + 1))  # [batch, pos, d_input]
    return run_vectors(encode_points(task, xs, ys), position_names(task, n), scored_positions(task, n),
                       subject, comparison, reference, source=(xs, ys))


def _show_comparison(comparison) -> None:
    """The query's predictions and errors as a table; every prefix's as lines."""
    truth = comparison.truth.tolist()
    errors = comparison.squared_errors()
    names = {"model": "model", "least_squares": "least squares",
             "ridge": f"ridge (λ={comparison.ridge_lambda:.3g})", "gd": f"GD, {comparison.gd_steps} step(s)",
             "averaging": "averaging", "knn3": "3-NN"}
    left, right = st.columns([2, 3])
    left.markdown(f"**Query:** true y = `{show_value(truth[-1])}`")
    left.dataframe({"estimator": [names[e] for e in ESTIMATORS],
                    "prediction": [show_value(float(comparison.predictions[e][-1])) for e in ESTIMATORS],
                    "squared error": [show_value(float(errors[e][-1])) for e in ESTIMATORS]},
                   hide_index=True, key="icl_query_table")
    right.plotly_chart(prediction_lines({names[e]: comparison.predictions[e].tolist() for e in ESTIMATORS},
                                        truth, "Every point predicted from the points before it"),
                       key="icl_prefix_chart")
