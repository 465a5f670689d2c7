"""One component's activations over many inputs, and what it writes to the logits: the numbers
behind a component page (a head, an MLP neuron or a labelled residual direction).

Components are named `L1H0` (a head: the norm of its output at each position), `L0N5`
(neuron 5 of MLP0, after its activation function) or `R12` (residual direction 12, read in
the residual stream after the last layer). Model-generic: any HookedTransformer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from interp.errors import InputError
from interp.model import HookedTransformer

_PATTERN = re.compile(r"L(\d+)H(\d+)|L(\d+)N(\d+)|R(\d+)")


@dataclass(frozen=True)
class Component:
    """A parsed component name."""

    kind: str  # "head", "neuron" or "direction"
    layer: int  # -1 for a residual direction
    index: int  # head, neuron or direction index

    @property
    def hook(self) -> str:
        """The hook its activation is read from."""
        if self.kind == "head":
            return f"blocks.{self.layer}.attn.hook_z"
        if self.kind == "neuron":
            return f"blocks.{self.layer}.mlp.hook_post"
        return "resid_final"


def parse_component(name: str, model: HookedTransformer) -> Component:
    """`L1H0`, `L0N5` or `R12` as a Component of `model`; InputError naming the fix otherwise."""
    cfg = model.cfg
    match = _PATTERN.fullmatch(name.strip())
    if not match:
        raise InputError(f"component {name!r} is not a head (L1H0), a neuron (L0N5) or a residual "
                         "direction (R12).")
    if match[1] is not None:
        found = Component("head", int(match[1]), int(match[2]))
        limit, what = cfg.n_heads, "heads"
    elif match[3] is not None:
        if cfg.attn_only or not cfg.d_mlp:
            raise InputError(f"component {name!r}: this model has no MLPs.")
        found = Component("neuron", int(match[3]), int(match[4]))
        limit, what = cfg.d_mlp, "neurons per MLP"
    else:
        found = Component("direction", -1, int(match[5]))
        limit, what = cfg.d_model, "residual directions"
    if found.layer >= cfg.n_layers:
        raise InputError(f"component {name!r}: the model has {cfg.n_layers} layers.")
    if found.index >= limit:
        raise InputError(f"component {name!r}: the model has {limit} {what}.")
    return found


def activations(model: HookedTransformer, inputs: torch.Tensor, component: Component) -> torch.Tensor:
    """The component's activation at every position [batch, pos]: a head's output norm
    |z_h W_O[h]|, a neuron's post-activation value, or a direction's coordinate in the
    residual stream after the last layer."""
    if component.kind == "direction":
        if not model.cfg.n_layers:
            raise InputError("a model without layers has no residual stream after its last layer.")
        hook = f"blocks.{model.cfg.n_layers - 1}.hook_resid_post"
    else:
        hook = component.hook
    with torch.no_grad():
        _, cache = model.run_with_cache(inputs, names_filter=lambda name: name == hook)
        value = cache[hook]
        if component.kind == "head":
            z = value[:, :, component.index]  # [batch, pos, d_head]
            return (z @ model.blocks[component.layer].attn.W_O[component.index]).norm(dim=-1)
        return value[..., component.index]  # [batch, pos]


def written_direction(model: HookedTransformer, component: Component,
                      inputs: torch.Tensor | None = None) -> torch.Tensor:
    """What the component adds to the residual stream [d_model]: a neuron's W_out row, a
    direction's unit vector, a head's mean output over `inputs` (every position)."""
    d_model = model.cfg.d_model
    if component.kind == "neuron":
        return model.blocks[component.layer].mlp.W_out[component.index].detach()
    if component.kind == "direction":
        return torch.eye(d_model)[component.index]
    if inputs is None:
        raise InputError("a head's direct effect depends on its input; pass inputs.")
    hook = component.hook
    with torch.no_grad():
        _, cache = model.run_with_cache(inputs, names_filter=lambda name: name == hook)
        z = cache[hook][:, :, component.index]  # [batch, pos, d_head]
        return (z @ model.blocks[component.layer].attn.W_O[component.index]).mean((0, 1))


def logit_effect(model: HookedTransformer, direction: torch.Tensor) -> torch.Tensor:
    """Direct effect of adding `direction` [d_model] to the final residual on each output logit
    [d_vocab_out], through the unembedding (LayerNorm's weight included, its scale ignored:
    exact for models without a final LayerNorm)."""
    with torch.no_grad():
        W_U = model.W_U  # [d_model, d_vocab_out]
        if model.cfg.normalization_type is not None and hasattr(model, "ln_final") and \
                hasattr(model.ln_final, "w"):
            W_U = model.ln_final.w[:, None] * W_U
        return direction @ W_U
