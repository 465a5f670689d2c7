"""`interp discover` (ACDC / EAP circuit discovery, scored against the compiler's ground
truth), `interp decompose` (direct logit attribution, residual readout) and `interp ablate`."""

from __future__ import annotations

import argparse
import time
from typing import Any

from interp.cli.arguments import nonnegative_float, positive_int, seed_int, thread_count
from interp.cli.output import print_json
from interp.errors import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    discover = subparsers.add_parser(
        "discover", help="find a program's circuit with ACDC or EAP and score it"
    )
    _add_subject(discover)
    discover.add_argument("--method", choices=("acdc", "eap", "eap-ig"), default="acdc")
    discover.add_argument("--ig-steps", type=positive_int, default=20, help="EAP-IG steps (default 20)")
    discover.add_argument("--ablation", choices=("zero", "mean", "resample"), default="zero")
    discover.add_argument("--threshold", type=nonnegative_float,
                          help="ACDC tau (default 1e-4) / EAP cut-off")
    discover.set_defaults(handler=run_discover)

    decompose = subparsers.add_parser(
        "decompose", help="per-component logit attribution and residual readout of one input"
    )
    _add_subject(decompose)
    decompose.add_argument("--input", help='space-separated tokens, e.g. "a b c" (default: sampled)')
    decompose.set_defaults(handler=run_decompose)

    ablate_cmd = subparsers.add_parser("ablate", help="switch components off and compare outputs")
    _add_subject(ablate_cmd)
    ablate_cmd.add_argument("--nodes", required=True, help="comma-separated nodes, e.g. L0H0,MLP1")
    ablate_cmd.add_argument("--ablation", choices=("zero", "mean", "resample"), default="zero")
    ablate_cmd.set_defaults(handler=run_ablate)


def _add_subject(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "program", help="a library program, a .py/.rasp program file, or a saved model directory"
    )
    parser.add_argument("--vocab", help="tokens separated by commas or spaces (library programs "
                        "have a default)")
    parser.add_argument("--max-len", type=positive_int,
                        help="longest input (library programs have a default)")
    parser.add_argument("--per-length", type=positive_int, default=8,
                        help="inputs per length (default 8)")
    parser.add_argument("--seed", type=seed_int, default=0)
    parser.add_argument("--threads", type=thread_count, default=1,
                        help="torch threads (default 1: small models run fastest on one)")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")


def subject_and_batches(args: argparse.Namespace) -> tuple[Any, list[Any]]:
    """The subject the user named (front door: interp.subjects) and its analysis batches."""
    import torch

    from interp.subjects import load_subject

    torch.set_num_threads(args.threads)
    subject = load_subject(args.program, args.vocab, args.max_len)
    return subject, subject.batches(args.per_length, args.seed)


def run_discover(args: argparse.Namespace) -> int:
    from interp.analysis import acdc, eap, faithfulness, precision_recall, roc_auc
    from interp.circuit import Circuit

    subject, batches = subject_and_batches(args)
    model = subject.model
    start = time.perf_counter()
    if args.method == "acdc":
        threshold = 1e-4 if args.threshold is None else args.threshold
        found = acdc(model, batches, threshold=threshold, ablation=args.ablation,
                     seed=args.seed, progress=True)
    else:
        steps = args.ig_steps if args.method == "eap-ig" else 0
        found = eap(model, batches, threshold=args.threshold, ablation=args.ablation,
                    seed=args.seed, ig_steps=steps)
    seconds = time.perf_counter() - start
    summary: dict[str, Any] = {
        "program": args.program,
        "method": args.method,
        "ablation": args.ablation,
        "seconds": round(seconds, 3),
        "n_edges": len(found.edges),
        "n_candidates": len(Circuit.full(model.cfg).edges),
        "edges": [str(e) for e in found.edges],
        "faithfulness": faithfulness(model, found, batches, kind=args.ablation),
        "auc": None,
        "precision": None,
        "recall": None,
    }
    print(f"{args.method} ({args.ablation} ablation) kept {len(found.edges)} of "
          f"{summary['n_candidates']} edges in {seconds:.2f}s")
    for edge in sorted(found.edges, key=lambda e: -found.scores.get(e, 0.0)):
        print(f"  {str(edge):28s} {found.scores.get(edge, 0.0):.4g}")
    if subject.compiled is not None:
        truth = subject.compiled.circuit()
        candidates = Circuit.full(model.cfg).edges
        try:
            summary["auc"] = roc_auc(found.scores, truth.edges, candidates)
        except InputError as err:
            print(f"AUC undefined: {err}")
        summary["precision"], summary["recall"] = precision_recall(found.edges, truth.edges)
        missed = sorted(set(truth.edges) - set(found.edges))
        extra = sorted(set(found.edges) - set(truth.edges))
        print(f"ground truth: {len(truth.edges)} edges; missed {[str(e) for e in missed]}; "
              f"extra {[str(e) for e in extra]}")
        auc = "n/a" if summary["auc"] is None else f"{summary['auc']:.3f}"
        print(f"ROC AUC {auc}  precision {summary['precision']:.3f}  "
              f"recall {summary['recall']:.3f}")
    print(f"faithfulness {summary['faithfulness']:.3f}  wall time {seconds:.2f}s")
    if args.json:
        print_json(summary)
    return 0


def run_decompose(args: argparse.Namespace) -> int:
    import torch

    from interp.analysis import direct_logit_attribution, residual_readout

    subject, batches = subject_and_batches(args)
    model = subject.model
    if args.input is not None:
        if subject.compiled is None:
            raise InputError("--input needs a compiled program; saved plain models use sampled input.")
        inputs = torch.tensor([subject.compiled.encode(subject.parse_tokens(args.input))])
    else:
        inputs = batches[-1][:1]
    logits, cache = model.run_with_cache(inputs)
    predicted = logits.argmax(-1)
    attrs, labels = direct_logit_attribution(cache, predicted)
    print("direct logit attribution to the predicted output (rows: components, columns: positions)")
    for label, row in zip(labels, attrs[:, 0]):
        print(f"  {label:>10s} " + " ".join(f"{v:7.3f}" for v in row.tolist()))
    result: dict[str, Any] = {"labels": labels, "dla": attrs[:, 0].tolist()}
    if model.residual_labels is not None:
        readout = residual_readout(model, inputs)
        print(readout.to_text())
        result["readout"] = readout.values
    if args.json:
        print_json(result)
    return 0


def run_ablate(args: argparse.Namespace) -> int:
    import torch

    from interp.analysis import ablate, agreement

    subject, batches = subject_and_batches(args)
    nodes = [n.strip() for n in args.nodes.split(",") if n.strip()]
    if not nodes:
        raise InputError(f"--nodes {args.nodes!r} names no component; give e.g. L0H0,MLP1.")
    total, agreeing = 0, 0.0
    with torch.no_grad():
        for batch in batches:
            full = subject.model(batch)
            with ablate(subject.model, nodes=nodes, kind=args.ablation, reference=batch,
                        seed=args.seed):
                ablated = subject.model(batch)
            agreeing += agreement(full, ablated) * batch.shape[0]
            total += batch.shape[0]
    unchanged = agreeing / total
    print(f"ablating {', '.join(nodes)} ({args.ablation}): {unchanged:.3f} of outputs unchanged")
    if args.json:
        print_json({"nodes": nodes, "ablation": args.ablation, "unchanged": unchanged})
    return 0
