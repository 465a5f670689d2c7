"""Plotly figures of the dashboard. Presentational only: every number comes from interp/rasp.

Token axes are numeric with token tick labels, because plotly merges repeated category
names ("a b a" would otherwise show two columns).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

# Sequential, light (no attention) to dark (all of it); plotly's named "Blues" runs the other way.
ATTENTION_SCALE = [[0.0, "#f7fbff"], [0.25, "#c6dbef"], [0.5, "#6baed6"], [0.75, "#2171b5"], [1.0, "#08306b"]]
HOVER_ATTENTION = "query %{customdata[0]}<br>key %{customdata[1]}<br>weight %{z:.3f}<extra></extra>"


def escaped(labels: Sequence[str]) -> list[str]:
    """Labels as plotly text: plotly reads a subset of HTML, so `<s>` (a Transformer Program's
    BOS) would vanish as a strike-through tag."""
    return [html.escape(str(label), quote=False) for label in labels]


def position_labels(tokens: Sequence[str]) -> list[str]:
    """`token` tick labels; positions make duplicates distinguishable in hovers."""
    return [f"{i}:{t}" for i, t in enumerate(tokens)]


def _attention_customdata(tokens: Sequence[str]) -> np.ndarray:
    labels = escaped(position_labels(tokens))
    n = len(labels)
    return np.array([[[labels[q], labels[k]] for k in range(n)] for q in range(n)], dtype=object)


def figure(data: list[dict], layout: dict) -> go.Figure:
    """A figure from plain dicts, built without plotly's per-property validation.

    Validation (make_subplots, update_xaxes, add_annotation) costs seconds on a 16-head grid
    and is most of a redraw; these specs are written by this module, and the tests read
    them back from the JSON the browser receives.
    """
    return go.Figure({"data": data, "layout": layout}, _validate=False)


def _token_axis(tokens: Sequence[str], title: str, reverse: bool = False, **extra) -> dict:
    axis = {"tickvals": list(range(len(tokens))), "ticktext": escaped(tokens), "tickangle": 0,
            "title": {"text": title, "standoff": 2, "font": {"size": 10}}, **extra}
    if reverse:
        axis["autorange"] = "reversed"
    return axis


def attention_heatmap(pattern: np.ndarray, tokens: Sequence[str], title: str,
                      unused: bool = False, signed: bool = False) -> go.Figure:
    """One head's pattern [query, key] as a heatmap; hover shows query, key and weight.
    `signed`: linear attention, whose weights are raw scores (any sign, not summing to 1)."""
    trace = {"type": "heatmap", "z": pattern, "customdata": _attention_customdata(tokens),
             "hovertemplate": HOVER_ATTENTION, "colorscale": UNUSED_SCALE if unused else ATTENTION_SCALE,
             "zmin": 0, "zmax": 1, "colorbar": {"title": {"text": "attention"}}}
    if signed and not unused:
        del trace["zmin"], trace["zmax"]
        trace.update(colorscale="RdBu", zmid=0, colorbar={"title": {"text": "score"}})
    # Margins that hold the labels and the colorbar: plotly then draws once (see heatmap_margins).
    colorbar = trace["colorbar"]["title"]["text"]
    margin = {"l": math.ceil(_text_px(tokens, TICK_FONT) + 40), "t": 60, "b": 54,
              "r": math.ceil(0.025 * GRID_WIDTH_PX + max(EM * TITLE_FONT * len(colorbar) + 8, 70) + 14)}
    return figure([trace], {"title": {"text": title}, "height": 460,
                            # 64 Markov tokens in 360 px would smear: every k-th label.
                            "xaxis": _token_axis(tokens, "key", **_thinned(tokens, GRID_WIDTH_PX, True)),
                            "yaxis": _token_axis(tokens, "query", True, **_thinned(tokens, 460 - 100)),
                            "margin": margin})


UNUSED_SCALE = [[0, "#f7f7f7"], [1, "#8c8c8c"]]  # heads the program leaves empty: grey, not blue


def attention_grid(patterns: np.ndarray, tokens: Sequence[str],
                   captions: dict[str, str] | None = None,
                   unused: Sequence[str] = (), signed: bool = False,
                   cells: Sequence[tuple[int, int]] | None = None, per_row: int | None = None) -> go.Figure:
    """Heads' patterns [layer, head, query, key] as a grid of heatmaps (`signed`: linear
    attention's raw scores, on a scale centred on 0).

    `cells` are the (layer, head) drawn (default: all), each layer starting a new row that
    wraps after `per_row` heads (default: a layer's heads), so a 12-head layer needs no
    twelve slivers. Titles are short; the hover carries each head's full caption. Heads in
    `unused` (the compiler left them empty) are drawn in grey and titled "unused", so their
    uniform pattern is not mistaken for a real uniform head.
    """
    n_layers, n_heads = patterns.shape[:2]
    captions = captions or {}
    cells = list(cells) if cells is not None else [(la, h) for la in range(n_layers) for h in range(n_heads)]
    per_row = per_row or n_heads
    place, row, col, last_layer = [], -1, per_row, None
    for layer, head in cells:
        # A new row for each layer, and whenever a row is full.
        if layer != last_layer or col >= per_row:
            row, col = row + 1, 0
        place.append((layer, head, row, col))
        col, last_layer = col + 1, layer
    n_rows, n_cols = max(row + 1, 1), min(per_row, max((c for *_, c in place), default=0) + 1)
    height = 102 + 260 * n_rows
    # Spacing in pixels, not a fraction: each row's title must clear the tick labels above it.
    h_gap, v_gap = min(0.06, 0.3 / n_cols), min(0.3 / max(n_rows - 1, 1), 90 / height)
    width = (1 - (n_cols - 1) * h_gap) / n_cols
    tall = (1 - (n_rows - 1) * v_gap) / n_rows
    custom = _attention_customdata(tokens)
    data, annotations = [], []
    layout: dict = {}
    for index, (layer, head, row, col) in enumerate(place, start=1):
        name = f"L{layer}H{head}"
        suffix = "" if index == 1 else str(index)
        x0, y1 = col * (width + h_gap), 1 - row * (tall + v_gap)
        x1, y0 = min(1.0, x0 + width), max(0.0, y1 - tall)  # float error must not leave [0, 1]
        about = "unused: the compiled program does not use this head" if name in unused else (
            captions.get(name, ""))
        data.append({"type": "heatmap", "z": patterns[layer, head], "customdata": custom,
                     "hovertemplate": f"<b>{name}</b> {_wrap(about)}<br>" + HOVER_ATTENTION,
                     "coloraxis": "coloraxis2" if name in unused else "coloraxis", "name": name,
                     "xaxis": "x" + suffix, "yaxis": "y" + suffix})
        layout["xaxis" + suffix] = _token_axis(tokens, "key", domain=[x0, x1], anchor="y" + suffix,
                                               **_thinned(tokens, GRID_WIDTH_PX * width, horizontal=True))
        layout["yaxis" + suffix] = _token_axis(tokens, "query" if col == 0 else "", True,
                                               domain=[y0, y1], anchor="x" + suffix,
                                               **_thinned(tokens, (height - 70) * tall))
        if col:
            del layout["yaxis" + suffix]["title"]
        # Titles no wider than their panel (about 7 px a character at 11 px).
        limit = max(12, min(40, int(1100 * width / 7)))
        title = _short(f"{name} " + ("(unused)" if name in unused else captions.get(name, "")), limit)
        annotations.append({"text": title, "x": x0 + width / 2, "y": y1, "xref": "paper",
                            "yref": "paper", "xanchor": "center", "yanchor": "bottom",
                            "showarrow": False, "font": {"size": 11}})
    colorbar = {"title": {"text": "score" if signed else "attention"}, "len": min(1.0, 400 / height),
                "y": 1, "yanchor": "top"}
    layout.update(
        # Margins that hold the tick labels, axis titles and colorbar (measured: label + 35 px
        # left, 48 px below, 127 px right): plotly draws the grid once (see heatmap_margins).
        height=height, margin={"l": math.ceil(_text_px(tokens, TICK_FONT) + 38), "r": 132, "t": 40, "b": 52},
        annotations=annotations,
        coloraxis=({"colorscale": "RdBu", "cmid": 0, "colorbar": colorbar} if signed else
                   {"colorscale": ATTENTION_SCALE, "cmin": 0, "cmax": 1, "colorbar": colorbar}),
        coloraxis2={"colorscale": UNUSED_SCALE, "cmin": 0, "cmax": 1, "showscale": False},
    )
    return figure(data, layout)


GRID_WIDTH_PX = 900  # the grid's width on a laptop screen, Streamlit's wide layout (narrowest we plan for)
TICK_FONT = 10  # px: tick labels of the grid's panels
CHAR_WIDTH = 0.62 * TICK_FONT  # px per tick-label character, generous for a proportional font


def _thinned(tokens: Sequence[str], panel_px: float, horizontal: bool = False) -> dict:
    """Tick values and labels of one grid panel: every `step`-th position, so labels `panel_px`
    long never overlap (22 ICL tokens in a 200 px panel would smear); the hover names every cell."""
    n = len(tokens)
    longest = max((len(str(t)) for t in tokens), default=1)
    label_px = CHAR_WIDTH * longest + 6 if horizontal else TICK_FONT + 3
    step = max(1, math.ceil(n * label_px / max(panel_px, 1.0)))
    shown = list(range(0, n, step))
    return {"tickvals": shown, "ticktext": escaped([tokens[i] for i in shown]),
            "tickfont": {"size": TICK_FONT}}


def _short(text: str, limit: int = 60) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _wrap(text: str, width: int = 70) -> str:
    """Long hover text broken into lines (plotly does not wrap hover labels)."""
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join(lines + ([line] if line else []))


# Streamlit's plotly theme: tick labels at 0.75 rem, axis and colorbar titles at 0.875 rem.
AXIS_FONT, TITLE_FONT = 12, 14
EM = 0.55  # width of a character in em, generous for Streamlit's Source Sans (measured: 0.35-0.5)
TYPICAL_EM = 0.5
LABEL_GAP = 62  # px beside the longest y tick label: tick, padding and title standoff (measured 60)
X_TITLE_GAP = 58  # px under the x tick labels: their padding, the axis title and its standoff (measured 56)


def _text_px(labels: Sequence[str], font: int = AXIS_FONT) -> float:
    """Width in px of the longest of `labels` (an estimate on the generous side; one character
    more, for short labels of wide glyphs: `</s>` is 27 px at 10 px)."""
    return EM * font * (max((len(str(label)) for label in labels), default=0) + 1)


def heatmap_margins(rows: Sequence[str], columns: Sequence[str], width_px: float, title_top: int = 50,
                    colorbar_title: str | None = None, columns_on_top: bool = False) -> dict:
    """Margins wide enough for the tick labels, axis titles and colorbar, so plotly draws the
    figure once. With too small margins (l=10) its automargin widens them and redraws the whole
    figure, up to three times, each draw measuring every tick label: most of the 0.6 s Chromium
    spent on a 76-row heatmap. Too-small estimates still only cost a redraw (automargin stays on).

    `width_px`: the figure's expected width, to predict whether plotly sets the column labels upright.
    """
    left = _text_px(rows) + LABEL_GAP
    right = 10.0
    if colorbar_title is not None:
        # The colorbar sits 2% of the plot right of it; its title (on top) or its numbers are its width.
        right = 0.025 * width_px + max(EM * TITLE_FONT * len(colorbar_title) + 8, 70) + 14
    spacing = max(width_px - left - right, 1.0) / max(len(columns), 1)
    label_w, label_h = _text_px(columns), AXIS_FONT + 4
    # Level where they fit, else upright (the heatmaps allow plotly no other angle); whether they
    # fit is judged on a typical width (plotly judges on the drawn one), the space on a generous one.
    high = label_h if label_w * TYPICAL_EM / EM + 4 <= spacing else label_w
    top, bottom = title_top, high + X_TITLE_GAP
    if columns_on_top:
        top, bottom = title_top + high, 10
    return {"l": math.ceil(left), "r": math.ceil(right), "t": math.ceil(top), "b": math.ceil(bottom)}


def _labelled_axis(labels: Sequence[str], title: str = "", **extra) -> dict:
    return {"tickvals": list(range(len(labels))), "ticktext": escaped(labels), "title": {"text": title},
            **extra}


def value_table_heatmap(rows: Sequence[str], columns: Sequence[str],
                        cells: Sequence[Sequence[str]], title: str) -> go.Figure:
    """A table of decoded values (rows x positions); a filled cell is shaded where it differs
    from the row above, so one sees where each sublayer writes (empty cells: not held)."""
    n_rows, n_cols = len(rows), len(columns)
    changed = np.zeros((n_rows, n_cols))
    for r in range(1, n_rows):
        for c in range(n_cols):
            changed[r, c] = float(cells[r][c] != "" and cells[r][c] != cells[r - 1][c])
    # Escaped: plotly reads text as HTML, and a Transformer Program's `<s>` would vanish.
    trace = {"type": "heatmap", "z": changed, "text": [escaped(r) for r in cells], "texttemplate": "%{text}",
             "colorscale": [[0, "#f4f6fb"], [1, "#ffd27f"]], "zmin": 0, "zmax": 1, "showscale": False,
             "hovertemplate": "%{y}<br>position %{x}<br>%{text}<extra></extra>"}
    margin = heatmap_margins(rows, columns, GRID_WIDTH_PX, title_top=60, columns_on_top=True)
    return figure([trace], {
        "title": {"text": title}, "height": max(200, 26 * n_rows + margin["t"] + margin["b"] + 10),
        "margin": margin,
        "xaxis": _labelled_axis(columns, side="top"), "yaxis": _labelled_axis(rows, autorange="reversed"),
    })


def bar_chart(labels: Sequence[str], values: Sequence[float], title: str, value_name: str) -> go.Figure:
    """Horizontal bars, one per component. Margins that hold the labels (measured: label + 19 px
    left, 65 px below), so plotly draws once (see heatmap_margins)."""
    trace = {"type": "bar", "x": list(values), "y": list(labels), "orientation": "h",
             "hovertemplate": "%{y}: %{x:.3f}<extra></extra>"}
    margin = {"l": math.ceil(_text_px(labels) + 24), "r": 10, "t": 50, "b": 70}
    return figure([trace], {"title": {"text": title}, "xaxis": {"title": {"text": value_name}},
                            "yaxis": {"autorange": "reversed"}, "height": max(220, 22 * len(labels) + 130),
                            "margin": margin})


def matrix_heatmap(z: np.ndarray, rows: Sequence[str], columns: Sequence[str], title: str,
                   value_name: str, text: Sequence[Sequence[str]] | None = None,
                   signed: bool = True, zmax: float | None = None,
                   x_title: str = "position", y_title: str = "",
                   width_px: float = GRID_WIDTH_PX, row_hover: Sequence[str] | None = None,
                   value_format: str = ".3f") -> go.Figure:
    """A labelled heatmap [rows, columns] (component x position, layer x position, ...).

    Signed quantities get a red-blue scale centred on 0; non-negative ones (norms,
    probabilities) a sequential scale from 0, so no colour suggests a sign that is not there.
    `width_px`: the width it is drawn at (half of GRID_WIDTH_PX in a two-column row), for its
    margins. `row_hover`: each row's full name in the hover, where its tick label is short.
    `value_format`: of the values in the hover (d3-format: ".3f", "d" for counts).
    """
    trace = {"type": "heatmap", "z": z, "colorbar": {"title": {"text": value_name}},
             "hovertemplate": f"%{{y}}<br>%{{x}}<br>{value_name} %{{z:{value_format}}}<extra></extra>",
             **({"colorscale": "RdBu", "zmid": 0} if signed else {"colorscale": "Viridis", "zmin": 0})}
    if zmax is not None:
        trace["zmax"] = zmax
        if signed:
            trace["zmin"] = -zmax  # a fixed scale: noise of 1e-11 must not fill it
    crowded = len(columns) > 40  # e.g. 64 Markov positions: labels and cell texts would collide
    if text is not None:
        trace["text"] = [escaped(r) for r in text]
        if crowded:
            trace["hovertemplate"] = trace["hovertemplate"].replace("<extra>", " · %{text}<extra>")
        else:
            trace["texttemplate"] = "%{text}"
    margin = heatmap_margins(rows, [] if crowded else columns, width_px, colorbar_title=value_name)
    if crowded:
        x_ticks = _thinned(columns, GRID_WIDTH_PX, horizontal=True)
    else:
        # Labels too close even upright: every step-th one (the hover names every column).
        spacing = max(width_px - margin["l"] - margin["r"], 1) / max(len(columns), 1)
        shown = list(range(0, len(columns), max(1, math.ceil((AXIS_FONT + 4) / spacing))))
        x_ticks = {"tickvals": shown, "ticktext": escaped([columns[i] for i in shown])}
    if row_hover is not None or len(x_ticks["tickvals"]) < len(columns):
        # Hover names come from customdata where a tick label is shortened or left out: plotly's
        # %{x} and %{y} show a label only on a tick, else the index.
        names = np.empty((len(rows), len(columns), 2), dtype=object)  # [row, column, (row, column)]
        row_names = escaped(row_hover if row_hover is not None else rows)
        names[:, :, 0] = np.array(row_names, dtype=object)[:, None]
        names[:, :, 1] = np.array(escaped(columns), dtype=object)[None, :]
        trace["customdata"] = names
        trace["hovertemplate"] = trace["hovertemplate"].replace("%{y}", "%{customdata[0]}").replace(
            "%{x}", "%{customdata[1]}")
    return figure([trace], {
        # 24 px a row between the margins: tick labels 16 px high never overlap.
        "title": {"text": title}, "height": max(240, 24 * len(rows) + margin["t"] + margin["b"] + 10),
        "margin": margin,
        # Level labels where they fit, else upright: plotly's 30° tilt lets neighbours touch.
        "xaxis": _labelled_axis(columns, x_title, autotickangles=[0, 90], **x_ticks),
        "yaxis": _labelled_axis(rows, y_title, autorange="reversed"),
    })


def faithfulness_figure(curve, kept_by_method: int, numerical: bool = False) -> go.Figure:
    """Agreement and distance to the full model vs the number of top-scored edges kept.
    `numerical` (one real-valued output, e.g. regression): the squared error alone, since exact
    agreement of real numbers is 0 until every edge is kept and says nothing."""
    fig = make_subplots(specs=[[{"secondary_y": not numerical}]])
    if not numerical:
        fig.add_trace(go.Scatter(x=curve.kept, y=curve.agreement, mode="lines+markers", name="agreement",
                                 hovertemplate="%{x} edges kept<br>agreement %{y:.3f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=curve.kept, y=curve.distance, mode="lines+markers",
                             name="squared error to the full model" if numerical else
                             "distance (KL or squared error)", line={"dash": "dot"},
                             hovertemplate="%{x} edges kept<br>distance %{y:.4g}<extra></extra>"),
                  secondary_y=not numerical)
    fig.add_vline(x=kept_by_method, line_dash="dash", line_color="#888",
                  annotation_text=f"found: {kept_by_method}", annotation_position="top")
    fig.update_xaxes(title_text="edges kept (highest scores first; all others ablated)")
    if numerical:
        fig.update_yaxes(title_text="squared error to the full model", rangemode="tozero")
    else:
        fig.update_yaxes(title_text="agreement with the full model", range=[0, 1.05], secondary_y=False)
        fig.update_yaxes(title_text="distance to the full model", rangemode="tozero", secondary_y=True)
    fig.update_layout(title="Faithfulness curve", height=360,
                      margin={"l": 10, "r": 10, "t": 50, "b": 40},
                      legend={"orientation": "h", "y": -0.25})
    return fig


def sublayer_names(n_layers: int) -> dict[float, str]:
    """Column names of the component graph: 0 embed, 2l+1 layer l's attention, 2l+2 its MLP."""
    names = {0.0: "embed"}
    for layer in range(n_layers):
        names[2.0 * layer + 1] = f"L{layer} attn"
        names[2.0 * layer + 2] = f"MLP{layer}"
    return names


GRAPH_FONT = 11  # px: label font of layered graphs
CHAR_PX = 0.62 * GRAPH_FONT  # width of one label character, generous for a proportional font
ROW_PX = 54  # vertical distance between two nodes of one column: marker + label + gap


def layered_graph(nodes: Sequence[str], layer_of: dict[str, float], edges: Sequence[tuple[str, str]],
                  title: str, node_colors: dict[str, str] | None = None,
                  edge_colors: dict[tuple[str, str], str | list[str]] | None = None,
                  hover: dict[str, str] | None = None,
                  column_names: dict[float, str] | None = None,
                  legend: dict[str, str] | None = None,
                  edge_hover: dict[tuple[str, str], str] | None = None,
                  edge_legend: dict[str, str] | None = None, stretch: bool = False) -> go.Figure:
    """A DAG drawn left to right by layer: nodes as markers, edges as curves with arrowheads.

    Every distinct column value gets a slot wide enough for the longest label, and nodes
    of one column are a row apart, so labels never overlap; nodes are ordered by the
    mean height of their neighbours (barycentre heuristic) to keep crossings few.
    Edges bend by how many columns they span (two edges leaving one node along a row take
    different arcs), and a pair given several colours (`edge_colors` value a list) gets one
    arc per colour, so no edge hides under another. `column_names` label slots along the
    bottom; `legend` maps a name to a node colour, `edge_legend` a name to an edge colour;
    `edge_hover` puts a hoverable dot with that text at the middle of each arc; `stretch`:
    no fixed width (the chart fills its container).
    """
    node_colors = node_colors or {}
    edge_colors = edge_colors or {}
    hover = hover or {}
    slots = sorted({layer_of[n] for n in nodes} | set(column_names or {}))
    slot_of = {x: i for i, x in enumerate(slots)}
    place = _layered_positions(nodes, layer_of, edges, slot_of)
    arcs = []  # (pair, colour, points along the arc)
    drawn = [(src, dst) for src, dst in edges if src in place and dst in place]
    # Long edges leaving one node climb one step higher each (shortest lowest), so they fan
    # out from their source instead of running on top of each other.
    fan: dict[tuple[str, str], int] = {}
    for src in dict.fromkeys(s for s, _ in drawn):
        long = sorted((d for s, d in drawn if s == src and place[d][0] - place[src][0] > 1),
                      key=lambda d: (place[d][0], -place[d][1]))
        fan.update({(src, d): rank for rank, d in enumerate(long)})
    for src, dst in drawn:
        colours = edge_colors.get((src, dst), "#9aa5b1")
        for k, colour in enumerate([colours] if isinstance(colours, str) else colours):
            arcs.append(((src, dst), colour, _arc(place[src], place[dst], k, fan.get((src, dst), 0))))
    data: list[dict] = []
    by_colour: dict[str, list] = {}
    for _, colour, points in arcs:
        by_colour.setdefault(colour, []).extend(points + [(None, None)])
    names_of = {colour: name for name, colour in (edge_legend or {}).items()}
    for colour, points in by_colour.items():
        # One line trace per colour (light to draw); None breaks the line between arcs.
        data.append({"type": "scatter", "mode": "lines", "hoverinfo": "skip", "x": [p[0] for p in points],
                     "y": [p[1] for p in points], "line": {"color": colour, "width": 1.6},
                     "name": names_of.get(colour, "edge"), "showlegend": colour in names_of})
    arrows = [{"x": points[-1][0], "y": points[-1][1], "ax": points[-3][0], "ay": points[-3][1],
               "xref": "x", "yref": "y", "axref": "x", "ayref": "y", "text": "", "showarrow": True,
               "arrowhead": 2, "arrowsize": 1.2, "arrowwidth": 1.5, "standoff": 9, "arrowcolor": colour}
              for _, colour, points in arcs]
    hovered = [(pair, colour, points, edge_hover[pair]) for pair, colour, points in arcs
               if pair in (edge_hover or {})]
    if hovered:
        # Lines and arrows take no hover; a small dot mid-arc carries the edge's text.
        data.append({
            "type": "scatter", "name": "edges", "mode": "markers", "showlegend": False,
            "x": [points[len(points) // 2][0] for _, _, points, _ in hovered],
            "y": [points[len(points) // 2][1] for _, _, points, _ in hovered],
            "hovertext": [text for *_, text in hovered], "hoverinfo": "text",
            "marker": {"size": 7, "symbol": "diamond", "color": [colour for _, colour, _, _ in hovered]},
        })
    names = [n for n in nodes if n in place]
    data.append({
        # Labels are annotations (below), on a white box: an arc passing behind one cannot
        # strike it through; `text` stays for readers of the figure.
        "type": "scatter", "name": "nodes", "mode": "markers", "showlegend": False,
        "x": [place[n][0] for n in names], "y": [place[n][1] for n in names],
        "text": names, "cliponaxis": False,
        "marker": {"size": 16, "color": [node_colors.get(n, "#4c78a8") for n in names],
                   "line": {"width": 1, "color": "#333"}},
        "hovertext": [hover.get(n, n) for n in names], "hoverinfo": "text",
    })
    labels = [{"x": place[n][0], "y": place[n][1], "xref": "x", "yref": "y", "text": escaped([n])[0],
               "showarrow": False, "yshift": 15, "font": {"size": GRAPH_FONT, "color": "#333"},
               "bgcolor": "rgba(255,255,255,0.85)", "borderpad": 0} for n in names]
    for name, color in (legend or {}).items():
        # Legend-only traces: one entry per node colour.
        data.append({"type": "scatter", "x": [None], "y": [None], "mode": "markers", "name": name,
                     "marker": {"size": 12, "color": color, "line": {"width": 1, "color": "#333"}}})
    slot_px = max(90, CHAR_PX * max((len(n) for n in names), default=4) + 24)
    ys = [y for _, y in place.values()] + [y for *_, points in arcs for _, y in points] or [0.0]
    width = int(slot_px * len(slots) + 60)
    height = int(ROW_PX * (max(ys) - min(ys) + 2) + 150)
    ticks = {"tickvals": [slot_of[x] for x in column_names], "ticktext": list(column_names.values())} \
        if column_names else {"showticklabels": False}
    layout = {
        "title": {"text": title}, "height": height, "plot_bgcolor": "white",
        "margin": {"l": 30, "r": 30, "t": 60, "b": 40}, "annotations": arrows + labels,
        "legend": {"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1, "xanchor": "right"},
        "xaxis": {**ticks, "range": [-0.5, len(slots) - 0.5], "showgrid": bool(column_names),
                  "gridcolor": "#eef0f3", "zeroline": False, "showline": False, "fixedrange": True},
        "yaxis": {"visible": False, "range": [min(ys) - 0.7, max(ys) + 1.0], "fixedrange": True},
    }
    if not stretch:
        layout["width"] = width
    return figure(data, layout)


ARC_POINTS = 13  # points along one drawn edge


# An arc climbs FAN_STEP rows per column spanned for each rank among its source's long edges
# (a constant angle apart where they leave), at most MAX_BOW rows in all.
FAN_STEP, MAX_BOW = 0.15, 4.0


def _arc(start: tuple[float, float], end: tuple[float, float], k: int = 0,
         rank: int = 0) -> list[tuple[float, float]]:
    """A quadratic curve from `start` to `end` bowed upwards by the columns it spans (an edge to
    the next column is straight), plus a step per extra colour `k` of the same pair and per
    `rank` among the long edges leaving the same node, so edges along one row, several of one
    pair, or several from one node take distinct paths."""
    (x0, y0), (x1, y1) = start, end
    span = abs(x1 - x0)
    bow = min(MAX_BOW, 0.35 * max(0.0, span - 1) + FAN_STEP * rank * span) + 0.3 * k
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 + bow
    points = []
    for i in range(ARC_POINTS):
        t = i / (ARC_POINTS - 1)
        points.append(((1 - t) ** 2 * x0 + 2 * t * (1 - t) * cx + t * t * x1,
                       (1 - t) ** 2 * y0 + 2 * t * (1 - t) * cy + t * t * y1))
    return points


def _layered_positions(nodes: Sequence[str], layer_of: dict[str, float],
                       edges: Sequence[tuple[str, str]], slot_of: dict[float, int]) -> dict[str, tuple]:
    """(slot, row) of every node: rows one apart within a slot, ordered to reduce crossings."""
    columns: dict[int, list[str]] = {}
    for node in nodes:
        columns.setdefault(slot_of[layer_of[node]], []).append(node)
    neighbours: dict[str, list[str]] = {n: [] for n in nodes}
    for src, dst in edges:
        if src in neighbours and dst in neighbours:
            neighbours[src].append(dst)
            neighbours[dst].append(src)
    row = {n: float(i) for members in columns.values() for i, n in enumerate(members)}
    for _ in range(4):
        # Barycentre sweeps: each node moves towards the mean row of its neighbours.
        for slot in sorted(columns):
            members = columns[slot]
            key = {n: (sum(row[m] for m in neighbours[n]) / len(neighbours[n]) if neighbours[n]
                       else row[n]) for n in members}
            members.sort(key=lambda n: (key[n], row[n]))
            centre = (len(members) - 1) / 2
            for i, n in enumerate(members):
                row[n] = i - centre
    place = {}
    for slot, members in columns.items():
        # Odd slots sit half a row lower, so a long edge does not run straight through the
        # nodes between its ends.
        shift = 0.5 if slot % 2 else 0.0
        for n in members:
            place[n] = (float(slot), -(row[n] + shift))
    return place


def prediction_lines(curves: dict[str, Sequence[float]], truth: Sequence[float], title: str) -> go.Figure:
    """Each estimator's prediction of point p (from the p points before it) against p, with the
    true y as markers: the model next to the in-context regression baselines."""
    points = list(range(len(truth)))
    data = [{"type": "scatter", "x": points, "y": list(truth), "mode": "markers", "name": "true y",
             "marker": {"size": 10, "color": "#000", "symbol": "x"},
             "hovertemplate": "point %{x}: true y %{y:.4g}<extra></extra>"}]
    for name, values in curves.items():
        data.append({"type": "scatter", "x": points, "y": list(values), "mode": "lines+markers", "name": name,
                     "line": {"width": 4 if name == "model" else 1.5},
                     "hovertemplate": name + ", %{x} examples: %{y:.4g}<extra></extra>"})
    return figure(data, {"title": {"text": title}, "height": 380,
                         "xaxis": {"title": {"text": "examples before the point (k)"}, "dtick": 1},
                         "yaxis": {"title": {"text": "prediction of y"}},
                         "margin": {"l": 10, "r": 10, "t": 50, "b": 40}})
