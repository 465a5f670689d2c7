"""The known-circuit benchmark: every discovery method on models whose circuit is known.

Model kinds per program, each scored against the truth the caller passes in (`interp
circuit-bench`: the minimal truth of the compile the model comes from — the compiled
circuit less the edges that change no output, interp/subjects/live_truth.py — so the same
truth `interp discover` and the dashboard use):
- "compiled": the default, optimised compile;
- "one_per_op": `compile_program(..., one_per_op=True)` (tracr's layout);
- "compressed": the one_per_op model with its residual stream compressed to half its
  width by a trained linear projection, folded into a plain transformer
  (interp.analysis.compression); same components, so the one_per_op truth;
- "siit": the shipped SIIT model of the program (interp.training.siit): an ordinary
  LayerNorm transformer with the one_per_op layout's layers and heads (plus any free
  heads), trained so that each compiled component's namesake implements it; the truth is
  the one_per_op compile's on those names, on inputs of the trained length
  (InterpBench's convention: the node-level alignment is enforced by training, the edges
  are the compiled model's).

Each row: edge-level ROC AUC (the method's scores), node-level ROC AUC (a node scores the
largest |score| of its edges), precision / recall of the kept edges at the method's
default threshold, faithfulness of the kept circuit (fraction of outputs unchanged with
every other edge ablated), wall and CPU seconds. `run_bench` appends rows to a JSONL file and skips
rows already there (resumable). Model-generic: the caller builds each `Subject`
(`interp circuit-bench` compiles, compresses and folds library programs).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interp.circuit import Circuit, Edge

KINDS = ("compiled", "one_per_op", "compressed", "siit")
ENDPOINTS = ("embed", "pos_embed", "logits")


@dataclass
class Subject:
    """One model with its known circuit and the inputs discovery runs on."""

    program: str
    kind: str
    model: Any  # HookedTransformer
    truth: Circuit
    batches: list  # token-id tensors, BOS first, one per length
    accuracy: float  # the model against the interpreter on held-out inputs
    d_model: int


def node_auc(scores: dict[Edge, float], truth: Circuit, candidates: Iterable[Edge]) -> float | None:
    """ROC AUC over components: a node scores the largest |score| of its candidate edges;
    positives are the truth's components (embeddings and logits left out)."""
    from interp.analysis.score import roc_auc

    best: dict[str, float] = {}
    for edge in candidates:
        s = abs(scores.get(edge, 0.0))
        for node in (edge.src, edge.dst):
            if node not in ENDPOINTS:
                best[node] = max(best.get(node, 0.0), s)
    positives = {n for n in truth.nodes if n not in ENDPOINTS}
    labels = [n in positives for n in best]
    if all(labels) or not any(labels):
        return None
    # roc_auc ranks any hashable keys; nodes stand in for edges here.
    return roc_auc(best, positives & set(best), list(best))  # type: ignore[arg-type]


def bench_row(subject: Subject, method: str, ablation: str = "zero", **options: Any) -> dict:
    """Run one discovery method on one subject and score it against the truth."""
    from interp.analysis.registry import default_threshold, find_circuit, score_circuit
    from interp.analysis.score import faithfulness

    cpu = time.process_time()
    found = find_circuit(method, subject.model, subject.batches, ablation=ablation, **options)
    cpu = time.process_time() - cpu  # the machine is shared: CPU time is what one idle core would take
    truth = set(subject.truth.edges)
    score = score_circuit(found, truth)
    faithful = faithfulness(subject.model, found.circuit, subject.batches, kind=ablation)
    return {
        "program": subject.program, "kind": subject.kind, "method": method,
        "ablation": ablation, "d_model": subject.d_model, "layers": subject.model.cfg.n_layers,
        "model_accuracy": round(subject.accuracy, 4),
        "candidates": score.candidate_edges, "truth": score.true_edges,
        "auc": score.auc, "node_auc": node_auc(found.circuit.scores, subject.truth,
                                                 found.candidates),
        "threshold": default_threshold(method) if options.get("threshold") is None
        else options["threshold"],
        "precision": score.precision, "recall": score.recall, "kept": score.kept_edges,
        "faithfulness": faithful, "seconds": round(score.seconds, 3), "cpu_seconds": round(cpu, 3),
    }


def row_key(row: dict) -> tuple:
    return (row["program"], row["kind"], row["method"], row["ablation"])


def done_rows(path: Path) -> list[dict]:
    """Rows already in the JSONL file (a torn last line is ignored, then redone)."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def run_bench(programs: Sequence[str], kinds: Sequence[str], methods: Sequence[str],
              out: Path, build: Callable[[str, str], Subject], *, ablation: str = "zero",
              on_row: Callable[[dict, bool], None] | None = None,
              **options: Any) -> list[dict]:
    """Every (program, kind, method) row, appended to `out` (JSONL); rows already there are
    read back, not rerun (`build(program, kind)` only runs when a row is missing).
    on_row(row, was_cached) is called once per row."""
    out.parent.mkdir(parents=True, exist_ok=True)
    cached = {row_key(r): r for r in done_rows(out)}
    rows = []
    for name in programs:
        for kind in kinds:
            todo = [m for m in methods if (name, kind, m, ablation) not in cached]
            subject = build(name, kind) if todo else None
            for method in methods:
                key = (name, kind, method, ablation)
                if key in cached:
                    row, was_cached = cached[key], True
                else:
                    row, was_cached = bench_row(subject, method, ablation, **options), False
                    with out.open("a") as f:
                        f.write(json.dumps(row) + "\n")
                rows.append(row)
                if on_row is not None:
                    on_row(row, was_cached)
    return rows


def summarize(rows: Sequence[dict]) -> list[dict]:
    """Mean edge AUC, node AUC, precision, recall, faithfulness and seconds per method and
    model kind (AUCs over the rows where they are defined)."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["method"], row["kind"]), []).append(row)

    def mean(values: list) -> float | None:
        values = [v for v in values if v is not None]
        return round(sum(values) / len(values), 3) if values else None

    return [{"method": method, "kind": kind, "rows": len(group),
             **{k: mean([r.get(k) for r in group])
                for k in ("auc", "node_auc", "precision", "recall", "faithfulness", "seconds",
                          "cpu_seconds")},
             "max_seconds": max(r["seconds"] for r in group),
             "max_cpu_seconds": max((r["cpu_seconds"] for r in group if r.get("cpu_seconds") is not None),
                                    default=None)}
            for (method, kind), group in sorted(groups.items())]
