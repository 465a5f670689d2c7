"""Discovery at scale: every registry method (ACDC, EAP, EAP-IG, SP) on every shipped model
(trained models and Transformer Programs), timed: wall and CPU seconds, edges kept of the
candidates. The target (issue 27): each run <= 60 s on 2 CPU cores.

    .venv/bin/python benchmarks/discovery_speed.py [--models addition-1l,program:sort]
        [--methods acdc,sp] [--per-length 8] [--ablation zero] [--threads 1] [--json]

Inputs, corruptions and metric come from each model's own task (`interp.subjects`:
`analysis_inputs(per_length)`, `discovery_metric(positions)`; EAP: cross-entropy to the
clean predictions at the same positions), as `interp discover` uses them; the ablation is
the subject's (resample for task models) unless --ablation is given.
CPU seconds are this process's (one torch thread by default), which on a shared machine are
closer to an idle core's wall time than the wall seconds are.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import torch

from interp.analysis import METHODS, find_circuit
from interp.errors import InterpError


def shipped_names() -> list[str]:
    """Every shipped model `interp models` lists: trained models, SIIT models and Transformer
    Programs (`program:NAME`)."""
    from interp.subjects import catalogue

    return [entry["name"] for entry in catalogue() if "shipped" in entry["kind"]]


def run_model(name: str, methods: list[str], per_length: int, ablation: str | None) -> list[dict]:
    """One row per method on shipped model `name`."""
    from interp.subjects import load_subject

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        subject = load_subject(name)
    inputs = subject.analysis_inputs(per_length, 0)
    kind = ablation or inputs.ablation
    corrupted = inputs.corrupted if kind == "resample" else None
    metric = subject.discovery_metric(inputs.positions)
    rows = []
    for method in methods:
        cpu = time.process_time()
        found = find_circuit(method, subject.model, inputs.batches, ablation=kind, corrupted=corrupted,
                             metric=metric, positions=inputs.positions, progress=True)
        cpu = time.process_time() - cpu
        rows.append(row := {"model": name, "method": method, "ablation": kind,
                            "seconds": round(found.seconds, 2),
                     "cpu_seconds": round(cpu, 2), "kept": len(found.circuit.edges),
                     "candidates": len(found.candidates),
                     "rows": sum(int(b.shape[0]) for b in inputs.batches)})
        print(f"{row['model']} | {row['method']} | {row['ablation']} | {row['seconds']:.1f} | "
              f"{row['cpu_seconds']:.1f} | {row['kept']} / {row['candidates']}", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", help="comma-separated shipped names (default: all shipped)")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated (default: all)")
    parser.add_argument("--per-length", type=int, default=8, help="inputs per length (default 8, "
                        "as `interp discover`)")
    parser.add_argument("--ablation", choices=("zero", "mean", "resample"),
                        help="default: each subject's own")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--json", action="store_true", help="also print every row as JSON")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    names = args.models.split(",") if args.models else shipped_names()
    methods = args.methods.split(",")
    header = ("model", "method", "ablation", "wall s", "CPU s", "kept / candidates")
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    rows = []
    for name in names:
        try:
            part = run_model(name, methods, args.per_length, args.ablation)
        except InterpError as err:
            print(f"{name} | failed: {err}")
            continue
        rows += part
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
