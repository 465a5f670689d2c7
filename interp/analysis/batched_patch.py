"""Activation patching of one clean/corrupted pair in a single batched forward pass: row r
of the batch is the corrupted input with one clean activation patched in. Same numbers as
`activation_patch` (TransformerLens' sweeps, one forward per patch), fast enough for an
interactive view (one forward of n_layers x pos rows instead of n_layers x pos forwards)."""

from __future__ import annotations

import torch

from interp.analysis.metrics import Metric
from interp.errors import InputError
from interp.model import HookedTransformer

HOOKS = {"resid_pre": "blocks.{}.hook_resid_pre", "attn_out": "blocks.{}.hook_attn_out",
         "mlp_out": "blocks.{}.hook_mlp_out", "head_out_all_pos": "blocks.{}.attn.hook_z"}


def batched_activation_patch(model: HookedTransformer, clean: torch.Tensor, corrupted: torch.Tensor,
                             metric: Metric, what: str = "resid_pre") -> torch.Tensor:
    """Metric of the corrupted run [1, pos] with one clean activation patched in: [layer, pos]
    for resid_pre / attn_out / mlp_out (one position each), [layer, head] for
    head_out_all_pos (one head's output at every position)."""
    if what not in HOOKS:
        raise InputError(f"batched_activation_patch what={what!r}; choose one of {sorted(HOOKS)}.")
    if what == "mlp_out" and model.cfg.attn_only:
        raise InputError("this model is attention-only: there is no mlp_out to patch.")
    clean, corrupted = model.validate_inputs(clean), model.validate_inputs(corrupted)
    if clean.shape[0] != 1 or clean.shape != corrupted.shape:
        raise InputError(f"one clean and one corrupted input of the same length are needed; got shapes "
                         f"{tuple(clean.shape)} and {tuple(corrupted.shape)}.")
    n_layers, seq = model.cfg.n_layers, clean.shape[1]
    width = model.cfg.n_heads if what == "head_out_all_pos" else seq  # patches per layer
    names = [HOOKS[what].format(layer) for layer in range(n_layers)]
    model.eval()
    with torch.no_grad():
        _, cache = model.run_with_cache(clean, names_filter=lambda n: n in names)
        batch = corrupted.expand(n_layers * width, *corrupted.shape[1:])  # [layer * width, pos]

        def hook_for(layer: int):
            rows = torch.arange(layer * width, (layer + 1) * width)
            source = cache[names[layer]][0]  # [pos, ...]

            def hook_fn(value: torch.Tensor, hook) -> torch.Tensor:
                out = value.clone()
                if what == "head_out_all_pos":
                    # value [batch, pos, head, d_head]: row layer*H+h gets head h's clean output.
                    out[rows, :, torch.arange(width)] = source.transpose(0, 1)
                else:
                    # value [batch, pos, d_model]: row layer*pos+p gets position p's clean value.
                    out[rows, torch.arange(width)] = source
                return out

            return hook_fn

        logits = model.run_with_hooks(batch, fwd_hooks=[(names[l], hook_for(l)) for l in range(n_layers)])
        values = torch.tensor([float(metric(logits[r:r + 1])) for r in range(logits.shape[0])])
    return values.reshape(n_layers, width)
