"""Inline notebook views: self-contained HTML (plotly.js embedded, no network script) drawn from
the dashboard's figure code, with the model's own attention patterns."""

from __future__ import annotations

import html
import json
import re

import numpy as np
import torch
from app_harness import array

import interp.app.inline as inline
from interp.app.subject import library_subject
from interp.evaluation import report

NETWORK_SCRIPT = re.compile(r"<script[^>]*src=[\"']https?://")


def _figure_json(fragment: str) -> dict:
    """The figure spec plotly's to_html writes: Plotly.newPlot("id", data, layout, config)."""
    rest = fragment[fragment.index("Plotly.newPlot("):]
    rest = rest[rest.index(",") + 1:].lstrip()
    decoder = json.JSONDecoder()
    data, end = decoder.raw_decode(rest)
    layout, _ = decoder.raw_decode(rest[end:].lstrip().lstrip(",").lstrip())
    return {"data": data, "layout": layout}


def test_attention_grid_is_offline_and_draws_the_models_patterns():
    subject = library_subject("reverse")
    inline._PLOTLY_EMBEDDED = report._PLOTLY_SHOWN = False  # a fresh kernel
    view = inline.attention_grid(subject, ["a", "b", "c"])
    first, second = view._repr_html_(), view._repr_html_()
    assert "Plotly.newPlot" in first and "Plotly.newPlot" in second
    assert len(first) > 1_000_000 > len(second)  # plotly.js embedded once per kernel
    assert not NETWORK_SCRIPT.search(view.html) and "cdn.plot.ly" not in view.fragment
    spec = _figure_json(view.fragment)
    _, ids = subject.encode(["a", "b", "c"])
    with torch.no_grad():
        _, cache = subject.model.run_with_cache(ids)
    z = {t["name"]: t for t in spec["data"]}["L0H0"]["z"]
    expected = cache["blocks.0.attn.hook_pattern"][0, 0].numpy()  # [query, key]
    np.testing.assert_allclose(np.asarray(array(z)), expected, atol=1e-6)


def test_token_attention_is_an_isolated_page_with_the_tokens():
    view = inline.token_attention(library_subject("reverse"), ["a", "b", "c"], layer=0)
    page = html.unescape(view.html.split('srcdoc="')[1].split('"')[0])
    assert "<svg" in page and '"tokens": ["BOS", "a", "b", "c"]' in page
    assert not NETWORK_SCRIPT.search(page) and not view.plotly


def test_circuit_graph_marks_found_missed_and_extra_edges():
    subject = library_subject("reverse")
    truth = subject.ground_truth()
    found = type(truth)(truth.nodes, truth.edges[1:])  # one true edge missed
    spec = _figure_json(inline.circuit_graph(found, subject.model.cfg, "t", truth=truth).fragment)
    legend = {t["name"] for t in spec["data"] if t.get("showlegend")}
    assert {"found and true", "true, missed"} <= legend
