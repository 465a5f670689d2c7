"""Weights view: each head's QK and OV circuits in the model's own basis (labelled residual
directions for compiled programs, as in tracr's figures; tokens for any model), and the
residual-space layout of a compiled model (interp.analysis.head_circuits)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import streamlit as st

from interp.analysis.head_circuits import (
    NamedMatrix,
    ResidualLayout,
    head_circuits,
    nonzero_part,
    residual_layout,
)
from interp.app.compiled_info import component_captions
from interp.app.defaults import open_on, run_context, salient_head
from interp.app.display import stage_number_name
from interp.app.figures import GRID_WIDTH_PX, matrix_heatmap
from interp.app.model_run import ModelRun
from interp.app.subject import Subject

TOP_ROWS = 20  # rows and columns drawn by default: the largest in magnitude
LAYOUT_ROWS = 40  # a residual layout with more variables than this groups variables alike
LAST_NUMBER = re.compile(r"\d+(?=\D*$)")  # the last run of digits in a name
TEXT_CELLS = 300  # the residual layout writes its counts in the cells up to this many cells

BASIS_LABELS = {"residual": "labelled residual directions",
                "tokens": "tokens (W_E · QK · W_Eᵀ, W_E · OV · W_U)"}


def show(subject: Subject, run: ModelRun) -> None:
    """Residual layout (when labelled), then the chosen head's QK and OV circuits."""
    model = subject.model
    cfg = model.cfg
    labelled = model.residual_labels is not None
    if labelled:
        show_layout(residual_layout(model))
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
                                           y_title=rows, width_px=GRID_WIDTH_PX / 2), key=key)
    st.caption("QK: how strongly a query direction attends to a key direction. OV: what a head "
               "writes (columns) when it attends to a position holding a row's direction.")


def show_layout(layout: ResidualLayout) -> None:
    """The residual layout; past LAYOUT_ROWS variables, variables alike share a row (a toggle
    lists each): every row's tick label costs the browser a measured text on every draw."""
    directions = layout.directions.numpy()  # [variable, stage]
    groups = layout_groups(layout.variables, directions)
    grouped = len(layout.variables) > LAYOUT_ROWS and len(groups) < len(layout.variables)
    if grouped and st.toggle(f"One row per variable (all {len(layout.variables)})", key="weights_layout_all"):
        grouped = False
    if not grouped:
        groups = [[i] for i in range(len(layout.variables))]
    names = [[layout.variables[i] for i in group] for group in groups]
    rows = [group_label(members) for members in names]
    z = directions[[group[0] for group in groups]]  # [row, stage]: the same for every member
    # Counts written in the cells only while few: the browser measures every cell's text
    # (a Transformer Program's ~1,000 cells cost about a second per draw); hover has them.
    text = [[str(c) if c else "" for c in row] for row in z.tolist()] if z.size <= TEXT_CELLS else None
    stages = [stage_number_name(s) for s in layout.stages]
    title = "Residual layout: directions each variable holds, per stage"
    st.plotly_chart(matrix_heatmap(z, rows, stages, title, "directions", text=text, signed=False,
                                   x_title="stage", y_title="variable", value_format="d",
                                   row_hover=[", ".join(members) for members in names] if grouped else None),
                    key="residual_layout")
    if grouped:
        st.caption(f"{len(layout.variables)} variables in {len(rows)} rows: a row `name_* ×n` is n variables "
                   "whose names differ only in their last number and that hold the same directions at every "
                   "stage (the count is each one's; hover lists them).")


def layout_groups(variables: Sequence[str], directions: np.ndarray) -> list[list[int]]:
    """Indices of variables that hold the same number of directions at every stage and whose
    names differ only in their last number (`attn_0_0` … `attn_0_3`), in order of each group's
    first member; a variable whose name has no number is a group of its own."""
    groups: dict[tuple, list[int]] = {}
    for i, name in enumerate(variables):
        stem = LAST_NUMBER.sub("*", name)
        key = (stem, tuple(directions[i].tolist())) if stem != name else (name, i)
        groups.setdefault(key, []).append(i)
    return list(groups.values())


def group_label(members: Sequence[str]) -> str:
    """A row's tick label: the variable's name, or `stem_* ×n` for n variables."""
    if len(members) == 1:
        return members[0]
    return f"{LAST_NUMBER.sub('*', members[0])} ×{len(members)}"


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
