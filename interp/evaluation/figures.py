"""Study figures that survive export: the titles every figure must carry, the figure read back
from a saved Plotly HTML file, and a static PNG drawn offline by Kaleido in the system's
Chromium (local plotly.js, MathJax off: no network request)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from interp.errors import StaticExportError

STATIC_FORMAT = "png"
DEFAULT_SIZE = (700, 500)  # plotly's own default width, height in pixels

# Trace types drawn without cartesian x/y axes: no axis title to ask for.
_NO_AXES = {"table", "pie", "sunburst", "treemap", "icicle", "sankey", "indicator", "parcoords",
            "parcats", "funnelarea", "scatterpolar", "scatterpolargl", "barpolar", "scattergeo",
            "choropleth", "scattermapbox", "scattermap", "choroplethmap", "densitymap", "scatter3d",
            "surface", "mesh3d", "cone", "streamtube", "volume", "isosurface", "scatterternary",
            "scattersmith", "carpet"}
# Trace types that draw their own colour bar unless showscale is False or they use a coloraxis.
_SCALED = {"heatmap", "contour", "histogram2d", "histogram2dcontour", "densitymapbox"}


def _title(obj: dict[str, Any] | None) -> str:
    """The text of a layout object's title ('' when none)."""
    title = (obj or {}).get("title")
    if isinstance(title, dict):
        title = title.get("text")
    return str(title or "").strip()


def _axis_key(trace: dict[str, Any], letter: str) -> str:
    """The layout key of a trace's x or y axis ('x2' -> 'xaxis2')."""
    ref = trace.get(f"{letter}axis", letter)
    return f"{letter}axis{ref[1:]}"


def untitled(figure: Any) -> list[str]:
    """What a figure shows without a title: each axis carrying a trace (an axis is covered by a
    titled axis on the same row or column, the shared-axis convention of subplots) and each
    visible colour bar. Empty when the figure is fully labelled."""
    fig = figure.to_plotly_json() if hasattr(figure, "to_plotly_json") else figure
    layout, missing = fig.get("layout", {}), []
    for trace in fig.get("data", []):
        kind = trace.get("type", "scatter")
        if kind not in _NO_AXES:
            for letter in ("x", "y"):
                key = _axis_key(trace, letter)
                axis = layout.get(key, {})
                if axis.get("visible") is False or _title(axis):
                    continue
                domain = axis.get("domain")
                shared = [v for k, v in layout.items()
                          if k.startswith(f"{letter}axis") and isinstance(v, dict)
                          and domain is not None and v.get("domain") == domain and _title(v)]
                if not shared:
                    missing.append(f"{key} (layout.{key}.title.text)")
        marker = trace.get("marker") or {}
        coloraxis = trace.get("coloraxis") or marker.get("coloraxis")
        if coloraxis:
            shared_axis = layout.get(coloraxis, {})
            if shared_axis.get("showscale", True) and not _title(shared_axis.get("colorbar")):
                missing.append(f"colour bar of {coloraxis} (layout.{coloraxis}.colorbar.title.text)")
        elif kind in _SCALED and trace.get("showscale", True) and not _title(trace.get("colorbar")):
            missing.append(f"colour bar of {kind} trace {trace.get('name') or ''!r} (colorbar.title.text)")
        elif marker.get("showscale") and not _title(marker.get("colorbar")):
            missing.append(f"colour bar of {kind} trace {trace.get('name') or ''!r} "
                           "(marker.colorbar.title.text)")
    return sorted(set(missing))


def figure_from_html(text: str) -> dict[str, Any]:
    """The figure ({"data", "layout"}) inside HTML written by plotly's write_html / to_html."""
    start = text.find("Plotly.newPlot(")
    if start < 0:
        raise StaticExportError("the HTML holds no Plotly.newPlot call: not a figure written by plotly")
    decoder, pos, parts = json.JSONDecoder(), text.index(",", start) + 1, []
    for _ in range(2):  # after the div id: the data list, then the layout object
        while text[pos].isspace():
            pos += 1
        value, pos = decoder.raw_decode(text, pos)
        parts.append(value)
        pos = text.index(",", pos) + 1 if len(parts) < 2 else pos
    return {"data": parts[0], "layout": parts[1]}


def browser_path() -> str:
    """The Chromium-based browser Kaleido will drive; refuses (never downloads one) when none."""
    try:
        from choreographer.browsers.chromium import Chromium  # noqa: PLC0415 (optional at import)
    except ImportError:
        raise StaticExportError("static figures need the kaleido package (pip install 'kaleido>=1'), "
                                "which is not installed") from None
    path = Chromium.find_browser(skip_local=True)  # system browsers only: nothing fetched
    if path is None:
        raise StaticExportError("static figures need Chromium or Chrome, and none was found: install one "
                                "(apt-get install chromium) or set BROWSER_PATH to its executable")
    return path


def _plotly_js() -> str:
    """plotly.py's bundled plotly.min.js, so the export page loads no script from the network."""
    import plotly  # noqa: PLC0415

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise StaticExportError(f"plotly.js is missing from the plotly package ({path}); reinstall plotly")
    return str(path)


def _size(fig: dict[str, Any]) -> tuple[int, int]:
    """The figure's own width and height, else plotly's defaults."""
    layout = fig.get("layout", {})
    return int(layout.get("width") or DEFAULT_SIZE[0]), int(layout.get("height") or DEFAULT_SIZE[1])


def render_png(figure: Any) -> bytes:
    """The figure as PNG bytes, drawn offline by Kaleido in the system's Chromium."""
    browser_path()
    import kaleido  # noqa: PLC0415

    fig = json.loads(figure.to_json()) if hasattr(figure, "to_json") else figure
    width, height = _size(fig)
    try:
        data = kaleido.calc_fig_sync(fig, opts={"format": STATIC_FORMAT, "width": width, "height": height,
                                                "scale": 1},
                                     kopts={"mathjax": False, "plotlyjs": _plotly_js()})
    except Exception as error:  # kaleido raises several types; all mean: no image
        raise StaticExportError(f"Kaleido could not draw the figure: {type(error).__name__}: {error}; "
                                "check that the browser starts headless") from error
    if not data.startswith(b"\x89PNG"):
        raise StaticExportError("Kaleido returned something that is not a PNG")
    return data


def write_static(figure: Any, path: str | Path) -> Path:
    """Write the figure as a PNG at `path`; raises StaticExportError (never skips) when it cannot."""
    path = Path(path)
    path.write_bytes(render_png(figure))
    return path


def write_static_many(items: list[tuple[dict[str, Any], Path]]) -> list[Path]:
    """Write each (figure dict, PNG path) with one browser; raises naming every figure not drawn."""
    browser_path()
    import kaleido  # noqa: PLC0415

    for _, path in items:
        path.unlink(missing_ok=True)  # a stale image must not pass for a fresh one
    specs = [{"fig": fig, "path": path, "opts": {"format": STATIC_FORMAT, "width": _size(fig)[0],
                                                 "height": _size(fig)[1], "scale": 1}} for fig, path in items]
    errors = kaleido.write_fig_from_object_sync(specs, kopts={"mathjax": False, "plotlyjs": _plotly_js()},
                                                cancel_on_error=False)
    failed = [str(path) for _, path in items
              if not path.is_file() or not path.read_bytes().startswith(b"\x89PNG")]
    if failed or errors:
        raise StaticExportError(f"Kaleido drew no PNG for {failed or 'some figures'}: {list(errors or [])}")
    return [path for _, path in items]
