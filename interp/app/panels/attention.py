"""Attention view: every head's pattern in a layers x heads grid; one head enlarged."""

from __future__ import annotations

import numpy as np
import streamlit as st

from interp.app.compiled_info import component_captions
from interp.app.defaults import open_on, run_context, salient_head
from interp.app.figures import attention_grid, attention_heatmap
from interp.app.model_run import ModelRun
from interp.app.subject import Subject

COLLAPSE_ABOVE = 8  # heads: more than this and the program's empty heads hide behind a toggle
PAGE_HEADS = 24  # at most this many heatmaps drawn at once (one page of layers)
PER_ROW = 6  # heatmaps per grid row: wider panels keep tick labels apart


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
    pick = salient_head(subject, run)
    cells = _visible_cells(cfg.n_layers, cfg.n_heads, unused, pick.name if pick else None)
    st.plotly_chart(attention_grid(grid, run.positions, captions, unused, signed, cells=cells,
                                   per_row=min(PER_ROW, cfg.n_heads)), key="attention_grid")
    if unused and any(h in unused for h in _names(cells)):
        st.caption(f"Grey: heads the program leaves empty ({', '.join(unused)}); their "
                   "uniform pattern means nothing. Hover a head for its full operation.")
    elif unused:
        st.caption(f"Hidden: {len(unused)} heads the program leaves empty ({', '.join(unused)}); "
                   "the toggle above shows them.")
    if pick is not None:
        open_on("attention_head", pick.name, run_context(subject, run))
        st.caption(f"Opened on {pick.reason}")
    chosen = st.selectbox("Enlarge head", heads, key="attention_head")
    layer, head = (int(x) for x in chosen[1:].split("H"))
    title = chosen + (f" — {captions[chosen]}" if chosen in captions else "")
    st.plotly_chart(attention_heatmap(grid[layer, head], run.positions, title, unused=chosen in unused,
                                      signed=signed),
                    key="attention_head_chart")
    if known and chosen not in captions:
        st.caption(f"{chosen} implements no operation of the program (its weights are zero).")


def _names(cells: list[tuple[int, int]]) -> list[str]:
    return [f"L{layer}H{head}" for layer, head in cells]


def _visible_cells(n_layers: int, n_heads: int, unused: list[str],
                   salient: str | None) -> list[tuple[int, int]]:
    """The heads the grid draws: empty heads only on request once there are many heads, and
    one page of layers (the salient head's first) once more than PAGE_HEADS remain."""
    cells = [(layer, head) for layer in range(n_layers) for head in range(n_heads)]
    if unused and n_layers * n_heads > COLLAPSE_ABOVE:
        hidden = len(unused)
        if not st.toggle(f"Show the {hidden} unused heads", key="attention_show_unused"):
            cells = [c for c in cells if f"L{c[0]}H{c[1]}" not in unused]
    layers = sorted({layer for layer, _ in cells})
    pages: list[list[int]] = [[]]
    for layer in layers:
        count = sum(1 for la, _ in cells if la in pages[-1])
        if pages[-1] and count + sum(1 for la, _ in cells if la == layer) > PAGE_HEADS:
            pages.append([])
        pages[-1].append(layer)
    if len(pages) > 1:
        labels = [f"L{p[0]}–L{p[-1]}" if len(p) > 1 else f"L{p[0]}" for p in pages]
        start = next((i for i, p in enumerate(pages) if salient and int(salient[1:].split("H")[0]) in p), 0)
        label = st.radio("Layers", labels, index=start, horizontal=True, key="attention_page",
                         help=f"at most {PAGE_HEADS} heads are drawn at once")
        shown = pages[labels.index(label)]
        cells = [c for c in cells if c[0] in shown]
    return cells
