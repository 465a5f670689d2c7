"""Ablation view (placeholder)."""

import streamlit as st


def show(subject, run) -> None:
    st.info("todo")
