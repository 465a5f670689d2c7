"""Every name a user can give, resolved by one rule (the CLI and the app call nothing else).

Names:
- `sort` — a `rasp.lib` library program (compiled for its default vocabulary and length);
- `addition-1l` — a model shipped in interp/shipped;
- `program:sort` — a Transformer Program shipped in interp/shipped/programs;
- a file: `.py` (defining `program`) or textual RASP;
- a directory: a saved model (config.json), a training run of `interp train` (its `model/`),
  or a Transformer Program run of `interp train-program` (program.json).

Precedence, one rule for every command:
1. `NAMESPACE:NAME` means exactly that: `lib:`, `model:` (shipped model), `program:` (shipped
   Transformer Program) or `path:`.
2. A name written as a path (it holds a `/`, starts with `.` or `~`, or ends in .py, .rasp or
   .json) is that path.
3. A bare word is the first package name it matches, among the kinds the command takes:
   library program, then shipped model, then shipped Transformer Program (so `sort` is the
   library program and `program:sort` its Transformer Program; `interp decompile sort`,
   which takes only Transformer Programs, reads the Transformer Program). If a file or folder
   of that name also exists here, the name is refused as ambiguous (write `./NAME` or
   `NAMESPACE:NAME`): it is never silently one of them.
4. Any other bare word that exists here is that path; anything else is an InputError with
   the closest known names.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interp.errors import InputError

LIBRARY, SHIPPED_MODEL, SHIPPED_PROGRAM = "library program", "shipped model", "shipped Transformer Program"
SHIPPED_SIIT = "shipped SIIT model"  # a shipped model whose card's recipe is "siit" (interp.training.siit)
RASP_FILE, SAVED_MODEL, TRAINING_RUN, PROGRAM_RUN = ("RASP program file", "saved model", "training run",
                                                     "Transformer Program run")
NAMESPACES = {"lib": LIBRARY, "model": SHIPPED_MODEL, "program": SHIPPED_PROGRAM, "path": None}
PATH_SUFFIXES = (".py", ".rasp", ".json")
PROGRAM_KINDS = (LIBRARY, RASP_FILE)  # what `compile` and `rasp` take
TRAINED_PROGRAM_KINDS = (SHIPPED_PROGRAM, PROGRAM_RUN)  # what `decompile` takes
TASK_MODEL_KINDS = (SHIPPED_MODEL, SHIPPED_SIIT, SAVED_MODEL, TRAINING_RUN)  # what `eval` takes


@dataclass(frozen=True)
class Resolved:
    """What a name means: its kind, the name every command accepts for it, where it lives."""

    name: str  # the canonical name (works in every command)
    kind: str  # one of the kinds above
    location: Path | None  # the file or folder (None: a library program, built in code)
    key: str  # the library/shipped name, or the path as typed

    def model_dir(self) -> Path:
        """The directory holding config.json + model.safetensors (a training run's `model/`)."""
        assert self.location is not None
        return self.location / "model" if self.kind == TRAINING_RUN else self.location


# ------------------------------------------------------------------------ known names
def library_names() -> list[str]:
    from rasp.lib import PROGRAMS

    return list(PROGRAMS)


def shipped_model_names() -> list[str]:
    """Shipped models whose weights are present (cheap: reads folder names, no card)."""
    from interp.shipped import shipped_names, shipped_path

    return [name for name in shipped_names() if (shipped_path(name) / "config.json").is_file()]


def shipped_program_names() -> list[str]:
    from interp.shipped.program_index import shipped_programs

    return sorted(shipped_programs())


def _package_matches(word: str) -> list[str]:
    """The package kinds a bare word names, in precedence order."""
    found = []
    for kind, names in ((LIBRARY, library_names), (SHIPPED_MODEL, shipped_model_names),
                        (SHIPPED_PROGRAM, shipped_program_names)):
        if word in names():
            found.append(kind)
    return found


def canonical(kind: str, key: str) -> str:
    """The name of a packaged thing that every command accepts: bare when the bare word means
    it (rule 3), else namespaced."""
    prefix = next(p for p, k in NAMESPACES.items() if k == kind)
    matches = _package_matches(key)
    return key if matches and matches[0] == kind else f"{prefix}:{key}"


# ---------------------------------------------------------------------------- resolve
def looks_like_path(name: str) -> bool:
    """Rule 2: a name written as a path."""
    return ("/" in name or "\\" in name or name.startswith((".", "~"))
            or name.endswith(PATH_SUFFIXES))


def resolve(name: str, kinds: tuple[str, ...] | None = None, what: str = "a model or program") -> Resolved:
    """What `name` means under the precedence rule (module docstring); `kinds` limits what a
    command accepts (InputError naming what it got otherwise)."""
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"give {what} by name (see `interp models`).")
    resolved = _resolve(name.strip(), kinds, what)
    if kinds is not None and resolved.kind not in kinds:
        raise InputError(f"{name!r} is a {resolved.kind}; this command takes {_either(kinds)}.")
    return resolved


def _resolve(name: str, kinds: tuple[str, ...] | None, what: str) -> Resolved:
    prefix, sep, rest = name.partition(":")
    if sep and prefix in NAMESPACES:
        if NAMESPACES[prefix] is None:
            return _path(Path(rest).expanduser(), rest, kinds)
        kind = NAMESPACES[prefix]
        if rest not in _names_of(kind):
            raise InputError(f"no {kind} {rest!r}; {_suggest(rest, _names_of(kind), prefix + ':')}")
        return _packaged(kind, rest)
    if looks_like_path(name):
        return _path(Path(name).expanduser(), name, kinds)
    matches = [k for k in _package_matches(name) if kinds is None or k in kinds] or _package_matches(name)
    if matches:
        if Path(name).exists():
            where = "folder" if Path(name).is_dir() else "file"
            prefix = next(p for p, k in NAMESPACES.items() if k == matches[0])
            raise InputError(f"{name!r} is ambiguous: the {matches[0]} {name} and the {where} ./{name} "
                             f"here; write ./{name} for the {where} or {prefix}:{name} for the {matches[0]}.")
        return _packaged(matches[0], name)
    if Path(name).exists():
        return _path(Path(name), name, kinds)
    raise InputError(f"{name!r} is not {what} nor an existing file or folder; {_suggest(name, all_names())}")


def _names_of(kind: str) -> list[str]:
    return {LIBRARY: library_names, SHIPPED_MODEL: shipped_model_names,
            SHIPPED_PROGRAM: shipped_program_names}[kind]()


def _packaged(kind: str, key: str) -> Resolved:
    if kind == LIBRARY:
        return Resolved(canonical(kind, key), kind, None, key)
    if kind == SHIPPED_MODEL:
        from interp.shipped import shipped_path

        resolved = Resolved(canonical(kind, key), kind, shipped_path(key), key)
        if card_of(resolved).get("recipe") == "siit":  # same names and loading; its own kind
            return Resolved(resolved.name, SHIPPED_SIIT, resolved.location, key)
        return resolved
    from interp.shipped.program_index import shipped_program_dir

    return Resolved(canonical(kind, key), kind, shipped_program_dir(key), key)


def _path(path: Path, typed: str, kinds: tuple[str, ...] | None = None) -> Resolved:
    """A file (RASP program) or a folder (saved model, training run, Transformer Program run)."""
    if not path.exists():
        raise InputError(f"{typed}: no such file or folder.")
    if path.is_file():
        return Resolved(typed, RASP_FILE, path, typed)
    if kinds == PROGRAM_KINDS:
        raise InputError(f"{typed}: is a directory; give a .py or .rasp program file (a model folder works "
                         "with info, run, discover, decompose, ablate and patch).")
    if (path / "config.json").is_file():
        return Resolved(typed, SAVED_MODEL, path, typed)
    if (path / "program.json").is_file():
        return Resolved(typed, PROGRAM_RUN, path, typed)
    if (path / "model" / "config.json").is_file():
        return Resolved(typed, TRAINING_RUN, path, typed)
    raise InputError(f"{typed}: a folder, but not a saved model (config.json), a training run (model/) or "
                     "a Transformer Program run (program.json).")


def all_names() -> list[str]:
    """Every packaged name, as every command accepts it."""
    return ([canonical(LIBRARY, n) for n in library_names()] + [canonical(SHIPPED_MODEL, n) for n in
            shipped_model_names()] + [canonical(SHIPPED_PROGRAM, n) for n in shipped_program_names()])


def _suggest(name: str, names: list[str], prefix: str = "") -> str:
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    if close:
        spelled = " or ".join(repr(c if c.startswith(prefix) else prefix + c) for c in close)
        return f"did you mean {spelled}? (`interp models` lists every name)"
    return "`interp models` lists every name."


def _either(kinds: tuple[str, ...]) -> str:
    return " or ".join(f"a {k}" for k in kinds)


# -------------------------------------------------------------------------- catalogue
def catalogue(include_library: bool = False) -> list[dict[str, Any]]:
    """Everything shipped (and the library programs with `include_library`): name as every
    command accepts it, kind, location and a one-line description."""
    from interp.shipped import SHIPPED

    rows = []
    if include_library:
        from rasp.lib import PROGRAMS

        rows += [{"name": canonical(LIBRARY, n), "kind": LIBRARY, "location": "rasp.lib",
                  "description": PROGRAMS[n].description} for n in library_names()]
    present = set(shipped_model_names())
    for n in (name for name in SHIPPED if name in present):  # the index's order (recipes first)
        resolved = _packaged(SHIPPED_MODEL, n)
        rows.append({"name": resolved.name, "kind": resolved.kind, "location": str(resolved.location),
                     "description": SHIPPED[n], "headline": _headline(card_of(resolved).get("report", {}))})
    from interp.shipped.program_index import shipped_programs

    for n, entry in sorted(shipped_programs().items()):
        accuracy = entry.get("hard_test_accuracy")
        rows.append({"name": canonical(SHIPPED_PROGRAM, n), "kind": SHIPPED_PROGRAM,
                     "location": str(_packaged(SHIPPED_PROGRAM, n).location),
                     "description": f"Transformer Program for the {entry.get('task', n)} task"
                     + (f" (hard test accuracy {accuracy:.4g})" if isinstance(accuracy, float) else "")})
    return rows


def card_of(resolved: Resolved) -> dict[str, Any]:
    """The model card next to a shipped model or a training run ({} when none)."""
    if resolved.location is None or not resolved.location.is_dir():
        return {}
    path = resolved.location / "card.json"
    if not path.is_file():
        return {}
    try:
        card = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: unreadable model card ({err}); fix or delete the file.") from err
    return card if isinstance(card, dict) else {}


def _headline(report: Any) -> str | None:
    """The card's main held-out number, e.g. `exact_match 0.9886`."""
    if not isinstance(report, dict):
        return None
    for key in ("exact_match", "nats_per_char", "error_per_dim", "mse_vs_gd_optimal", "accuracy", "loss"):
        if isinstance(report.get(key), float):
            return f"{key} {report[key]:.4g}"
    return None
