"""`interp circuit-bench`: every discovery method on models with known circuits, scored."""

from __future__ import annotations

import argparse
from typing import Any

from interp.cli.arguments import thread_count

SIIT_INPUTS = 40  # discovery inputs of a SIIT model (its one trained length), as many as the others get


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "circuit-bench",
        help="score every discovery method against the known circuits of compiled, "
        "one-per-op, compressed and SIIT-trained library programs (resumable)")
    parser.add_argument("--programs", default=None,
                        help="comma-separated library programs (default: every program with a "
                        "shipped SIIT model, so every kind has every program)")
    parser.add_argument("--kinds", default="compiled,one_per_op,compressed,siit",
                        help="model kinds: compiled, one_per_op, compressed, siit (the shipped "
                        "siit-PROGRAM model)")
    parser.add_argument("--methods", default=None,
                        help="comma-separated discovery methods (default: all registered)")
    parser.add_argument("--max-len", type=int, default=5, help="compiled max_seq_len (default 5)")
    parser.add_argument("--ablation", default="zero", help="zero, mean or resample (default zero)")
    parser.add_argument("--out", default="circuit-bench",
                        help="folder of results.jsonl; rows already there are not rerun")
    parser.add_argument("--threads", type=thread_count, default=1, help="torch threads (default 1)")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    parser.set_defaults(handler=run_circuit_bench)


def _names(text: str, known: tuple | list, what: str) -> list[str]:
    from interp.errors import InputError

    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if not names or unknown:
        raise InputError(f"unknown {what} {unknown or text!r}; choose from {list(known)}")
    return names


def build_subject(name: str, kind: str, max_len: int, width_fraction: float = 0.5,
                  compress_steps: int = 1000, per_length: int = 8) -> Any:
    """Compile library program `name` as model `kind` (compressed: the one_per_op model with
    a trained linear compression to `width_fraction` of its width, or halfway to its full
    width where that loses accuracy, folded into a plain transformer) with its known
    circuit (the minimal truth of the compile it comes from, as `interp discover` scores
    compiled programs: interp/subjects/live_truth.py) and discovery inputs."""
    import math
    import random
    import warnings

    from interp.analysis.circuit_bench import KINDS, Subject
    from interp.analysis.compression import (
        evaluate_compression,
        fold_compression,
        train_compression,
    )
    from interp.errors import InputError
    from interp.subjects.live_truth import program_truth
    from interp.subjects.text import input_lengths
    from interp.tasks.siit_programs import library_program
    from rasp.compiler import CompileWarning, compile_program
    from rasp.compiler.batches import program_batches
    from rasp.evaluate import evaluate

    if kind not in KINDS:
        raise InputError(f"model kind {kind!r} is not one of {list(KINDS)}")
    if kind == "siit":
        return siit_subject(name)
    entry = library_program(name)  # rasp.lib or interp.tasks.siit_programs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CompileWarning)
        compiled = compile_program(entry.build(), entry.vocab, max_len,
                                   one_per_op=kind != "compiled")
    batches = program_batches(compiled, entry.sample, input_lengths(max_len), per_length)
    truth = program_truth(compiled, compiled.program, entry.sample, entry.sample_input).circuit
    model, accuracy = compiled.model, 1.0
    if kind == "compressed":
        rng = random.Random(0)
        drawn = [entry.sample(rng, rng.randint(1, max_len))[:max_len] for _ in range(600)]
        drawn = [x for x in drawn if x]
        train, test = drawn[:400], drawn[400:]
        d_model = compiled.model.cfg.d_model
        # The narrowest of these widths that keeps >= 99% accuracy (else the widest tried):
        # a compressed model that no longer computes the program has no known circuit.
        for fraction in (width_fraction, (1 + width_fraction) / 2):
            width = max(1, math.ceil(d_model * fraction))
            comp = train_compression(compiled, width, train, steps=compress_steps)
            accuracy = evaluate_compression(
                compiled, comp, test, lambda tokens: evaluate(compiled.program, tokens)).accuracy
            if accuracy >= 0.99:
                break
        model = fold_compression(compiled, comp)
    return Subject(name, kind, model, truth, batches, accuracy, model.cfg.d_model)


def siit_subject(name: str) -> Any:
    """The shipped SIIT model of library program `name` with its ground truth (the minimal
    truth of the one_per_op compile on its training length: SiitSubject.ground_truth) and
    SIIT_INPUTS held-in-distribution inputs (its training length, BOS first)."""
    import torch

    from interp.analysis.circuit_bench import Subject
    from interp.shipped import shipped_card
    from interp.subjects import load_subject
    from interp.tasks.siit_task import SiitTask

    model_name = siit_model_name(name)
    card = shipped_card(model_name)
    task = SiitTask(**card["config"]["task"])
    subject = load_subject(model_name)  # through the front door, as every command loads
    model = subject.model
    batches = [task.draw_inputs(SIIT_INPUTS, torch.Generator().manual_seed(0))]  # [n, seq_len]
    return Subject(name, "siit", model, subject.ground_truth(), batches, card["report"]["accuracy"],
                   model.cfg.d_model)


def siit_programs() -> list[str]:
    """The programs with a shipped SIIT model (interp/shipped/siit-PROGRAM), in name order."""
    from interp.shipped import shipped_names

    return [n.removeprefix("siit-") for n in shipped_names() if n.startswith("siit-")]


def siit_model_name(program: str) -> str:
    """The shipped SIIT model of `program`; InputError naming the fix when there is none."""
    from interp.errors import InputError
    from interp.shipped import shipped_names

    name = f"siit-{program}"
    if name not in shipped_names():
        have = siit_programs()
        raise InputError(f"no shipped SIIT model {name!r} for kind siit; programs with one: {have} "
                         f"(or train one: interp train-siit {program}, then ship it)")
    return name


def run_circuit_bench(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    import torch
    from tqdm.auto import tqdm

    from interp.analysis.circuit_bench import KINDS, run_bench, summarize
    from interp.analysis.registry import REGISTRY
    from interp.circuit import ABLATION_KINDS
    from interp.cli.output import print_json
    from interp.errors import InputError
    from interp.tasks.siit_programs import program_names

    torch.set_num_threads(args.threads)
    programs = _names(args.programs or ",".join(siit_programs()), program_names(), "programs")
    kinds = _names(args.kinds, KINDS, "model kinds")
    methods = _names(args.methods or ",".join(REGISTRY), list(REGISTRY), "methods")
    if args.ablation not in ABLATION_KINDS:
        raise InputError(f"unknown ablation {args.ablation!r}; choose from {list(ABLATION_KINDS)}")
    if args.max_len < 1:
        raise InputError(f"--max-len must be positive, got {args.max_len}")
    if "siit" in kinds:
        for name in programs:  # refuse before any row runs, not halfway through
            siit_model_name(name)
    out = Path(args.out) / "results.jsonl"
    total = len(programs) * len(kinds) * len(methods)
    bar = tqdm(total=total, desc="circuit-bench", file=sys.stderr, disable=None)

    def on_row(row: dict, cached: bool) -> None:
        bar.update(1)
        auc = "n/a" if row["auc"] is None else f"{row['auc']:.3f}"
        bar.write(f"{row['program']:15s} {row['kind']:10s} {row['method']:6s} auc={auc} "
                  f"P={row['precision']:.2f} R={row['recall']:.2f} "
                  f"faith={row['faithfulness']:.3f} {row['seconds']:.1f}s"
                  + (" (cached)" if cached else ""), file=sys.stdout)

    rows = run_bench(programs, kinds, methods, out,
                     lambda name, kind: build_subject(name, kind, args.max_len),
                     ablation=args.ablation, on_row=on_row)
    bar.close()
    summary = summarize(rows)
    print("\nmethod  kind        rows  edge_auc node_auc precision recall faithful seconds cpu_s")
    for s in summary:
        cells = [s[k] for k in ("auc", "node_auc", "precision", "recall", "faithfulness",
                                "seconds", "cpu_seconds")]
        print(f"{s['method']:7s} {s['kind']:10s} {s['rows']:5d}  "
              + " ".join("     n/a" if c is None else f"{c:8.3f}" for c in cells))
    print(f"results: {out}")
    if args.json:
        print_json({"results": str(out), "rows": rows, "summary": summary})
    return 0
