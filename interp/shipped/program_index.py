"""The index of shipped Transformer Programs (programs/index.json): their names, folders and
provenance, read without importing torch (the front door lists these names on every command;
interp.programs.shipped loads the programs themselves)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from interp.errors import InputError

SHIPPED_PROGRAMS = Path(__file__).resolve().parent / "programs"


def shipped_programs() -> dict[str, dict[str, Any]]:
    """name -> its index entry (task, command, seed, accuracy, lines)."""
    index = SHIPPED_PROGRAMS / "index.json"
    return json.loads(index.read_text()) if index.is_file() else {}


def shipped_program_dir(name: str) -> Path:
    """The directory of a shipped program, or InputError naming the known ones."""
    known = shipped_programs()
    if name not in known:
        raise InputError(f"no shipped Transformer Program {name!r}; shipped: {sorted(known) or 'none'}.")
    return SHIPPED_PROGRAMS / known[name]["dir"]
