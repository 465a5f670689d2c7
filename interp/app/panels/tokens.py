"""Token view: BertViz/CircuitsVis-style attention between tokens for one head or a layer."""

from __future__ import annotations

import numpy as np
import streamlit as st

from interp.app.attention_lines import attention_lines_html, page_height
from interp.app.compiled_info import component_captions
from interp.app.defaults import open_on, run_context, salient_head
from interp.app.model_run import ModelRun
from interp.app.panels.attention import patterns
from interp.app.subject import Subject

ALL_HEADS = "all heads"


def show(subject: Subject, run: ModelRun) -> None:
    """Pick a layer and a head (or all of the layer's heads) and draw the token lines."""
    cfg = subject.model.cfg
    if cfg.n_layers == 0:
        st.info("This model has no layers, hence no attention.")
        return
    pick = salient_head(subject, run)
    if pick is not None:
        # Open on the head that matters most for this input (both pickers, once per input).
        context = run_context(subject, run)
        best_layer, best_head = (int(x) for x in pick.name[1:].split("H"))
        open_on("tokens_layer", best_layer, context)
        open_on("tokens_head", f"H{best_head}", context)
    layer_col, head_col = st.columns(2)
    layer = layer_col.selectbox("Layer", list(range(cfg.n_layers)), format_func=lambda layer: f"L{layer}",
                                key="tokens_layer")
    choice = head_col.selectbox("Head", [ALL_HEADS] + [f"H{h}" for h in range(cfg.n_heads)],
                                key="tokens_head")
    heads = list(range(cfg.n_heads)) if choice == ALL_HEADS else [int(choice[1:])]
    grid = patterns(run, cfg.n_layers)  # [layer, head, query, key]
    captions = component_captions(subject)
    names = [f"L{layer}H{h}" + (f": {captions[f'L{layer}H{h}']}" if f"L{layer}H{h}" in captions else "")
             for h in heads]
    weights = grid[layer, heads]  # [head, query, key]
    if cfg.attention_kind == "linear":
        # Raw scores of any sign: lines show their size relative to the largest (display only).
        weights = np.abs(weights) / max(float(np.abs(weights).max()), 1e-12)
        st.caption("Linear attention: its weights are raw scores q·k of any sign; lines show |score| "
                   "relative to the largest one drawn. The Attention view shows the signs.")
    if pick is not None:
        st.caption(f"Opened on {pick.reason}")
    page = attention_lines_html(run.positions, weights, names)
    # The page is ours (tokens are set as text, names escaped): an iframe lets its script run.
    st.iframe(page, height=page_height(len(run.positions)))
    st.caption("Left: the attending (query) positions; right: the attended (key) positions; a line's "
               "weight and opacity is the attention. Hover a token to keep only its lines and colour "
               "the other side by attention (mean over the heads drawn).")
