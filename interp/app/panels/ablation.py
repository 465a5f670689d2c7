"""Ablation view: switch heads and MLPs off (zero or mean) and see the output change."""

from __future__ import annotations

import streamlit as st

from interp.analysis.circuit_curves import ablation_change
from interp.app.defaults import answer_positions, open_on, run_context, salient_head
from interp.app.display import show_value
from interp.app.model_run import MODEL_LOCK, ModelRun, decode_logits, reference_batch
from interp.app.subject import Subject
from interp.circuit import node_order
from interp.errors import InterpError

KINDS = {"zero": "zero", "mean over sampled inputs": "mean"}


def ablatable_nodes(subject: Subject) -> list[str]:
    """Heads and MLPs, in computation order."""
    return [n for n in node_order(subject.model.cfg) if n not in ("embed", "pos_embed", "logits")]


def show(subject: Subject, run: ModelRun) -> None:
    """Pick components, run the ablated model, show output and per-position diff."""
    used = _used_nodes(subject)
    if used:
        st.caption("Components the compiled program uses: " + ", ".join(used))
    left, right = st.columns([3, 1])
    # Open with the head that matters most switched off: an empty selection shows nothing.
    pick = salient_head(subject, run)
    if pick is not None:
        open_on("ablate_nodes", [pick.name], run_context(subject, run))
    # Pills read as on/off toggles, one per head and MLP, in computation order.
    chosen = left.pills("Switch off", ablatable_nodes(subject), selection_mode="multi",
                        key="ablate_nodes") or []
    kind_label = right.radio("Replace with", list(KINDS), key="ablate_kind")
    if pick is not None:
        left.caption(f"Opened on {pick.reason}")
    if not chosen:
        st.info("Pick one or more heads or MLPs to switch off.")
        return
    ablation = KINDS[kind_label]
    if run.is_vector:
        _show_vector(subject, run, chosen, ablation)
        return
    # The task's answers only: BOS, a Transformer Program's <s>/</s> and an addition question's
    # digits are not outputs of the task (the clean run's junk there is not a change to count).
    measured = answer_positions(subject, run)
    try:
        reference = reference_batch(subject, run) if ablation == "mean" else None
        with MODEL_LOCK:
            change = ablation_change(subject.model, run.ids, measured_at=measured,
                                     nodes=chosen, kind=ablation, reference=reference)
    except InterpError as err:
        st.error(f"Ablation failed: {err}")
        return
    decoded = decode_logits(subject, change.ablated_logits)
    clean, ablated = [run.output[p] for p in measured], [decoded[p] for p in measured]
    changed = [a != b for a, b in zip(clean, ablated)]
    st.markdown("**Ablated output** " + " ".join(
        f"`{t}`" if not c else f"**:red[{t}]**" for t, c in zip(ablated, changed)))
    if len(measured) < len(run.positions) - run.offset:
        st.caption(f"At the answer positions ({', '.join(map(str, measured))}): the other outputs are "
                   "not part of the task.")
    numerical = subject.model.cfg.d_vocab_out == 1
    changed_col, agree_col, distance_col, logit_col = st.columns(4)
    changed_col.metric("Positions changed", f"{sum(changed)} / {len(changed)}")
    agree_col.metric("Agreement with the clean run", f"{change.agreement:.3f}",
                     delta=f"{change.agreement - 1:.3f}")
    distance_col.metric("Squared error to clean" if numerical else "KL(clean ‖ ablated)",
                        show_value(change.distance))
    logit_drop = [change.ablated_logit[p] - change.clean_logit[p] for p in measured]
    logit_col.metric("Mean change of the answer's logit", show_value(sum(logit_drop) / len(logit_drop)))
    st.dataframe(
        {
            "position": measured,
            "input": [run.positions[p] for p in measured],
            "output": clean,
            "ablated output": ablated,
            "changed": ["✗" if c else "" for c in changed],
            "answer logit (clean)": [show_value(change.clean_logit[p]) for p in measured],
            "answer logit (ablated)": [show_value(change.ablated_logit[p]) for p in measured],
            "logit change": [show_value(v) for v in logit_drop],
        },
        hide_index=True, key="ablation_diff",
    )


def _show_vector(subject: Subject, run: ModelRun, chosen: list[str], ablation: str) -> None:
    """A regression model's predictions clean and ablated, with squared errors (no tokens to diff)."""
    try:
        reference = reference_batch(subject, run) if ablation == "mean" else None
        with MODEL_LOCK:
            change = ablation_change(subject.model, run.ids, measured_at=run.scored, nodes=chosen,
                                     kind=ablation, reference=reference)
    except InterpError as err:
        st.error(f"Ablation failed: {err}")
        return
    truth = run.comparison.truth[-len(run.scored):].float()  # the scored points' true y, in order
    clean = run.logits[0, run.scored, 0]
    ablated = change.ablated_logits[0, run.scored, 0]
    distance_col, clean_col, ablated_col = st.columns(3)
    distance_col.metric("Squared error to the clean predictions (mean)", show_value(change.distance))
    clean_col.metric("Squared error to the true y at the query, clean",
                     show_value(float((clean[-1] - truth[-1]) ** 2)))
    ablated_col.metric("… ablated", show_value(float((ablated[-1] - truth[-1]) ** 2)),
                       delta=show_value(float((ablated[-1] - truth[-1]) ** 2 - (clean[-1] - truth[-1]) ** 2)),
                       delta_color="inverse")
    st.dataframe(
        {
            "position": [run.positions[p] for p in run.scored],
            "true y": [show_value(float(v)) for v in truth],
            "prediction (clean)": [show_value(float(v)) for v in clean],
            "prediction (ablated)": [show_value(float(v)) for v in ablated],
            "squared error to clean": [show_value(float(v)) for v in (ablated - clean) ** 2],
        },
        hide_index=True, key="ablation_diff",
    )


def _used_nodes(subject: Subject) -> list[str]:
    """Heads/MLPs the compiler placed the program's operations in (empty if unknown): read
    from its layout at once, where the ground truth's live-edge check runs the model per edge
    (5-60 s on a model's first visit)."""
    placed = {component for components in subject.placement().values() for component in components}
    return [n for n in ablatable_nodes(subject) if n in placed]
