"""Residual view: decoded RASP variables per sublayer (compiled models), and for every model
per-component norms, the logit lens and direct logit attribution (interp.analysis)."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

import rasp
from interp.analysis import (
    direct_logit_attribution,
    logit_lens,
    residual_components,
    residual_readout,
)
from interp.analysis.salience import Pick, most_varied
from interp.app.defaults import answer_positions, open_on, run_context
from interp.app.display import distinct_stages, show_value, stage_name
from interp.app.figures import bar_chart, matrix_heatmap, position_labels, value_table_heatmap
from interp.app.model_run import MODEL_LOCK, ModelRun
from interp.app.subject import Subject


def show_decoded(subject: Subject, run: ModelRun) -> None:
    """Each RASP variable's decoded value at every position after every sublayer."""
    with MODEL_LOCK:
        readout = residual_readout(subject.model, run.ids)
    cfg = subject.model.cfg
    # Without MLPs, `after MLPl` repeats `after Ll attn`: one row per layer is enough.
    hooks = [readout.hooks[i] for i in distinct_stages(readout.hooks, cfg.n_layers, cfg.attn_only)]
    columns = position_labels(run.positions)
    interpreter = _interpreter_values(subject, run)
    offset = run.offset
    variables = readout.variables
    # Open on the output variable, or the one varying most where the output is constant:
    # a variable held at no stage would draw a blank chart.
    last_held = {}
    for var in variables:
        held = [h for h in readout.hooks if readout.values[h].get(var) is not None]
        last_held[var] = list(readout.values[held[-1]][var]) if held else []
    # Inputs (tokens, indices: held from the embedding on) draw the same row at every stage;
    # open on a variable a sublayer computes whenever one is held.
    embedded = readout.values[readout.hooks[0]]
    computed = {v: values for v, values in last_held.items() if embedded.get(v) is None and values}
    output = subject.output_variable()
    pick = most_varied(computed or last_held, prefer=output)
    if pick is not None:
        open_on("residual_variable", pick.name, run_context(subject, run))
    variable = st.selectbox("Variable", variables, key="residual_variable")
    if pick is not None:
        skipped = computed and pick.name != output
        reason = pick.reason if output is None else _output_reason(subject, run, pick, output,
                                                                     last_held.get(output, []))
        inputs_note = " Inputs held from the embedding on are not picked: their row never changes."
        st.caption(f"Opened on {reason}" + (inputs_note if skipped else ""))
    rows, cells = [], []
    for hook in hooks:
        values = readout.values[hook].get(variable)
        rows.append(stage_name(hook, cfg.n_layers))
        cells.append(["" if values is None else show_value(v) for v in
                      (values if values is not None else [None] * len(columns))])
    if variable in interpreter:
        rows.append("RASP interpreter")
        cells.append(["" if i < offset else show_value(interpreter[variable][i - offset])
                      for i in range(len(columns))])
    st.plotly_chart(value_table_heatmap(rows, columns, cells,
                                        f"{variable}: decoded from the residual stream "
                                        "(shaded where a sublayer changed it)"),
                    key="residual_variable_chart")
    st.caption("Every variable where the model last holds it, next to the RASP interpreter "
               "(the compiler frees a variable's directions once nothing reads it)")
    table: dict[str, list[str]] = {"variable": [], "source": [], "read at": []}
    for column in columns:
        table[column] = []
    for var in variables:
        held = [h for h in readout.hooks if readout.values[h].get(var) is not None]
        sources = [("model", readout.values[held[-1]][var] if held else None, 0,
                    stage_name(held[-1], cfg.n_layers) if held else "")]
        if var in interpreter:
            sources.append(("interpreter", interpreter[var], offset, ""))
        for source, values, shift, where in sources:
            table["variable"].append(var)
            table["source"].append(source)
            table["read at"].append(where)
            for i, column in enumerate(columns):
                ok = values is not None and 0 <= i - shift < len(values)
                table[column].append(show_value(values[i - shift]) if ok else "")
    st.dataframe(table, hide_index=True, key="residual_table")


def _output_reason(subject: Subject, run: ModelRun, pick: Pick, output: str, values: list) -> str:
    """The one-line note when the subject names an output variable: what was opened and how
    that variable relates to the output on screen. A Transformer Program's output is read out
    from every variable, so its output variable is the one the output equals most often on its
    task, and may differ from the output here (said so, never called "the output")."""
    answers = [p for p in answer_positions(subject, run) if p < len(values) and p < len(run.output)]
    equal = sum(values[p] is not None and show_value(values[p]) == show_value(run.output[p]) for p in answers)
    what = ("the output variable" if answers and equal == len(answers) else
            f"the variable the output equals most often on the model's task (here at {equal} of "
            f"{len(answers)} answer positions)")
    distinct = len({repr(v) for v in values if v is not None})
    if pick.name == output:
        return f"{output}: {what} ({distinct} distinct values on this input)."
    state = "constant" if distinct else "not held"
    return (f"{pick.name}: the variable with the most distinct values on this input ({int(pick.score)}); "
            f"{output}, {what}, is {state} here.")


def _interpreter_values(subject: Subject, run: ModelRun) -> dict[str, list]:
    """The reference interpreter's value of every SOp on this input (side by side with the model)."""
    program = subject.rasp_program()
    if program is None:
        return {}
    try:
        return rasp.trace(program, run.inputs).values
    except rasp.RASPError:
        return {}


def show_components(subject: Subject, run: ModelRun) -> None:
    """Per-component norms, logit lens and direct logit attribution."""
    model, cache = subject.model, run.cache
    columns = position_labels(run.positions)
    with torch.no_grad():
        stack, names = residual_components(cache)  # [component, batch, pos, d_model]
        norms = stack[:, 0].norm(dim=-1).numpy()  # [component, pos]
        lens, stages = logit_lens(cache)
        keep = distinct_stages(stages, model.cfg.n_layers, model.cfg.attn_only)
        top = lens[keep, 0].softmax(-1).max(-1)
        stage_rows = [stage_name(stages[i], model.cfg.n_layers) for i in keep]
        predicted = run.logits[0].argmax(-1)
        attributions, dla_names = direct_logit_attribution(cache, predicted[None])
    # A component that writes exactly nothing here (an unused head) is no row: it adds zero
    # to the norms and to every logit. Fewer rows, less for the browser to draw.
    writes = [i for i in range(len(names)) if norms[i].any()]
    silent = len(names) - len(writes)
    st.plotly_chart(matrix_heatmap(norms[writes], [names[i] for i in writes], columns,
                                   "Residual contribution norm per component", "norm", signed=False),
                    key="component_norms")
    if silent:
        st.caption(f"{silent} of {len(names)} components write nothing on this input (their output is "
                   "exactly zero) and are left out here and in the attribution below.")
    numerical = model.cfg.d_vocab_out == 1
    if numerical:
        # One real-valued read-out (regression): a softmax over one output is always 1, so the
        # lens shows the read-out itself at every stage.
        st.plotly_chart(matrix_heatmap(lens[keep, 0, :, 0].numpy(), stage_rows, columns,
                                       "Logit lens: the read-out (prediction) at every stage", "read-out"),
                        key="logit_lens")
    else:
        vocab_out = model.cfg.vocab_out or model.cfg.vocab
        text = [[vocab_out[i] if vocab_out else str(i) for i in row] for row in top.indices.tolist()]
        st.plotly_chart(matrix_heatmap(top.values.numpy(), stage_rows, columns,
                                       "Logit lens: top output token (text) and its probability",
                                       "probability", text=text, signed=False, zmax=1.0), key="logit_lens")
    # The last answer position (where the task reads an output), not a BOS or a separator.
    answers = [p for p in answer_positions(subject, run) if 0 <= p < len(columns)]
    default = answers[-1] if answers else len(columns) - 1
    position = st.selectbox("Position for direct logit attribution", columns,
                            index=default, key="dla_position")
    index = columns.index(position)
    target = "the read-out" if numerical else f"the output {run.output[index]!r}"
    # Same decomposition, same order as the norms: the silent components add exactly zero here.
    st.plotly_chart(bar_chart([dla_names[i] for i in writes], np.asarray(attributions[writes, 0, index]),
                              f"Direct logit attribution to {target} at {position}", "logit"),
                    key="dla_bars")


def show(subject: Subject, run: ModelRun) -> None:
    """Decoded variables first when the model has them; the generic views for every model."""
    if subject.model.residual_labels is not None:
        show_decoded(subject, run)
        # On demand: in a collapsed expander these three figures were still drawn on every
        # visit (a Transformer Program's sort: 81 component rows, most of the view's 1 s).
        if st.toggle("Component norms, logit lens, direct logit attribution", key="residual_components"):
            show_components(subject, run)
    else:
        show_components(subject, run)
