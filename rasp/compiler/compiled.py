"""CompiledModel: the HookedTransformer of a RASP program, with decoding, checks and stats."""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from interp.circuit import Circuit
from interp.errors import CheckpointError, InputError
from interp.model import HookedTransformer, load_model
from rasp.compiler.batch_codec import run_batch_fast
from rasp.compiler.program_layout import ProgramLayout
from rasp.compiler.values import from_json
from rasp.errors import RASPError

EXHAUSTIVE_LIMIT = 10**5
VERIFY_PROGRESS_MIN = 5000  # inputs from which verify() shows a progress bar by default
VERIFY_CHUNK = 2000  # inputs per run_batch call in verify() (progress and memory only)


@dataclass
class Mismatch:
    """One position where the compiled model and the interpreter disagree."""

    input: list[Any]
    position: int
    expected: Any
    got: Any


@dataclass
class VerifyReport:
    """Result of comparing a compiled model with `rasp.evaluate`."""

    n_inputs: int
    n_positions: int
    exhaustive: bool
    n_skipped: int  # inputs the interpreter rejects (e.g. an Aggregate selecting two values)
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    @property
    def agreement(self) -> float:
        """Fraction of checked positions that agree."""
        return 1.0 - len(self.mismatches) / max(self.n_positions, 1)

    def __str__(self) -> str:
        head = (f"{self.n_inputs} inputs ({'exhaustive' if self.exhaustive else 'sampled'}), "
                f"{self.n_skipped} rejected by the interpreter, "
                f"{len(self.mismatches)} mismatching positions")
        shown = [f"  input={m.input} position={m.position} expected={m.expected!r} got={m.got!r}"
                 for m in self.mismatches[:20]]
        return "\n".join([head, *shown])


class CompiledModel:
    """A compiled RASP program: `.model`, `.run`, `.run_batch`, `.layout`, `.circuit()`, `.verify()`."""

    def __init__(self, model: HookedTransformer, layout: ProgramLayout, program: Any = None):
        self.model = model
        self.layout = layout
        self.program = program
        info = model.metadata["compiler"]
        self.vocab = [from_json(v) for v in info["vocab"]]
        self.bos = info["bos"]
        self.max_seq_len = info["max_seq_len"]
        self.causal = info["causal"]
        self.numerical_output = info["numerical_output"]
        self.output_values = [from_json(v) for v in info["output_values"]]
        self.compile_seconds = info.get("compile_seconds")
        self._sorted_outputs: list[Any] | None = None
        self._token_id = {_key(t): i + 1 for i, t in enumerate(self.vocab)}

    # ------------------------------------------------------------------ running
    def encode(self, tokens: Sequence[Any]) -> list[int]:
        """Token ids with BOS prepended; InputError for a bad token or length."""
        if isinstance(tokens, str):
            raise InputError(f"tokens must be a list, got the string {tokens!r}; pass {tokens.split()!r}")
        try:
            # Any iterable of tokens (a generator too) is read once into a list.
            tokens = list(tokens)
        except TypeError:
            raise InputError(f"tokens must be a list of tokens, got the "
                             f"{type(tokens).__name__} {tokens!r}") from None
        if len(tokens) == 0:
            raise InputError("the input is empty; give at least one token.")
        if len(tokens) > self.max_seq_len:
            raise InputError(f"the input has {len(tokens)} tokens but the model was compiled "
                             f"for max_seq_len={self.max_seq_len}; shorten it or recompile.")
        ids = [0]
        for position, token in enumerate(tokens):
            key = _key(token)
            try:
                known = key in self._token_id
            except TypeError:
                known = False  # an unhashable token (a list, a dict) is in no vocabulary
            if not known:
                raise InputError(f"token {token!r} at position {position} is not in the "
                                 f"vocabulary {self.vocab}.")
            ids.append(self._token_id[key])
        return ids

    def run(self, tokens: Sequence[Any]) -> list[Any]:
        """Decoded output at each input position (BOS added for you, not returned)."""
        return self.run_batch([tokens])[0]

    def run_batch(self, batch: Sequence[Sequence[Any]]) -> list[list[Any]]:
        """`run` for many inputs (grouped by length into batched forward passes)."""
        if isinstance(batch, str):
            raise InputError(f"run_batch needs a list of token lists, got the string {batch!r}")
        fast = run_batch_fast(self, batch)  # vectorised codec + fused forward (batch_codec)
        if fast is not None:
            return fast
        # The per-input path: inputs the fast path leaves (bad tokens get their InputError here).
        encoded = [self.encode(tokens) for tokens in batch]
        results: list[list[Any] | None] = [None] * len(batch)
        by_length: dict[int, list[int]] = {}
        for i, ids in enumerate(encoded):
            by_length.setdefault(len(ids), []).append(i)
        with torch.no_grad():
            for members in by_length.values():
                logits = self.model(torch.tensor([encoded[i] for i in members]))
                for row, i in zip(logits, members):
                    results[i] = self.decode(row[1:])
        return results  # type: ignore[return-value]

    def decode(self, logits: torch.Tensor) -> list[Any]:
        """Values from output logits [pos, d_out]: argmax (None below 0.5) or snapped numbers."""
        if self.numerical_output:
            return [self._snap(x) for x in logits[:, 0].tolist()]
        if not self.output_values:
            return [None] * logits.shape[0]
        best = logits.max(dim=-1)
        return [self.output_values[j] if v > 0.5 else None
                for j, v in zip(best.indices.tolist(), best.values.tolist())]

    def _snap(self, x: float) -> Any:
        if not self.output_values:
            return x
        if self._sorted_outputs is None:
            self._sorted_outputs = sorted(self.output_values)
        ordered = self._sorted_outputs
        i = bisect.bisect_left(ordered, x)
        nearest = min(ordered[max(i - 1, 0): i + 1], key=lambda v: abs(v - x))
        return nearest if abs(nearest - x) < 1e-2 * max(1.0, abs(nearest)) else x

    # ---------------------------------------------------------------- analysis
    def circuit(self) -> Circuit:
        """The structural data-flow circuit: `src -> dst.slot` wherever dst reads a residual
        direction src writes (see ProgramLayout.circuit). Some of those reads change no
        output on any input the program is run on; the minimal truth discovery is scored
        against (every edge changes some output on the stated inputs) is interp's
        `ground_truth()` / `live_truth()` (interp/subjects/live_truth.py)."""
        return self.layout.circuit()

    def stats(self) -> dict[str, Any]:
        """Model size: d_model, n_layers, n_heads, d_head, d_mlp, params, params_nonzero, compile time."""
        cfg = self.model.cfg
        return {
            "d_model": cfg.d_model,
            "n_layers": cfg.n_layers,
            "n_heads": cfg.n_heads,
            "d_head": cfg.d_head,
            "d_mlp": cfg.d_mlp or 0,
            "params": self.model.n_params(),
            # Heads share one d_head and layers one d_mlp, so many parameters are zero padding.
            "params_nonzero": sum(int((p != 0).sum()) for p in self.model.parameters()),
            "compile_seconds": self.compile_seconds,
        }

    def verify(self, n: int = 2000, exhaustive_if_small: bool = True, seed: int = 0,
               inputs: Sequence[Sequence[Any]] | None = None, progress: bool | None = None) -> VerifyReport:
        """Compare with `rasp.evaluate` on every input (if <= 1e5 of them) or `n` random ones.
        progress: a bar on stderr (True), none (False), or one only for many inputs (None)."""
        if self.program is None:
            raise InputError("verify needs the RASP program; this model was loaded without it.")
        from rasp.evaluate import evaluate

        exhaustive = False
        if inputs is None:
            total = sum(len(self.vocab) ** k for k in range(1, self.max_seq_len + 1))
            if exhaustive_if_small and total <= EXHAUSTIVE_LIMIT:
                exhaustive = True
                inputs = [list(t) for k in range(1, self.max_seq_len + 1)
                          for t in itertools.product(self.vocab, repeat=k)]
            else:
                rng = random.Random(seed)
                inputs = [[rng.choice(self.vocab) for _ in range(rng.randint(1, self.max_seq_len))]
                          for _ in range(n)]
        from tqdm.auto import tqdm

        valid, expected = [], []
        skipped = 0
        # 88,572 inputs (max_seq_len=10) take minutes: one bar for the interpreter, then the model.
        show = progress if progress is not None else len(inputs) >= VERIFY_PROGRESS_MIN
        bar = tqdm(total=len(inputs), desc="verify: interpreter", unit="input", disable=not show, leave=False)
        for tokens in inputs:
            try:
                # A causal model computes rasp.causal_eval (prefix semantics), as tracr's.
                expected.append(evaluate(self.program, list(tokens), causal=self.causal))
                valid.append(list(tokens))
            except RASPError:
                skipped += 1
            bar.update()
        bar.reset(total=len(valid))
        bar.set_description("verify: model")
        got: list[list[Any]] = []
        for start in range(0, len(valid), VERIFY_CHUNK):  # inputs do not interact: chunks change nothing
            got += self.run_batch(valid[start:start + VERIFY_CHUNK])
            bar.update(len(valid[start:start + VERIFY_CHUNK]))
        bar.close()
        report = VerifyReport(len(valid), sum(len(t) for t in valid), exhaustive, skipped)
        for tokens, want, have in zip(valid, expected, got):
            for position, (a, b) in enumerate(zip(want, have)):
                if not _same(a, b):
                    report.mismatches.append(Mismatch(tokens, position, a, b))
        return report

    # --------------------------------------------------------------- save/load
    def save(self, path: str | Path) -> Path:
        """Save the model (safetensors + JSON config); decoding info travels in metadata."""
        from interp.model import save_model

        return save_model(self.model, path)

    @classmethod
    def load(cls, path: str | Path) -> CompiledModel:
        """Load a saved compiled model; run/run_batch work without the program. CheckpointError
        (naming the field) when its compiler metadata cannot decode it, checked before the
        weights are read (the same checks as the front door, interp.subjects)."""
        from interp.model.checkpoint import read_header
        from interp.model.compiler_metadata import check_compiler_metadata

        check_compiler_metadata(read_header(path), path)
        model = load_model(path)
        try:
            layout = ProgramLayout.from_json(model.metadata["layout"], model.residual_labels)
            return cls(model, layout)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
            # The weights loaded (load_model checks them); what failed is the decoding metadata.
            raise CheckpointError(f"{path}: corrupt compiler metadata in config.json "
                                  f"({type(err).__name__}: {err}); compile it again.") from err


def _key(token: Any) -> Any:
    # Tokens are matched by value and type, so 1 and "1" stay different tokens.
    return (type(token).__name__ if not isinstance(token, bool) else "bool", token)


def _same(expected: Any, got: Any) -> bool:
    if expected is None or got is None:
        return expected is None and got is None
    if isinstance(expected, float) or isinstance(got, float):
        try:
            return abs(float(expected) - float(got)) <= 1e-6 * max(1.0, abs(float(expected)))
        except (TypeError, ValueError):
            return False
    return expected == got
