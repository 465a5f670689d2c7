"""`interp train-program TASK ...` (train, discretise, simplify, decompile, verify a
Transformer Program) and `interp decompile DIR` (print a trained program)."""

from __future__ import annotations

import argparse
import sys

from interp.cli.arguments import finite_float, nonnegative_int, positive_int, seed_int
from interp.cli.output import print_json
from interp.errors import InputError

# The paper's tasks, named here so `interp --help` needs no torch (interp.programs.data
# refuses any other name with the full list).
# Batches in one of the paper's epochs (16,200 training examples, batch 512).
PAPER_EPOCH_STEPS = 32
DEFAULT_RESTARTS = 3  # hist: 8 of 10 seeds reach the paper without restarts, 10 of 10 with (study 25)
TASK_NAMES = ("reverse", "hist", "double_hist", "sort", "most_freq", "dyck1", "dyck2", "induction")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train-program", help="train a Transformer Program on a RASP task and decompile it",
        description="Train a Transformer Program (Friedman et al. 2023), discretise it, simplify, "
        "decompile to Python and RASP, and check every form against the argmax model.",
    )
    parser.add_argument("task", help=f"one of {', '.join(TASK_NAMES)}")
    parser.add_argument("--max-len", type=positive_int,
                        help="longest input, BOS included (paper: 8; Dyck 16)")
    parser.add_argument("--vocab-size", type=positive_int,
                        help="the paper's vocab_size (BOS/EOS/pad included)")
    parser.add_argument("--n-layers", type=positive_int, help="layers (default: the paper's setting)")
    parser.add_argument("--n-heads", type=nonnegative_int, help="categorical heads per layer")
    parser.add_argument("--n-num-heads", type=nonnegative_int, help="numerical (counting) heads per layer")
    parser.add_argument("--n-mlps", type=nonnegative_int, help="categorical MLPs per layer")
    parser.add_argument("--n-num-mlps", type=nonnegative_int, help="numerical MLPs per layer")
    parser.add_argument("--epochs", type=positive_int, default=250)
    parser.add_argument("--batch-size", type=positive_int, default=512)
    parser.add_argument("--lr", type=finite_float, default=5e-2)
    parser.add_argument("--size", type=positive_int, default=20000, help="examples before the 80/10/10 split")
    parser.add_argument("--seed", type=seed_int, default=0)
    parser.add_argument("--out", help="directory for the program, its Python, the hooked model")
    parser.add_argument("--resume", action="store_true", help="continue the training saved in --out")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a run already in --out (without it, such an --out is refused)")
    parser.add_argument("--no-compile", action="store_true", help="skip compiling the RASP form")
    parser.add_argument("--all-epochs", action="store_true",
                        help="train every epoch even after 100%% hard validation accuracy (by default the "
                        "run stops there: the selected checkpoint is the same)")
    parser.add_argument("--gumbel-samples", type=positive_int, default=1,
                        help="Gumbel samples averaged per training step (each costs one forward pass)")
    parser.add_argument("--batches", choices=("replacement", "epochs"), default="replacement",
                        help="draw each batch at random (default), or visit every training example once "
                        "per epoch in a fresh order (the paper's DataLoader(shuffle=True))")
    parser.add_argument("--sampling", choices=("soft", "straight-through"), default="soft",
                        help="Gumbel-softmax samples while training (default), or straight-through ones: "
                        "one-hot forward, the soft sample's gradient (the paper's gumbel_hard)")
    parser.add_argument("--conventions", choices=("ours", "paper"), default="ours",
                        help="the project's training conventions (default), or the paper code's: its "
                        "position bias, sampled token embedding, no read-out bias, per-sequence loss and "
                        "per-epoch temperature schedule (equal to its trainer step for step; "
                        "benchmarks/tp_side_by_side.py)")
    parser.add_argument("--min-epoch-steps", type=positive_int, default=PAPER_EPOCH_STEPS,
                        help="optimizer steps per epoch at least: an epoch goes through a small training "
                        f"split several times (default {PAPER_EPOCH_STEPS}, the paper's 16,200 examples in "
                        "batches of 512, which changes nothing at its data sizes; 1: one pass per epoch)")
    parser.add_argument("--restarts", type=positive_int, default=DEFAULT_RESTARTS,
                        help="restarts selected on validation, as the paper's best-of-runs: up to this many "
                        "trainings from other initial weights on the same data, a further one only while the "
                        "best hard validation accuracy is below --restart-below; the best is kept "
                        f"(default {DEFAULT_RESTARTS})")
    parser.add_argument("--restart-below", type=finite_float, default=0.99,
                        help="hard validation accuracy under which a further restart runs (default 0.99)")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    parser.set_defaults(handler=run_train_program)

    decompile = subparsers.add_parser("decompile", help="print a trained Transformer Program")
    decompile.add_argument("path", help="directory written by `interp train-program --out`, or a "
                           "shipped program (sort or program:sort; see `interp models`)")
    decompile.add_argument("--format", choices=("python", "rasp"), default="python")
    decompile.add_argument("--unsimplified", action="store_true", help="the program before simplification")
    decompile.add_argument("--json", action="store_true", help="print one JSON object last")
    decompile.set_defaults(handler=run_decompile)


def run_train_program(args: argparse.Namespace) -> int:
    from interp.programs.pipeline import PipelineOptions, run_pipeline
    from interp.programs.train import flush_denormals

    if args.resume and not args.out:
        raise InputError("--resume needs --out DIR (where the training was saved).")
    if args.lr <= 0:
        raise InputError(f"--lr must be positive, got {args.lr}.")
    options = PipelineOptions(
        task=args.task, max_len=args.max_len, vocab_size=args.vocab_size, n_layers=args.n_layers,
        n_heads=args.n_heads, n_num_heads=args.n_num_heads, n_mlps=args.n_mlps,
        n_num_mlps=args.n_num_mlps, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        seed=args.seed, size=args.size, compile_rasp=not args.no_compile,
        stop_when_perfect=not args.all_epochs, gumbel_samples=args.gumbel_samples,
        batches=args.batches, sampling=args.sampling, conventions=args.conventions,
        min_epoch_steps=args.min_epoch_steps, restarts=args.restarts, restart_below=args.restart_below,
    )
    # Flushed before any parallel work, so torch's worker threads inherit it (see flush_denormals).
    with flush_denormals():
        result = run_pipeline(options, out_dir=args.out, resume=args.resume, progress=sys.stderr.isatty(),
                              overwrite=args.overwrite)
    checked = result["checked_on"]
    print(f"{args.task}: hard test accuracy {result['hard_test_accuracy']:.4f} "
          f"(soft {result['soft_test_accuracy']:.4f}); program {result['lines_before']} -> "
          f"{result['lines_after']} lines; simplified = argmax model on "
          f"{100 * result['simplified_matches_model']:.2f}% of {checked['simplified_matches_model']}; "
          f"Python = model on {100 * result['program_matches_model']:.2f}% of "
          f"{checked['program_matches_model']}; {result['seconds']:.0f} s")
    if args.json:
        print_json(result)
    return 0


def run_decompile(args: argparse.Namespace) -> int:
    import rasp
    from interp.programs.decompile import to_python, to_rasp
    from interp.programs.pipeline import load_discrete_program
    from interp.subjects import TRAINED_PROGRAM_KINDS, resolve

    # The front door's one precedence rule: a folder named like a shipped program is refused
    # as ambiguous (write ./NAME or program:NAME), never silently preferred.
    resolved = resolve(args.path, TRAINED_PROGRAM_KINDS, "a Transformer Program")
    program = load_discrete_program(resolved.location, simplified=not args.unsimplified)
    if args.format == "python":
        text = to_python(program)
    else:
        lines = []
        for node in rasp.walk(to_rasp(program)):
            children = ", ".join(child.label for child in node.children)
            lines.append(f"{node.label} = {type(node).__name__}({children})")
        text = "\n".join(lines)
    print(text)
    if args.json:
        print_json({"path": args.path, "format": args.format, "program": text})
    return 0
