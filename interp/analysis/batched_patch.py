"""Activation patching of one clean/corrupted pair, batched: per layer, one forward from that
layer on whose row r is the corrupted run with one clean activation patched in. Same numbers
as `activation_patch` (TransformerLens' sweeps, one full forward per patch), fast enough for
an interactive view: patches that change nothing (clean equals corrupted there) are not run,
and no row recomputes the layers before its patch."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from interp.analysis.edges import run_from_layer
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
    return patch_sweeps(model, clean, corrupted, metric, (what,))[what]


def patch_sweeps(model: HookedTransformer, clean: torch.Tensor, corrupted: torch.Tensor, metric: Metric,
                 whats: Sequence[str] = ("resid_pre", "head_out_all_pos")) -> dict[str, torch.Tensor]:
    """Several sweeps of `batched_activation_patch` at once: the clean and corrupted runs are
    cached once, and each layer runs the rows of every sweep that patch it in one batch."""
    for what in whats:
        if what not in HOOKS:
            raise InputError(f"batched_activation_patch what={what!r}; choose one of {sorted(HOOKS)}.")
        if what == "mlp_out" and model.cfg.attn_only:
            raise InputError("this model is attention-only: there is no mlp_out to patch.")
    clean, corrupted = model.validate_inputs(clean), model.validate_inputs(corrupted)
    if clean.shape[0] != 1 or clean.shape != corrupted.shape:
        raise InputError(f"one clean and one corrupted input of the same length are needed; got shapes "
                         f"{tuple(clean.shape)} and {tuple(corrupted.shape)}.")
    n_layers, seq = model.cfg.n_layers, clean.shape[1]
    starts = [f"blocks.{layer}.hook_resid_pre" for layer in range(n_layers)]
    wanted = {HOOKS[what].format(layer) for what in whats for layer in range(n_layers)} | set(starts)
    model.eval()
    with torch.no_grad():
        _, clean_cache = model.run_with_cache(clean, names_filter=lambda n: n in wanted)
        corrupted_logits, corrupted_cache = model.run_with_cache(
            corrupted, names_filter=lambda n: n in wanted)
        baseline = float(metric(corrupted_logits))
        results = {what: torch.full((n_layers, model.cfg.n_heads if what == "head_out_all_pos" else seq),
                                    baseline) for what in whats}
        for layer in range(n_layers):
            hooks, slices, first = [], [], 0
            for what in whats:
                name = HOOKS[what].format(layer)
                source, target = clean_cache[name][0], corrupted_cache[name][0]  # [pos, ...]
                if what == "head_out_all_pos":
                    differs = (source != target).flatten(2).any(-1).any(0)  # [head]
                else:
                    differs = (source != target).flatten(1).any(-1)  # [pos]
                rows = differs.nonzero().flatten()  # patches that change something
                if len(rows):
                    hooks.append((name, _patch_hook(rows, source, what, first)))
                    slices.append((what, rows, first))
                    first += len(rows)
            if not first:
                continue  # every patch here is a no-op: the metric stays the corrupted one
            # Rows patched at this layer match the corrupted run before it: start there.
            resid = corrupted_cache[starts[layer]].expand(first, -1, -1).clone()  # [rows, pos, d_model]
            logits = run_from_layer(model, resid, layer, hooks)
            for what, rows, offset in slices:
                for i, row in enumerate(rows.tolist()):
                    results[what][layer, row] = float(metric(logits[offset + i:offset + i + 1]))
    return results


def sweep_work(cfg, seq: int, whats: Sequence[str] = ("resid_pre", "head_out_all_pos")) -> float:
    """Upper bound of the multiply-adds `patch_sweeps` runs (every patch changing something):
    how the dashboard decides whether to run the sweeps on each input or behind a button."""
    d_mlp = 0 if cfg.attn_only or not cfg.d_mlp else cfg.d_mlp
    attention = cfg.d_model * 4 * cfg.n_heads * cfg.d_head + 2 * seq * cfg.n_heads * cfg.d_head
    per_token_layer = attention + 2 * cfg.d_model * d_mlp
    rows = sum(cfg.n_heads if what == "head_out_all_pos" else seq for what in whats)
    layer_runs = cfg.n_layers * (cfg.n_layers + 1) // 2  # rows patched at layer l run n_layers - l blocks
    return float(per_token_layer * seq * rows * layer_runs)


def _patch_hook(rows: torch.Tensor, source: torch.Tensor, what: str, first: int = 0):
    """Hook giving batch row first + i the clean activation at patch `rows[i]` (a position or a head)."""
    batch = torch.arange(first, first + len(rows))

    def hook_fn(value: torch.Tensor, hook) -> torch.Tensor:
        out = value.clone()
        if what == "head_out_all_pos":
            # value [batch, pos, head, d_head]: row i gets head rows[i]'s clean output everywhere.
            out[batch, :, rows] = source[:, rows].transpose(0, 1)
        else:
            # value [batch, pos, d]: row i gets position rows[i]'s clean value.
            out[batch, rows] = source[rows]
        return out

    return hook_fn
