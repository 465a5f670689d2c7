"""What the compiler says about a compiled model, read defensively: the compiler's layout
API is still settling, so each reader returns an empty result rather than failing."""

from __future__ import annotations

from typing import Any

from app.subject import Subject


def component_captions(subject: Subject) -> dict[str, str]:
    """Component name (`L0H1`, `MLP2`) -> the RASP operation it implements."""
    if not subject.is_compiled:
        return {}
    layout = getattr(subject.compiled, "layout", None)
    captions = getattr(layout, "captions", None)
    if callable(captions):
        captions = captions()
    return {str(k): str(v) for k, v in dict(captions or {}).items()}


def sop_layers(subject: Subject) -> dict[str, str]:
    """RASP label -> the component that computes it (`L0H1`, `MLP0`, `embed`)."""
    if not subject.is_compiled:
        return {}
    layout = getattr(subject.compiled, "layout", None)
    placed: Any = getattr(layout, "components_of", None) or getattr(layout, "placement", None)
    if callable(placed):
        placed = placed()
    return {str(k): str(v) for k, v in dict(placed or {}).items()}
