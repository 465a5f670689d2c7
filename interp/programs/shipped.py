"""Trained Transformer Programs shipped inside the package (interp/shipped/programs/), each
with the command and seed that made it; the dashboard and notebooks open them without
training. `index.json` lists them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from interp.errors import InputError
from interp.model import HookedTransformer
from interp.programs.convert import to_hooked
from interp.programs.data import encode_split
from interp.programs.pipeline import load_program
from interp.programs.program import DiscreteProgram

SHIPPED_PROGRAMS = Path(__file__).resolve().parents[1] / "shipped" / "programs"


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


def load_shipped_program(name: str, simplified: bool = False) -> DiscreteProgram:
    """A shipped program (the exact argmax program, or its simplified form)."""
    return load_program(shipped_program_dir(name), simplified=simplified)


def load_shipped_model(name: str) -> HookedTransformer:
    """A shipped program as the project's hooked transformer (input: [<sink>] + tokens)."""
    model = to_hooked(load_shipped_program(name))
    model.metadata.update({"program": name, **shipped_programs()[name]})
    return model


def shipped_test_accuracy(name: str) -> float:
    """Hard accuracy of a shipped program on its stored test split (test.json), over the scored
    positions (labels that are not None), as the benchmark reports it."""
    program = load_shipped_program(name)
    shape = program.shape
    path = shipped_program_dir(name) / "test.json"
    if not path.is_file():
        raise InputError(f"shipped program {name!r} has no test split ({path}); it cannot be evaluated.")
    stored = json.loads(path.read_text())
    pairs = list(zip(stored["inputs"], stored["targets"]))
    split = encode_split(pairs, shape.tokens, shape.labels, shape.n_ctx)
    predicted = program.predict(split.tokens, split.lengths)  # [n, n_ctx] label ids
    scored = split.targets >= 0  # [n, n_ctx]
    return (predicted[scored] == split.targets[scored]).double().mean().item()
