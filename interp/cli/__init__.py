"""The `interp` command line. Each subcommand lives in its own module under interp/cli/
and exposes `register(subparsers)`; list it in SUBCOMMAND_MODULES to add it."""

from __future__ import annotations

import argparse
import importlib
import sys

from interp.errors import InterpError
from rasp.errors import RASPError

# Modules that may not exist yet (added by later work) are skipped quietly.
SUBCOMMAND_MODULES = [
    "interp.cli.info_cmd",
    "interp.cli.app_cmd",
    "interp.cli.rasp_cmd",
    "interp.cli.compile_cmd",
    "interp.cli.analysis_cmd",
    "interp.cli.program_cmd",
]


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every available subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="interp",
        description="Mechanistic-interpretability workbench: compile RASP, train small "
        "transformers, look inside them.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name == name:
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `interp` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    try:
        return int(args.handler(args) or 0)
    except (InterpError, RASPError) as err:
        # A user-caused error: one clear line, no traceback.
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
