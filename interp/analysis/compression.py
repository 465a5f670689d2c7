"""Learned compression of a compiled model's residual stream (tracr paper, section 5).

Every write to the residual stream (the embeddings, each attention and MLP output) is
encoded to `width` dimensions and added there; every read (each block's input, the
unembedding) decodes the compressed stream back to d_model. The encoder is linear
(W_down, d_model -> width) so writes still add; the decoder is W_up (width -> d_model),
plus, with `nonlinear=True`, a small ReLU layer. The model's weights stay frozen; the
projection is trained on the model's own activations (every residual state) and outputs.

    comp = train_compression(compiled, width=12, inputs=train)
    report = evaluate_compression(compiled, comp, test, reference)  # reference(tokens): outputs

`compiled` is a `rasp.compiler.CompiledModel` (read through its model, layout, encode and
decode; this module never imports the compiler); `reference` gives the expected outputs,
e.g. `lambda tokens: rasp.evaluate(program, tokens)`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from interp.errors import InputError


class Compression(nn.Module):
    """Linear encoder W_down [d, k]; decoder W_up [k, d] (+ a ReLU layer if nonlinear)."""

    def __init__(self, d_model: int, width: int, nonlinear: bool = False, hidden: int = 0):
        super().__init__()
        self.width = width
        self.W_down = nn.Parameter(torch.zeros(d_model, width))
        self.W_up = nn.Parameter(torch.zeros(width, d_model))
        self.nonlinear = nonlinear
        hidden = hidden or 2 * width
        self.dec_in = nn.Linear(width, hidden) if nonlinear else None
        self.dec_out = nn.Linear(hidden, d_model) if nonlinear else None
        if self.dec_out is not None:
            nn.init.zeros_(self.dec_out.weight)  # starts as the linear decoder
            nn.init.zeros_(self.dec_out.bias)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """[..., d_model] -> [..., width]."""
        return x @ self.W_down

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """[..., width] -> [..., d_model]."""
        out = z @ self.W_up
        if self.dec_in is not None and self.dec_out is not None:
            out = out + self.dec_out(torch.relu(self.dec_in(z)))
        return out


def _hook_names(n_layers: int, attn_only: bool) -> list[str]:
    names = ["blocks.0.hook_resid_pre"]
    for layer in range(n_layers):
        names.append(f"blocks.{layer}.hook_attn_out")
        if not attn_only:
            names.append(f"blocks.{layer}.hook_mlp_out")
    return names


def compressed_forward(model: Any, comp: Compression, ids: torch.Tensor,
                       keep_resid: bool = False) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Logits [b, p, d_out] of the model with its residual stream compressed, and (if
    keep_resid) the decoded residual after each block [b, p, d_model]."""
    state: dict[str, torch.Tensor] = {}
    resid: list[torch.Tensor] = []

    def embed(x: torch.Tensor, hook: Any) -> torch.Tensor:
        state["z"] = comp.encode(x)  # [b, p, width]
        state["r"] = comp.decode(state["z"])
        return state["r"]

    def write(out: torch.Tensor, hook: Any) -> torch.Tensor:
        # The block adds `out` to the decoded stream; return what makes the sum the decoding
        # of the compressed stream plus the encoded write.
        state["z"] = state["z"] + comp.encode(out)
        new = comp.decode(state["z"])
        delta = new - state["r"]
        state["r"] = new
        # The residual after each block: after its MLP (after its attention if attn-only).
        if keep_resid and hook.name.endswith("attn_out" if model.cfg.attn_only else "mlp_out"):
            resid.append(new)
        return delta

    names = _hook_names(model.cfg.n_layers, model.cfg.attn_only)
    hooks = [(names[0], embed)] + [(name, write) for name in names[1:]]
    logits = model.run_with_hooks(ids, fwd_hooks=hooks)
    return logits, resid


def _check(compiled: Any) -> None:
    cfg = compiled.model.cfg
    if getattr(cfg, "loop_steps", None):
        raise InputError("compression of looped models is not supported (their blocks share "
                         "weights); compile the program without rasp.loop")
    if cfg.normalization_type is not None:
        raise InputError("compression needs a compiled model without LayerNorm")


def _by_length(compiled: Any, inputs: Sequence[Sequence[Any]]) -> list[torch.Tensor]:
    groups: dict[int, list[list[int]]] = {}
    for tokens in inputs:
        ids = compiled.encode(tokens)
        groups.setdefault(len(ids), []).append(ids)
    return [torch.tensor(rows) for rows in groups.values()]


def _targets(compiled: Any, ids: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The uncompressed model's logits and residual after each block."""
    model = compiled.model
    names = [f"blocks.{layer}.hook_resid_post" for layer in range(model.cfg.n_layers)]
    with torch.no_grad():
        logits, cache = model.run_with_cache(ids, names_filter=lambda n: n in names)
    return logits, [cache[n] for n in names]


def _pca_init(compiled: Any, comp: Compression, batches: list[torch.Tensor]) -> None:
    """Start from the top principal directions of everything written to the stream."""
    model = compiled.model
    names = _hook_names(model.cfg.n_layers, model.cfg.attn_only)
    rows = []
    with torch.no_grad():
        for ids in batches:
            _, cache = model.run_with_cache(ids, names_filter=lambda n: n in names)
            rows += [cache[n].reshape(-1, model.cfg.d_model) for n in names]
        data = torch.cat(rows)  # [samples, d_model]
        _, _, vh = torch.linalg.svd(data, full_matrices=False)
        k = min(comp.width, vh.shape[0])
        basis = torch.zeros(model.cfg.d_model, comp.width)
        basis[:, :k] = vh[:k].T
        comp.W_down.copy_(basis)
        comp.W_up.copy_(basis.T)


def train_compression(compiled: Any, width: int, inputs: Sequence[Sequence[Any]], *,
                      steps: int = 1000, lr: float = 1e-2, nonlinear: bool = False,
                      resid_weight: float = 1.0, seed: int = 0) -> Compression:
    """Train a projection to `width` dims on the model's own residuals and logits."""
    _check(compiled)
    d_model = compiled.model.cfg.d_model
    if not 1 <= width <= d_model:
        raise InputError(f"width={width} must be between 1 and d_model={d_model}")
    torch.manual_seed(seed)
    comp = Compression(d_model, width, nonlinear)
    batches = _by_length(compiled, inputs)
    _pca_init(compiled, comp, batches)
    targets = [_targets(compiled, ids) for ids in batches]
    for p in compiled.model.parameters():
        p.requires_grad_(False)
    opt = torch.optim.Adam(comp.parameters(), lr=lr)
    # Cosine decay: the compiled model's sharp attention and staircases need a precise end.
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(steps, 1))
    rng = random.Random(seed)
    for _ in range(steps):
        i = rng.randrange(len(batches))
        logits_ref, resid_ref = targets[i]
        logits, resid = compressed_forward(compiled.model, comp, batches[i], keep_resid=True)
        loss = nn.functional.mse_loss(logits[:, 1:], logits_ref[:, 1:])
        if resid_weight and resid:
            loss = loss + resid_weight * sum(
                nn.functional.mse_loss(a[:, 1:], b[:, 1:]) for a, b in zip(resid, resid_ref)
            ) / len(resid)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return comp


@dataclass
class CompressionReport:
    """Accuracy of the compressed model against the interpreter, and per-variable
    reconstruction of the compiled residual (at the last residual state, positions after
    BOS): `decoded` = fraction of positions whose value reads back the same (categorical:
    the arg-max direction, None when no direction exceeds 0.5; numerical: within 5%),
    `rel_error` = ||compressed - compiled||^2 / ||compiled||^2 over its directions."""

    width: int
    d_model: int
    accuracy: float  # fraction of inputs whose every output equals the interpreter's
    token_accuracy: float  # fraction of positions
    variables: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"width": self.width, "d_model": self.d_model, "accuracy": self.accuracy,
                "token_accuracy": self.token_accuracy, "variables": self.variables}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return abs(a - b) <= 1e-6 * max(1.0, abs(b))
    return a == b


def evaluate_compression(compiled: Any, comp: Compression, inputs: Sequence[Sequence[Any]],
                         reference: Callable[[list], list]) -> CompressionReport:
    """Accuracy against `reference(tokens)` (the interpreter's outputs) and per-variable
    reconstruction on `inputs`."""
    _check(compiled)
    layout = compiled.layout
    n_ok = n_pos = pos_ok = 0
    stats: dict[str, list[float]] = {name: [0.0, 0.0, 0.0, 0.0] for name in layout.directions
                                     if name != "bos"}
    labels = compiled.model.residual_labels
    numerical = {lab.variable for lab in labels.labels if lab.numerical} if labels else set()
    for ids in _by_length(compiled, inputs):
        with torch.no_grad():
            logits, resid = compressed_forward(compiled.model, comp, ids, keep_resid=True)
            _, resid_ref = _targets(compiled, ids)
        vocab = compiled.vocab
        for row, seq in zip(logits, ids.tolist()):
            tokens = [vocab[i - 1] for i in seq[1:]]
            expected = reference(tokens)
            got = compiled.decode(row[1:])
            agree = [_same(g, e) for g, e in zip(got, expected)]
            n_ok += all(agree)
            pos_ok += sum(agree)
            n_pos += len(agree)
        final, final_ref = resid[-1][:, 1:], resid_ref[-1][:, 1:]  # [b, p, d_model]
        for name, s in stats.items():
            dirs = layout.directions[name]
            a, b = final[..., dirs], final_ref[..., dirs]  # [b, p, w]
            s[0] += float(((a - b) ** 2).sum())
            s[1] += float((b ** 2).sum())
            if name in numerical:
                same = (a - b).abs() <= 0.05 * b.abs().clamp(min=1.0)
                s[2] += float(same.all(-1).sum())
            else:
                read_a = torch.where(a.max(-1).values > 0.5, a.argmax(-1), -1)
                read_b = torch.where(b.max(-1).values > 0.5, b.argmax(-1), -1)
                s[2] += float((read_a == read_b).sum())
            s[3] += a.shape[0] * a.shape[1]
    variables = {name: {"rel_error": round(s[0] / max(s[1], 1e-12), 6),
                        "decoded": round(s[2] / max(s[3], 1), 6)} for name, s in stats.items()}
    return CompressionReport(comp.width, compiled.model.cfg.d_model, n_ok / max(len(inputs), 1),
                             pos_ok / max(n_pos, 1), variables)


def width_curve(compiled: Any, widths: Sequence[int], train: Sequence[Sequence[Any]],
                test: Sequence[Sequence[Any]], reference: Callable[[list], list],
                **train_kw: Any) -> list[CompressionReport]:
    """Train and evaluate one compression per width (the accuracy-vs-width curve)."""
    return [evaluate_compression(compiled, train_compression(compiled, w, train, **train_kw), test,
                                 reference) for w in widths]


def smallest_width(reports: Sequence[CompressionReport], bar: float = 0.99) -> int | None:
    """The smallest width whose accuracy reaches `bar` (None if none does)."""
    ok = [r.width for r in reports if r.accuracy >= bar]
    return min(ok) if ok else None


def fold_compression(compiled: Any, comp: Compression) -> Any:
    """A plain HookedTransformer of width `comp.width` computing the compressed model (linear
    compression only): writes multiplied by W_down, reads by W_up. Same components as the
    compiled model, so its ground-truth circuit is the compiled one's."""
    from dataclasses import replace

    from interp.model import HookedTransformer

    _check(compiled)
    if comp.nonlinear:
        raise InputError("only a linear compression folds into a transformer; train it with "
                         "nonlinear=False")
    model = compiled.model
    cfg = replace(model.cfg, d_model=comp.width)
    folded = HookedTransformer(cfg, metadata={**model.metadata, "compressed_width": comp.width})
    down, up = comp.W_down.detach(), comp.W_up.detach()  # [d, k], [k, d]
    state = {}
    for name, value in model.state_dict().items():
        value = value.detach()
        if name in ("embed.W_E", "pos_embed.W_pos") or name.endswith(("mlp.W_out", "mlp.b_out",
                                                                      "attn.b_O")):
            value = value @ down  # writes: [..., d] -> [..., k]
        elif name.endswith("attn.W_O"):
            value = value @ down  # [h, d_head, d] -> [h, d_head, k]
        elif name.endswith(("attn.W_Q", "attn.W_K", "attn.W_V")):
            value = torch.einsum("kd,hde->hke", up, value)  # [h, k, d_head]
        elif name.endswith("mlp.W_in") or name == "unembed.W_U":
            value = up @ value  # reads: [d, ...] -> [k, ...]
        state[name] = value
    folded.load_state_dict(state)
    return folded
