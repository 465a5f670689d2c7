"""Per-head attention scores: how much attention each head puts on the keys a mechanism names.
The previous-token score (key = query - 1) and the induction score (keys right after an earlier
occurrence of the query's token: Olsson et al. 2022; Edelman et al. 2024's in-context bigram
statistics) are the two used to find induction circuits."""

from __future__ import annotations

import torch

from interp.errors import InputError
from interp.model import HookedTransformer

SCORES = ("previous_token", "induction")


def previous_token_mask(tokens: torch.Tensor) -> torch.Tensor:
    """[batch, query, key] True where key = query - 1 (query 0 has no target)."""
    batch, length = tokens.shape
    mask = torch.zeros(length, length, dtype=torch.bool)
    mask[torch.arange(1, length), torch.arange(length - 1)] = True
    return mask.expand(batch, length, length)


def induction_mask(tokens: torch.Tensor) -> torch.Tensor:
    """[batch, query, key] True where 1 <= key <= query and tokens[key - 1] == tokens[query]: the
    keys whose token followed an earlier occurrence of the query's token (the in-context bigram
    statistics for predicting what comes after the query)."""
    batch, length = tokens.shape
    mask = torch.zeros(batch, length, length, dtype=torch.bool)
    mask[:, :, 1:] = tokens[:, None, :-1] == tokens[:, :, None]  # [b, q, key-1]
    return mask & torch.ones(length, length, dtype=torch.bool).tril()


def attention_mass(patterns: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean attention on the masked keys over the query rows that have at least one masked key.

    patterns [batch, heads, query, key] and mask [batch, query, key] -> [heads]."""
    if patterns.shape[0] != mask.shape[0] or patterns.shape[-2:] != mask.shape[-2:]:
        raise InputError(f"patterns {tuple(patterns.shape)} and mask {tuple(mask.shape)} do not match: "
                         "expected [batch, heads, query, key] and [batch, query, key].")
    rows = mask.any(-1)  # [batch, query]
    if not rows.any():
        raise InputError("no query has a target key (e.g. no token repeats): use longer or more sequences.")
    mass = (patterns * mask[:, None]).sum(-1)  # [batch, heads, query]
    return (mass * rows[:, None]).sum((0, 2)) / rows.sum()


def uniform_attention_mass(mask: torch.Tensor) -> float:
    """What a causal head attending uniformly (1 / (query + 1) per key) would score on `mask`."""
    length = mask.shape[-1]
    uniform = torch.ones(length, length).tril() / torch.arange(1, length + 1)[:, None]  # [query, key]
    return attention_mass(uniform.expand(mask.shape[0], 1, length, length), mask).item()


def score_mask(kind: str, tokens: torch.Tensor) -> torch.Tensor:
    """The [batch, query, key] mask of a score kind ("previous_token" or "induction")."""
    if kind == "previous_token":
        return previous_token_mask(tokens)
    if kind == "induction":
        return induction_mask(tokens)
    raise InputError(f"unknown head score {kind!r}; choose one of {list(SCORES)}.")


def score_heads(model: HookedTransformer, tokens: torch.Tensor, kind: str) -> torch.Tensor:
    """Score of every head on `tokens` [batch, pos]: [n_layers, n_heads] attention mass on the
    mask of `kind` (1 = all attention where the mechanism says, uniform_attention_mass = none)."""
    mask = score_mask(kind, tokens)
    with torch.no_grad():
        _, cache = model.run_with_cache(tokens, names_filter=lambda name: name.endswith("hook_pattern"))
    return torch.stack([attention_mass(cache[f"blocks.{layer}.attn.hook_pattern"], mask)
                        for layer in range(model.cfg.n_layers)])
