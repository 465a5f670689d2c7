"""Residual view: decoded RASP variables per sublayer (compiled models), and for every model
per-component norms, the logit lens and direct logit attribution (TransformerLens' cache)."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

import rasp
from app.figures import bar_chart, matrix_heatmap, position_labels, value_table_heatmap
from app.model_run import ModelRun
from app.subject import Subject


def stage_hooks(n_layers: int, attn_only: bool) -> list[tuple[int, str, str]]:
    """(stage, hook name, caption) for every residual stage after the embedding and each sublayer."""
    stages = [(0, "blocks.0.hook_resid_pre", "embed")] if n_layers else []
    for layer in range(n_layers):
        stages.append((2 * layer + 1, f"blocks.{layer}.hook_resid_mid", f"after L{layer} attn"))
        if not attn_only:
            stages.append((2 * layer + 2, f"blocks.{layer}.hook_resid_post", f"after MLP{layer}"))
    return stages


def _show_value(value: object) -> str:
    if value is None:
        return "·"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def show_decoded(subject: Subject, run: ModelRun) -> None:
    """Each RASP variable's decoded value at every position after every sublayer."""
    labels = subject.model.residual_labels
    if labels is None:
        st.info("This model carries no residual labels, so its residual stream cannot be decoded "
                "into RASP variables.")
        return
    cfg = subject.model.cfg
    stages = stage_hooks(cfg.n_layers, cfg.attn_only)
    decoded = {caption: labels.read_all(run.cache[hook][0], stage) for stage, hook, caption in stages}
    variables = labels.variables()
    interpreter = _interpreter_values(subject, run)
    offset = len(run.positions) - len(run.inputs)
    columns = position_labels(run.positions)
    output_label = subject.program.label if subject.program is not None else variables[-1]
    variable = st.selectbox("Variable", variables,
                            index=variables.index(output_label) if output_label in variables else 0,
                            key="residual_variable")
    rows, cells = [], []
    for caption, values in decoded.items():
        rows.append(caption)
        cells.append([_show_value(v) for v in values.get(variable, [None] * len(columns))])
    if variable in interpreter:
        rows.append("RASP interpreter")
        cells.append(["" if i < offset else _show_value(interpreter[variable][i - offset])
                      for i in range(len(columns))])
    st.plotly_chart(value_table_heatmap(rows, columns, cells,
                                        f"{variable}: decoded from the residual stream "
                                        "(shaded where a sublayer changed it)"),
                    key="residual_variable_chart")
    final = list(decoded)[-1]
    table = {var: [_show_value(v) for v in vals] for var, vals in decoded[final].items()}
    st.caption(f"Every variable {final} (rows: variables, columns: positions)")
    st.dataframe({"variable": list(table), **{col: [table[v][i] for v in table]
                                               for i, col in enumerate(columns)}},
                 hide_index=True, key="residual_table")


def _interpreter_values(subject: Subject, run: ModelRun) -> dict[str, list]:
    """The reference interpreter's value of every SOp on this input (side by side with the model)."""
    if subject.program is None:
        return {}
    try:
        return rasp.trace(subject.program, run.inputs).values
    except rasp.RASPError:
        return {}


def show_components(subject: Subject, run: ModelRun) -> None:
    """Per-component norms, logit lens and direct logit attribution from the ActivationCache."""
    model, cache = subject.model, run.cache
    columns = position_labels(run.positions)
    with torch.no_grad():
        stack, names = cache.get_full_resid_decomposition(expand_neurons=False, return_labels=True)
        norms = stack[:, 0].norm(dim=-1).numpy()
        st.plotly_chart(matrix_heatmap(norms, names, columns, "Residual contribution norm per "
                                       "component", "norm"), key="component_norms")

        accumulated, stage_names = cache.accumulated_resid(apply_ln=True, return_labels=True)
        lens_logits = accumulated[:, 0] @ model.W_U + model.b_U
        probs = lens_logits.softmax(-1)
        top = probs.max(-1)
        vocab_out = model.cfg.vocab_out or model.cfg.vocab
        text = [[vocab_out[i] if vocab_out else str(i) for i in row] for row in top.indices.tolist()]
        st.plotly_chart(matrix_heatmap(top.values.numpy(), stage_names, columns,
                                       "Logit lens: top token (text) and its probability",
                                       "prob", text=text), key="logit_lens")

        predicted = run.logits[0].argmax(-1)
        attributions = cache.logit_attrs(stack, tokens=predicted[None])[:, 0].numpy()
    position = st.selectbox("Position for direct logit attribution", columns,
                            index=len(columns) - 1, key="dla_position")
    index = columns.index(position)
    target = run.output[index] if index < len(run.output) else ""
    st.plotly_chart(bar_chart(names, np.asarray(attributions[:, index]),
                              f"Direct logit attribution to the output {target!r} at {position}",
                              "logit"), key="dla_bars")


def show(subject: Subject, run: ModelRun) -> None:
    """Decoded variables first when the model has them; the generic views for every model."""
    if subject.model.residual_labels is not None:
        show_decoded(subject, run)
        with st.expander("Component norms, logit lens, direct logit attribution"):
            show_components(subject, run)
    else:
        show_components(subject, run)
