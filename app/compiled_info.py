"""What the compiler's layout says about a compiled model, in the form the views draw."""

from __future__ import annotations

from app.subject import Subject


def component_captions(subject: Subject) -> dict[str, str]:
    """Component name (`L0H1`, `MLP2`) -> the RASP operation it implements (without the name)."""
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
