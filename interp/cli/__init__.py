"""The `interp` command line. Each subcommand lives in its own module under interp/cli/
and exposes `register(subparsers)`; list it in SUBCOMMAND_MODULES to add it. A module that
fails to import is a bug and fails every command loudly (it is never skipped).

Every command that takes a model or program resolves its name through the front door,
interp.subjects (one precedence rule; `interp models` lists the names).

Subcommand modules import torch, TransformerLens and the compiler inside their handlers,
so `interp rasp ...` and `interp --help` start without them.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback

from interp.cli.arguments import ArgumentParser
from interp.cli.output import report_error
from interp.errors import InterpError
from rasp.errors import RASPError

SUBCOMMAND_MODULES = [
    "interp.cli.info_cmd",
    "interp.cli.models_cmd",
    "interp.cli.patch_cmd",
    "interp.cli.app_cmd",
    "interp.cli.rasp_cmd",
    "interp.cli.compile_cmd",
    "interp.cli.analysis_cmd",
    "interp.cli.train_cmd",
    "interp.cli.ship_cmd",
    "interp.cli.program_cmd",
    "interp.cli.siit_cmd",
    "interp.cli.circuit_bench_cmd",
]


def build_parser() -> ArgumentParser:
    """The top-level parser with every available subcommand registered."""
    parser = ArgumentParser(
        prog="interp",
        description="Mechanistic-interpretability workbench: compile RASP, train small "
        "transformers, look inside them.",
    )
    parser.add_argument("--version", action="version", version=f"interp {package_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def package_version() -> str:
    """The installed version of interp-toolkit (or `unknown` when run from an uninstalled tree)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("interp-toolkit")
    except PackageNotFoundError:
        return "unknown (not installed)"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `interp` console script: 0 on success, 2 on a user's mistake.

    A user's mistake prints one `error:` line on stderr and, with --json, one JSON object
    {"error": ..., "kind": ...} as the last line of stdout. Anything else is a bug: its
    traceback goes to stderr, kind "internal", exit status 1.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    as_json = "--json" in argv
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "handler", None):
            parser.print_help()
            return 0
        return int(args.handler(args) or 0)
    except (InterpError, RASPError) as err:
        report_error(err, as_json)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`interp ... | head -1`): nothing left to say to it.
        sys.stdout = open(os.devnull, "w")  # interpreter shutdown flushes stdout again
        return 1
    except Exception as err:  # noqa: BLE001 - a bug: keep its traceback, still end in one JSON line
        traceback.print_exc()
        report_error(RuntimeError(f"internal error, please report it: {type(err).__name__}: {err}"),
                     as_json, kind="internal")
        return 1


if __name__ == "__main__":
    sys.exit(main())
