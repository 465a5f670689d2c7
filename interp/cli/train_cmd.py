"""`interp train TASK`, `interp eval NAME_OR_PATH` and `interp models`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from interp.cli.arguments import positive_int, seed_int
from interp.cli.output import elapsed, print_json, print_summary


def register(subparsers: argparse._SubParsersAction) -> None:
    # Recipes and tasks import torch: they are named in `interp models` and in the error for
    # an unknown name, not listed here, so `interp --help` stays fast.
    parser = subparsers.add_parser("train", help="train a model on a toy task (defaults reproduce the "
                                   "shipped models)")
    parser.add_argument("task", help="a recipe (e.g. addition-1l, icl-gpt, markov-switching) or a task")
    parser.add_argument("--config", help="JSON file with task/model/train sections overriding the recipe")
    parser.add_argument("--out", help="output directory (default: runs/TASK)")
    parser.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a run already in --out (without it, such an --out is refused)")
    parser.add_argument("--device", choices=["cpu", "cuda", "auto"], help="default: the config's (cpu)")
    parser.add_argument("--steps", type=positive_int, help="override train.steps")
    parser.add_argument("--seed", type=seed_int, help="override train.seed")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    parser.set_defaults(handler=run_train)

    evaluator = subparsers.add_parser("eval", help="evaluate a shipped or trained model on its task")
    evaluator.add_argument("model", help="a shipped model name (see `interp models`) or a model directory")
    evaluator.add_argument("--json", action="store_true", help="print one JSON object last")
    evaluator.set_defaults(handler=run_eval)


def run_train(args: argparse.Namespace) -> int:
    from interp.errors import ConfigError
    from interp.evaluation.task_reports import report
    from interp.shipped.card import CARD_FILE, make_card, write_card
    from interp.training import loss_by_name, per_position_accuracy, train
    from interp.training.loop import check_out_dir
    from interp.training.recipes import read_config_file, recipe_by_name

    recipe = recipe_by_name(args.task)
    overrides: dict[str, Any] = read_config_file(args.config) if args.config else {}
    if not isinstance(overrides.get("train", {}), dict):
        raise ConfigError(f"{args.config}: the 'train' section must be a JSON object.")
    out = Path(args.out or Path("runs") / args.task)
    check_out_dir(out, args.resume, args.overwrite)  # before building anything
    train_overrides = dict(overrides.get("train", {}))
    for field in ("device", "steps", "seed"):
        if getattr(args, field) is not None:
            train_overrides[field] = getattr(args, field)
    recipe = recipe.with_overrides({**overrides, "train": train_overrides})
    task = recipe.build_task()
    model = recipe.build_model(task)
    config = recipe.train_config()
    metrics = per_position_accuracy if task.loss == "per_position_ce" else None
    if args.overwrite:
        (out / "card.json").unlink(missing_ok=True)  # the replaced run's card
    result = train(model, task.sample, config, loss=loss_by_name(task.loss), metrics=metrics, out_dir=out,
                   resume=args.resume, progress=not args.no_progress, overwrite=args.overwrite)
    if int(os.environ.get("RANK", "0")) != 0:
        return 0
    summary = make_card(  # the one card schema (interp.shipped.card), validated before it is written
        name=out.resolve().name, recipe=recipe.name, config=recipe.to_dict(), out=str(out),
        command="interp " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["train"] else None,
        steps=result.steps, stop_reason=result.stop_reason, seconds=result.seconds,
        cpu_seconds=result.cpu_seconds, held_out=result.metrics, report=report(result.model, task))
    write_card(summary, out / CARD_FILE)
    _print_summary(summary, args.json)
    return 0


def run_eval(args: argparse.Namespace) -> int:
    from interp.evaluation import evaluate
    from interp.subjects import TASK_MODEL_KINDS, resolve, subject_of

    # The front door's one precedence rule (a folder named like a shipped model is refused as
    # ambiguous, never silently swapped); `interp models` lists the names. Loading through it
    # also refuses a model whose metadata names a task that does not fit it.
    resolved = resolve(args.model, TASK_MODEL_KINDS, "a trained model")
    model = subject_of(resolved).model
    with elapsed(f"evaluating {resolved.name} on its task"):
        summary = {"model": resolved.name, **evaluate(model)}
    _print_summary(summary, args.json)
    return 0


def _print_summary(summary: dict[str, Any], as_json: bool) -> None:
    print_summary(summary, skip=("config",))  # 4 significant digits, keys aligned; JSON keeps every digit
    if as_json:
        print_json(summary)
