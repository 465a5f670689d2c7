"""Weights view: each head's QK and OV circuits in the model's own basis (labelled residual
directions for compiled programs, as in tracr's figures; tokens for any model), and the
residual-space layout of a compiled model (interp.analysis.head_circuits)."""

from __future__ import annotations

import streamlit as st

from interp.analysis.head_circuits import NamedMatrix, head_circuits, nonzero_part, residual_layout
from interp.app.compiled_info import component_captions
from interp.app.defaults import open_on, run_context, salient_head
from interp.app.display import stage_number_name
from interp.app.figures import matrix_heatmap
from interp.app.model_run import ModelRun
from interp.app.subject import Subject

TOP_ROWS = 20  # rows and columns drawn by default: the largest in magnitude
TEXT_CELLS = 300  # the residual layout writes its counts in the cells up to this many cells

BASIS_LABELS = {"residual": "labelled residual directions",
                "tokens": "tokens (W_E · QK · W_Eᵀ, W_E · OV · W_U)"}


def show(subject: Subject, run: ModelRun) -> None:
    """Residual layout (when labelled), then the chosen head's QK and OV circuits."""
    model = subject.model
    cfg = model.cfg
    labelled = model.residual_labels is not None
    if labelled:
        layout = residual_layout(model)
        stages = [stage_number_name(s) for s in layout.stages]
        # Counts written in the cells only while few: the browser measures every cell's text
        # (a Transformer Program's ~1,000 cells cost about a second per draw); hover has them.
        text = ([[str(c) if c else "" for c in row] for row in layout.directions.tolist()]
                if layout.directions.numel() <= TEXT_CELLS else None)
        st.plotly_chart(matrix_heatmap(layout.directions.numpy(), layout.variables, stages,
                                       "Residual layout: directions each variable holds, per stage",
                                       "directions", text=text,
                                       signed=False, x_title="stage", y_title="variable"),
                        key="residual_layout")
    if cfg.n_layers == 0:
        return
    heads = [f"L{layer}H{head}" for layer in range(cfg.n_layers) for head in range(cfg.n_heads)]
    captions = component_captions(subject)
    head_col, basis_col = st.columns([1, 2])
    # Start on the head that matters most for the input on screen (an empty head shows nothing).
    pick = salient_head(subject, run)
    if pick is not None:
        open_on("weights_head", pick.name, run_context(subject, run))
    chosen = head_col.selectbox("Head", heads, key="weights_head",
                                format_func=lambda h: h + (f" — {captions[h]}" if h in captions else ""))
    if pick is not None:
        head_col.caption(f"Opened on {pick.reason}")
    bases = ["residual", "tokens"] if labelled else ["tokens", "residual"]
    if cfg.d_input is not None:
        bases = ["residual"]
    basis = basis_col.radio("Basis", bases, format_func=BASIS_LABELS.get, horizontal=True,
                            key="weights_basis")
    layer, head = (int(x) for x in chosen[1:].split("H"))
    qk, ov = head_circuits(model, layer, head, basis)
    if basis == "residual" and labelled:
        # A compiled head reads and writes a few variables: show only those directions.
        qk, ov = nonzero_part(qk), nonzero_part(ov)
    if not qk.rows and not ov.rows:
        st.info(f"{chosen} is empty: all its weights are zero (the program does not use it).")
        return
    search_col, top_col = st.columns([2, 1])
    query = search_col.text_input("Search rows and columns", key="weights_search",
                                  placeholder="part of a label, e.g. a variable or token name")
    top = top_col.number_input("Largest rows/columns shown", min_value=1, value=TOP_ROWS, key="weights_top",
                               help="by largest magnitude; the others are left out of the chart")
    qk, ov = focus(qk, query, int(top)), focus(ov, query, int(top))
    left, right = st.columns(2)
    for column, matrix, name, rows, cols, key in (
            (left, qk, "QK", "query reads", "key reads", "weights_qk"),
            (right, ov, "OV", "reads (value)", "writes (output)", "weights_ov")):
        if not matrix.rows:
            column.info(f"{name} circuit of {chosen}: all zero" + (
                f", or nothing matches {query!r}." if query else "."))
            continue
        column.plotly_chart(matrix_heatmap(matrix.values.numpy(), matrix.rows, matrix.columns,
                                           f"{chosen} {name} circuit", "weight", x_title=cols,
                                           y_title=rows), key=key)
    st.caption("QK: how strongly a query direction attends to a key direction. OV: what a head "
               "writes (columns) when it attends to a position holding a row's direction.")


def focus(matrix: NamedMatrix, query: str = "", top: int = TOP_ROWS) -> NamedMatrix:
    """The rows and columns whose label contains `query` (case-insensitive; a row matching
    keeps all columns and vice versa), then the `top` of each largest in magnitude, in their
    original order: an 80-row QK circuit stays readable."""
    values = matrix.values  # [rows, columns]
    needle = query.strip().lower()
    rows = list(range(len(matrix.rows)))
    cols = list(range(len(matrix.columns)))
    if needle:
        hit_rows = [i for i in rows if needle in matrix.rows[i].lower()]
        hit_cols = [j for j in cols if needle in matrix.columns[j].lower()]
        if hit_rows and not hit_cols:
            rows = hit_rows
        elif hit_cols and not hit_rows:
            cols = hit_cols
        else:
            rows, cols = hit_rows, hit_cols
    if rows and cols:
        sub = values[rows][:, cols].abs()
        rows = [rows[i] for i in sorted(sub.amax(1).argsort(descending=True)[:top].tolist())]
        cols = [cols[j] for j in sorted(sub.amax(0).argsort(descending=True)[:top].tolist())]
    else:
        rows, cols = [], []
    return NamedMatrix(values[rows][:, cols], [matrix.rows[i] for i in rows],
                       [matrix.columns[j] for j in cols])
