"""The table every study notebook ends with: the paper's number next to ours, the setting,
the seeds and the time, saved as Markdown and JSON beside the figures."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

COLUMNS = ("quantity", "paper", "ours", "setting", "seeds", "seconds", "agrees", "note")


@dataclass
class StudyRow:
    """One claim: what the paper reports and what we measured."""

    quantity: str
    paper: str
    ours: str
    setting: str
    seeds: str
    seconds: float
    agrees: bool | None = None  # None: no pass/fail criterion (a curve shown, not a number checked)
    note: str = ""


@dataclass
class StudyTable:
    """Rows of a study's final table."""

    title: str
    rows: list[StudyRow] = field(default_factory=list)

    def add(self, *args: object, **kwargs: object) -> StudyRow:
        """Append a row (the StudyRow fields, positionally or by name)."""
        row = StudyRow(*args, **kwargs)  # type: ignore[arg-type]
        self.rows.append(row)
        return row

    def to_markdown(self) -> str:
        """A Markdown table with one line per row."""
        lines = [f"### {self.title}", "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
        for row in self.rows:
            values = asdict(row)
            values["seconds"] = f"{row.seconds:.0f}"
            values["agrees"] = {True: "yes", False: "**no**", None: "–"}[row.agrees]
            lines.append("| " + " | ".join(str(values[c]).replace("|", "\\|") for c in COLUMNS) + " |")
        return "\n".join(lines) + "\n"

    def save(self, directory: str | Path) -> Path:
        """Write results.md and results.json into `directory` (created); returns the .md path."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(
            json.dumps({"title": self.title, "rows": [asdict(r) for r in self.rows]}, indent=1) + "\n"
        )
        path = out / "results.md"
        path.write_text(self.to_markdown())
        return path
