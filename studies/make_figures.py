"""Draw the committed static image (PNG) of every study figure from its committed HTML.

`python studies/make_figures.py` reads each results/*/NAME.html, takes the figure out of it and
writes results/*/NAME.png beside it, offline (Kaleido in the system's Chromium, local plotly.js):
no notebook is rerun and no model retrained. A full notebook run writes the same PNGs itself
(interp.evaluation.report.show_figure); this script brings figures committed before that up to
date. `--check` exits 1 when an HTML figure has no PNG beside it; `--all` redraws every PNG.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from interp.evaluation.figures import STATIC_FORMAT, figure_from_html, untitled, write_static_many

RESULTS = Path(__file__).resolve().parent / "results"


def figures(results_root: Path = RESULTS) -> list[Path]:
    """Every committed figure's HTML file."""
    return sorted(results_root.glob("*/*.html"))


def without_png(results_root: Path = RESULTS) -> list[Path]:
    """HTML figures with no PNG beside them."""
    return [html for html in figures(results_root) if not html.with_suffix(f".{STATIC_FORMAT}").is_file()]


def main(argv: list[str] | None = None) -> int:
    """Write the missing PNGs (every PNG with --all); --check only reports the missing ones."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report HTML figures with no PNG beside them")
    parser.add_argument("--all", action="store_true", help="redraw every PNG, not only the missing ones")
    args = parser.parse_args(argv)
    todo = figures() if args.all and not args.check else without_png()
    if args.check:
        for html in todo:
            print(f"no PNG beside {html.relative_to(RESULTS.parent)}")
        return 1 if todo else 0
    items = []
    for html in todo:
        fig = figure_from_html(html.read_text())
        missing = untitled(fig)
        if missing:
            print(f"warning: {html.relative_to(RESULTS.parent)} has no title on {'; '.join(missing)}",
                  file=sys.stderr)
        items.append((fig, html.with_suffix(f".{STATIC_FORMAT}")))
    for path in write_static_many(items) if items else []:
        print(f"wrote {path.relative_to(RESULTS.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
