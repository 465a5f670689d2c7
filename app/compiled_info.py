"""What the compiler's layout says about a compiled model, in the form the views draw."""

from __future__ import annotations

from app.subject import Subject
from interp.programs.views import component_roles

# Programs are cached (one object per shipped program); their roles are fixed: compute once.
_ROLES: dict[int, dict[str, str]] = {}


def _program_roles(program) -> dict[str, str]:
    if id(program) not in _ROLES:
        _ROLES[id(program)] = component_roles(program)
    return _ROLES[id(program)]


def component_captions(subject: Subject) -> dict[str, str]:
    """Component name (`L0H1`, `MLP2`) -> the RASP operation it implements (without the name);
    for a Transformer Program, what each component computes in its decompiled code."""
    if subject.discrete is not None:
        return _program_roles(subject.discrete)
    if not subject.is_compiled:
        return {}
    captions = subject.compiled.layout.captions
    return {name: text.removeprefix(f"{name}: ") for name, text in captions.items()}


def sop_components(subject: Subject) -> dict[str, list[str]]:
    """RASP label -> the components computing it; inputs map to `embed` / `pos_embed`."""
    if not subject.is_compiled:
        return {}
    layout = subject.compiled.layout
    placed = {label: [component] for label, component in layout.embedded.items()}
    placed.update({label: list(components) for label, components in layout.component_of.items()})
    return placed
