"""The input row: typed in the model's own format (tokens, or an addition question) or sampled
from the model's own task (the subject samples: library samplers, task generators)."""

from __future__ import annotations

import random
from typing import Any

import streamlit as st

from interp.app.subject import Subject

INPUT_KEY = "input_text"


def _sample_text(subject: Subject, seed: int) -> str:
    return subject.format_input(subject.sample(random.Random(seed)))


def _resample(subject: Subject) -> None:
    # Seeded by a counter so a session's samples are reproducible.
    st.session_state["sample_seed"] = st.session_state.get("sample_seed", 0) + 1
    st.session_state[INPUT_KEY] = _sample_text(subject, st.session_state["sample_seed"])


def read_input(subject: Subject) -> list[Any]:
    """Draw the input row; return the typed input as the subject reads it (InputError names a
    word outside the vocabulary or a malformed question)."""
    if st.session_state.get("input_for") != subject.identity:
        # A new model: start from one of its task's inputs rather than the last model's.
        st.session_state["input_for"] = subject.identity
        st.session_state[INPUT_KEY] = subject.format_input(subject.default_input())
    text_col, button_col = st.columns([5, 1], vertical_alignment="bottom")
    text = text_col.text_input(f"Input ({subject.input_hint()})", key=INPUT_KEY)
    button_col.button("Sample", on_click=_resample, args=(subject,), key="sample_button",
                      use_container_width=True)
    return subject.parse_input(text)
