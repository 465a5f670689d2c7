"""Decomposition: per-component contributions to the residual stream and to chosen logits,
the logit lens, labelled attention patterns and (for labelled models) a residual readout.

Built on TransformerLens' ActivationCache (`get_full_resid_decomposition`, `logit_attrs`,
`logit_lens`) so the numbers are the ones a TL user would get.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from transformer_lens.ActivationCache import ActivationCache

from interp.circuit import residual_stage
from interp.errors import InputError
from interp.model import HookedTransformer


def residual_components(
    cache: ActivationCache,
    layer: int | None = None,
    expand_neurons: bool = False,
    mlp_input: bool = False,
) -> tuple[torch.Tensor, list[str]]:
    """Every component's contribution to the residual stream before `layer` (None: final):
    [n_components, batch, pos, d_model] and labels (heads, MLPs or neurons, embeds, bias).
    The components sum to the residual stream."""
    if cache.model.cfg.attn_only:
        expand_neurons = False
    stack, labels = cache.get_full_resid_decomposition(
        layer=layer, mlp_input=mlp_input, expand_neurons=expand_neurons, return_labels=True
    )
    # Speak the component-graph vocabulary (interp.circuit): TL's `0_mlp_out` is `MLP0`.
    return stack, [_node_label(label) for label in labels]


def _node_label(label: str) -> str:
    layer, _, rest = label.partition("_")
    return f"MLP{layer}" if rest == "mlp_out" and layer.isdigit() else label


def direct_logit_attribution(
    cache: ActivationCache,
    tokens: Any,
    incorrect_tokens: Any = None,
    expand_neurons: bool = False,
) -> tuple[torch.Tensor, list[str]]:
    """Each component's direct effect on the logit of `tokens` (minus `incorrect_tokens`):
    [n_components, batch, pos] and labels; TL's `cache.logit_attrs` on the full decomposition.

    The attributions plus the effective unembedding bias (`b_U`, plus `ln_final.b @ W_U` with
    LayerNorm: the `b_U` of `model.fold_ln()`) sum to the logit (difference). LayerNorm is
    the frozen final scale of this run, and `ln_final.w` is part of the token directions
    (`tokens_to_residual_directions`), so unfolded LN models are exact too."""
    stack, labels = residual_components(cache, expand_neurons=expand_neurons)
    if isinstance(tokens, int):
        tokens = torch.tensor(tokens)
    if isinstance(incorrect_tokens, int):
        incorrect_tokens = torch.tensor(incorrect_tokens)
    return cache.logit_attrs(stack, tokens, incorrect_tokens), labels


def logit_lens(cache: ActivationCache) -> tuple[torch.Tensor, list[str]]:
    """Logits read off the accumulated residual stream after every sublayer (TL's
    `cache.logit_lens` over all positions): [n_stages, batch, pos, d_vocab_out] and labels."""
    result = cache.logit_lens(incl_mid=True, positions=None)
    return result.values.detach(), list(result.labels)


@dataclass
class LabelledPattern:
    """One head's attention weights [query, key] with a label per query and key position."""

    layer: int
    head: int
    weights: torch.Tensor
    query_labels: list[str]
    key_labels: list[str]

    def to_text(self, digits: int = 2) -> str:
        """A plain-text grid (rows: queries, columns: keys)."""
        width = max(len(s) for s in self.key_labels + self.query_labels) + 1
        head = " " * width + "".join(k.rjust(width) for k in self.key_labels)
        rows = [
            q.rjust(width) + "".join(f"{w:.{digits}f}".rjust(width) for w in row.tolist())
            for q, row in zip(self.query_labels, self.weights)
        ]
        return "\n".join([head, *rows])


def attention_patterns(
    model: HookedTransformer, cache: ActivationCache, inputs: Any, row: int = 0
) -> list[LabelledPattern]:
    """Attention pattern of every head for batch row `row`, labelled with `token@pos`."""
    labels = position_labels(model, inputs, row)
    out = []
    for layer in range(model.cfg.n_layers):
        pattern = cache[f"blocks.{layer}.attn.hook_pattern"][row]
        for head in range(model.cfg.n_heads):
            out.append(LabelledPattern(layer, head, pattern[head].detach(), labels, labels))
    return out


def position_labels(model: HookedTransformer, inputs: Any, row: int = 0) -> list[str]:
    """`token@pos` per position (just `pos` for vector-input models)."""
    tokens = model.validate_inputs(inputs)
    if model.cfg.d_input is not None:
        return [f"@{p}" for p in range(tokens.shape[1])]
    names = model.to_str_tokens(tokens[row])
    return [f"{name}@{p}" for p, name in enumerate(names)]


@dataclass
class ResidualReadout:
    """Decoded value of every labelled variable at every position after every sublayer."""

    hooks: list[str]
    stages: list[int]
    variables: list[str]
    # values[hook][variable] = one decoded value per position, or None where the variable
    # is not held in the residual stream at that stage.
    values: dict[str, dict[str, list | None]]

    def to_text(self) -> str:
        """A table: one row per (stage, position), one column per variable."""
        header = ["stage", "hook", "pos", *self.variables]
        lines = [header]
        for hook, stage in zip(self.hooks, self.stages):
            columns = self.values[hook]
            n_pos = max((len(v) for v in columns.values() if v is not None), default=0)
            for pos in range(n_pos):
                cells = [
                    "" if columns[var] is None else _fmt(columns[var][pos]) for var in self.variables
                ]
                lines.append([str(stage), hook, str(pos), *cells])
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths)) for line in lines)


def residual_readout(model: HookedTransformer, inputs: Any, row: int = 0) -> ResidualReadout:
    """Read every labelled variable out of the residual stream after every sublayer."""
    labels = model.residual_labels
    if labels is None:
        raise InputError("this model has no residual labels; residual_readout needs a compiled model.")
    places = [(0, "pre")] + [(layer, w) for layer in range(model.cfg.n_layers) for w in ("mid", "post")]
    hooks = [f"blocks.{layer}.hook_resid_{where}" for layer, where in places]
    stages = [residual_stage(layer, where) for layer, where in places]
    with torch.no_grad():
        _, cache = model.run_with_cache(inputs, names_filter=lambda name: name in hooks)
    variables = labels.variables()
    values: dict[str, dict[str, list | None]] = {}
    for hook, stage in zip(hooks, stages):
        resid = cache[hook][row]
        held = set(labels.variables(stage))
        values[hook] = {
            var: labels.read(resid, var, stage) if var in held else None for var in variables
        }
    return ResidualReadout(hooks, stages, variables, values)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return "·" if value is None else str(value)
