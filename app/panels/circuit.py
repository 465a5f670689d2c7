"""Circuit view: the compiled program's ground-truth circuit next to the one discovery finds
(ACDC or EAP from interp.analysis), drawn layer by layer, with AUC, precision and recall."""

from __future__ import annotations

import streamlit as st

from app.display import show_value
from app.figures import faithfulness_figure, layered_graph, sublayer_names
from app.model_run import MODEL_LOCK, ModelRun, reference_batch
from app.subject import Subject
from interp.analysis import acdc, eap, precision_recall, roc_auc
from interp.analysis.circuit_curves import FaithfulnessCurve, faithfulness_curve
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
    """Draw `circuit`; with `truth`, colour edges found / missed / spurious; hovering an
    edge's mid-point shows each of its slots' scores when the circuit has them."""
    truth_edges = truth.edge_set() if truth is not None else set()
    edges = set(circuit.edges) | truth_edges
    nodes = [n for n in node_order(cfg) if n in {e.src for e in edges} | {e.dst for e in edges}]
    colors: dict[tuple[str, str], str] = {}
    hover: dict[tuple[str, str], list[str]] = {}
    for edge in sorted(edges):
        pair = (edge.src, edge.dst)
        in_found, in_truth = edge in circuit.edge_set(), edge in truth_edges
        color = BOTH if (in_found and in_truth) or truth is None else (
            TRUTH_ONLY if in_truth else FOUND_ONLY)
        # One line per node pair: a pair is "found" if any of its slots was found.
        if colors.get(pair) != BOTH:
            colors[pair] = color
        status = "" if truth is None else (" · found and true" if in_found and in_truth else
                                           " · true, missed" if in_truth else " · found, not true")
        score = circuit.scores.get(edge)
        hover.setdefault(pair, []).append(
            f"{edge}" + (f": score {show_value(float(score))}" if score is not None else "") + status)
    names = sublayer_names(cfg.n_layers)
    names[2.0 * cfg.n_layers + 1] = "logits"
    st.plotly_chart(layered_graph(nodes, node_columns(nodes, cfg.n_layers), list(colors), title,
                                  edge_colors=colors, column_names=names,
                                  edge_hover={p: "<br>".join(h) for p, h in hover.items()}),
                    key=key, width="content")


def _discover(subject: Subject, run: ModelRun, method: str, threshold: float,
              ablation: str) -> tuple[Circuit, FaithfulnessCurve]:
    """Run discovery with a progress bar (ACDC), then its faithfulness curve.

    Each progress update is a Streamlit call, where a rerun (the Cancel button, or any
    other widget) interrupts the script: that is how Cancel stops ACDC mid-way.
    """
    batch = reference_batch(subject, run)
    measured = list(range(run.offset, len(run.positions)))  # not the compiler's BOS
    bar = st.progress(0.0, text=f"{method}: starting on {batch.shape[0]} inputs…")

    def report(done: int, total: int) -> None:
        if done == total or done % 4 == 0:
            bar.progress(done / total, text=f"{method}: {done} / {total} edges tried")

    with MODEL_LOCK:
        if method == "acdc":
            found = acdc(subject.model, batch, threshold=threshold, ablation=ablation,
                         reference=batch, progress=report)
        else:
            found = eap(subject.model, batch, threshold=threshold, ablation=ablation, reference=batch)
        bar.progress(1.0, text="faithfulness curve: ablating all but the top-scored edges…")
        curve = faithfulness_curve(subject.model, found.scores, batch, kind=ablation, reference=batch,
                                   positions=measured)
    bar.empty()
    return found, curve


def show(subject: Subject, run: ModelRun) -> None:
    """Ground truth (compiled models) and discovery with its score and faithfulness curve."""
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
        buttons = st.columns([1, 1, 6])
        submitted = buttons[0].form_submit_button("Discover")
        # Pressing Cancel reruns the script, which stops a running search at its next
        # progress update; the rerun then finds the search unfinished and says so.
        buttons[1].form_submit_button("Cancel", key="discovery_cancel")
    key = (subject.identity, tuple(run.positions), method, threshold, ablation)
    results = st.session_state.setdefault("discovered", {})
    if st.session_state.get("discovery_running") is not None and not submitted:
        st.warning("Discovery was cancelled before it finished; press Discover to run it again.")
        st.session_state["discovery_running"] = None
    if submitted and key not in results:
        st.session_state["discovery_running"] = key
        try:
            results[key] = _discover(subject, run, method, threshold, ablation)
        except InterpError as err:
            st.session_state["discovery_running"] = None  # it ended (with an error), not cancelled
            st.error(f"Discovery failed: {err}")
            return
        finally:
            if key in results:
                st.session_state["discovery_running"] = None
    if key not in results:
        st.caption("Press Discover to search for the circuit on sampled inputs of this length.")
        return
    found, curve = results[key]
    if truth is not None:
        _show_score(found, truth, cfg)
    draw(found, cfg, f"Found by {method}: {len(found.edges)} edges", truth=truth, key="circuit_found")
    if truth is not None:
        st.caption(":green[green] found and true · :orange[orange] true but missed · "
                   ":red[red] found but not true · hover an edge's diamond for its score")
    st.plotly_chart(faithfulness_figure(curve, len(found.edges)), key="faithfulness_curve")


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
