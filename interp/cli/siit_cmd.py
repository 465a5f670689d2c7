"""`interp train-siit PROGRAM`: strict interchange-intervention training (interp.training.siit)
of an ordinary transformer toward a library RASP program compiled one component per op;
writes the model, its card (the one card schema) and prints accuracy, IIA and strict IIA."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from interp.cli.output import human, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("train-siit", help="train a transformer to implement a compiled RASP "
                                   "program's circuit (SIIT, Gupta et al. 2024)")
    parser.add_argument("program", help="a rasp.lib library program with a token output (e.g. reverse), "
                        "or one of interp.tasks.siit_programs (prev_equal, same_as_first, pair_order, "
                        "count_first, count_repeats)")
    parser.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    parser.add_argument("--steps", type=int, default=None, help="at most this many steps (default 2000)")
    parser.add_argument("--seq-len", type=int, default=None, help="input tokens after BOS (default 4)")
    parser.add_argument("--extra-heads", type=int, default=None, help="unaligned heads per layer beyond "
                        "the compiled model's (default 0)")
    parser.add_argument("--d-model", type=int, default=None, help="the student's width (default 64)")
    parser.add_argument("--lr", type=float, default=None, help="Adam learning rate (default 1e-3)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its "
                        "checkpoint, or extend a finished one (same options; --steps may be larger)")
    parser.add_argument("--behaviour-only", action="store_true", help="no interchange or strictness loss: "
                        "a normally trained model of the same shape (the sparsity baseline)")
    parser.add_argument("--out", default=None, help="output directory (default runs/siit-PROGRAM-seedS)")
    parser.add_argument("--json", action="store_true", help="print the card as one JSON line last")
    parser.set_defaults(handler=run_train_siit)


def run_train_siit(args: argparse.Namespace) -> int:
    import resource

    from interp.errors import InputError
    from interp.evaluation import evaluate
    from interp.model import save_model
    from interp.shipped.card import CARD_FILE, make_card, write_card
    from interp.training.siit import CHECKPOINT_FILE, SiitConfig, train_siit

    options = {"program": args.program, "seed": args.seed}
    for key in ("steps", "seq_len", "d_model", "extra_heads", "lr"):
        if getattr(args, key) is not None:
            options[key] = getattr(args, key)
    if args.behaviour_only:
        options |= {"iit_weight": 0.0, "strict_weight": 0.0}
    config = SiitConfig(**options)
    out = Path(args.out or f"runs/siit-{args.program}-seed{args.seed}")
    checkpoint = out / CHECKPOINT_FILE
    if args.resume and not checkpoint.is_file():
        raise InputError(f"{out} has no {CHECKPOINT_FILE} to resume from; drop --resume to start a run.")
    if not args.resume and out.exists() and any(out.iterdir()):
        raise InputError(f"{out} is not empty; pass another --out, delete it, or --resume its run.")
    started = time.time()
    cpu_start = resource.getrusage(resource.RUSAGE_SELF).ru_utime

    def progress(step: int, measures: dict) -> None:
        if not args.json:
            print(f"step {step}: {human(measures)}", flush=True)

    result = train_siit(config, progress=progress, checkpoint=checkpoint)
    save_model(result.model, out)
    report = evaluate(result.model)  # the held-out report (fresh pairs, REPORT_SEED)
    card = make_card(
        name=out.name, recipe="siit",
        config={"task": result.task.options(), "model": result.model.cfg.to_dict(),
                "train": config.to_dict()},
        command="interp " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["train-siit"] else None,
        steps=result.steps, stop_reason="early_stopping" if result.steps < config.steps else "completed",
        seconds=max(result.seconds, time.time() - started),  # a resumed run counts its earlier part
        cpu_seconds=resource.getrusage(resource.RUSAGE_SELF).ru_utime - cpu_start,
        held_out=result.held_out, report=report)
    write_card(card, out / CARD_FILE)
    print(f"{out}: accuracy {human(report['accuracy'])}, IIA {human(report['iia'])}, "
          f"strict IIA {human(report['strict_iia'])} ({result.steps} steps, {result.seconds:.0f} s)")
    if args.json:
        print_json(card)
    return 0
