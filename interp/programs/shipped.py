"""Trained Transformer Programs shipped inside the package (interp/shipped/programs/), each
with the command and seed that made it; the dashboard and notebooks open them without
training. `index.json` lists them (read by interp.shipped.program_index, which imports no
torch)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from interp.errors import InputError
from interp.shipped.program_index import SHIPPED_PROGRAMS, shipped_program_dir, shipped_programs

if TYPE_CHECKING:
    from interp.model import HookedTransformer
    from interp.programs.program import DiscreteProgram

__all__ = ["SHIPPED_PROGRAMS", "load_shipped_model", "load_shipped_program", "shipped_program_dir",
           "shipped_programs", "shipped_test_accuracy"]


def load_shipped_program(name: str, simplified: bool = False) -> DiscreteProgram:
    """A shipped program (the exact argmax program, or its simplified form)."""
    from interp.programs.pipeline import load_discrete_program

    return load_discrete_program(shipped_program_dir(name), simplified=simplified)


def load_shipped_model(name: str) -> HookedTransformer:
    """A shipped program as the project's hooked transformer (input: [<sink>] + tokens)."""
    from interp.programs.convert import to_hooked

    model = to_hooked(load_shipped_program(name))
    model.metadata.update({"program": name, **shipped_programs()[name]})
    return model


def shipped_test_accuracy(name: str) -> float:
    """Hard accuracy of a shipped program on its stored test split (test.json), over the scored
    positions (labels that are not None), as the benchmark reports it."""
    from interp.programs.data import encode_split

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
