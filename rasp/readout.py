"""`ArgmaxReadout`: a transformer's unembedding as one RASP SOp.

At each position the label with the highest score, where the scores are `bias` plus, for each
input SOp, the score row of its value there: argmax(bias + rows[0][x0] + rows[1][x1] + ...).
The sum runs left to right in float64, bias first, and ties go to the first label (like
Python's `max` over label indices). A None input gives None (RASP's rule for Maps).

As a chain of Maps the same read-out would list every reachable score vector (the product of
the inputs' value sets), which no compiler can tabulate; a transformer computes it with one
linear map. `rasp.compiler` compiles it that way (lookups writing each row into the output's
logits), so it must be the program's output.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rasp import core
from rasp.errors import RASPError


class ArgmaxReadout(core.SOp):
    """argmax over `labels` of bias + one score row per input value (first label on ties)."""

    kind = "argmax_readout"

    def __init__(self, inputs: Sequence[core.SOp], rows: Sequence[Mapping[Any, Sequence[float]]],
                 bias: Sequence[float], labels: Sequence[Any]):
        super().__init__()
        if not labels:
            raise RASPError("ArgmaxReadout: needs at least one label")
        if len(rows) != len(inputs):
            raise RASPError(f"ArgmaxReadout: {len(inputs)} inputs but {len(rows)} score tables; "
                            "give one table (value -> score row) per input")
        for position, sop in enumerate(inputs):
            if not isinstance(sop, core.SOp):
                raise RASPError(f"ArgmaxReadout: input {position} must be an SOp, got {sop!r}")
        if len(set(labels)) != len(labels):
            raise RASPError(f"ArgmaxReadout: labels must be distinct, got {list(labels)!r}")
        self.inputs = list(inputs)
        self.rows = [{value: tuple(float(w) for w in row) for value, row in table.items()} for table in rows]
        self.bias = tuple(float(b) for b in bias)
        self.labels = list(labels)
        for position, table in enumerate(self.rows):
            for value, row in table.items():
                if len(row) != len(self.labels):
                    raise RASPError(f"ArgmaxReadout: the score row of value {value!r} of input {position} "
                                    f"has {len(row)} entries for {len(self.labels)} labels")
        if len(self.bias) != len(self.labels):
            raise RASPError(f"ArgmaxReadout: bias has {len(self.bias)} entries for {len(self.labels)} labels")

    @property
    def children(self) -> list[core.RASPExpr]:
        return list(self.inputs)

    def scores(self, *values: Any) -> list[float]:
        """bias + the rows of `values`, added left to right in float64."""
        scores = list(self.bias)
        for position, (table, value) in enumerate(zip(self.rows, values)):
            row = table.get(value)
            if row is None:
                raise RASPError(f"ArgmaxReadout '{self.label}': input {position} "
                                f"({self.inputs[position].label}) has value {value!r}, which has no "
                                f"score row (rows exist for {sorted(table, key=repr)!r})")
            scores = [s + w for s, w in zip(scores, row)]
        return scores

    def apply(self, *values: Any) -> Any:
        """The label of the highest score (the first on ties)."""
        scores = self.scores(*values)
        return self.labels[max(range(len(scores)), key=scores.__getitem__)]
