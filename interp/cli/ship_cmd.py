"""`interp ship RUN NAME`: promote a finished training run into the shipped models."""

from __future__ import annotations

import argparse

from interp.cli.output import human, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ship", help="promote a finished `interp train` run into the shipped "
                                   "models (interp/shipped/NAME)")
    parser.add_argument("run", help="the --out directory of a finished `interp train` run")
    parser.add_argument("name", help="the shipped name (lower-case letters, digits, '.', '_', '-')")
    parser.add_argument("--overwrite", action="store_true", help="replace a shipped model of that name")
    parser.add_argument("--into", help="the shipped-models folder (default: the package's interp/shipped)")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    parser.set_defaults(handler=run_ship)


def run_ship(args: argparse.Namespace) -> int:
    from interp.errors import InputError
    from interp.shipped import ROOT
    from interp.shipped.card import CARD_FILE, read_card
    from interp.shipped.promote import ship_run
    from rasp.lib import PROGRAMS

    if args.name in PROGRAMS:  # a bare name means the library program first (interp.subjects' rule)
        raise InputError(f"{args.name!r} is a library program; ship the model under another name so "
                         "every command finds it by its bare name.")
    target = ship_run(args.run, args.name, root=args.into or ROOT, overwrite=args.overwrite)
    card = read_card(target / CARD_FILE)
    summary = {"name": args.name, "path": str(target), "recipe": card["recipe"], "seed": card["seed"],
               "steps": card["steps"], "report": card["report"]}
    print(f"shipped {args.name} -> {target} (recipe {card['recipe']}, seed {card['seed']}, "
          f"{card['steps']} steps)")
    print(f"report: {human(card['report'])}")
    if args.json:
        print_json(summary)
    return 0
