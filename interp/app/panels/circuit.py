"""Circuit view: the compiled program's ground-truth circuit next to the one discovery finds
(ACDC or EAP from interp.analysis), drawn layer by layer, with AUC, precision and recall."""

from __future__ import annotations

import streamlit as st

from interp.analysis import find_circuit, precision_recall, roc_auc
from interp.analysis.circuit_curves import FaithfulnessCurve, faithfulness_curve
from interp.analysis.registry import ACDC_THRESHOLD, REGISTRY
from interp.app import ground_truth
from interp.app.discovery_progress import DEFAULT_BUDGET_S, OverBudget, reporter
from interp.app.display import show_value
from interp.app.figures import faithfulness_figure, layered_graph, sublayer_names
from interp.app.model_run import MODEL_LOCK, ModelRun
from interp.app.subject import Subject
from interp.circuit import Circuit, Edge, node_layer_position, node_order
from interp.errors import InterpError

BOTH, TRUTH_ONLY, FOUND_ONLY = "#2ca02c", "#ff7f0e", "#d62728"
METHODS = tuple(REGISTRY)  # the CLI's table: acdc, eap, eap-ig (and whatever it gains)


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
    st.plotly_chart(circuit_figure(circuit, cfg, title, truth), key=key, width="stretch")


def circuit_figure(circuit: Circuit, cfg, title: str, truth: Circuit | None = None):
    """The layered graph of `circuit` (the dashboard's and the notebooks' inline view)."""
    truth_edges = truth.edge_set() if truth is not None else set()
    edges = set(circuit.edges) | truth_edges
    nodes = [n for n in node_order(cfg) if n in {e.src for e in edges} | {e.dst for e in edges}]
    colors: dict[tuple[str, str], list[str]] = {}
    hover: dict[tuple[str, str], list[str]] = {}
    for edge in sorted(edges):
        pair = (edge.src, edge.dst)
        in_found, in_truth = edge in circuit.edge_set(), edge in truth_edges
        color = BOTH if (in_found and in_truth) or truth is None else (
            TRUTH_ONLY if in_truth else FOUND_ONLY)
        # One arc per (node pair, status): a pair whose q slot was found and k slot missed
        # shows both, so a missed edge never hides under a found one.
        if color not in colors.setdefault(pair, []):
            colors[pair].append(color)
        status = "" if truth is None else (" · found and true" if in_found and in_truth else
                                           " · true, missed" if in_truth else " · found, not true")
        score = circuit.scores.get(edge)
        hover.setdefault(pair, []).append(
            f"{edge}" + (f": score {show_value(float(score))}" if score is not None else "") + status)
    names = sublayer_names(cfg.n_layers)
    names[2.0 * cfg.n_layers + 1] = "logits"
    legend = None if truth is None else {"found and true": BOTH, "true, missed": TRUTH_ONLY,
                                         "found, not true": FOUND_ONLY}
    return layered_graph(nodes, node_columns(nodes, cfg.n_layers), list(colors), title,
                         edge_colors=colors, column_names=names, edge_legend=legend, stretch=True,
                         edge_hover={p: "<br>".join(h) for p, h in hover.items()})


SUBJECTS_OWN = "the task's own"
# Task inputs per length: `interp discover`'s --per-length default, so the app and the CLI
# find the same circuit (same inputs, seed 0, registry, threshold) and score it the same.
DISCOVERY_PER_LENGTH = 8


def _discover(subject: Subject, method: str, threshold: float | None, ablation: str,
              budget_s: float = DEFAULT_BUDGET_S) -> tuple[Circuit, FaithfulnessCurve, float]:
    """Run discovery on the subject's task inputs with its metric (a progress bar with the time
    left, stopped with OverBudget after `budget_s` seconds), then its faithfulness curve and
    the found circuit's faithfulness.

    Each progress update is a Streamlit call, where a rerun (the Cancel button, or any
    other widget) interrupts the script: that is how Cancel stops a search mid-way.
    """
    inputs = subject.analysis_inputs(DISCOVERY_PER_LENGTH, seed=0)
    how = inputs.ablation if ablation == SUBJECTS_OWN else ablation
    corrupted = inputs.corrupted if how == "resample" else None
    reference = corrupted if corrupted is not None else inputs.batches
    rows = sum(b.shape[0] for b in inputs.batches)
    bar = st.progress(0.0, text=f"{method}: starting on {rows} task inputs…")
    # Remaining time from the mean time per step so far; every method reports its steps.
    report = reporter(method, budget_s, lambda done, text: bar.progress(done, text=text))

    metric = subject.discovery_metric(inputs.positions)
    model, batches = subject.model, inputs.batches
    with MODEL_LOCK:
        # The registry `interp discover` uses, with its arguments: one method table, one default.
        found = find_circuit(method, model, batches, ablation=how, corrupted=corrupted, metric=metric,
                             threshold=threshold, seed=0,
                             progress=report).circuit
        bar.progress(1.0, text="faithfulness curve: ablating all but the top-scored edges…")
        curve = faithfulness_curve(model, found.scores, batches, kind=how, reference=reference,
                                   positions=inputs.positions)
        faithful = subject.faithfulness(found, inputs, how)
    bar.empty()
    return found, curve, faithful


def show(subject: Subject, run: ModelRun) -> None:
    """Ground truth (compiled models) and discovery with its score and faithfulness curve."""
    del run  # discovery runs on the task's inputs, not on the one input on screen
    cfg = subject.model.cfg
    truth = _ground_truth(subject)
    if truth is not None:
        note = subject.ground_truth_note()
        draw(truth, cfg, f"Ground truth: {len(truth.edges)} edges" + (f" ({note})" if note else ""),
             key="circuit_truth")
    else:
        st.caption("No ground truth: this model was not compiled from a program.")
    with st.form("discovery_form"):
        cols = st.columns(3)
        method = cols[0].radio("Method", METHODS, horizontal=True, key="discovery_method")
        threshold = cols[1].number_input("Threshold", min_value=0.0, value=None, format="%.0e",
                                         key="discovery_threshold",
                                         placeholder=f"method default (ACDC {ACDC_THRESHOLD:.0e})",
                                         help="empty: the method's default, as in `interp discover`")
        ablation = cols[2].radio("Ablation", (SUBJECTS_OWN, "zero", "mean", "resample"), horizontal=True,
                                 key="discovery_ablation",
                                 help="the task's own: resample from task-corrupted inputs for trained "
                                 "models, zero for compiled programs")
        buttons = st.columns([1, 1, 2, 4], vertical_alignment="bottom")
        budget = buttons[2].number_input("Time budget (s)", min_value=1.0, value=DEFAULT_BUDGET_S,
                                         step=30.0, format="%.0f", key="discovery_budget",
                                         help="discovery stops here, saying how far it got")
        submitted = buttons[0].form_submit_button("Discover")
        # Pressing Cancel reruns the script, which stops a running search at its next
        # progress update; the rerun then finds the search unfinished and says so.
        buttons[1].form_submit_button("Cancel", key="discovery_cancel")
    key = (subject.identity, method, threshold, ablation)
    results = st.session_state.setdefault("discovered", {})
    if st.session_state.get("discovery_running") is not None and not submitted:
        st.warning("Discovery was cancelled before it finished; press Discover to run it again.")
        st.session_state["discovery_running"] = None
    if submitted and key not in results:
        st.session_state["discovery_running"] = key
        try:
            results[key] = _discover(subject, method, threshold, ablation, float(budget))
        except OverBudget as err:
            st.session_state["discovery_running"] = None  # it ended at its budget, not cancelled
            st.warning(str(err))
            return
        except InterpError as err:
            st.session_state["discovery_running"] = None  # it ended (with an error), not cancelled
            st.error(f"Discovery failed: {err}")
            return
        finally:
            if key in results:
                st.session_state["discovery_running"] = None
    if key not in results:
        st.caption("Press Discover to search for the circuit on inputs sampled from the model's task, "
                   "with its metric on the answer positions.")
        return
    found, curve, faithful = results[key]
    if truth is not None:
        _show_score(found, truth, cfg)
    n_candidates = len(Circuit.full(cfg).edges)
    st.metric("Edges kept", f"{len(found.edges)} of {n_candidates}")
    st.caption(f"Faithfulness of the found circuit: {show_value(faithful)} "
               f"({subject.faithfulness_meaning()}).")
    draw(found, cfg, f"Found by {method}: {len(found.edges)} edges", truth=truth, key="circuit_found")
    if truth is not None:
        st.caption(":green[green] found and true · :orange[orange] true but missed · "
                   ":red[red] found but not true · hover an edge's diamond for its score")
    st.plotly_chart(faithfulness_figure(curve, len(found.edges), numerical=cfg.d_vocab_out == 1),
                    key="faithfulness_curve")


def _ground_truth(subject: Subject) -> Circuit | None:
    """The subject's ground truth, computed in the background since the model loaded
    (interp/app/ground_truth.py); a spinner while it is still running."""
    future = ground_truth.start(subject)
    if not future.done():
        with st.spinner("Computing the ground truth (started when the model loaded)…", show_time=True):
            return future.result()
    return future.result()


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
