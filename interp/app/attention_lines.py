"""Token-level attention (BertViz / CircuitsVis style) as a small self-contained HTML page:
queries on the left, keys on the right, one line per (query, key) weighted by attention,
one colour per head; hovering a token keeps only its lines and colours the tokens on the
other side by their attention weight. Plain SVG and JavaScript, no CDN, no library.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence

import numpy as np

HEAD_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
               "#7f7f7f", "#bcbd22", "#17becf"]
ROW_PX = 24
TOP_PX = 40  # first token's baseline (was 30: a highlighted first token touched "query"/"key")
MIN_WEIGHT = 0.01  # lines below this weight are not drawn (invisible anyway; keeps the page small)

_SCRIPT = """
const data = JSON.parse(document.getElementById("attention-data").textContent);
const svg = document.getElementById("attention-svg");
const NS = "http://www.w3.org/2000/svg";
const n = data.tokens.length, row = data.row_px, left = data.left_x, right = data.right_x;
const TOP = data.top_px;  // first token's baseline: its highlight box clears the column titles
const y = i => TOP + i * row;
function el(name, attrs, parent) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  parent.appendChild(e);
  return e;
}
const lines = el("g", {id: "lines"}, svg);
for (const head of data.heads) {
  head.weights.forEach((ws, q) => ws.forEach((w, k) => {
    if (w < data.min_weight) return;
    el("line", {x1: left + 6, y1: y(q) - 4, x2: right - 6, y2: y(k) - 4, stroke: head.color,
                "stroke-width": 1 + 3 * w, "stroke-opacity": w, "data-q": q, "data-k": k,
                "data-w": w, "data-head": head.name, class: "attn-line"}, lines);
  }));
}
el("text", {x: left, y: 14, "text-anchor": "end", class: "title"}, svg).textContent = "query";
el("text", {x: right, y: 14, class: "title"}, svg).textContent = "key";
function token(side, i) {
  const g = el("g", {class: "token", "data-side": side, "data-i": i, id: side + "-" + i}, svg);
  const x = side === "q" ? left : right;
  const width = 8 * data.tokens[i].length + 10;
  el("rect", {x: side === "q" ? x - width : x - 4, y: y(i) - 16, width: width, height: row - 4,
              rx: 3, fill: data.color, "fill-opacity": 0, class: "token-bg"}, g);
  el("text", {x: side === "q" ? x - 4 : x, y: y(i), "text-anchor": side === "q" ? "end" : "start"},
     g).textContent = data.tokens[i];
  return g;
}
const tokens = [];
for (let i = 0; i < n; i++) { tokens.push(token("q", i)); tokens.push(token("k", i)); }
// The mean over the drawn heads: what one hovered token pays to (or gets from) each other.
function weight(q, k) {
  let s = 0;
  for (const h of data.heads) s += h.weights[q][k];
  return s / data.heads.length;
}
function show(side, i) {
  for (const line of lines.children) {
    const mine = side === null || +line.dataset[side] === i;
    line.setAttribute("stroke-opacity", mine ? line.dataset.w : 0.03);
  }
  for (const g of tokens) {
    const j = +g.dataset.i, bg = g.firstChild;
    let opacity = 0;
    if (side === "q" && g.dataset.side === "k") opacity = weight(i, j);
    if (side === "k" && g.dataset.side === "q") opacity = weight(j, i);
    if (side !== null && g.dataset.side === side && j === i) opacity = 0.25;
    bg.setAttribute("fill-opacity", opacity.toFixed(3));
    bg.dataset.weight = opacity.toFixed(3);
  }
}
for (const g of tokens) {
  g.addEventListener("mouseenter", () => show(g.dataset.side, +g.dataset.i));
  g.addEventListener("mouseleave", () => show(null, -1));
}
"""

_STYLE = """
body { margin: 0; font-family: "Source Sans Pro", sans-serif; font-size: 14px; }
.token { cursor: default; }
.title { font-weight: bold; fill: #555; }
.legend span { display: inline-block; margin-right: 12px; }
.legend i { display: inline-block; width: 14px; height: 4px; margin-right: 4px; vertical-align: middle; }
"""


def attention_lines_html(tokens: Sequence[str], weights: np.ndarray, head_names: Sequence[str]) -> str:
    """The page for `weights` [head, query, key] over `tokens` (one name per position)."""
    weights = np.asarray(weights, dtype=float)
    n = len(tokens)
    if weights.ndim != 3 or weights.shape[1:] != (n, n) or weights.shape[0] != len(head_names):
        raise ValueError(f"weights {weights.shape} do not match {len(head_names)} heads x {n} tokens.")
    label_px = 8 * max((len(t) for t in tokens), default=1) + 20
    left_x, right_x = label_px + 10, label_px + 230
    data = {
        "tokens": list(tokens),
        "heads": [{"name": name, "color": HEAD_COLORS[i % len(HEAD_COLORS)],
                   "weights": np.round(weights[i], 4).tolist()} for i, name in enumerate(head_names)],
        "row_px": ROW_PX, "top_px": TOP_PX, "left_x": left_x, "right_x": right_x, "min_weight": MIN_WEIGHT,
        "color": HEAD_COLORS[0] if len(head_names) == 1 else "#444",
    }
    legend = "".join(f'<span><i style="background:{h["color"]}"></i>{html.escape(h["name"])}</span>'
                     for h in data["heads"])
    width, height = right_x + label_px + 10, TOP_PX + 10 + n * ROW_PX
    # No `<` inside the JSON script block (`</script>` would close it early): JSON's escape.
    payload = json.dumps(data).replace("<", "\\u003c")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>{_STYLE}</style></head><body>"
            f"<div class='legend'>{legend}</div>"
            f"<svg id='attention-svg' width='{width}' height='{height}'></svg>"
            f"<script type='application/json' id='attention-data'>{payload}</script>"
            f"<script>{_SCRIPT}</script></body></html>")


def page_height(n_tokens: int) -> int:
    """Pixel height the page needs (legend + one row per token)."""
    return TOP_PX + 10 + n_tokens * ROW_PX + 40
