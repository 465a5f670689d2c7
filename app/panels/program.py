"""Program view: the RASP program's dataflow graph, each operation placed at its layer."""

from __future__ import annotations

import streamlit as st

import rasp
from app.compiled_info import sop_layers
from app.figures import layered_graph
from app.model_run import ModelRun
from app.subject import Subject

KIND_COLORS = {"Select": "#f58518", "Aggregate": "#4c78a8", "SelectorWidth": "#4c78a8",
               "Map": "#54a24b", "SequenceMap": "#54a24b", "LinearSequenceMap": "#54a24b"}


def depth_columns(program: rasp.SOp) -> dict[str, float]:
    """Column of each node for drawing: its longest distance from the inputs."""
    depth: dict[int, int] = {}
    for node in rasp.walk(program):
        depth[id(node)] = 1 + max((depth[id(c)] for c in node.children), default=-1)
    return {node.label: float(depth[id(node)]) for node in rasp.walk(program)}


def _component_column(component: str) -> float | None:
    """Drawing column of a model component: embeddings 0, layer l's attention 2l+1, MLP 2l+2."""
    if component in ("embed", "pos_embed", "tokens", "indices"):
        return 0.0
    if component.startswith("MLP"):
        return 2.0 * int(component[3:]) + 2
    if component.startswith("L") and "H" in component:
        return 2.0 * int(component[1 : component.index("H")]) + 1
    return None


def show(subject: Subject, run: ModelRun) -> None:
    """Draw the dataflow graph, placed by model layer when the compiler says where."""
    del run
    program = subject.program
    if program is None:
        st.info("This model has no RASP program attached (it was not compiled from one). "
                "Decompiled code of Transformer Programs will show here once that lands.")
        return
    nodes = [node.label for node in rasp.walk(program)]
    kinds = {node.label: type(node).__name__ for node in rasp.walk(program)}
    placement = sop_layers(subject)
    columns = depth_columns(program)
    placed = {label: _component_column(placement[label]) for label in nodes if label in placement}
    by_layer = bool(placed) and all(v is not None for v in placed.values())
    if by_layer:
        columns = {label: placed.get(label, columns[label]) for label in nodes}
    hover = {label: f"{label} ({kinds[label]})" + (f" — computed by {placement[label]}"
                                                   if label in placement else "")
             for label in nodes}
    title = ("Dataflow graph, columns = model sublayers (embed, L0 attn, MLP0, L1 attn, …)"
             if by_layer else "Dataflow graph, columns = depth in the program")
    st.plotly_chart(layered_graph(nodes, columns, rasp.dataflow_edges(program), title,
                                  node_colors={n: KIND_COLORS.get(kinds[n], "#9d755d") for n in nodes},
                                  hover=hover), key="program_graph")
    if placement:
        st.dataframe({"operation": nodes, "kind": [kinds[n] for n in nodes],
                      "component": [placement.get(n, "") for n in nodes]},
                     hide_index=True, key="program_table")
    elif subject.is_compiled:
        st.caption("The compiler's layout gives no placement for the operations yet.")
