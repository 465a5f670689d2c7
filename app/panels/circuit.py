"""Circuit view: the compiled program's ground-truth circuit next to the one discovery finds
(ACDC or EAP from interp.analysis), drawn layer by layer, with AUC, precision and recall."""

from __future__ import annotations

import streamlit as st

from app.figures import layered_graph, sublayer_names
from app.model_run import MODEL_LOCK, ModelRun, reference_batch
from app.subject import Subject
from interp.analysis import acdc, eap, precision_recall, roc_auc
from interp.circuit import Circuit, Edge, node_layer_position, node_order
from interp.errors import InterpError

BOTH, TRUTH_ONLY, FOUND_ONLY = "#2ca02c", "#ff7f0e", "#d62728"
METHODS = ("acdc", "eap")


def node_columns(circuit_nodes: list[str], n_layers: int) -> dict[str, float]:
    """Drawing column per node: embeddings 0, layer l's heads 2l+1, its MLP 2l+2, logits last."""
    columns = {}
    for node in circuit_nodes:
        layer, is_mlp = node_layer_position(node)
        if node == "logits":
            columns[node] = 2.0 * n_layers + 1
        elif layer < 0:
            columns[node] = 0.0
        else:
            columns[node] = 2.0 * layer + 1 + is_mlp
    return columns


def draw(circuit: Circuit, cfg, title: str, truth: Circuit | None = None, key: str = "") -> None:
    """Draw `circuit`; with `truth`, colour edges found / missed / spurious."""
    truth_edges = truth.edge_set() if truth is not None else set()
    edges = set(circuit.edges) | truth_edges
    nodes = [n for n in node_order(cfg) if n in {e.src for e in edges} | {e.dst for e in edges}]
    colors: dict[tuple[str, str], str] = {}
    for edge in sorted(edges):
        pair = (edge.src, edge.dst)
        in_found, in_truth = edge in circuit.edge_set(), edge in truth_edges
        color = BOTH if (in_found and in_truth) or truth is None else (
            TRUTH_ONLY if in_truth else FOUND_ONLY)
        # One line per node pair: a pair is "found" if any of its slots was found.
        if colors.get(pair) != BOTH:
            colors[pair] = color
    names = sublayer_names(cfg.n_layers)
    names[2.0 * cfg.n_layers + 1] = "logits"
    st.plotly_chart(layered_graph(nodes, node_columns(nodes, cfg.n_layers), list(colors), title,
                                  edge_colors=colors, column_names=names), key=key, width="content")


def show(subject: Subject, run: ModelRun) -> None:
    """Ground truth (compiled models) and discovery with its score."""
    cfg = subject.model.cfg
    truth = subject.compiled.circuit() if subject.is_compiled else None
    if truth is not None:
        draw(truth, cfg, f"Ground truth: {len(truth.edges)} edges (from the compiler)",
             key="circuit_truth")
    else:
        st.caption("No ground truth: this model was not compiled from a program.")
    with st.form("discovery_form"):
        cols = st.columns(3)
        method = cols[0].radio("Method", METHODS, horizontal=True, key="discovery_method")
        threshold = cols[1].number_input("Threshold", min_value=0.0, value=1e-3, format="%.0e",
                                         key="discovery_threshold")
        ablation = cols[2].radio("Ablation", ("zero", "mean", "resample"), horizontal=True,
                                 key="discovery_ablation")
        submitted = st.form_submit_button("Discover")
    key = (subject.identity, tuple(run.positions), method, threshold, ablation)
    results = st.session_state.setdefault("discovered", {})
    if submitted and key not in results:
        finder = acdc if method == "acdc" else eap
        try:
            batch = reference_batch(subject, run)
            with st.spinner(f"Running {method} on {batch.shape[0]} inputs…"), MODEL_LOCK:
                results[key] = finder(subject.model, batch, threshold=threshold, ablation=ablation,
                                      reference=batch, **({"progress": False} if method == "acdc"
                                                          else {}))
        except InterpError as err:
            st.error(f"Discovery failed: {err}")
            return
    found = results.get(key)
    if found is None:
        st.caption("Press Discover to search for the circuit on sampled inputs of this length.")
        return
    if truth is not None:
        _show_score(found, truth, cfg)
    draw(found, cfg, f"Found by {method}: {len(found.edges)} edges", truth=truth, key="circuit_found")
    if truth is not None:
        st.caption(":green[green] found and true · :orange[orange] true but missed · "
                   ":red[red] found but not true")


def _show_score(found: Circuit, truth: Circuit, cfg) -> None:
    candidates: list[Edge] = Circuit.full(cfg).edges
    try:
        auc = f"{roc_auc(found.scores, truth.edges, candidates):.3f}"
    except InterpError as err:
        auc = "n/a"
        st.caption(f"AUC not defined here: {err}")
    precision, recall = precision_recall(found.edges, truth.edges)
    a, p, r = st.columns(3)
    a.metric("AUC", auc)
    p.metric("Precision", f"{precision:.3f}")
    r.metric("Recall", f"{recall:.3f}")
