"""Informative defaults: which head a view opens on for the input on screen (from
interp.analysis.salience), and setting a picker to it once per model and input."""

from __future__ import annotations

import hashlib
from typing import Any

import streamlit as st

from interp.analysis.salience import Pick, head_effects, top_head
from interp.app.model_run import MODEL_LOCK, ModelRun
from interp.app.subject import Subject
from interp.app.url_state import url_value


def run_context(subject: Subject, run: ModelRun) -> tuple[str, str]:
    """Tells (model, input) pairs apart: a picker re-opens on the salient component when it changes."""
    digest = hashlib.sha1(run.ids.detach().numpy().tobytes()).hexdigest()
    return subject.identity, digest


def answer_positions(subject: Subject, run: ModelRun) -> list[int]:
    """Model positions whose output is an answer (the subject says; vector runs bring theirs)."""
    if run.scored is not None:
        return list(run.scored)
    return subject.answer_positions(len(run.positions))


def salient_head(subject: Subject, run: ModelRun) -> Pick | None:
    """The head whose zero-ablation changes the answers most on this input (cached per input);
    among the heads the program uses when the subject knows which are empty."""
    if subject.model.cfg.n_layers == 0:
        return None
    cache = st.session_state.setdefault("_salient_heads", {})
    context = run_context(subject, run)
    if context not in cache:
        with MODEL_LOCK:
            cache.clear()  # one entry per session: only the input on screen matters
            cache[context] = head_effects(subject.model, run.ids, answer_positions(subject, run))
    effects = cache[context]
    captions = subject.captions()
    allowed = [h for h in effects if h in captions] if subject.knows_empty_heads() else None
    return top_head(effects, allowed or None)


def open_on(key: str, value: Any, context: Any) -> bool:
    """Set widget `key` to `value` when `context` (model and input) is new for it; True if set.
    A choice the user makes stays until the model or the input changes, also across views
    (Streamlit forgets a widget's value while its view is not drawn: a shadow copy keeps it)."""
    marker, shadow = f"_opened_{key}", f"_chosen_{key}"
    shared = url_value(key)
    if shared is not None:
        # A shared URL named the component: it wins over the salient one, once.
        st.session_state[marker] = context
        st.session_state[key] = st.session_state[shadow] = shared
        return True
    if st.session_state.get(marker) != context:
        st.session_state[marker] = context
        st.session_state[key] = st.session_state[shadow] = value
        return True
    if key in st.session_state:
        st.session_state[shadow] = st.session_state[key]
    elif shadow in st.session_state:
        st.session_state[key] = st.session_state[shadow]
    return False
