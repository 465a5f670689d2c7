"""Ablation view: switch heads and MLPs off (zero or mean) and see the output change."""

from __future__ import annotations

import streamlit as st
import torch

from app.model_run import MODEL_LOCK, ModelRun, decode_logits, reference_batch
from app.subject import Subject
from interp.analysis import ablate
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
    # Pills read as on/off toggles, one per head and MLP, in computation order.
    chosen = left.pills("Switch off", ablatable_nodes(subject), selection_mode="multi",
                        key="ablate_nodes") or []
    kind_label = right.radio("Replace with", list(KINDS), key="ablate_kind")
    if not chosen:
        st.info("Pick one or more heads or MLPs to switch off.")
        return
    kind = KINDS[kind_label]
    try:
        reference = reference_batch(subject, run) if kind == "mean" else None
        with MODEL_LOCK, torch.no_grad(), ablate(subject.model, nodes=chosen, kind=kind,
                                                  reference=reference):
            logits = subject.model(run.ids)
    except InterpError as err:
        st.error(f"Ablation failed: {err}")
        return
    # Compare input positions only: the compiler's BOS position has no output.
    first = run.offset
    clean, ablated = run.output[first:], decode_logits(subject, logits)[first:]
    changed = [a != b for a, b in zip(clean, ablated)]
    st.markdown("**Ablated output** " + " ".join(
        f"`{t}`" if not c else f"**:red[{t}]**" for t, c in zip(ablated, changed)))
    st.metric("Positions changed", f"{sum(changed)} / {len(changed)}")
    st.dataframe(
        {
            "position": list(range(first, len(run.positions))),
            "input": run.positions[first:],
            "output": clean,
            "ablated output": ablated,
            "changed": ["✗" if c else "" for c in changed],
        },
        hide_index=True, key="ablation_diff",
    )


def _used_nodes(subject: Subject) -> list[str]:
    """Heads/MLPs in the compiled program's ground-truth circuit (empty if unknown)."""
    if not subject.is_compiled or not hasattr(subject.compiled, "circuit"):
        return []
    nodes = set(subject.compiled.circuit().nodes)
    return [n for n in ablatable_nodes(subject) if n in nodes]
