"""Names for residual-stream directions: which basis direction holds which variable and value.

A compiled RASP model writes categorical variable `sort` with value 3 into one
basis direction (label `sort:3`) and numerical variable `frac` into one direction
whose magnitude is the value (label `frac`). A compiler that reuses directions
once a variable is dead gives each label the range of residual *stages* where it
holds: stage 0 is the embedding output, stage 2l+1 is `blocks.l.hook_resid_mid`,
stage 2l+2 is `blocks.l.hook_resid_post` (numbering defined in `interp.circuit.residual_stage`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from interp.circuit import residual_stage as stage_of
from interp.errors import InputError

Scalar = str | int | float | bool | None

_RESID_HOOK = re.compile(r"^blocks\.(\d+)\.hook_resid_(pre|mid|post)$")


def residual_stage(hook_name: str) -> int:
    """Stage number of a residual hook name (see `interp.circuit.residual_stage`)."""
    match = _RESID_HOOK.match(hook_name)
    if not match:
        raise InputError(f"{hook_name!r} is not a residual hook (blocks.L.hook_resid_pre|mid|post).")
    return stage_of(int(match.group(1)), match.group(2))


@dataclass(frozen=True)
class ResidualLabel:
    """One residual direction's meaning, valid over stages [first_stage, last_stage]."""

    index: int
    variable: str
    value: Scalar = None
    numerical: bool = False
    first_stage: int = 0
    last_stage: int | None = None  # None: to the end of the model

    def __str__(self) -> str:
        return self.variable if self.numerical else f"{self.variable}:{self.value}"

    def holds_at(self, stage: int | None) -> bool:
        """Whether this label describes its direction at residual `stage` (None: any)."""
        if stage is None:
            return True
        last = self.last_stage if self.last_stage is not None else stage
        return self.first_stage <= stage <= last

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "variable": self.variable,
            "value": self.value,
            "numerical": self.numerical,
            "first_stage": self.first_stage,
            "last_stage": self.last_stage,
        }


class ResidualLabels:
    """All residual labels of a model, with readers that decode named variables."""

    def __init__(self, labels: Sequence[ResidualLabel], d_model: int):
        for label in labels:
            if not 0 <= label.index < d_model:
                raise InputError(f"label {label} points at direction {label.index} >= d_model={d_model}.")
        self.labels = list(labels)
        self.d_model = d_model

    @classmethod
    def from_names(cls, names: Sequence[str], numerical: Sequence[str] = ()) -> ResidualLabels:
        """Labels from one `variable:value` (or `variable` for numerical) string per direction."""
        labels = []
        for index, name in enumerate(names):
            variable, sep, value = name.partition(":")
            is_numerical = not sep or variable in numerical
            labels.append(
                ResidualLabel(index, variable, None if is_numerical else value, is_numerical)
            )
        return cls(labels, len(names))

    def names(self, stage: int | None = None) -> list[str]:
        """One display name per direction (`?` where nothing is labelled at that stage)."""
        out = ["?"] * self.d_model
        for label in self.labels:
            if label.holds_at(stage):
                out[label.index] = str(label) if out[label.index] == "?" else f"{out[label.index]}|{label}"
        return out

    def variables(self, stage: int | None = None) -> list[str]:
        """Variable names in first-appearance order."""
        seen: dict[str, None] = {}
        for label in self.labels:
            if label.holds_at(stage):
                seen.setdefault(label.variable, None)
        return list(seen)

    def of(self, variable: str, stage: int | None = None) -> list[ResidualLabel]:
        """The labels of one variable (one per value; a single one if numerical)."""
        found = [lb for lb in self.labels if lb.variable == variable and lb.holds_at(stage)]
        if not found:
            known = ", ".join(self.variables(stage)) or "none"
            raise InputError(
                f"no residual direction holds variable {variable!r}"
                + (f" at stage {stage}" if stage is not None else "")
                + f"; labelled variables: {known}."
            )
        return found

    def read(self, resid: torch.Tensor, variable: str, stage: int | None = None) -> list:
        """Decode `variable` from a residual activation [..., d_model] into nested lists.

        Categorical: the value whose direction is largest, or None where no direction
        is above 0.5 (a RASP None). Numerical: the direction's magnitude.
        """
        labels = self.of(variable, stage)
        if resid.shape[-1] != self.d_model:
            raise InputError(f"residual has width {resid.shape[-1]}, labels expect {self.d_model}.")
        if labels[0].numerical:
            return resid[..., labels[0].index].tolist()
        picked = resid[..., [lb.index for lb in labels]]
        best = picked.max(dim=-1)
        values = [lb.value for lb in labels]
        flat = [
            values[i] if v > 0.5 else None
            for i, v in zip(best.indices.flatten().tolist(), best.values.flatten().tolist())
        ]
        return _reshape(flat, list(resid.shape[:-1]))

    def to_json(self) -> list[dict[str, Any]]:
        return [label.to_json() for label in self.labels]

    @classmethod
    def from_json(cls, data: list[dict[str, Any]], d_model: int) -> ResidualLabels:
        return cls([ResidualLabel(**item) for item in data], d_model)

    def __len__(self) -> int:
        return len(self.labels)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ResidualLabels)
            and self.labels == other.labels
            and self.d_model == other.d_model
        )


def _reshape(flat: list, shape: list[int]) -> list:
    """Nest a flat list into `shape` (plain-Python equivalent of Tensor.reshape)."""
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return flat
    step = len(flat) // shape[0]
    return [_reshape(flat[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]
