"""Attention view: every head's pattern in a layers x heads grid; one head enlarged."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app.compiled_info import component_captions
from app.figures import attention_grid, attention_heatmap
from app.model_run import ModelRun
from app.subject import Subject


def patterns(run: ModelRun, n_layers: int) -> np.ndarray:
    """Attention patterns of the run: [layer, head, query, key]."""
    return np.stack([run.cache[f"blocks.{layer}.attn.hook_pattern"][0].detach().numpy()
                     for layer in range(n_layers)])


def show(subject: Subject, run: ModelRun) -> None:
    """Draw the grid, the head picker and the enlarged head."""
    cfg = subject.model.cfg
    if cfg.n_layers == 0:
        st.info("This model has no layers, hence no attention.")
        return
    grid = patterns(run, cfg.n_layers)
    captions = component_captions(subject)
    heads = [f"L{layer}H{head}" for layer in range(cfg.n_layers) for head in range(cfg.n_heads)]
    # Only a compiled model says which heads are empty; for others every head may matter.
    known = subject.knows_empty_heads()  # programs say which heads are empty
    unused = [h for h in heads if h not in captions] if known else []
    signed = cfg.attention_kind == "linear"
    if signed:
        st.caption("Linear attention: the weights are raw scores q·k (any sign, not summing to 1), "
                   "drawn on a red-blue scale centred on 0.")
    st.plotly_chart(attention_grid(grid, run.positions, captions, unused, signed), key="attention_grid")
    if unused:
        st.caption(f"Grey: heads the program leaves empty ({', '.join(unused)}); their "
                   "uniform pattern means nothing. Hover a head for its full operation.")
    chosen = st.selectbox("Enlarge head", heads, key="attention_head")
    layer, head = (int(x) for x in chosen[1:].split("H"))
    title = chosen + (f" — {captions[chosen]}" if chosen in captions else "")
    st.plotly_chart(attention_heatmap(grid[layer, head], run.positions, title, unused=chosen in unused,
                                      signed=signed),
                    key="attention_head_chart")
    if known and chosen not in captions:
        st.caption(f"{chosen} implements no operation of the program (its weights are zero).")
