"""Patching view: a clean and a corrupted input, a metric, activation patching per layer x
position and per head, and path patching from one head (interp.analysis.patch), opening on
the head whose patched output restores the most of the effect."""

from __future__ import annotations

import hashlib
from typing import Any

import streamlit as st
import torch

from interp.analysis import path_patch
from interp.analysis.batched_patch import patch_sweeps, sweep_work
from interp.analysis.patch_metrics import fraction_of_effect
from interp.analysis.salience import Pick
from interp.app.defaults import open_on, run_context, salient_head
from interp.app.display import show_value
from interp.app.figures import bar_chart, matrix_heatmap, position_labels
from interp.app.model_run import MODEL_LOCK, ModelRun, model_input
from interp.app.path_readers import effective_readers
from interp.app.subject import Subject
from interp.circuit import head_name
from interp.errors import InterpError

TYPED = "typed below"
NO_SENDER = "— pick a head —"
# Upper bound of the sweeps' multiply-adds run on every input change. The bound is loose:
# 1.75e9 (Transformer Program sort) measured 0.34 s, 4.3e9 (`add`, 5 tokens) 0.3 s on a busy
# core; at 5e7 the 64-token Markov model (5.1e7, 0.05 s) opened on a button, not an effect.
AUTO_WORK = 2e9
SMALL_FRACTION = 0.01  # a head restoring less of the effect than this does not matter on its own
KEEP_RESULTS = 16  # patching results remembered per session (revisiting an input is instant)
SWEEPS = {"residual stream (resid_pre)": "resid_pre", "attention output": "attn_out", "MLP output": "mlp_out"}


def _corrupted_input(subject: Subject, run: ModelRun) -> Any:
    """The corrupted input: one of the subject's corruptions of the clean one (its task's own
    first), or typed in the model's format."""
    options = subject.corruptions()
    how_col, seed_col = st.columns([3, 1])
    how = how_col.selectbox("Corrupted input", [*options, TYPED], key="patch_corruption")
    if how == TYPED:
        default = subject.format_input(subject.corrupt(run.source, 0))
        text = st.text_input("Corrupted input (same length as the input)", default,
                             key="patch_corrupted_text")
        return subject.parse_input(text)
    seed = seed_col.number_input("Seed", min_value=0, value=0, key="patch_seed")
    return subject.corrupt(run.source, int(seed), how)


def _describe_prompts(clean: Any, corrupted: Any) -> None:
    """What a regression prompt's corruption changed: which points' x and y, and the query's y."""
    (clean_xs, clean_ys), (bad_xs, bad_ys) = clean, corrupted  # xs [n, d], ys [n]
    moved_x = [i for i in range(len(clean_xs)) if not torch.equal(clean_xs[i], bad_xs[i])]
    moved_y = [i for i in range(len(clean_ys)) if not torch.equal(clean_ys[i], bad_ys[i])]
    last = len(clean_ys) - 1

    def points(indices: list[int]) -> str:
        return "none" if not indices else ", ".join("query" if i == last else f"example {i}" for i in indices)

    st.markdown(f"**Clean** the prompt above · **Corrupted** x changed at: {points(moved_x)}; "
                f"y changed at: {points(moved_y)} (query's true y {show_value(float(clean_ys[last]))} → "
                f"{show_value(float(bad_ys[last]))})")


def show(subject: Subject, run: ModelRun) -> None:
    """Clean vs corrupted, metric, then the three patching results."""
    model = subject.model
    cfg = model.cfg
    try:
        corrupted = _corrupted_input(subject, run)
        corrupted_names, corrupted_ids = model_input(subject, corrupted)
        if corrupted_ids.shape != run.ids.shape:
            st.error(f"the corrupted input has {len(corrupted_names)} positions and the clean one "
                     f"{len(run.positions)}: patching compares positions one to one; give the same length.")
            return
    except InterpError as err:
        st.error(f"Corrupted input: {err}")
        return
    if run.is_vector:
        # A prompt's JSON (full-precision floats, cut at 300 characters) hid what changed.
        _describe_prompts(run.source, corrupted)
    else:
        st.markdown(f"**Clean** `{subject.format_input(run.source)[:300]}` · **Corrupted** "
                    f"`{subject.format_input(corrupted)[:300]}`")
    metrics = subject.patch_metrics()
    metric_col, sweep_col = st.columns(2)
    metric_name = metric_col.selectbox("Metric", list(metrics), key="patch_metric")
    sweeps = {k: v for k, v in SWEEPS.items() if not (cfg.attn_only and v == "mlp_out")}
    sweep = sweep_col.selectbox("Patch per layer x position", list(sweeps), key="patch_sweep")
    measured = subject.answer_positions(len(run.positions))  # the task's answers (not BOS)
    whats = (sweeps[sweep], "head_out_all_pos")
    work = sweep_work(cfg, len(run.positions), whats)
    # Large models (e.g. `add`, 4028-wide MLPs): the sweeps would break the redraw budget, so
    # they run on a button unless the user asks for them on every input.
    auto = st.checkbox("Recompute the patching sweeps on every input change", value=work <= AUTO_WORK,
                       key=f"patch_auto|{subject.identity}")
    try:
        with MODEL_LOCK, torch.no_grad():
            corrupted_logits = model(corrupted_ids)
        metric = metrics[metric_name](run.logits, corrupted_logits, measured)
        clean_value, corrupted_value = float(metric(run.logits)), float(metric(corrupted_logits))
    except InterpError as err:
        st.warning(str(err))
        return
    clean_col, corrupted_col = st.columns(2)
    clean_col.metric(f"{metric_name}, clean", show_value(clean_value))
    corrupted_col.metric(f"{metric_name}, corrupted", show_value(corrupted_value))
    # Bytes of the inputs (token ids or vectors): hashable, and equal exactly when the inputs are.
    key = (subject.identity, run.ids.numpy().tobytes(), corrupted_ids.numpy().tobytes(), metric_name, sweep)
    done = st.session_state.setdefault("patch_results", {})
    if key not in done:
        if not auto and not st.button("Run patching", key="patch_run"):
            st.info(f"This model is large ({cfg.n_layers} layers, d_model {cfg.d_model}, MLP width "
                    f"{cfg.d_mlp}): the two sweeps take up to {work / 1e9:.1f} G multiply-adds, too slow "
                    "to redo on every input. Press Run patching, or tick the box above to recompute on "
                    "every input.")
            return
        try:
            with MODEL_LOCK:
                results = patch_sweeps(model, run.ids, corrupted_ids, metric, whats)
            restored = tuple(fraction_of_effect(results[w], clean_value, corrupted_value) for w in whats)
        except InterpError as err:
            st.warning(str(err))
            return
        if len(done) >= KEEP_RESULTS:
            done.pop(next(iter(done)))  # the oldest
        done[key] = restored
    recovered_position, recovered_head = done[key]
    columns = position_labels(run.positions)
    layers = [f"L{layer}" for layer in range(cfg.n_layers)]
    st.plotly_chart(matrix_heatmap(recovered_position.numpy(), layers, columns,
                                   f"Activation patching: clean {sweeps[sweep]} patched into the corrupted "
                                   "run, fraction of the effect restored", "restored", zmax=1.0,
                                   x_title="position", y_title="layer"), key="patch_positions")
    st.plotly_chart(matrix_heatmap(recovered_head.numpy(), layers, [f"H{h}" for h in range(cfg.n_heads)],
                                   "Activation patching per head (all positions): fraction restored",
                                   "restored", zmax=1.0, x_title="head", y_title="layer"), key="patch_heads")
    # Per (model, input, corrupted input, metric): a head the user picks stays until one changes.
    context = (run_context(subject, run), hashlib.sha1(corrupted_ids.numpy().tobytes()).hexdigest(),
               metric_name)
    pick = _strongest_head(subject, run, recovered_head)
    _path_patching(subject, run, corrupted_ids, metric, clean_value, corrupted_value, pick, (key, context))


def _strongest_head(subject: Subject, run: ModelRun, restored: torch.Tensor) -> Pick | None:
    """The head whose clean output, patched alone into the corrupted run, restores the largest
    fraction of the effect (by size: a negative fraction matters as much); where no head
    restores anything, the head whose zero-ablation changes the answers most."""
    cfg = subject.model.cfg
    if cfg.n_layers * cfg.n_heads == 0:
        return None
    flat = restored.reshape(-1).nan_to_num(0.0)  # [layer * head], layer-major
    order = flat.abs().argsort(descending=True).tolist()
    if float(flat[order[0]]) == 0.0:
        fallback = salient_head(subject, run)
        return None if fallback is None else Pick(fallback.name, 0.0, f"{fallback.reason} (No head's "
                                                  "patched output restores any of the effect.)")
    best, name = float(flat[order[0]]), head_name(*divmod(order[0], cfg.n_heads))
    runner = (f"; next {head_name(*divmod(order[1], cfg.n_heads))} {float(flat[order[1]]):.3g}"
              if len(order) > 1 else "")
    if abs(best) < SMALL_FRACTION:
        return Pick(name, best, f"{name}: no head's clean output, patched alone into the corrupted run, "
                    f"restores {SMALL_FRACTION:.0%} of the effect here (largest {best:.3g}{runner}).")
    return Pick(name, best, f"{name}: its clean output, patched alone into the corrupted run, moves the "
                f"metric most of any head (fraction of the effect restored {best:.3g}{runner}).")


def _path_patching(subject: Subject, run: ModelRun, corrupted_ids: torch.Tensor, metric,
                   clean_value: float, corrupted_value: float, pick: Pick | None,
                   context: tuple) -> None:
    """Path patching from one head to each component that reads it, opening on `pick`."""
    model = subject.model
    cfg = model.cfg
    heads = [f"L{layer}H{head}" for layer in range(cfg.n_layers) for head in range(cfg.n_heads)]
    if pick is not None:
        open_on("patch_sender", pick.name, context[1])
    sender = st.selectbox("Path patching from head", [NO_SENDER, *heads], key="patch_sender")
    if pick is not None and sender == pick.name:
        st.caption(f"Opened on {pick.reason}")
    if sender == NO_SENDER:
        st.caption("Pick a head to see which of its readers carry its effect (path patching).")
        return
    # Readers through which no path can carry an effect (decided from the weights) cost no
    # forward: program:sort's L2H4 is read by 41 components, and only MLP2 sees its output.
    readers, receivers = effective_readers(model, sender)
    if not receivers:
        st.info(f"Nothing reads {sender}" + (" through weights that see its output and write "
                                             "something." if readers else "."))
        return
    if len(receivers) < len(readers):
        st.caption(f"{len(readers) - len(receivers)} of the {len(readers)} components reading {sender} are "
                   "left out: they write nothing (zero output weights) or never see its output (input "
                   "weights orthogonal to its output weights, no LayerNorm), so no path through them "
                   "carries an effect.")
    # One forward per receiver: remembered per input pair, metric and sender.
    done = st.session_state.setdefault("path_results", {})
    key = (context[0], sender)
    if key not in done:
        with MODEL_LOCK:
            values = [path_patch(model, run.ids, corrupted_ids, sender, [r], metric) for r in receivers]
        if len(done) >= KEEP_RESULTS:
            done.pop(next(iter(done)))  # the oldest
        done[key] = values
    effect = fraction_of_effect(torch.tensor(done[key]), clean_value, corrupted_value, patched_into="clean")
    # A short title: the long one ran under the chart's toolbar; the method is in the caption.
    st.plotly_chart(bar_chart(receivers, effect.tolist(), f"Path patching from {sender}: fraction of the "
                              "effect each reader carries", "fraction of the effect"), key="patch_paths")
    st.caption(f"{sender}'s corrupted output fed only to that reader's input, the run clean otherwise.")
