"""An in-context regression model (vector inputs, one real read-out) as a subject: prompts
drawn from the task it was trained on (its d, k, noise), corruptions that resample the task
vector or the query, squared error as the metric and R^2 as faithfulness.

An input is a prompt: points (xs [n, d], ys [n]); the last point is the query. Typed as JSON
({"xs": [[...], ...], "ys": [...]}), a path to such a JSON file, or `seed=N` for the task's
N-th sampled prompt.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interp.errors import InputError
from interp.subjects.base import AnalysisInputs, Subject

if TYPE_CHECKING:
    import torch

    from interp.circuit import Circuit
    from interp.model import HookedTransformer
    from interp.tasks.regression import RegressionTask

Prompt = tuple["torch.Tensor", "torch.Tensor"]  # xs [n, d], ys [n]
ROWS = 8  # prompts per `per_length` (the prompt length is the task's)


class RegressionSubject(Subject):
    """A model trained on in-context regression (interp.tasks.regression)."""

    kind = "in-context regression model"

    def __init__(self, model: HookedTransformer, task: RegressionTask, title: str):
        super().__init__(model, title, [], task.n_points)
        self.task = task

    @property
    def reads_vectors(self) -> bool:
        return True

    def input_hint(self) -> str:
        return (f'a prompt: JSON {{"xs": [[x1..x{self.task.d}], ...], "ys": [...]}} (the last point is '
                f"the query; at most {self.task.n_points} points), a .json file holding it, or seed=N")

    def parse_input(self, text: str) -> Prompt:
        import torch

        text = text.strip()
        if text.startswith("seed="):
            digits = text[5:]
            if not digits.isascii() or not digits.isdigit() or int(digits) > 2**63 - 1:
                raise InputError(f"{text!r}: write seed=N with an integer N from 0 to 2**63 - 1.")
            return self._prompt(int(digits))
        if not text.startswith("{"):
            path = Path(text)
            if not path.is_file():
                raise InputError(f"{text!r} is neither JSON, seed=N, nor a JSON file; " + self.input_hint())
            text = path.read_text()
        try:
            data = json.loads(text)
            xs = torch.tensor(data["xs"], dtype=torch.float32)
            ys = torch.tensor(data["ys"], dtype=torch.float32)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
            raise InputError(f"unreadable prompt ({type(err).__name__}: {err}); "
                             + self.input_hint()) from None
        self.encode((xs, ys))  # checks shapes, finiteness and length
        return xs, ys

    def format_input(self, inputs: Prompt) -> str:
        xs, ys = inputs
        return json.dumps({"xs": xs.tolist(), "ys": ys.tolist()})

    def show_input(self, inputs: Prompt) -> str:
        xs, ys = inputs
        return json.dumps({"xs": _rounded(xs.tolist()), "ys": _rounded(ys.tolist())})

    def _prompt(self, seed: int) -> Prompt:
        prompts = self.task.prompts(1, seed=seed)
        return prompts.xs[0], prompts.ys[0]

    def sample(self, rng: random.Random, length: int | None = None) -> Prompt:
        return self._prompt(rng.randrange(2**31))

    def encode(self, inputs: Prompt) -> tuple[list[str], torch.Tensor]:
        from interp.evaluation.icl_prompt import encode_points, position_names

        xs, ys = inputs
        if len(xs) > self.task.n_points:
            raise InputError(f"the prompt has {len(xs)} points; this model reads at most "
                             f"{self.task.n_points}.")
        encoded = encode_points(self.task, xs, ys)  # [1, seq, d_input]
        return position_names(self.task, len(xs)), self.model.validate_inputs(encoded)

    def decode(self, logits: torch.Tensor) -> list[Any]:
        scored = set(self.answer_positions(logits.shape[1]))
        return [float(v) if i in scored else None for i, v in enumerate(logits[0, :, 0].tolist())]

    def answer_positions(self, n_positions: int) -> list[int]:
        """Positions whose read-out predicts a y: every x (garg encoding), the query (oswald)."""
        if self.task.encoding == "garg":
            return list(range(0, n_positions, 2))
        return [n_positions - 1]

    # ------------------------------------------------------------- corruptions
    def corruptions(self) -> dict[str, Any]:
        return {"resample the task vector w": self._resample_weights,
                "resample the query x": self._resample_query}

    def _resample_weights(self, inputs: Prompt, seed: int) -> Prompt:
        """Same xs, ys of a fresh task vector w (relu-net tasks: a fresh function)."""
        xs, _ = inputs
        fresh = self.task.prompts(1, seed=seed + 7919)
        if fresh.weights is None:
            return self._resample_query(inputs, seed)
        return xs, xs @ fresh.weights[0]

    def _resample_query(self, inputs: Prompt, seed: int) -> Prompt:
        """A fresh query point x (its y follows the prompt's least-squares w)."""
        import torch

        xs, ys = inputs
        fresh = self.task.prompts(1, seed=seed + 104729)
        w = torch.zeros(xs.shape[1])
        if len(xs) > 1:
            w = torch.linalg.lstsq(xs[:-1], ys[:-1, None]).solution[:, 0]
        query = fresh.xs[0, -1]
        return torch.cat([xs[:-1], query[None]]), torch.cat([ys[:-1], (query @ w)[None]])

    def _corrupt_batch(self, xs: torch.Tensor, seed: int) -> torch.Tensor:
        """ys of a fresh task vector for each row's xs [n, points, d] -> [n, points]."""
        fresh = self.task.prompts(xs.shape[0], seed=seed)
        if fresh.weights is None:
            return fresh.ys
        return (xs * fresh.weights[:, None, :]).sum(-1)  # [n, points]

    # ----------------------------------------------------------------- metrics
    def patch_metrics(self) -> dict[str, Any]:
        return {"squared error to the clean prediction": _squared_error_patch}

    def discovery_metric(self, positions: list[int] | None) -> Any:
        from interp.analysis.metrics import mean_squared_error

        return lambda clean: mean_squared_error(clean, positions)

    def analysis_inputs(self, per_length: int, seed: int = 0) -> AnalysisInputs:
        """Prompts of the task and the same xs with a fresh task vector (resample ablation)."""
        from interp.tasks.regression import RegressionPrompts

        prompts = self.task.prompts(ROWS * per_length, seed=seed)
        clean, _ = self.task.encode(prompts)  # [n, seq, d_input]
        ys = self._corrupt_batch(prompts.xs, seed + 1)
        corrupted, _ = self.task.encode(RegressionPrompts(prompts.xs, ys, None))
        return AnalysisInputs([clean], [corrupted], "resample", self.answer_positions(clean.shape[1]))

    def faithfulness(self, circuit: Circuit, inputs: AnalysisInputs, ablation: str, seed: int = 0) -> float:
        """R^2 of the circuit's predictions against the full model's at the scored positions:
        1 - mean (circuit - full)^2 / variance of full (1: the same predictions)."""
        from interp.subjects.base import circuit_runs

        errors, spread = 0.0, 0.0
        for full, pruned in circuit_runs(self.model, circuit, inputs, ablation, seed):
            full, pruned = full[:, inputs.positions, 0], pruned[:, inputs.positions, 0]
            errors += (pruned - full).pow(2).sum().item()
            spread += (full - full.mean()).pow(2).sum().item()
        return 1.0 - errors / spread if spread > 0 else float(errors == 0)

    def output_change(self, full: torch.Tensor, changed: torch.Tensor,
                      positions: list[int] | None) -> tuple[str, str, float]:
        """The mean squared change of the predictions at the scored positions."""
        chosen = list(range(full.shape[1])) if positions is None else positions
        change = (changed[:, chosen, 0] - full[:, chosen, 0]).pow(2).mean().item()
        return "squared_error", "mean squared change of the predictions", change

    def faithfulness_meaning(self) -> str:
        return "R^2 of the circuit's predictions against the full model's (1: identical)"

    def describe(self) -> dict[str, Any]:
        task = self.task
        return {**super().describe(), "task": task.name, "d": task.d, "n_points": task.n_points,
                "encoding": task.encoding, "noise_std": task.noise_std}


def _squared_error_patch(clean_logits: torch.Tensor, corrupted_logits: torch.Tensor, positions: Any) -> Any:
    """Mean squared distance of the read-out to the clean run's at `positions` (0 on clean)."""
    from interp.analysis.metrics import mean_squared_error

    del corrupted_logits
    return mean_squared_error(clean_logits, positions)


def _rounded(values: Any) -> Any:
    """Floats (also in nested lists) at 4 significant digits, for display only."""
    if isinstance(values, list):
        return [_rounded(v) for v in values]
    return float(f"{values:.4g}")
