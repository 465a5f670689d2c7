"""Circuit discovery against the compiler's ground truth: every compiled library program
x method (ACDC, EAP, EAP-IG with 20 steps) x ablation (zero, mean, resample) -> ROC AUC,
precision, recall, time.

    .venv/bin/python benchmarks/discovery.py [--programs reverse,frac_prevs] [--json]

`auc` scores against `CompiledModel.circuit()` (every edge whose destination reads a
residual direction its source writes, register-reuse edges included). `auc_adj` scores
against that circuit minus its *inert* edges (removing one alone, under zero ablation,
changes no output on the benchmark inputs: reads the behaviour never depends on, which no
behavioural method can find); inert edges are also dropped from the candidates there.
Inputs: 8 per length for lengths 1, 2, 3, 4, n/2, n-1, n (n = max_seq_len).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import torch

from interp.analysis import acdc, eap, precision_recall, roc_auc
from interp.analysis.score import inert_edges
from interp.circuit import Circuit
from interp.errors import InterpError
from rasp.compiler.batches import program_batches

METHODS = ("acdc", "eap", "eap-ig")
IG_STEPS = 20
ABLATIONS = ("zero", "mean", "resample")


def lengths_for(max_len: int) -> list[int]:
    return sorted({n for n in (1, 2, 3, 4, max_len // 2, max_len - 1, max_len) if 1 <= n <= max_len})


def run_program(name: str, entry) -> list[dict]:
    from rasp.compiler import compile_program

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = compile_program(entry.build(), entry.vocab, entry.max_seq_len)
    batches = program_batches(compiled, entry.sample, lengths_for(entry.max_seq_len), per_length=8)
    model = compiled.model
    truth = set(compiled.circuit().edges)
    candidates = Circuit.full(model.cfg).edges
    n_components = len([n for n in compiled.circuit().nodes if n not in ("embed", "pos_embed", "logits")])
    inert = inert_edges(model, truth, batches)
    adjusted = truth - inert
    adjusted_candidates = [e for e in candidates if e not in inert]
    rows = []
    for method in METHODS:
        for ablation in ABLATIONS:
            start = time.perf_counter()
            if method == "acdc":
                found = acdc(model, batches, ablation=ablation, progress=False)
            else:
                steps = IG_STEPS if method == "eap-ig" else 0
                found = eap(model, batches, ablation=ablation, ig_steps=steps)
            seconds = time.perf_counter() - start
            precision, recall = precision_recall(found.edges, truth)
            row = {
                "program": name, "method": method, "ablation": ablation,
                "layers": model.cfg.n_layers, "components": n_components,
                "candidates": len(candidates), "truth": len(truth), "inert": len(inert),
                "auc": _auc(found.scores, truth, candidates),
                "auc_adj": _auc(found.scores, adjusted, adjusted_candidates),
                "precision": precision, "recall": recall, "edges": len(found.edges),
                "seconds": seconds,
            }
            rows.append(row)
    return rows


def _auc(scores, truth, candidates) -> float | None:
    try:
        return roc_auc(scores, truth, candidates)
    except InterpError:
        return None  # no positives or no negatives: AUC undefined


def _fmt(x) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def main() -> None:
    from rasp.lib import PROGRAMS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", help="comma-separated library names (default: all)")
    parser.add_argument("--json", action="store_true", help="also print every row as JSON")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (default 1: these models are tiny, and more threads "
                        "than free cores makes every small matmul wait)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    names = args.programs.split(",") if args.programs else sorted(PROGRAMS)
    header = ("program", "layers", "comp", "edges", "truth", "inert", "method",
              "ablation", "auc", "auc_adj", "prec", "recall", "kept", "seconds")
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    all_rows = []
    for name in names:
        try:
            rows = run_program(name, PROGRAMS[name])
        except InterpError as err:
            print(f"{name} | compile/sample failed: {err}")
            continue
        for r in rows:
            print(" | ".join([
                r["program"], str(r["layers"]), str(r["components"]), str(r["candidates"]),
                str(r["truth"]), str(r["inert"]), r["method"], r["ablation"],
                _fmt(r["auc"]), _fmt(r["auc_adj"]), f"{r['precision']:.2f}", f"{r['recall']:.2f}",
                str(r["edges"]), f"{r['seconds']:.1f}",
            ]), flush=True)
        all_rows += rows
    if args.json:
        print(json.dumps(all_rows))


if __name__ == "__main__":
    main()
