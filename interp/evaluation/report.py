"""The table every study notebook ends with: the paper's number next to ours, each row with
its pass rule fixed before the numbers (`Criterion`), the numbers the rule reads (`values`),
per-seed values with a 95% t interval, and the committed files that reproduce it; saved as
Markdown and JSON beside the figures. Quick mode writes to a scratch folder and labels every
verdict "quick mode: not a result"."""

from __future__ import annotations

import ast
import base64
import html
import json
import math
import os
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from interp.errors import InputError
from interp.evaluation.figures import STATIC_FORMAT, browser_path, untitled, write_static

COLUMNS = ("quantity", "paper", "ours", "seed mean (95% t CI)", "setting", "seeds", "seconds", "verdict",
           "criterion", "note")
QUICK_LABEL = "quick mode: not a result"
RESULTS_ROOT = "results"  # relative to studies/, where the notebooks run

# Two-sided 95% quantiles of Student's t by degrees of freedom (no scipy in the project).
_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
         10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110,
         18: 2.101, 19: 2.093, 20: 2.086, 25: 2.060, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980}

# The only calls and node types a criterion may use: arithmetic, comparisons, boolean logic,
# subscripts and comprehensions over the row's own numbers. Nothing else reaches eval.
_FUNCTIONS = {"abs": abs, "all": all, "any": any, "len": len, "max": max, "min": min, "sum": sum,
              "zip": zip, "range": range, "round": round, "isfinite": math.isfinite}
_NODES = (ast.Expression, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.Call, ast.Name,
          ast.Load, ast.Constant, ast.Subscript, ast.Slice, ast.Tuple, ast.List, ast.GeneratorExp,
          ast.ListComp, ast.comprehension,
          ast.Store, ast.IfExp, ast.And, ast.Or, ast.Not, ast.Add, ast.Sub, ast.Mult, ast.Div,
          ast.FloorDiv, ast.Mod, ast.Pow, ast.USub, ast.UAdd, ast.Eq, ast.NotEq, ast.Lt, ast.LtE,
          ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot)


def evaluate(code: str, values: Mapping[str, Any]) -> bool:
    """Evaluate a criterion expression over `values` with a whitelist of nodes and functions."""
    try:
        tree = ast.parse(code, mode="eval")
    except SyntaxError as error:
        raise InputError(f"criterion {code!r} is not a Python expression: {error.msg}") from None
    bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    for node in ast.walk(tree):
        if not isinstance(node, _NODES):
            raise InputError(f"criterion {code!r} uses {type(node).__name__}, which criteria may not use")
        allowed_call = isinstance(getattr(node, "func", None), ast.Name) and node.func.id in _FUNCTIONS
        if isinstance(node, ast.Call) and not allowed_call:
            raise InputError(f"criterion {code!r} calls something other than {sorted(_FUNCTIONS)}")
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id not in values and node.id not in _FUNCTIONS and node.id not in bound:
                raise InputError(f"criterion {code!r} reads {node.id!r}, which the row's values do not have "
                                 f"(values: {sorted(values)})")
    # one namespace as globals: comprehensions in eval do not see a separate locals mapping
    namespace = {"__builtins__": {}, **_FUNCTIONS, **values}
    result = eval(compile(tree, "<criterion>", "eval"), namespace)  # noqa: S307
    if not isinstance(result, bool):
        raise InputError(f"criterion {code!r} gave {result!r}, not True or False")
    return result


@dataclass(frozen=True)
class Criterion:
    """A pass rule: in words for the reader, as an expression over the row's values for the tests."""

    words: str
    code: str


def t_interval(samples: list[float]) -> tuple[float, float]:
    """The 95% Student-t interval for the mean of `samples` (at least 2)."""
    n = len(samples)
    if n < 2:
        raise InputError(f"a t interval needs at least 2 values, got {n}")
    mean = sum(samples) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in samples) / (n - 1))
    df = n - 1
    t = _T975.get(df) or _T975[max(k for k in _T975 if k <= df)]  # next lower df: conservative
    return mean - t * sd / math.sqrt(n), mean + t * sd / math.sqrt(n)


def per_seed(values: Mapping[Any, float], fmt: str = ".4f") -> str:
    """One number per training seed, comma-separated in the mapping's (seed) order."""
    return ", ".join(f"{value:{fmt}}" for value in values.values())


def misses(ok: Mapping[Any, bool]) -> str:
    """The note naming the seeds that fail a bar ('' when none does)."""
    failed = [str(seed) for seed, passed in ok.items() if not passed]
    return f"missed by seed{'s' * (len(failed) > 1)} {', '.join(failed)}" if failed else ""


def is_quick() -> bool:
    """Whether the notebook runs in quick mode (STUDY_QUICK=1)."""
    return os.environ.get("STUDY_QUICK") == "1"


def output_dir(name: str, quick: bool | None = None) -> Path:
    """Where a notebook writes: STUDY_OUTPUT_DIR if set, a scratch folder in quick mode, else
    results/<name> (the committed full-mode results). Created. A full run first checks that it
    can draw its static figures (StaticExportError, before any work, when it cannot)."""
    quick = is_quick() if quick is None else quick
    if not quick:
        browser_path()  # a full run needs its static figures: refuse now, before any training, if it cannot
    if os.environ.get("STUDY_OUTPUT_DIR"):
        out = Path(os.environ["STUDY_OUTPUT_DIR"])
    elif quick:
        out = Path(tempfile.mkdtemp(prefix=f"study-{name}-quick-"))  # never the committed folder
    else:
        out = Path(RESULTS_ROOT) / name
    out.mkdir(parents=True, exist_ok=True)
    return out


@dataclass
class StudyRow:
    """One claim: what the paper reports, what we measured, the rule and whether it passed."""

    quantity: str
    paper: str
    ours: str
    setting: str
    seeds: str
    seconds: float
    criterion: dict[str, str] | None = None  # {"words", "code"}; None: reported, not tested
    values: dict[str, Any] = field(default_factory=dict)
    passed: bool | None = None
    per_seed: dict[str, float] | None = None
    ci95: dict[str, Any] | None = None  # {"low", "high", "mean", "method": "t", "n"}
    quick_criterion: dict[str, str] | None = None  # sanity bar asserted in quick mode
    quick_passed: bool | None = None
    artifacts: list[str] = field(default_factory=list)
    note: str = ""
    legacy_agrees: bool | None = None  # a verdict from before pass rules were stored: not a result

    @property
    def seed_interval(self) -> str:
        """'mean (95% t CI low..high)' over the training seeds, or '–'."""
        if not self.ci95:
            return "–"
        mean, low, high = (self.ci95[key] for key in ("mean", "low", "high"))
        return f"{mean:.4g} ({low:.4g}..{high:.4g})"

    @property
    def verdict(self) -> str:
        """'yes', '**no**' or '–' (no criterion)."""
        return {True: "yes", False: "**no**", None: "–"}[self.passed]


def _jsonable(value: Any, where: str) -> Any:
    """Plain JSON numbers/lists/dicts from tensors and numpy scalars; refuses anything else."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, where) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v, where) for k, v in value.items()}
    raise InputError(f"{where}: {type(value).__name__} cannot be stored in results.json; give numbers")


@dataclass
class StudyTable:
    """Rows of a study's final table; `artifacts` are the committed files every row shares."""

    title: str
    rows: list[StudyRow] = field(default_factory=list)
    quick: bool = False
    artifacts: list[str] = field(default_factory=list)

    def add(self, quantity: str, paper: str, ours: str, setting: str, seeds: str, seconds: float,
            criterion: Criterion | None = None, note: str = "", *, values: Mapping[str, Any] | None = None,
            per_seed: Mapping[Any, float] | None = None, quick: Criterion | None = None,
            artifacts: list[str] | tuple[str, ...] = ()) -> StudyRow:
        """Append a row; `passed` is `criterion` evaluated over `values` (plus `seeds`: the
        per-seed list, and `mean`). `per_seed` (>= 3 seeds) gets a 95% t interval."""
        legacy = None
        if isinstance(criterion, bool):  # a verdict computed in the notebook: kept, never counted as a pass
            legacy, criterion = criterion, None
        if criterion is not None and not isinstance(criterion, Criterion):
            raise InputError(f"row {quantity!r}: give a Criterion(words, code), not {criterion!r}; a verdict "
                             "is computed from the rule, never passed in")
        vals = _jsonable(dict(values or {}), f"row {quantity!r}")
        row = StudyRow(quantity, paper, ours, setting, seeds, float(seconds), values=vals, note=note,
                       artifacts=list(artifacts), legacy_agrees=legacy)
        if per_seed is not None:
            row.per_seed = {str(k): float(v) for k, v in per_seed.items()}
            samples = list(row.per_seed.values())
            vals.setdefault("seeds", samples)
            vals.setdefault("mean", sum(samples) / len(samples))
            if len(samples) >= 3:
                low, high = t_interval(samples)
                row.ci95 = {"low": low, "high": high, "mean": sum(samples) / len(samples), "n": len(samples),
                            "method": "t (Student, n-1 df, over training seeds)"}
        if criterion is not None:
            row.criterion = {"words": criterion.words, "code": criterion.code}
            row.passed = evaluate(criterion.code, vals)
        if quick is not None:
            row.quick_criterion = {"words": quick.words, "code": quick.code}
            row.quick_passed = evaluate(quick.code, vals) if self.quick else None
        self.rows.append(row)
        return row

    def verdict(self, row: StudyRow) -> str:
        """The verdict cell: the rule's result, or the quick-mode label."""
        if row.legacy_agrees is not None:
            return "not pre-registered"
        if self.quick and row.passed is not None:
            return f"{QUICK_LABEL} ({row.verdict})"
        return row.verdict

    def to_markdown(self) -> str:
        """A Markdown table with one line per row."""
        title = f"{self.title} ({QUICK_LABEL})" if self.quick else self.title
        lines = [f"### {title}", "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
        for row in self.rows:
            cells = self._cells(row)
            lines.append("| " + " | ".join(cells[c].replace("|", "\\|") for c in COLUMNS) + " |")
        return "\n".join(lines) + "\n"

    def _cells(self, row: StudyRow) -> dict[str, str]:
        """One row's cells as text, by column."""
        cells = {k: str(v) for k, v in asdict(row).items()}
        cells["seconds"] = f"{row.seconds:.0f}"
        cells["verdict"] = self.verdict(row)
        cells["criterion"] = row.criterion["words"] if row.criterion else "none (reported, not tested)"
        cells["seed mean (95% t CI)"] = row.seed_interval
        return cells

    def to_html(self) -> str:
        """The same table as HTML, so a notebook and its HTML export show a table, not Markdown text."""
        title = f"{self.title} ({QUICK_LABEL})" if self.quick else self.title
        head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
        body = []
        for row in self.rows:
            cells = self._cells(row)
            text = [html.escape(cells[c]).replace("**no**", "<b>no</b>") for c in COLUMNS]
            body.append("<tr>" + "".join(f"<td>{t}</td>" for t in text) + "</tr>")
        return (f"<h3>{html.escape(title)}</h3><table><thead><tr>{head}</tr></thead>"
                f"<tbody>{''.join(body)}</tbody></table>")

    def _repr_html_(self) -> str:
        """Jupyter's rich display: the HTML table."""
        return self.to_html()

    def _repr_markdown_(self) -> str:
        """Jupyter's rich display for Markdown-only viewers."""
        return self.to_markdown()

    def save(self, directory: str | Path) -> Path:
        """Write results.md and results.json into `directory` (created); returns the .md path."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        if self.quick:
            failed = [r.quantity for r in self.rows if r.quick_passed is False]
            if failed:
                raise InputError(f"quick-mode sanity check failed for {failed}")
        shared = set(self.artifacts) | (set() if self.quick else set(_committed_files(out)))
        rows = []
        for row in self.rows:
            data = asdict(row)
            data["artifacts"] = sorted(shared | set(row.artifacts))
            rows.append(data)
        payload = {"title": self.title, "mode": "quick" if self.quick else "full", "rows": rows}
        if self.quick:
            payload["label"] = QUICK_LABEL
        (out / "results.json").write_text(json.dumps(payload, indent=1) + "\n")
        path = out / "results.md"
        path.write_text(self.to_markdown())
        return path


PLOTLY_JS = "plotly.min.js"  # one local copy beside the study folders, never a CDN


def _committed_files(out: Path) -> list[str]:
    """Repository-relative paths of a full run's outputs and its notebook (none outside the repo)."""
    root = next((p for p in out.resolve().parents if (p / "pyproject.toml").exists()), None)
    if root is None:
        return []
    files = {out.resolve() / "results.json", out.resolve() / "results.md"}
    files |= {f.resolve() for f in out.iterdir() if f.is_file()}
    notebook = out.resolve().parent.parent / f"{out.name}.ipynb"  # studies/results/NAME -> studies/NAME.ipynb
    if notebook.exists():
        files.add(notebook)
    return [str(f.relative_to(root)) for f in files]


def show_figure(fig: Any, out: str | Path, name: str, *, static: bool | None = None) -> Path:
    """Write `out/name.html` (loads ../plotly.min.js, copied there once; no CDN) and, in full mode
    (or `static=True`), `out/name.png` drawn offline; display the figure inline with plotly.js
    embedded once per kernel (and the PNG beside it for viewers that run no script), so it shows
    offline in the executed notebook and its HTML export. Quick mode refuses a figure with an
    untitled axis or colour bar; full mode warns instead, so a long run is never lost to a label
    (the committed figures are tested). Returns the HTML path."""
    from IPython.display import HTML, display  # noqa: PLC0415 (notebook-only dependency)
    from plotly.offline import get_plotlyjs  # noqa: PLC0415

    quick = is_quick()
    missing = untitled(fig)
    if missing:
        message = f"figure {name!r} has no title on: {'; '.join(missing)}"
        if quick:
            raise InputError(message)
        warnings.warn(message, stacklevel=2)
    out = Path(out)
    shared = out.parent / PLOTLY_JS
    if not shared.exists():
        shared.write_text(get_plotlyjs())
    path = out / f"{name}.html"
    fig.write_html(path, include_plotlyjs=f"../{PLOTLY_JS}", include_mathjax=False, full_html=True)
    fragment = _figure_html(fig)
    if (not quick) if static is None else static:
        png = write_static(fig, out / f"{name}.{STATIC_FORMAT}")
        # both forms in one output: script-running viewers take the HTML, the others the image
        display({"text/html": fragment, "image/png": base64.b64encode(png.read_bytes()).decode("ascii")},
                raw=True)
    else:
        display(HTML(fragment))
    return path


_PLOTLY_SHOWN = False


def _figure_html(fig: Any) -> str:
    """An HTML fragment for one figure: plotly.js inline the first time in this kernel."""
    global _PLOTLY_SHOWN  # noqa: PLW0603 (one copy of plotly.js per executed notebook)
    from plotly.offline import get_plotlyjs  # noqa: PLC0415

    head = "" if _PLOTLY_SHOWN else (
        "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>"
        f"<script>{get_plotlyjs()}</script>")
    _PLOTLY_SHOWN = True
    return head + fig.to_html(full_html=False, include_plotlyjs=False, include_mathjax=False)
