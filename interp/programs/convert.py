"""Lossless conversion of a `DiscreteProgram` into the project's one model class, so hooks,
caches, every analysis and the dashboard work on a trained Transformer Program.

The converted model reads ``[<sink>] + tokens``: a dedicated first position whose residual is
kept clean, like a compiled RASP model's BOS. Each program layer becomes two blocks:

* block 2l — every head of the layer (``attention_kind="hard"``: uniform over the top keys).
  A categorical head scores ``C * match - rank(q, k)`` on real keys and ``C / 2`` on the sink,
  so the best-ranked match wins and the sink wins when nothing matches; the sink's value is a
  "no match" flag. A companion head always attends to BOS and copies the value variable there
  into scratch directions, and this block's MLP writes that BOS value where the flag is set
  (relu(flag + bos_j - 1)): no match -> BOS, exactly `interp.programs.spec`. A counting head
  scores ``C`` on matches and on the sink, whose value is 1: it writes 1/(width+1), and this
  block's MLP decodes that into a one-hot count. The MLP also erases the scratch directions
  everywhere and what the heads wrote at the sink position.
* block 2l+1 — no attention (zero weights); its MLP holds the layer's lookup tables, one
  neuron per input pair: relu(a_i + b_j - 1) is 1 exactly when a = i and b = j.

Numerical variables are stored one-hot over 0..n_ctx, so the read-out stays linear and exact.
"""

from __future__ import annotations

import torch

from interp.errors import InputError
from interp.model import HookedTransformer, ModelConfig
from interp.model.labels import ResidualLabel, ResidualLabels
from interp.programs.program import DiscreteProgram
from interp.programs.spec import rank

SINK = "<sink>"
_GATE = 1e6  # kills every MLP neuron at the sink position


class _Layout:
    """Residual directions: sink, categorical variables, one-hot counts, raw count inputs, and
    per categorical head its no-match flag and the value at BOS (scratch, erased by its MLP)."""

    def __init__(self, program: DiscreteProgram):
        shape = program.shape
        self.labels: list[ResidualLabel] = []
        self.sink = self._add("sink", True, 0)
        self.cat: list[list[int]] = []
        cat_names = shape.cat_var_names()
        per_layer = shape.n_cat_heads + shape.n_cat_mlps + shape.n_num_mlps
        for index, name in enumerate(cat_names):
            first = 0
            if index >= 2:
                layer, offset = divmod(index - 2, per_layer)
                # A head's output is complete after its block's MLP (the no-match case).
                first = 4 * layer + (2 if offset < shape.n_cat_heads else 4)
            values = program.value_labels[index]
            self.cat.append([self._add(name, values[j], first) for j in range(shape.d_var)])
        self.num: list[list[int]] = []
        self.raw: list[int] = []
        for index, name in enumerate(shape.num_var_names()):
            layer = (index - 1) // max(shape.n_num_heads, 1)
            first = 0 if index == 0 else 4 * layer + 2
            self.num.append([self._add(name, w, first) for w in range(shape.n_counts)])
            if index:
                self.raw.append(self._add(f"{name}_raw", None, 4 * layer + 1, numerical=True))
        self.nomatch: list[int] = []  # per categorical head, in layer order
        self.at_bos: list[list[int]] = []
        for layer in range(shape.n_layers):
            for h in range(shape.n_cat_heads):
                var = shape.cat_vars_before(layer) + h
                name, stage = cat_names[var], 4 * layer + 1
                self.nomatch.append(self._add(f"{name}_nomatch", None, stage, numerical=True, last=stage))
                values = program.value_labels[var]
                self.at_bos.append([self._add(f"{name}_at_bos", values[j], stage, last=stage)
                                    for j in range(shape.d_var)])

    def _add(self, variable: str, value, first: int, numerical: bool = False, last: int | None = None) -> int:
        index = len(self.labels)
        label = ResidualLabel(index, variable, value, numerical, first_stage=first, last_stage=last)
        self.labels.append(label)
        return index

    @property
    def d_model(self) -> int:
        return len(self.labels)


def to_hooked(program: DiscreteProgram) -> HookedTransformer:
    """The program as an `interp.model.HookedTransformer` (input: [<sink>] + tokens)."""
    shape = program.shape
    if program.removed:
        raise InputError("convert the exact (unsimplified) program: the simplified one holds "
                         f"{sorted(program.removed)} constant, which the weights do not express.")
    layout = _Layout(program)
    n, d = shape.n_ctx, shape.d_var
    n_heads = max(2 * shape.n_cat_heads + shape.n_num_heads, 1)  # + one BOS-copy head per categorical
    d_head = d + n + 1
    mlps = [_attention_mlp(program, layout, layer) for layer in range(shape.n_layers)]
    mlps += [_lookup_mlp(program, layout, layer) for layer in range(shape.n_layers)]
    d_mlp = max([w_in.shape[1] for w_in, _ in mlps] + [1])
    cfg = ModelConfig(
        n_layers=2 * shape.n_layers, d_model=layout.d_model, n_ctx=n + 1,
        d_vocab=len(shape.tokens) + 1, n_heads=n_heads, d_head=d_head, d_mlp=d_mlp,
        d_vocab_out=len(shape.labels), causal=shape.causal, attention_kind="hard", attn_scale=1.0,
        vocab=[*shape.tokens, SINK], vocab_out=list(shape.labels), model_name="transformer-program",
        bos_token=SINK,  # to_tokens prepends it, as hooked_predict does
    )
    labels = ResidualLabels(layout.labels, layout.d_model)
    model = HookedTransformer(cfg, labels=labels, metadata={"producer": "transformer_program"})
    with torch.no_grad():
        for param in model.parameters():
            param.zero_()
        _embed(model, program, layout)
        for layer in range(shape.n_layers):
            _heads(model.blocks[2 * layer].attn, program, layout, layer)
            for block, (w_in, w_out) in ((model.blocks[2 * layer], mlps[layer]),
                                         (model.blocks[2 * layer + 1], mlps[shape.n_layers + layer])):
                block.mlp.W_in[:, : w_in.shape[1]] = w_in[:-1]
                block.mlp.b_in[: w_in.shape[1]] = w_in[-1]
                block.mlp.W_out[: w_out.shape[0]] = w_out
        _readout(model, program, layout)
    return model


def _embed(model: HookedTransformer, program: DiscreteProgram, layout: _Layout) -> None:
    shape = program.shape
    for token in range(len(shape.tokens)):
        model.embed.W_E[token, layout.cat[0][token]] = 1.0
        model.embed.W_E[token, layout.num[0][1]] = 1.0  # ones = 1
    model.embed.W_E[len(shape.tokens), layout.sink] = 1.0
    for position in range(shape.n_ctx):
        model.pos_embed.W_pos[position + 1, layout.cat[1][position]] = 1.0


def _heads(attn, program: DiscreteProgram, layout: _Layout, layer: int) -> None:
    shape = program.shape
    n, d = shape.n_ctx, shape.d_var
    big = 4.0 * n + 4.0  # any match (>= big - 2n) beats the sink (big/2) beats any non-match (<= 0)
    pos_dims, sink_coord = layout.cat[1], d + n
    spec = program.layers[layer]
    heads = [(h, False) for h in spec.cat_heads] + [(h, True) for h in spec.num_heads]
    raw = iter(layout.raw[layer * shape.n_num_heads :])
    first_head = layer * shape.n_cat_heads
    for slot, (head, counts) in enumerate(heads):
        for value, wanted in enumerate(head.predicate):
            attn.W_Q[slot, layout.cat[head.q][value], wanted] = big
        for value in range(d):
            attn.W_K[slot, layout.cat[head.k][value], value] = 1.0
        attn.W_K[slot, layout.sink, sink_coord] = 1.0
        for position in range(n):
            attn.W_Q[slot, pos_dims[position], sink_coord] = big if counts else big / 2
        if counts:
            attn.W_V[slot, layout.sink, 0] = 1.0
            attn.W_O[slot, 0, next(raw)] = 1.0
            continue
        attn.W_V[slot, layout.sink, d] = 1.0  # the no-match flag
        attn.W_O[slot, d, layout.nomatch[first_head + slot]] = 1.0
        for q_pos in range(n):
            attn.W_Q[slot, pos_dims[q_pos], d + q_pos] = 1.0
            for k_pos in range(n):
                attn.W_K[slot, pos_dims[k_pos], d + q_pos] = -float(rank(q_pos, k_pos, n))
        for value in range(d):
            attn.W_V[slot, layout.cat[head.v][value], value] = 1.0
        out_var = shape.cat_vars_before(layer) + slot
        for value in range(d):
            attn.W_O[slot, value, layout.cat[out_var][value]] = 1.0
    # BOS-copy heads: score C on BOS (the only key with position 0), 0 elsewhere and on the sink.
    for h, head in enumerate(spec.cat_heads):
        slot = len(heads) + h
        for position in range(n):
            attn.W_Q[slot, pos_dims[position], 0] = big
        attn.W_K[slot, pos_dims[0], 0] = 1.0
        for value in range(d):
            attn.W_V[slot, layout.cat[head.v][value], value] = 1.0
            attn.W_O[slot, value, layout.at_bos[first_head + h][value]] = 1.0


def _attention_mlp(
    program: DiscreteProgram, layout: _Layout, layer: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode 1/(w+1) into one-hot counts; erase the heads' writes at the sink.

    Returns (W_in with b_in as its last row [d_model+1, neurons], W_out [neurons, d_model]).
    """
    shape = program.shape
    columns: list[torch.Tensor] = []
    rows: list[torch.Tensor] = []

    def neuron(weights: dict[int, float], bias: float, out: dict[int, float], gated: bool = True) -> None:
        col = torch.zeros(layout.d_model + 1)
        for index, w in weights.items():
            col[index] += w
        col[-1] = bias
        if gated:
            col[layout.sink] -= _GATE
        row = torch.zeros(layout.d_model)
        for index, w in out.items():
            row[index] += w
        columns.append(col)
        rows.append(row)

    n_counts = shape.n_counts
    us = [1.0 / (w + 1) for w in range(n_counts)]
    first_count = 1 + layer * shape.n_num_heads
    real = {p: 1.0 for p in layout.cat[1][: shape.n_ctx]}  # 1 at every real position
    for h in range(shape.n_num_heads):
        onehot = layout.num[first_count + h]
        u = layout.raw[layer * shape.n_num_heads + h]
        # G_w = [count <= w] = clamp((u - t_w) / eps, 0, 1); one-hot[w] = G_w - G_{w-1}.
        for w in range(n_counts - 1):
            t, eps = (us[w] + us[w + 1]) / 2, (us[w] - us[w + 1]) / 4
            out = {onehot[w]: 1.0, onehot[w + 1]: -1.0}
            neuron({u: 1 / eps}, -t / eps, out)
            neuron({u: 1 / eps}, -t / eps - 1, {k: -v for k, v in out.items()})
        neuron(real, 0.0, {onehot[n_counts - 1]: 1.0})
    # No match: write the value at BOS. Then erase the scratch everywhere (exact: relu(x) - relu(-x)).
    first_head = layer * shape.n_cat_heads
    for h in range(shape.n_cat_heads):
        flag, at_bos = layout.nomatch[first_head + h], layout.at_bos[first_head + h]
        out_dims = layout.cat[shape.cat_vars_before(layer) + h]
        for value in range(shape.d_var):
            neuron({flag: 1.0, at_bos[value]: 1.0}, -1.0, {out_dims[value]: 1.0})
        for index in [flag, *at_bos]:
            for sign in (1.0, -1.0):
                neuron({index: sign}, 0.0, {index: -sign}, gated=False)
    # Erase at the sink whatever this layer's heads wrote there (relu(x) - relu(-x) = x). The
    # gate is -10 per position one-hot (0 at the sink, 1 elsewhere): no large constant is added
    # at the sink, so the erasure is exact in float32 and the sink stays exactly clean.
    written = [i for v in range(shape.n_cat_heads) for i in layout.cat[shape.cat_vars_before(layer) + v]]
    written += layout.raw[layer * shape.n_num_heads : (layer + 1) * shape.n_num_heads]
    not_sink = {p: -10.0 for p in layout.cat[1][: shape.n_ctx]}
    for index in written:
        for sign in (1.0, -1.0):
            neuron({**not_sink, index: sign}, 0.0, {index: -sign}, gated=False)
    return _stack(columns, rows, layout.d_model)


def _lookup_mlp(
    program: DiscreteProgram, layout: _Layout, layer: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """One neuron per input pair of each lookup table: relu(a_i + b_j - 1)."""
    shape = program.shape
    columns: list[torch.Tensor] = []
    rows: list[torch.Tensor] = []
    spec = program.layers[layer]
    first_out = shape.cat_vars_before(layer, after_attention=True)
    tables = [(m, layout.cat) for m in spec.cat_mlps] + [(m, layout.num) for m in spec.num_mlps]
    for slot, (mlp, variables) in enumerate(tables):
        out_dims = layout.cat[first_out + slot]
        for i, row in enumerate(mlp.table):
            for j, value in enumerate(row):
                col = torch.zeros(layout.d_model + 1)
                col[variables[mlp.a][i]] += 1.0
                col[variables[mlp.b][j]] += 1.0
                col[layout.sink] -= _GATE
                col[-1] = -1.0
                out = torch.zeros(layout.d_model)
                out[out_dims[value]] = 1.0
                columns.append(col)
                rows.append(out)
    return _stack(columns, rows, layout.d_model)


def _stack(columns: list[torch.Tensor], rows: list[torch.Tensor], d_model: int):
    if not columns:
        return torch.zeros(d_model + 1, 0), torch.zeros(0, d_model)
    return torch.stack(columns, 1), torch.stack(rows, 0)


def _readout(model: HookedTransformer, program: DiscreteProgram, layout: _Layout) -> None:
    for var, dims in enumerate(layout.cat):
        model.unembed.W_U[dims] = program.readout_cat[var]
    for var, dims in enumerate(layout.num):
        for w, index in enumerate(dims):
            model.unembed.W_U[index] = w * program.readout_num[var]
    model.unembed.b_U.copy_(program.readout_bias)


def hooked_predict(model: HookedTransformer, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Label ids [batch, pos] from the converted model (one forward per distinct length; pad = -1)."""
    sink = model.cfg.d_vocab - 1
    out = torch.full(tokens.shape, -1, dtype=torch.long)
    with torch.no_grad():
        for length in lengths.unique().tolist():
            rows = (lengths == length).nonzero().squeeze(1)
            batch = torch.cat([torch.full((len(rows), 1), sink), tokens[rows, :length]], 1)
            out[rows, :length] = model(batch)[:, 1:].argmax(-1)
    return out
