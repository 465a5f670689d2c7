"""`interp patch NAME`: activation patching of one clean input and its task-aware corruption
(both in the model's own format), with the task's metric on the answer positions: the fraction
of the clean-vs-corrupted effect each head (all positions) and each layer x position restores,
the components above --threshold as a circuit, and that circuit's faithfulness on task inputs."""

from __future__ import annotations

import argparse
import random
from typing import Any

from interp.cli.analysis_cmd import add_subject_arguments, load_named_subject
from interp.cli.arguments import nonnegative_float
from interp.cli.output import human, print_json
from interp.errors import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "patch", help="activation patching: which components carry the effect of a task-aware corruption"
    )
    add_subject_arguments(parser)
    parser.add_argument("--input", help="the clean input in the model's own format (default: a sample)")
    parser.add_argument("--corrupted", help="the corrupted input (default: the subject's task-aware "
                        "corruption of the clean one, see --corruption)")
    parser.add_argument("--corruption", help="which corruption (`interp info NAME --json` lists them; "
                        "default: the task's own)")
    parser.add_argument("--metric", help="patching metric (default: the task's, e.g. logit difference on the "
                        "answer positions; squared error for regression)")
    parser.add_argument("--threshold", type=nonnegative_float, default=0.1,
                        help="components restoring at least this fraction of the effect form the circuit "
                        "(default 0.1)")
    parser.set_defaults(handler=run_patch)


def run_patch(args: argparse.Namespace) -> int:
    import torch

    from interp.analysis.batched_patch import patch_sweeps
    from interp.analysis.patch_metrics import fraction_of_effect

    subject = load_named_subject(args)
    model = subject.model
    clean = subject.parse_input(args.input) if args.input is not None else \
        subject.sample(random.Random(args.seed))
    corrupted = subject.parse_input(args.corrupted) if args.corrupted is not None else \
        subject.corrupt(clean, args.seed, args.corruption)
    names, clean_ids = subject.encode(clean)
    _, corrupted_ids = subject.encode(corrupted)
    if clean_ids.shape != corrupted_ids.shape:
        raise InputError(f"the clean input has {clean_ids.shape[1]} positions and the corrupted one "
                         f"{corrupted_ids.shape[1]}: patching compares positions one to one.")
    metrics = subject.patch_metrics()
    metric_name = args.metric or next(iter(metrics))
    if metric_name not in metrics:
        raise InputError(f"unknown metric {metric_name!r}; this model's: {list(metrics)}.")
    positions = subject.answer_positions(clean_ids.shape[1])
    with torch.no_grad():
        clean_logits, corrupted_logits = model(clean_ids), model(corrupted_ids)
    metric = metrics[metric_name](clean_logits, corrupted_logits, positions)
    clean_value, corrupted_value = float(metric(clean_logits)), float(metric(corrupted_logits))
    whats = ["resid_pre", "head_out_all_pos"] + ([] if model.cfg.attn_only else ["mlp_out"])
    sweeps = patch_sweeps(model, clean_ids, corrupted_ids, metric, whats)
    restored = {w: fraction_of_effect(sweeps[w], clean_value, corrupted_value) for w in whats}
    kept = _components(restored, model.cfg, args.threshold)
    circuit = _circuit_of(kept, model.cfg)
    inputs = subject.analysis_inputs(args.per_length, args.seed)
    faithfulness = subject.faithfulness(circuit, inputs, inputs.ablation, args.seed)
    n_candidates = len(_full(model.cfg).edges)

    print(f"clean:     {subject.show_input(clean)[:200]}")
    print(f"corrupted: {subject.show_input(corrupted)[:200]}")
    print(f"{metric_name} on positions {positions}: clean {human(clean_value)}, corrupted "
          f"{human(corrupted_value)}")
    print("fraction of the effect restored by patching each head's clean output (all positions):")
    for layer in range(model.cfg.n_layers):
        print(f"  L{layer}  " + "  ".join(f"H{h} {human(v)}" for h, v in
                                         enumerate(restored["head_out_all_pos"][layer].tolist())))
    print("fraction restored by patching the clean residual stream (resid_pre) at one position:")
    print("       " + " ".join(f"{n[:7]:>7s}" for n in names))
    for layer in range(model.cfg.n_layers):
        print(f"  L{layer}   " + " ".join(f"{v:7.3g}" for v in restored["resid_pre"][layer].tolist()))
    print(f"components restoring >= {human(args.threshold)}: {', '.join(kept) or 'none'}; their circuit "
          f"has {len(circuit.edges)} of {n_candidates} edges, faithfulness {human(faithfulness)} "
          f"({subject.faithfulness_meaning()}, {inputs.ablation} ablation on task inputs)")
    if args.json:
        print_json({"program": args.program, "clean": subject.format_input(clean),
                    "corrupted": subject.format_input(corrupted), "metric": metric_name,
                    "positions": positions,
                    "clean_value": clean_value, "corrupted_value": corrupted_value,
                    "restored": {w: v.tolist() for w, v in restored.items()}, "components": kept,
                    "n_edges": len(circuit.edges), "n_candidates": n_candidates,
                    "edges": [str(e) for e in circuit.edges], "faithfulness": faithfulness})
    return 0


def _components(restored: dict[str, Any], cfg: Any, threshold: float) -> list[str]:
    """Heads and MLPs whose clean output restores at least `threshold` of the effect."""
    kept = [f"L{layer}H{head}" for layer in range(cfg.n_layers) for head in range(cfg.n_heads)
            if abs(float(restored["head_out_all_pos"][layer, head])) >= threshold]
    if "mlp_out" in restored:
        kept += [f"MLP{layer}" for layer in range(cfg.n_layers)
                 if float(restored["mlp_out"][layer].abs().max()) >= threshold]
    return kept


def _full(cfg: Any) -> Any:
    from interp.circuit import Circuit

    return Circuit.full(cfg)


def _circuit_of(components: list[str], cfg: Any) -> Any:
    """Every edge of the full graph between kept components, the embeddings and the logits."""
    from interp.circuit import Circuit

    full = _full(cfg)
    kept = set(components) | {"embed", "pos_embed", "logits"}
    return Circuit([n for n in full.nodes if n in kept],
                   [e for e in full.edges if e.src in kept and e.dst in kept])
