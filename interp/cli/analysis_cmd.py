"""`interp discover` (ACDC / EAP circuit discovery on the model's own task inputs, scored
against the compiler's ground truth when there is one), `interp decompose` (direct logit
attribution, residual readout) and `interp ablate`. Every name goes through the front door
(interp.subjects), and each subject supplies its task's inputs, corruption and metric."""

from __future__ import annotations

import argparse
from typing import Any

from interp.circuit import ABLATION_KINDS, METHODS
from interp.cli.arguments import (
    ig_step_count,
    inputs_per_length,
    nonnegative_float,
    positive_int,
    seed_int,
    thread_count,
)
from interp.cli.info_cmd import NAME_HELP
from interp.cli.output import human, print_json
from interp.errors import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    discover = subparsers.add_parser(
        "discover", help="find a model's circuit with ACDC or EAP on its task's inputs and score it"
    )
    add_subject_arguments(discover)
    discover.add_argument("--method", choices=METHODS, default="acdc")
    discover.add_argument("--ig-steps", type=ig_step_count, default=20,
                          help="EAP-IG steps (default 20, at most 1000)")
    discover.add_argument("--ablation", choices=ABLATION_KINDS,
                          help="default: the subject's (zero for compiled programs and plain models, "
                          "resample from task-corrupted inputs for trained models)")
    discover.add_argument("--threshold", type=nonnegative_float,
                          help="ACDC tau (default 1e-4) / EAP cut-off")
    discover.set_defaults(handler=run_discover)

    decompose = subparsers.add_parser(
        "decompose", help="per-component logit attribution and residual readout of one input"
    )
    add_subject_arguments(decompose)
    decompose.add_argument("--input", help="one input in the model's own format (`interp info NAME` shows "
                           'it: "a b c", "12345+67890=", a prompt .json or seed=N); default: a sample')
    decompose.set_defaults(handler=run_decompose)

    ablate_cmd = subparsers.add_parser("ablate", help="switch components off and compare outputs")
    add_subject_arguments(ablate_cmd)
    ablate_cmd.add_argument("--nodes", required=True, help="comma-separated nodes, e.g. L0H0,MLP1")
    ablate_cmd.add_argument("--ablation", choices=ABLATION_KINDS,
                            help="default: the subject's (see `interp discover --help`)")
    ablate_cmd.set_defaults(handler=run_ablate)


def add_subject_arguments(parser: argparse.ArgumentParser) -> None:
    """The model name and the options every analysis takes."""
    parser.add_argument("program", metavar="NAME", help=NAME_HELP)
    parser.add_argument("--vocab", help="tokens separated by commas or spaces (programs compiled here; "
                        "library programs have a default)")
    parser.add_argument("--max-len", type=positive_int,
                        help="longest input (programs compiled here; library programs have a default)")
    parser.add_argument("--per-length", type=inputs_per_length, default=8,
                        help="inputs per length (default 8, at most 1000)")
    parser.add_argument("--seed", type=seed_int, default=0)
    parser.add_argument("--threads", type=thread_count, default=1,
                        help="torch threads (default 1: small models run fastest on one)")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")


def load_named_subject(args: argparse.Namespace) -> Any:
    """The subject the user named, through the front door (interp.subjects)."""
    import torch

    from interp.subjects import load_subject

    torch.set_num_threads(args.threads)
    return load_subject(args.program, args.vocab, args.max_len)


def run_discover(args: argparse.Namespace) -> int:
    from interp.analysis import find_circuit, score_circuit

    subject = load_named_subject(args)
    inputs = subject.analysis_inputs(args.per_length, args.seed)
    ablation = args.ablation or inputs.ablation
    found = find_circuit(args.method, subject.model, inputs.batches, ablation=ablation,
                         corrupted=inputs.corrupted if ablation == "resample" else None,
                         metric=subject.discovery_metric(inputs.positions), threshold=args.threshold,
                         seed=args.seed, ig_steps=args.ig_steps, progress=True)
    circuit, seconds = found.circuit, found.seconds
    summary: dict[str, Any] = {
        "program": args.program,
        "title": subject.title,
        "method": args.method,
        "ablation": ablation,
        "corrupted_inputs": next(iter(subject.corruptions())) if ablation == "resample" and inputs.corrupted
        else None,
        "seconds": round(seconds, 3),
        "n_edges": len(circuit.edges),
        "n_candidates": len(found.candidates),
        "edges": [str(e) for e in circuit.edges],
        "faithfulness": subject.faithfulness(circuit, inputs, ablation, args.seed),
        "faithfulness_meaning": subject.faithfulness_meaning(),
        "auc": None,
        "precision": None,
        "recall": None,
    }
    print(f"{args.method} ({ablation} ablation) kept {len(circuit.edges)} of "
          f"{summary['n_candidates']} edges in {seconds:.3g} s")
    for edge in sorted(circuit.edges, key=lambda e: -circuit.scores.get(e, 0.0)):
        print(f"  {str(edge):28s} {circuit.scores.get(edge, 0.0):.4g}")
    truth = subject.ground_truth()
    if truth is not None:
        score = score_circuit(found, truth.edges)
        if score.auc is None:
            print("AUC undefined: the ground truth has no true or no false candidate edge")
        summary.update(auc=score.auc, precision=score.precision, recall=score.recall)
        missed = sorted(set(truth.edges) - set(circuit.edges))
        extra = sorted(set(circuit.edges) - set(truth.edges))
        print(f"ground truth: {len(truth.edges)} edges; missed {[str(e) for e in missed]}; "
              f"extra {[str(e) for e in extra]}")
        print(f"ROC AUC {human(summary['auc'])}  precision {human(summary['precision'])}  "
              f"recall {human(summary['recall'])}")
    print(f"faithfulness {human(summary['faithfulness'])} ({summary['faithfulness_meaning']})")
    if args.json:
        print_json(summary)
    return 0


def run_decompose(args: argparse.Namespace) -> int:
    import random

    from interp.analysis import direct_logit_attribution, residual_readout

    subject = load_named_subject(args)
    model = subject.model
    given = subject.parse_input(args.input) if args.input is not None else \
        subject.sample(random.Random(args.seed))
    names, inputs = subject.encode(given)
    logits, cache = model.run_with_cache(inputs)
    predicted = logits.argmax(-1)
    attrs, labels = direct_logit_attribution(cache, predicted)
    outputs = subject.decode(logits)
    answers = subject.answer_positions(len(names))
    print(f"input: {subject.show_input(given)[:200]}")
    print(f"output: {' '.join(human(v) for v in outputs)}")
    # The task reads its answer at these positions only; elsewhere the output is a by-product.
    print(f"answer positions: {', '.join(f'{p} ({names[p]}) -> {human(outputs[p])}' for p in answers)}"
          if answers else "answer positions: none in this input")
    print("direct logit attribution to the predicted output (rows: components, columns: positions)")
    print(f"  {'':>10s} " + " ".join(f"{n[:7]:>7s}" for n in names))
    for label, row in zip(labels, attrs[:, 0]):
        print(f"  {label:>10s} " + " ".join(f"{v:7.3g}" for v in row.tolist()))
    result: dict[str, Any] = {"input": subject.format_input(given), "positions": names,
                              "output": outputs, "answer_positions": answers, "labels": labels,
                              "dla": attrs[:, 0].tolist()}
    if model.residual_labels is not None:
        readout = residual_readout(model, inputs)
        print(readout.to_text())
        result["readout"] = readout.values
    if args.json:
        print_json(result)
    return 0


def run_ablate(args: argparse.Namespace) -> int:
    import torch

    from interp.analysis import ablate

    subject = load_named_subject(args)
    nodes = [n.strip() for n in args.nodes.split(",") if n.strip()]
    if not nodes:
        raise InputError(f"--nodes {args.nodes!r} names no component; give e.g. L0H0,MLP1.")
    inputs = subject.analysis_inputs(args.per_length, args.seed)
    ablation = args.ablation or inputs.ablation
    references = inputs.corrupted if ablation == "resample" and inputs.corrupted else inputs.batches
    total, summed, key, words = 0, 0.0, "", ""
    with torch.no_grad():
        for batch, reference in zip(inputs.batches, references):
            full = subject.model(batch)
            with ablate(subject.model, nodes=nodes, kind=ablation, reference=reference, seed=args.seed):
                ablated = subject.model(batch)
            key, words, value = subject.output_change(full, ablated, inputs.positions)
            summed += value * batch.shape[0]
            total += batch.shape[0]
    change = summed / total
    print(f"ablating {', '.join(nodes)} ({ablation}): {words}: {human(change)}")
    if args.json:
        print_json({"nodes": nodes, "ablation": ablation, key: change})
    return 0
