"""`interp models`: everything shipped (models and Transformer Programs; the library programs
with --library), each with its kind, the exact name every command accepts, and where it lives."""

from __future__ import annotations

import argparse

from interp.cli.output import print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="list shipped models and Transformer Programs (names "
                                   "every command accepts)")
    parser.add_argument("--library", action="store_true", help="also list the RASP library programs")
    parser.add_argument("--json", action="store_true", help="print one JSON list of {name, kind, location, "
                        "description} last")
    parser.set_defaults(handler=run_models)


def run_models(args: argparse.Namespace) -> int:
    from interp.subjects import catalogue

    rows = catalogue(include_library=args.library)
    width = max((len(r["name"]) for r in rows), default=0)
    kind_width = max((len(r["kind"]) for r in rows), default=0)
    for row in rows:
        headline = f"  [{row['headline']}]" if row.get("headline") else ""
        print(f"{row['name']:<{width}}  {row['kind']:<{kind_width}}  {row['description']}{headline}")
        print(f"{'':<{width}}  {'':<{kind_width}}  {row['location']}")
    if not args.library:
        print("(library programs: `interp models --library`; names resolve as described in "
              "`interp info --help`)")
    if args.json:
        print_json(rows)
    return 0
