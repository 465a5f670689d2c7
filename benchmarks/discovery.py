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
import warnings

import torch

from interp.analysis import METHODS, find_circuit, score_circuit
from interp.analysis.registry import IG_STEPS
from interp.analysis.score import inert_edges
from interp.circuit import ABLATION_KINDS, Circuit
from interp.errors import InterpError
from interp.subjects import input_lengths
from rasp.compiler.batches import program_batches


def run_program(name: str, entry) -> list[dict]:
    from rasp.compiler import compile_program

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = compile_program(entry.build(), entry.vocab, entry.max_seq_len)
    batches = program_batches(compiled, entry.sample, input_lengths(entry.max_seq_len), per_length=8)
    model = compiled.model
    truth = set(compiled.circuit().edges)
    candidates = Circuit.full(model.cfg).edges
    n_components = len([n for n in compiled.circuit().nodes if n not in ("embed", "pos_embed", "logits")])
    inert = inert_edges(model, truth, batches)
    adjusted = truth - inert
    adjusted_candidates = [e for e in candidates if e not in inert]
    rows = []
    for method in METHODS:
        for ablation in ABLATION_KINDS:
            found = find_circuit(method, model, batches, ablation=ablation, ig_steps=IG_STEPS)
            score = score_circuit(found, truth, candidates)
            adjusted_score = score_circuit(found, adjusted, adjusted_candidates)
            row = {
                "program": name, "method": method, "ablation": ablation,
                "layers": model.cfg.n_layers, "components": n_components,
                "candidates": len(candidates), "truth": len(truth), "inert": len(inert),
                "auc": score.auc, "auc_adj": adjusted_score.auc,
                "precision": score.precision, "recall": score.recall, "edges": score.kept_edges,
                "seconds": score.seconds,
            }
            rows.append(row)
    return rows


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
