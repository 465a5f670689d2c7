"""Plotly figures of the dashboard. Presentational only: every number comes from interp/rasp.

Token axes are numeric with token tick labels, because plotly merges repeated category
names ("a b a" would otherwise show two columns).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

HOVER_ATTENTION = "query %{customdata[0]}<br>key %{customdata[1]}<br>weight %{z:.3f}<extra></extra>"


def position_labels(tokens: Sequence[str]) -> list[str]:
    """`token` tick labels; positions make duplicates distinguishable in hovers."""
    return [f"{i}:{t}" for i, t in enumerate(tokens)]


def _attention_customdata(tokens: Sequence[str]) -> np.ndarray:
    labels = position_labels(tokens)
    n = len(labels)
    return np.array([[[labels[q], labels[k]] for k in range(n)] for q in range(n)], dtype=object)


def _token_axes(fig: go.Figure, tokens: Sequence[str], row: int | None = None,
                col: int | None = None) -> None:
    ticks = {"tickvals": list(range(len(tokens))), "ticktext": list(tokens), "tickangle": 0}
    fig.update_xaxes(**ticks, row=row, col=col)
    fig.update_yaxes(**ticks, autorange="reversed", row=row, col=col)


def attention_heatmap(pattern: np.ndarray, tokens: Sequence[str], title: str) -> go.Figure:
    """One head's pattern [query, key] as a heatmap; hover shows query, key and weight."""
    fig = go.Figure(
        go.Heatmap(z=pattern, customdata=_attention_customdata(tokens), hovertemplate=HOVER_ATTENTION,
                   colorscale="Blues", zmin=0, zmax=1, colorbar={"title": "weight"})
    )
    _token_axes(fig, tokens)
    fig.update_layout(title=title, xaxis_title="key", yaxis_title="query", height=460,
                      margin={"l": 40, "r": 20, "t": 60, "b": 40})
    return fig


def attention_grid(patterns: np.ndarray, tokens: Sequence[str],
                   captions: dict[str, str] | None = None) -> go.Figure:
    """All heads' patterns [layer, head, query, key] as one layers x heads grid of heatmaps."""
    n_layers, n_heads = patterns.shape[:2]
    captions = captions or {}
    titles = [_short(f"L{l}H{h} " + captions.get(f"L{l}H{h}", ""))
              for l in range(n_layers) for h in range(n_heads)]
    height = 60 + 260 * n_layers
    # Spacing in pixels, not a fraction: each row's title must clear the tick labels above it.
    fig = make_subplots(rows=n_layers, cols=n_heads, subplot_titles=titles,
                        horizontal_spacing=min(0.06, 0.3 / n_heads),
                        vertical_spacing=min(0.3 / max(n_layers - 1, 1), 70 / height))
    custom = _attention_customdata(tokens)
    for layer in range(n_layers):
        for head in range(n_heads):
            fig.add_trace(
                go.Heatmap(z=patterns[layer, head], customdata=custom, hovertemplate=HOVER_ATTENTION,
                           colorscale="Blues", zmin=0, zmax=1, showscale=False),
                row=layer + 1, col=head + 1,
            )
            _token_axes(fig, tokens, row=layer + 1, col=head + 1)
    fig.update_annotations(font_size=11)
    fig.update_layout(height=height, margin={"l": 30, "r": 10, "t": 40, "b": 20})
    return fig


def _short(text: str, limit: int = 60) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def value_table_heatmap(rows: Sequence[str], columns: Sequence[str],
                        cells: Sequence[Sequence[str]], title: str) -> go.Figure:
    """A table of decoded values (rows x positions); a filled cell is shaded where it differs
    from the row above, so one sees where each sublayer writes (empty cells: not held)."""
    n_rows, n_cols = len(rows), len(columns)
    changed = np.zeros((n_rows, n_cols))
    for r in range(1, n_rows):
        for c in range(n_cols):
            changed[r, c] = float(cells[r][c] != "" and cells[r][c] != cells[r - 1][c])
    fig = go.Figure(go.Heatmap(
        z=changed, text=[list(r) for r in cells], texttemplate="%{text}",
        colorscale=[[0, "#f4f6fb"], [1, "#ffd27f"]], zmin=0, zmax=1, showscale=False,
        hovertemplate="%{y}<br>position %{x}<br>%{text}<extra></extra>",
    ))
    fig.update_xaxes(tickvals=list(range(n_cols)), ticktext=list(columns), side="top")
    fig.update_yaxes(tickvals=list(range(n_rows)), ticktext=list(rows), autorange="reversed")
    fig.update_layout(title=title, height=max(200, 26 * n_rows + 90),
                      margin={"l": 10, "r": 10, "t": 70, "b": 10})
    return fig


def bar_chart(labels: Sequence[str], values: Sequence[float], title: str, value_name: str) -> go.Figure:
    """Horizontal bars, one per component."""
    fig = go.Figure(go.Bar(x=list(values), y=list(labels), orientation="h",
                           hovertemplate="%{y}: %{x:.3f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(title=title, xaxis_title=value_name, height=max(220, 22 * len(labels) + 80),
                      margin={"l": 10, "r": 10, "t": 50, "b": 30})
    return fig


def matrix_heatmap(z: np.ndarray, rows: Sequence[str], columns: Sequence[str], title: str,
                   value_name: str, text: Sequence[Sequence[str]] | None = None) -> go.Figure:
    """A labelled heatmap [rows, columns] (component x position, layer x position, ...)."""
    trace = go.Heatmap(z=z, colorscale="RdBu", zmid=0, colorbar={"title": value_name},
                       hovertemplate="%{y}<br>%{x}<br>" + value_name + " %{z:.3f}<extra></extra>")
    if text is not None:
        trace.update(text=[list(r) for r in text], texttemplate="%{text}")
    fig = go.Figure(trace)
    fig.update_xaxes(tickvals=list(range(len(columns))), ticktext=list(columns))
    fig.update_yaxes(tickvals=list(range(len(rows))), ticktext=list(rows), autorange="reversed")
    fig.update_layout(title=title, height=max(240, 24 * len(rows) + 100),
                      margin={"l": 10, "r": 10, "t": 50, "b": 30})
    return fig


def sublayer_names(n_layers: int) -> dict[float, str]:
    """Column names of the component graph: 0 embed, 2l+1 layer l's attention, 2l+2 its MLP."""
    names = {0.0: "embed"}
    for layer in range(n_layers):
        names[2.0 * layer + 1] = f"L{layer} attn"
        names[2.0 * layer + 2] = f"MLP{layer}"
    return names


def layered_graph(nodes: Sequence[str], layer_of: dict[str, float], edges: Sequence[tuple[str, str]],
                  title: str, node_colors: dict[str, str] | None = None,
                  edge_colors: dict[tuple[str, str], str] | None = None,
                  hover: dict[str, str] | None = None,
                  column_names: dict[float, str] | None = None) -> go.Figure:
    """A DAG drawn left to right by layer: nodes as markers, edges as arrows (no JS graph lib);
    `column_names` label the x positions (e.g. sublayers) along the bottom."""
    node_colors = node_colors or {}
    edge_colors = edge_colors or {}
    hover = hover or {}
    columns: dict[float, list[str]] = {}
    for node in nodes:
        columns.setdefault(layer_of[node], []).append(node)
    place: dict[str, tuple[float, float]] = {}
    for x, members in columns.items():
        # Alternate columns sit a little higher or lower, so a long edge does not run
        # straight through the nodes between its ends.
        shift = 0.3 * (1 if int(x) % 2 else -1) if x > 0 else 0.0
        for i, node in enumerate(members):
            place[node] = (x, (len(members) - 1) / 2 - i + shift)
    fig = go.Figure()
    for src, dst in edges:
        if src in place and dst in place:
            fig.add_annotation(
                x=place[dst][0], y=place[dst][1], ax=place[src][0], ay=place[src][1],
                xref="x", yref="y", axref="x", ayref="y", text="", showarrow=True,
                arrowhead=2, arrowsize=1.2, arrowwidth=1.5, standoff=9, startstandoff=9,
                arrowcolor=edge_colors.get((src, dst), "#9aa5b1"),
            )
    names = [n for n in nodes if n in place]
    fig.add_trace(go.Scatter(
        x=[place[n][0] for n in names], y=[place[n][1] for n in names], mode="markers+text",
        text=names, textposition="top center", cliponaxis=False,
        marker={"size": 16, "color": [node_colors.get(n, "#4c78a8") for n in names],
                "line": {"width": 1, "color": "#333"}},
        hovertext=[hover.get(n, n) for n in names], hoverinfo="text", showlegend=False,
    ))
    if column_names:
        fig.update_xaxes(tickvals=list(column_names), ticktext=list(column_names.values()),
                         showgrid=True, gridcolor="#eef0f3", zeroline=False, showline=False)
    else:
        fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    height = max(280, 70 * max((len(m) for m in columns.values()), default=1) + 140)
    fig.update_layout(title=title, height=height, margin={"l": 20, "r": 20, "t": 60, "b": 10},
                      plot_bgcolor="white")
    return fig
