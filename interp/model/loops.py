"""Weight-shared layer groups: one group of blocks applied several times (a Universal
Transformer's loop, as compiled RASP loops emit).

Config fields `loop_start`, `loop_layers`, `loop_steps` say that blocks
`loop_start + t * loop_layers + j` (t = 1 .. loop_steps - 1) reuse the parameter tensors of
block `loop_start + j`. Every application keeps its own block module, so its hooks have
their own names (`blocks.{L}.hook_resid_post` per application) and caches, patching and
the dashboard see each step; only the parameters are shared. The tying is rebuilt from the
config whenever a model is built, so a saved and loaded model stays tied.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from interp.errors import ConfigError, InputError

if TYPE_CHECKING:
    from interp.model.config import ModelConfig

LOOP_FIELDS = ("loop_start", "loop_layers", "loop_steps")


def check_loop_fields(cfg: ModelConfig) -> None:
    """Raise ConfigError unless the loop fields are all unset or describe blocks that exist."""
    values = [getattr(cfg, name) for name in LOOP_FIELDS]
    if all(v is None for v in values):
        return
    if any(v is None for v in values):
        raise ConfigError(f"loop fields {dict(zip(LOOP_FIELDS, values))} must be set together "
                          "(or all left null for a model without a loop).")
    end = cfg.loop_start + cfg.loop_layers * cfg.loop_steps
    if cfg.loop_layers < 1 or cfg.loop_steps < 1 or end > cfg.n_layers:
        raise ConfigError(
            f"loop_start={cfg.loop_start}, loop_layers={cfg.loop_layers}, "
            f"loop_steps={cfg.loop_steps} need {end} layers (at least one layer, one step) "
            f"but n_layers={cfg.n_layers}.")


def source_layer(cfg: ModelConfig, layer: int) -> int:
    """The block whose parameters block `layer` uses (itself unless it repeats a loop layer)."""
    if cfg.loop_start is None:
        return layer
    offset = layer - cfg.loop_start
    if 0 <= offset < cfg.loop_layers * cfg.loop_steps:
        return cfg.loop_start + offset % cfg.loop_layers
    return layer


def loop_application(cfg: ModelConfig, layer: int) -> int | None:
    """Which application of the loop (0-based) block `layer` belongs to, or None."""
    if cfg.loop_start is None:
        return None
    offset = layer - cfg.loop_start
    if 0 <= offset < cfg.loop_layers * cfg.loop_steps:
        return offset // cfg.loop_layers
    return None


def tie_loop_blocks(blocks: nn.ModuleList, cfg: ModelConfig) -> None:
    """Make every repeated loop block use its first application's parameter tensors."""
    for layer, block in enumerate(blocks):
        source = source_layer(cfg, layer)
        if source == layer:
            continue
        for name, param in list(blocks[source].named_parameters()):
            *path, leaf = name.split(".")
            owner = block
            for part in path:
                owner = getattr(owner, part)
            setattr(owner, leaf, param)  # registers the same nn.Parameter object


def forward_with_steps(model: Any, inputs: Any, steps: int) -> torch.Tensor:
    """Logits [batch, pos, d_vocab_out] with the loop applied `steps` times (0 .. loop_steps)
    instead of all of them: the first `steps` applications, then the blocks after the loop.

    The loop count chosen at run time, up to the compiled cap (same weights, same hooks for
    the blocks that run)."""
    cfg = model.cfg
    if cfg.loop_start is None:
        raise InputError("this model has no loop (cfg.loop_start is None); run it as it is.")
    if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= cfg.loop_steps:
        raise InputError(f"steps={steps!r}: the loop can run 0 to {cfg.loop_steps} times "
                         "(its compiled cap).")
    if steps == cfg.loop_steps:
        return model(inputs)
    resume = cfg.loop_start + cfg.loop_steps * cfg.loop_layers  # first block after the loop
    resid = model(inputs, stop_at_layer=cfg.loop_start + steps * cfg.loop_layers)
    if resume == cfg.n_layers:
        return model.unembed(model.ln_final(resid))
    return model(resid, start_at_layer=resume)
