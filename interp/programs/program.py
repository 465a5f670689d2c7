"""A discrete Transformer Program: the argmax choices of a trained model as plain data, and
its exact batched forward pass over integer variable values (the reference every other form
— the hooked transformer, the decompiled Python, the decompiled RASP — is checked against).

Residual stream: categorical variables (one value index in [0, d_var) per position) and
numerical variables (a non-negative integer count per position). Categorical variables are,
in order, `tokens`, `positions`, then per layer its heads' outputs, categorical-MLP outputs
and numerical-MLP outputs; numerical variables are `ones`, then per layer its counting heads.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from interp.errors import InputError
from interp.programs.spec import rank_matrix

BOS = "<s>"
EOS = "</s>"


@dataclass
class ProgramShape:
    """Sizes and vocabularies of a Transformer Program."""

    tokens: list[str]  # input vocabulary; index 0 is BOS
    labels: list[str]  # output classes
    n_ctx: int  # longest input, BOS included
    n_layers: int = 1
    n_cat_heads: int = 1
    n_num_heads: int = 0
    n_cat_mlps: int = 0
    n_num_mlps: int = 0
    causal: bool = False
    d_mlp: int = 64  # hidden width of the soft MLPs (training only)

    def __post_init__(self) -> None:
        if not self.tokens or self.tokens[0] != BOS:
            raise InputError(f"the token vocabulary must start with {BOS!r}, got {self.tokens[:3]!r}.")
        for name in ("n_ctx", "n_layers"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be at least 1, got {getattr(self, name)}.")
        for name in ("n_cat_heads", "n_num_heads", "n_cat_mlps", "n_num_mlps"):
            if getattr(self, name) < 0:
                raise InputError(f"{name} must be >= 0, got {getattr(self, name)}.")

    @property
    def d_var(self) -> int:
        """Number of values of every categorical variable (the paper's d_var)."""
        return max(len(self.tokens), self.n_ctx)

    @property
    def n_counts(self) -> int:
        """Number of values a numerical variable can take (0..n_ctx)."""
        return self.n_ctx + 1

    def cat_vars_before(self, layer: int, after_attention: bool = False) -> int:
        """How many categorical variables exist when `layer` reads (its attention or its MLPs)."""
        per_layer = self.n_cat_heads + self.n_cat_mlps + self.n_num_mlps
        return 2 + layer * per_layer + (self.n_cat_heads if after_attention else 0)

    def num_vars_before(self, layer: int, after_attention: bool = False) -> int:
        """How many numerical variables exist when `layer` reads."""
        return 1 + layer * self.n_num_heads + (self.n_num_heads if after_attention else 0)

    def cat_var_names(self) -> list[str]:
        names = ["tokens", "positions"]
        for layer in range(self.n_layers):
            names += [f"attn_{layer}_{h}" for h in range(self.n_cat_heads)]
            names += [f"mlp_{layer}_{m}" for m in range(self.n_cat_mlps)]
            names += [f"num_mlp_{layer}_{m}" for m in range(self.n_num_mlps)]
        return names

    def num_var_names(self) -> list[str]:
        names = ["ones"]
        for layer in range(self.n_layers):
            names += [f"count_{layer}_{h}" for h in range(self.n_num_heads)]
        return names


@dataclass
class CatHead:
    """Reads variable `q` at the query, `k` at keys, copies `v` from the selected key."""

    q: int
    k: int
    v: int
    predicate: list[int]  # predicate[query value] = the key value it matches


@dataclass
class NumHead:
    """Counts the keys whose `k` value matches the query's `q` value (a selector width)."""

    q: int
    k: int
    predicate: list[int]


@dataclass
class LookupMLP:
    """out = table[a value][b value]; `a`, `b` index categorical (or numerical) variables."""

    a: int
    b: int
    table: list[list[int]]


@dataclass
class ProgramLayer:
    cat_heads: list[CatHead] = field(default_factory=list)
    num_heads: list[NumHead] = field(default_factory=list)
    cat_mlps: list[LookupMLP] = field(default_factory=list)
    num_mlps: list[LookupMLP] = field(default_factory=list)


@dataclass
class DiscreteProgram:
    """The exact program: discrete choices plus a linear read-out over all variables."""

    shape: ProgramShape
    layers: list[ProgramLayer]
    readout_cat: torch.Tensor  # [n_cat_vars, d_var, n_labels]
    readout_num: torch.Tensor  # [n_num_vars, n_labels]
    readout_bias: torch.Tensor  # [n_labels]
    # Display labels of each categorical variable's values (heads copy their v's labels).
    value_labels: list[list[Any]] = field(default_factory=list)
    # Variables (by name) held at a constant value index: components the simplifier removed.
    removed: dict[str, int] = field(default_factory=dict)
    # Over which inputs a simplified program was checked against the argmax program it came from
    # (a sentence; "" for the argmax program itself, which is exact by construction).
    checked: str = ""

    def __post_init__(self) -> None:
        self._check_ranges()
        if not self.value_labels:
            self.value_labels = cat_value_labels(self.shape, self.layers)

    def _check_ranges(self) -> None:
        """Predicates and tables must map into the d_var values of a categorical variable."""
        d = self.shape.d_var
        for index, layer in enumerate(self.layers):
            parts = [("head", h.predicate) for h in layer.cat_heads + layer.num_heads]
            mlps = layer.cat_mlps + layer.num_mlps
            parts += [("MLP table", [v for row in m.table for v in row]) for m in mlps]
            for what, values in parts:
                if values and not 0 <= min(values) <= max(values) < d:
                    raise InputError(f"layer {index}: a {what} maps outside the {d} values of a variable "
                                     f"(got {min(values)}..{max(values)}); values must lie in [0, {d}).")

    # ------------------------------------------------------------------ running
    def run(self, tokens: torch.Tensor, lengths: torch.Tensor | None = None) -> ProgramTrace:
        """Exact forward pass on token ids [batch, pos] (padded past `lengths`)."""
        shape = self.shape
        tokens = check_tokens(tokens, shape)
        batch, n = tokens.shape
        if lengths is None:
            lengths = torch.full((batch,), n)
        positions = torch.arange(n)
        key_ok = positions[None, None, :] < lengths[:, None, None]  # [b, q, k]
        if shape.causal:
            key_ok = key_ok & (positions[None, :] <= positions[:, None])[None]
        key_ok = key_ok.expand(batch, n, n)
        # Higher is better: matches ranked by the shared spec.
        priority = (2 * shape.n_ctx + 1) - rank_matrix(shape.n_ctx)[:n, :n]  # [q, k]
        cat = [tokens, positions.expand(batch, n)]
        num = [torch.ones(batch, n, dtype=torch.long)]
        cat_names, num_names = shape.cat_var_names(), shape.num_var_names()
        removed = self.removed

        def extend(values: list[torch.Tensor], new: list[torch.Tensor], names: list[str]) -> list:
            # A removed component's variable is a constant.
            start = len(values)
            return values + [
                torch.full_like(v, removed[names[start + i]]) if names[start + i] in removed else v
                for i, v in enumerate(new)
            ]

        for layer in self.layers:
            new_cat, new_num = [], []
            for head in layer.cat_heads:
                match = _match(head, cat, key_ok)
                score = torch.where(match, priority, torch.zeros_like(priority))
                best = score.argmax(-1)  # [b, q]
                best = torch.where(match.any(-1), best, torch.zeros_like(best))  # no match: BOS
                new_cat.append(cat[head.v].gather(1, best))
            for head in layer.num_heads:
                new_num.append(_match(head, cat, key_ok).sum(-1))
            cat, num = extend(cat, new_cat, cat_names), extend(num, new_num, num_names)
            outs = [_lookup(mlp, cat) for mlp in layer.cat_mlps]
            outs += [_lookup(mlp, num) for mlp in layer.num_mlps]
            cat = extend(cat, outs, cat_names)
        # float64 so that the decompiled Python (float64 sums) agrees on near-ties.
        logits = self.readout_bias.double().expand(batch, n, -1).clone()
        for index, values in enumerate(cat):
            logits += self.readout_cat[index].double()[values]
        for index, values in enumerate(num):
            logits += values[..., None].double() * self.readout_num[index].double()
        return ProgramTrace(cat=cat, num=num, logits=logits)

    def predict(self, tokens: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Predicted label ids [batch, pos]."""
        return self.run(tokens, lengths).logits.argmax(-1)

    # -------------------------------------------------------------- save/load
    def to_json(self) -> dict[str, Any]:
        """Plain JSON (read-out as nested lists)."""
        return {
            "shape": asdict(self.shape),
            "layers": [asdict(layer) for layer in self.layers],
            "readout_cat": self.readout_cat.tolist(),
            "readout_num": self.readout_num.tolist(),
            "readout_bias": self.readout_bias.tolist(),
            "removed": dict(self.removed),
            **({"checked": self.checked} if self.checked else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], where: str = "program JSON") -> DiscreteProgram:
        """Inverse of `to_json`; every field is checked first (CheckpointError naming `where`)."""
        from interp.programs.files import check_program_json

        check_program_json(data, where)
        layers = [
            ProgramLayer(
                cat_heads=[CatHead(**h) for h in layer["cat_heads"]],
                num_heads=[NumHead(**h) for h in layer["num_heads"]],
                cat_mlps=[LookupMLP(**m) for m in layer["cat_mlps"]],
                num_mlps=[LookupMLP(**m) for m in layer["num_mlps"]],
            )
            for layer in data["layers"]
        ]
        return cls(
            shape=ProgramShape(**data["shape"]),
            layers=layers,
            readout_cat=torch.tensor(data["readout_cat"], dtype=torch.float32),
            readout_num=torch.tensor(data["readout_num"], dtype=torch.float32),
            readout_bias=torch.tensor(data["readout_bias"], dtype=torch.float32),
            removed=dict(data.get("removed", {})),
            checked=data.get("checked", ""),
        )


@dataclass
class ProgramTrace:
    """Every variable's values [batch, pos] and the logits [batch, pos, n_labels]."""

    cat: list[torch.Tensor]
    num: list[torch.Tensor]
    logits: torch.Tensor


def _match(head: CatHead | NumHead, cat: list[torch.Tensor], key_ok: torch.Tensor) -> torch.Tensor:
    """[b, q, k] bool: key k's value is the one the query's value asks for."""
    wanted = torch.tensor(head.predicate)[cat[head.q]]  # [b, q]
    return (wanted[:, :, None] == cat[head.k][:, None, :]) & key_ok


def _lookup(mlp: LookupMLP, variables: list[torch.Tensor]) -> torch.Tensor:
    table = torch.tensor(mlp.table)
    a = variables[mlp.a].clamp(max=table.shape[0] - 1)
    b = variables[mlp.b].clamp(max=table.shape[1] - 1)
    return table[a, b]


def cat_value_labels(shape: ProgramShape, layers: list[ProgramLayer]) -> list[list[Any]]:
    """Display labels of each categorical variable's values (heads inherit their v's)."""
    d = shape.d_var
    labels: list[list[Any]] = [
        list(shape.tokens) + [f"<unused{i}>" for i in range(len(shape.tokens), d)],
        list(range(d)),
    ]
    for layer in layers:
        labels += [labels[head.v] for head in layer.cat_heads]
        labels += [list(range(d)) for _ in layer.cat_mlps]
        labels += [list(range(d)) for _ in layer.num_mlps]
    return labels


def check_tokens(tokens: torch.Tensor, shape: ProgramShape) -> torch.Tensor:
    """Validate token ids [batch, pos] against the program's vocabulary and context."""
    if tokens.dim() == 1:
        tokens = tokens.unsqueeze(0)
    if tokens.dim() != 2 or tokens.dtype.is_floating_point:
        raise InputError(
            f"expected integer token ids [batch, pos], got {tuple(tokens.shape)} {tokens.dtype}."
        )
    if tokens.shape[1] > shape.n_ctx:
        raise InputError(f"input has {tokens.shape[1]} positions; the program's context is {shape.n_ctx}.")
    if tokens.numel() and (tokens.min() < 0 or tokens.max() >= shape.d_var):
        raise InputError(f"token ids must lie in [0, {len(shape.tokens)}); got {tokens.max().item()}.")
    return tokens
