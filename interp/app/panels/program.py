"""Program view: the RASP program's dataflow graph, each operation placed at its layer."""

from __future__ import annotations

import streamlit as st

import rasp
from interp.app.compiled_info import component_captions, sop_components
from interp.app.display import show_value
from interp.app.figures import layered_graph, sublayer_names
from interp.app.model_run import ModelRun
from interp.app.panels import program_tp
from interp.app.program_text import operation_text
from interp.app.subject import Subject

KIND_COLORS = {"Select": "#f58518", "Aggregate": "#4c78a8", "SelectorWidth": "#4c78a8",
               "Map": "#54a24b", "SequenceMap": "#54a24b", "LinearSequenceMap": "#54a24b"}
OTHER_COLOR = "#9d755d"
LEGEND = {"input / constant": OTHER_COLOR, "selector (Select)": "#f58518",
          "attention (Aggregate, SelectorWidth)": "#4c78a8", "MLP (Map, SequenceMap)": "#54a24b"}


def depth_columns(program: rasp.SOp) -> dict[str, float]:
    """Column of each node for drawing: its longest distance from the inputs."""
    depth: dict[int, int] = {}
    for node in rasp.walk(program):
        depth[id(node)] = 1 + max((depth[id(c)] for c in node.children), default=-1)
    return {node.label: float(depth[id(node)]) for node in rasp.walk(program)}


def component_column(component: str) -> float:
    """Drawing column of a model component: embeddings 0, layer l's attention 2l+1, MLP 2l+2."""
    if component in ("embed", "pos_embed"):
        return 0.0
    if component.startswith("MLP"):
        return 2.0 * int(component[3:]) + 2
    return 2.0 * int(component[1 : component.index("H")]) + 1


def placed_columns(program: rasp.SOp, placement: dict[str, list[str]]) -> dict[str, float]:
    """Column per node from the compiler's placement (a node is ready after its last component).

    Nodes the compiler fused into another (e.g. a Map folded into the next MLP) get the
    column of the first node that consumes them.
    """
    columns = {label: component_column(comps[-1]) for label, comps in placement.items() if comps}
    consumers: dict[str, list[str]] = {}
    for child, parent in rasp.dataflow_edges(program):
        consumers.setdefault(child, []).append(parent)
    for node in reversed(rasp.walk(program)):
        if node.label not in columns:
            after = [columns[p] for p in consumers.get(node.label, []) if p in columns]
            columns[node.label] = min(after) - 0.5 if after else 0.0
    return columns


def _values_on_input(program: rasp.SOp, inputs: list) -> dict[str, str]:
    """Each SOp's value on the current input (the interpreter's), as short hover text."""
    try:
        values = rasp.trace(program, inputs).values
    except rasp.RASPError:
        return {}
    return {label: "[" + ", ".join(show_value(v) for v in vals) + "]" for label, vals in values.items()
            if isinstance(vals, list)}


def show(subject: Subject, run: ModelRun) -> None:
    """Draw the dataflow graph, placed by model sublayer when the model was compiled."""
    program = subject.rasp_program()
    if subject.discrete_programs() is not None:
        program_tp.show(subject, run)
        return
    if run.is_vector:
        st.info("This model reads vectors (in-context regression) and has no program: the Program view "
                "does not apply. The prompt editor above compares it with the regression baselines.")
        return
    if program is None and subject.placement():
        # A saved compiled model carries its layout but not the program's source.
        st.info("This saved model does not carry its RASP program, only the compiler's layout: "
                "what each component computes.")
        captions = component_captions(subject)
        st.dataframe({"component": list(captions), "computes": list(captions.values())},
                     hide_index=True, key="program_layout_table")
        return
    if program is None:
        st.info("This model has no RASP program attached (it was not compiled from one, nor is it a "
                "Transformer Program): the Program view does not apply.")
        return
    nodes = [node.label for node in rasp.walk(program)]
    kinds = {node.label: type(node).__name__ for node in rasp.walk(program)}
    placement = sop_components(subject)
    column_names = None
    if placement:
        columns = placed_columns(program, placement)
        column_names = sublayer_names(subject.model.cfg.n_layers)
        title = "Dataflow graph, each operation at the sublayer that computes it"
    else:
        columns = depth_columns(program)
        title = "Dataflow graph; columns: depth in the program"
    where = {label: ", ".join(placement.get(label, [])) for label in nodes}
    for child, parent in reversed(rasp.dataflow_edges(program)):
        # Fused nodes (a Select inside its Aggregate's head, a Map folded into an MLP)
        # are shown with the component of the operation that absorbed them.
        if placement and not where[child] and where[parent]:
            where[child] = f"inside {where[parent]}"
    texts = {node.label: operation_text(node) for node in rasp.walk(program)}
    values = _values_on_input(program, run.inputs)
    hover = {label: f"<b>{label}</b> = {texts[label]}"
             + (f"<br>on this input: {values[label]}" if label in values else "")
             + (f"<br>computed by {where[label]}" if where[label] else "")
             for label in nodes}
    st.plotly_chart(layered_graph(nodes, columns, rasp.dataflow_edges(program), title,
                                  node_colors={n: KIND_COLORS.get(kinds[n], OTHER_COLOR) for n in nodes},
                                  hover=hover, column_names=column_names, legend=LEGEND),
                    key="program_graph", width="content")
    st.caption("Hover a node for what it computes and its value on this input.")
    table = {"operation": nodes, "computes": [texts[n] for n in nodes],
             "on this input": [values.get(n, "") for n in nodes]}
    if placement:
        table["computed by"] = [where[n] for n in nodes]
    st.dataframe(table, hide_index=True, key="program_table")
