"""The dashboard's views inline in a notebook (CircuitsVis style): the attention grid, token
attention and the circuit graph, drawn by the same figure code as the dashboard, as
self-contained HTML (plotly.js embedded from the installed package, no CDN, no server).

    from interp.app.inline import attention_grid, token_attention, circuit_graph
    attention_grid(subject, inputs)          # displays in Jupyter (an object with _repr_html_)
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import torch

from interp.app.attention_lines import attention_lines_html, page_height
from interp.app.figures import attention_grid as grid_figure
from interp.app.panels.circuit import circuit_figure
from interp.circuit import Circuit
from interp.subjects.base import Subject

_PLOTLY_EMBEDDED = False  # plotly.js goes into the first figure's output only (one copy per kernel)


class InlineView:
    """HTML that Jupyter displays (`_repr_html_`, plotly.js in the first plotly view shown in
    the kernel); `.html` is a fragment that works alone (plotly.js always embedded)."""

    def __init__(self, fragment: str, plotly: bool = False):
        self.fragment = fragment
        self.plotly = plotly  # the fragment needs window.Plotly

    @property
    def html(self) -> str:
        from plotly.offline import get_plotlyjs

        return (f"<script>{get_plotlyjs()}</script>" if self.plotly else "") + self.fragment

    def _repr_html_(self) -> str:
        global _PLOTLY_EMBEDDED  # noqa: PLW0603 (one copy of plotly.js per kernel)
        from interp.evaluation import report

        # The studies' show_figure embeds plotly.js once per kernel too: share its flag, so a
        # notebook using both carries one 4.8 MB copy, not two.
        if not self.plotly or _PLOTLY_EMBEDDED or getattr(report, "_PLOTLY_SHOWN", False):
            return self.fragment
        _PLOTLY_EMBEDDED = report._PLOTLY_SHOWN = True
        return self.html


def _plotly_view(fig: Any) -> InlineView:
    fragment = fig.to_html(full_html=False, include_plotlyjs=False, include_mathjax=False)
    return InlineView(fragment, plotly=True)


def _patterns(subject: Subject, inputs: Any) -> tuple[list[str], np.ndarray]:
    """Position names and attention patterns [layer, head, query, key] of one input."""
    names, ids = subject.encode(inputs)
    with torch.no_grad():
        _, cache = subject.model.run_with_cache(ids)
    return names, np.stack([cache[f"blocks.{la}.attn.hook_pattern"][0].numpy()
                            for la in range(subject.model.cfg.n_layers)])


def attention_grid(subject: Subject, inputs: Any, layers: list[int] | None = None) -> InlineView:
    """Every head's attention pattern on `inputs` (the subject's own format), `layers` only
    when given, captioned as in the dashboard; empty heads of a program in grey."""
    names, patterns = _patterns(subject, inputs)
    cfg = subject.model.cfg
    captions = subject.captions()
    unused = [f"L{la}H{h}" for la in range(cfg.n_layers) for h in range(cfg.n_heads)
              if f"L{la}H{h}" not in captions] if subject.knows_empty_heads() else []
    cells = [(la, h) for la in (layers if layers is not None else range(cfg.n_layers))
             for h in range(cfg.n_heads)]
    fig = grid_figure(patterns, names, captions, unused, cfg.attention_kind == "linear", cells=cells,
                      per_row=min(6, cfg.n_heads))
    return _plotly_view(fig)


def token_attention(subject: Subject, inputs: Any, layer: int, heads: list[int] | None = None) -> InlineView:
    """BertViz-style lines between tokens for `heads` of `layer` (default: all of them), in an
    isolated iframe so several can sit in one notebook."""
    names, patterns = _patterns(subject, inputs)
    heads = list(range(subject.model.cfg.n_heads)) if heads is None else heads
    weights = patterns[layer, heads]  # [head, query, key]
    if subject.model.cfg.attention_kind == "linear":
        weights = np.abs(weights) / max(float(np.abs(weights).max()), 1e-12)
    page = attention_lines_html(names, weights, [f"L{layer}H{h}" for h in heads])
    return InlineView(f'<iframe srcdoc="{html.escape(page, quote=True)}" width="100%" '
                      f'height="{page_height(len(names))}" style="border:0"></iframe>')


def circuit_graph(circuit: Circuit, cfg: Any, title: str = "circuit",
                  truth: Circuit | None = None) -> InlineView:
    """A circuit as the dashboard's layered graph; with `truth`, edges found / missed / extra."""
    return _plotly_view(circuit_figure(circuit, cfg, title, truth))
