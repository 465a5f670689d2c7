"""Program view of a Transformer Program: its decompiled Python (exact and simplified), each
head's predicate as a query-value x key-value heatmap with the variables it reads, and each
MLP's lookup table (interp.programs.decompile / interp.programs.views)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from interp.app.defaults import open_on, run_context, salient_head
from interp.app.display import show_value
from interp.app.figures import matrix_heatmap
from interp.app.model_run import ModelRun
from interp.app.subject import Subject
from interp.programs.decompile import count_lines, to_python
from interp.programs.views import HeadPredicate, LookupTable, head_predicates, lookup_tables

PARTS = ("Heads (predicates)", "MLP lookup tables", "Decompiled Python", "Simplified Python")

# Programs are cached subjects; their decompiled forms never change: compute each once.
_MEMO: dict[tuple[int, str], object] = {}


def _memo(program, what: str, build):
    key = (id(program), what)
    if key not in _MEMO:
        _MEMO[key] = build(program)
    return _MEMO[key]


def show(subject: Subject, run: ModelRun | None = None) -> None:
    """Pick a part of the program and draw it (heads: opening on the salient one for `run`)."""
    program, simplified = subject.discrete_programs()
    part = st.radio("Show", PARTS, horizontal=True, key="tp_part")
    if part == PARTS[0]:
        heads = _memo(program, "heads", head_predicates)
        pick = salient_head(subject, run) if run is not None else None
        match = [h for h in heads if pick is not None and h.component == pick.name]
        if match:
            open_on("tp_head", match[0], run_context(subject, run))
        _show_heads(heads, f"Opened on {pick.reason}" if match else None)
    elif part == PARTS[1]:
        _show_tables(_memo(program, "tables", lookup_tables))
    elif part == PARTS[2]:
        source = _memo(program, "python", to_python)
        st.caption(f"Exact: this Python equals the discrete program (and the hooked model) on every input; "
                   f"{count_lines(source)} lines. Only components the output depends on are written.")
        st.code(source, language="python")
    else:
        if simplified is None:
            st.info("This program was shipped without a simplified form.")
            return
        source = _memo(simplified, "python", to_python)
        st.caption(f"Simplified ({count_lines(source)} lines): components whose removal kept the "
                   "accuracy are held constant, identical ones merged.")
        st.code(source, language="python")


def _head_label(head: HeadPredicate) -> str:
    reads = f"q: {head.query}, k: {head.key}" + ("" if head.counting else f", v: {head.value}")
    dead = "" if head.live else " · unused by the output"
    return f"{head.component} · {head.name} ({reads}){dead}"


def _show_heads(heads: list[HeadPredicate], note: str | None = None) -> None:
    if not heads:
        st.info("This program has no attention heads.")
        return
    head = st.selectbox("Head", heads, format_func=_head_label, key="tp_head")
    if note:
        st.caption(note)
    if head.counting:
        st.markdown(f"**{head.name}** = `select_width(select({head.key}, {head.query}, predicate))`: "
                    f"at each position, how many keys match. Computed by **{head.component}** (the count "
                    f"is decoded by MLP{2 * head.layer}).")
    else:
        st.markdown(f"**{head.name}** = `aggregate(select({head.key}, {head.query}, predicate), "
                    f"{head.value})`: each query copies **{head.value}** from the closest key whose "
                    f"**{head.key}** is the value its **{head.query}** asks for. Computed by "
                    f"**{head.component}**.")
    selects = np.array(head.selects, dtype=float)  # [query value, key value]
    rows = [show_value(v) for v in head.query_values]
    columns = [show_value(v) for v in head.key_values]
    marks = [["✓" if s else "" for s in row] for row in head.selects]
    st.plotly_chart(matrix_heatmap(selects, rows, columns,
                                   f"{head.name}: which key value each query value selects", "selects",
                                   text=marks, signed=False, zmax=1.0, x_title=f"key: {head.key}",
                                   y_title=f"query: {head.query}"), key="tp_predicate")
    st.dataframe({"component": [h.component for h in heads], "variable": [h.name for h in heads],
                  "query reads": [h.query for h in heads], "key reads": [h.key for h in heads],
                  "value": [h.value or "(count)" for h in heads],
                  "used by the output": ["yes" if h.live else "no" for h in heads]},
                 hide_index=True, key="tp_heads_table")


def _show_tables(tables: list[LookupTable]) -> None:
    if not tables:
        st.info("This program has no MLPs.")
        return
    table = st.selectbox("MLP", tables, key="tp_table",
                         format_func=lambda t: f"{t.component} · {t.name} = table({t.a}, {t.b})"
                         + ("" if t.live else " · unused by the output"))
    # Colour by output value (one code per distinct value), the value itself as text.
    values = sorted({v for row in table.table for v in row}, key=str)
    codes = np.array([[values.index(v) for v in row] for row in table.table], dtype=float)
    text = [[show_value(v) for v in row] for row in table.table]
    same = " (the same variable twice: only the diagonal occurs)" if table.a == table.b else ""
    st.markdown(f"**{table.name}** = lookup on (**{table.a}**, **{table.b}**), computed by "
                f"**{table.component}**{same}")
    st.plotly_chart(matrix_heatmap(codes, [show_value(v) for v in table.a_values],
                                   [show_value(v) for v in table.b_values],
                                   f"{table.name}: output for each pair of input values",
                                   "output value index", text=text, signed=False, x_title=table.b,
                                   y_title=table.a), key="tp_lookup")
