"""How the dashboard names and prints things: values, residual stages. One naming everywhere."""

from __future__ import annotations

import math

DIGITS = 4  # significant digits of a float shown on screen


def show_value(value: object) -> str:
    """A value as a cell: '·' for RASP's None, floats to DIGITS significant digits."""
    if value is None:
        return "·"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return f"{value:.{DIGITS}g}"
    return str(value)


def stage_name(stage: str, n_layers: int) -> str:
    """A residual-stream stage by what ran before it: `embed`, `after L0 attn`, `after MLP0`.

    Accepts hook names (`blocks.1.hook_resid_mid`) and TransformerLens' accumulated-resid
    labels (`1_mid`, `2_pre`, `final_post`), so the table and the logit lens agree.
    """
    if stage.startswith("blocks."):
        layer, where = int(stage.split(".")[1]), stage.rsplit("_", 1)[-1]
    else:
        head, where = stage.split("_", 1)
        layer = n_layers - 1 if head == "final" else int(head)
    if where == "pre":
        return "embed" if layer == 0 else f"after MLP{layer - 1}"
    if where == "mid":
        return f"after L{layer} attn"
    return f"after MLP{layer}"


def distinct_stages(stages: list[str], n_layers: int, attn_only: bool) -> list[int]:
    """Indices of the stages worth a row: without MLPs, `after MLPl` repeats `after Ll attn`."""
    if not attn_only:
        return list(range(len(stages)))
    return [i for i, s in enumerate(stages) if not stage_name(s, n_layers).startswith("after MLP")]


def stage_number_name(stage: int) -> str:
    """Residual stage number (0 embed, 2l+1 after layer l's attention, 2l+2 after its MLP)."""
    if stage == 0:
        return "embed"
    layer, after_mlp = divmod(stage - 1, 2)
    return f"after MLP{layer}" if after_mlp else f"after L{layer} attn"
