"""Hand a model to TransformerLens: convert to `TransformerBridge.boot_native` with equal logits."""

from __future__ import annotations

import torch

from interp.errors import ConfigError
from interp.model.hooked import HookedTransformer


def to_transformer_bridge(model: HookedTransformer):
    """A TransformerLens `TransformerBridge` computing the same logits as `model`.

    Only standard models convert: softmax attention, token inputs and a learned
    positional embedding, as TransformerLens' native architecture has.
    """
    # Imported here: booting the bridge machinery is slow and most users never need it.
    import transformer_lens.model_bridge.sources  # noqa: F401  (attaches boot_native)
    from transformer_lens.config import TransformerBridgeConfig
    from transformer_lens.model_bridge import TransformerBridge
    from transformer_lens.utilities.tl_checkpoint_conversion import convert_tl_checkpoint

    cfg = model.cfg
    problems = []
    if cfg.attention_kind != "softmax":
        problems.append(f"attention_kind={cfg.attention_kind!r} (needs 'softmax')")
    if cfg.d_input is not None:
        problems.append("vector inputs (d_input is set; needs token inputs)")
    if cfg.positional_embedding != "learned":
        problems.append("no positional embedding (needs a learned one)")
    if cfg.attn_scale is not None:
        problems.append("a custom attn_scale (needs the default sqrt(d_head))")
    if cfg.act_fn == "identity":
        problems.append("act_fn='identity' (TransformerLens has no identity activation)")
    if problems:
        raise ConfigError("cannot convert to a TransformerBridge: " + "; ".join(problems) + ".")
    bridge_cfg = TransformerBridgeConfig(
        d_model=cfg.d_model,
        n_layers=cfg.n_layers,
        n_ctx=cfg.n_ctx,
        d_vocab=cfg.d_vocab,
        d_vocab_out=cfg.d_vocab_out,
        n_heads=cfg.n_heads,
        d_head=cfg.d_head,
        d_mlp=cfg.d_mlp,
        attn_only=cfg.attn_only,
        act_fn=cfg.act_fn,
        normalization_type=cfg.normalization_type,
        attention_dir=cfg.attention_dir,
        eps=cfg.eps,
        init_weights=False,
    )
    bridge = TransformerBridge.boot_native(bridge_cfg)
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if cfg.normalization_type is None:
        # TL's native model has Identity norms: nothing to carry over.
        state = {k: v for k, v in state.items() if ".ln" not in k and not k.startswith("ln_")}
    converted = convert_tl_checkpoint(state, bridge_cfg)
    with torch.no_grad():
        result = bridge.load_state_dict(converted, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise ConfigError(
            f"TransformerBridge weights did not line up (missing {result.missing_keys[:5]}, "
            f"unexpected {result.unexpected_keys[:5]})."
        )
    bridge.eval()
    return bridge
