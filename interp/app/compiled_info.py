"""What a program-built model says about its components, in the form the views draw (the
subject knows: the compiler's layout, or a Transformer Program's decompiled roles)."""

from __future__ import annotations

from interp.app.subject import Subject


def component_captions(subject: Subject) -> dict[str, str]:
    """Component name (`L0H1`, `MLP2`) -> the operation it implements (empty when unknown)."""
    return subject.captions()


def sop_components(subject: Subject) -> dict[str, list[str]]:
    """RASP label -> the components computing it; inputs map to `embed` / `pos_embed`."""
    return subject.placement()
