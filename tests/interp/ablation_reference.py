"""The reference the truth tests measure with: `ablate` (one edge set for the whole batch,
not the pruner's masked runs) and the logit change computed here, not by the library."""

from __future__ import annotations

import torch

from interp.analysis.ablate import ablate


def moved(model, edges, batch: torch.Tensor, centered: bool = False) -> torch.Tensor:
    """[rows]: largest |logit change| after BOS per row with `edges` zero-ablated together;
    centered: of the logits less their mean at each position (a shift common to every logit
    changes no probability)."""
    with torch.no_grad():
        clean = model(batch)
        with ablate(model, edges=edges, kind="zero"):
            change = (model(batch) - clean)[:, 1:]  # [rows, pos, d_vocab]
    if centered:
        change = change - change.mean(-1, keepdim=True)
    return change.abs().flatten(1).amax(1)
