"""The computation flow of a program on one input: what the original RASP's `draw` shows.

`flow_graph` gives the nodes (with their values on the input) and edges as plain data;
`flow_text` renders it for a terminal; `flow_figure` as a plotly figure (layered left to
right by depth), so no GUI is needed to get the picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rasp import core
from rasp.evaluate import trace
from rasp.graph import walk


@dataclass(frozen=True)
class FlowNode:
    """One expression of the flow: its label, kind, depth (longest path from an input) and value."""

    label: str
    kind: str
    depth: int
    value: Any


@dataclass(frozen=True)
class FlowGraph:
    """Nodes in evaluation order and (child, parent) edges, on one input."""

    input: list[Any]
    nodes: list[FlowNode]
    edges: list[tuple[str, str]]


def flow_graph(program: core.RASPExpr, tokens: Sequence[Any], *, causal: bool = False) -> FlowGraph:
    """The flow of `program` on `tokens`, every node with the value it computes there."""
    tokens = list(tokens)
    result = trace(program, tokens, causal=causal)
    depth: dict[int, int] = {}
    nodes, edges = [], []
    for node in walk(program):
        depth[id(node)] = 1 + max((depth[id(c)] for c in node.children), default=-1)
        value = result.selectors.get(node.label, result.values.get(node.label))
        nodes.append(FlowNode(node.label, type(node).__name__, depth[id(node)], value))
        edges.extend((child.label, node.label) for child in node.children)
    return FlowGraph(tokens, nodes, list(dict.fromkeys(edges)))


def flow_text(graph: FlowGraph) -> str:
    """A terminal rendering: one line per node with its inputs and value."""
    parents: dict[str, list[str]] = {}
    for child, parent in graph.edges:
        parents.setdefault(parent, []).append(child)
    lines = [f"computation flow on {graph.input!r}:"]
    for node in graph.nodes:
        inputs = ", ".join(parents.get(node.label, [])) or "input"
        if node.kind in ("Select", "SelectorAnd", "SelectorOr", "SelectorNot", "ConstantSelector"):
            rows = ["".join("1" if x else "." for x in row) for row in node.value]
            shown = "[" + " ".join(rows) + "]"
        else:
            shown = repr(node.value)
        lines.append(f"  [{node.depth}] {node.label} ({node.kind} of {inputs}) = {shown}")
    return "\n".join(lines)


def flow_figure(graph: FlowGraph) -> Any:
    """A plotly Figure: nodes by depth left to right, edges as lines, values on hover."""
    import plotly.graph_objects as go  # plotly is heavy; only drawing needs it

    columns: dict[int, int] = {}
    position = {}
    for node in graph.nodes:
        row = columns.get(node.depth, 0)
        columns[node.depth] = row + 1
        position[node.label] = (node.depth, -row)
    edge_x: list[float | None] = []
    edge_y: list[float | None] = []
    for child, parent in graph.edges:
        (x0, y0), (x1, y1) = position[child], position[parent]
        edge_x += [x0, x1, None]
        edge_y += [y0, y1, None]
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=edge_x, y=edge_y, mode="lines", hoverinfo="skip", name="reads"))
    figure.add_trace(
        go.Scatter(
            x=[position[n.label][0] for n in graph.nodes],
            y=[position[n.label][1] for n in graph.nodes],
            mode="markers+text",
            text=[n.label for n in graph.nodes],
            textposition="top center",
            hovertext=[f"{n.kind}: {n.value!r}" for n in graph.nodes],
            name="expressions",
        )
    )
    figure.update_layout(title=f"computation flow on {graph.input!r}", showlegend=False)
    figure.update_xaxes(title="depth", showgrid=False)
    figure.update_yaxes(visible=False)
    return figure
