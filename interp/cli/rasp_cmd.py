"""`interp rasp PROGRAM --input "a b c"`: evaluate a library program, textual RASP or a .py program.

Without PROGRAM it starts the RASP REPL (rasp.textual.repl); with a textual RASP file but no
--input it runs the file statement by statement the way the original RASP REPL would,
showing each result on the running example.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

import rasp
from interp.cli.output import print_json
from interp.errors import InputError
from interp.subjects import load_program, parse_tokens
from rasp.textual.repl import Repl, run_repl
from rasp.textual.sources import read_source


def register(subparsers: argparse._SubParsersAction) -> None:
    from rasp.lib import PROGRAMS

    parser = subparsers.add_parser(
        "rasp",
        help="evaluate a RASP program (textual file or library name); no FILE starts a REPL",
    )
    parser.add_argument("file", nargs="?", help=f"a library program ({', '.join(PROGRAMS)}), a "
                        "textual .rasp file or a .py file defining `program`; write ./NAME for a "
                        "file named like a library program")
    parser.add_argument("--input", help='space-separated tokens, e.g. "a b c"')
    parser.add_argument("--output", help="name of the s-op to print (default: last assigned)")
    parser.add_argument("--ints", action="store_true", help="read numeric tokens as ints")
    parser.add_argument("--causal", action="store_true", help="prefix (causal) semantics")
    parser.add_argument("--trace", action="store_true", help="print every intermediate value")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    parser.add_argument(
        "--allow-outside", action="store_true", help="let `load` read files outside the working tree"
    )
    parser.add_argument("--draw-dir", help="where `draw(...)` saves its plotly figures (HTML)")
    parser.set_defaults(handler=run_rasp)


def run_rasp(args: argparse.Namespace) -> int:
    from rasp.lib import PROGRAMS

    if args.file is None:
        tokens = read_tokens(args.input, None, args.ints) if args.input else None
        return _session(sys.stdin, tokens, args, banner=True)
    is_text_file = args.file not in PROGRAMS and Path(args.file).suffix != ".py"
    if args.input is None and is_text_file:
        return _run_file_as_session(Path(args.file), args)
    source = load_program(args.file, args.output, allow_outside=args.allow_outside)
    if args.input is None:
        raise InputError('give the input tokens with --input "a b c"')
    tokens = parse_tokens(args.input, source.vocab, args.ints)
    result = rasp.trace(source.program, tokens, causal=args.causal, vocab=source.vocab,
                        max_seq_len=source.max_seq_len)
    if is_text_file:  # the file's draw(...) statements, shown on the --input tokens
        _run_file_as_session(Path(args.file), args, draws_on=tokens)
    print_result(result, args.trace, args.json, sys.stdout)
    return 0


def _session(lines: Any, tokens: list[Any] | None, args: argparse.Namespace, banner: bool) -> int:
    options = {"causal": args.causal, "allow_outside": args.allow_outside, "draw_dir": args.draw_dir}
    if tokens is None and banner:
        return 2 if run_repl(lines, sys.stdout, **options) and not sys.stdin.isatty() else 0
    repl = Repl(sys.stdout, **options)
    if tokens is not None:
        repl.settings.sop_example = repl.settings.selector_example = tokens
    if banner:
        repl.banner()
    failed = repl.run(lines)
    return 2 if failed and not sys.stdin.isatty() else 0


def _run_file_as_session(path: Path, args: argparse.Namespace, draws_on: list[Any] | None = None) -> int:
    """Run a textual file statement by statement; with `draws_on`, show only its draws, on those tokens."""
    text = read_source(path)
    options = {"causal": args.causal, "allow_outside": args.allow_outside, "draw_dir": args.draw_dir}
    repl = Repl(sys.stdout, root=path.resolve().parent, draws_only=draws_on is not None, **options)
    if draws_on is not None:
        repl.settings.sop_example = repl.settings.selector_example = draws_on
    repl.interpreter.loading.append(path.resolve())  # its loads resolve next to it
    failed = repl.run(text.splitlines(keepends=True))
    return 2 if failed else 0


def read_tokens(text: str, vocab: list[Any] | None, ints: bool) -> list[Any]:
    """The REPL's running-example words as tokens (the front door's rule; nothing typed: no input)."""
    return parse_tokens(text, vocab, ints) if text.split() else []


def _short(values: list[Any]) -> list[Any]:
    """Values for a person: floats at 4 significant digits (the JSON line keeps every digit)."""
    return [float(f"{v:.4g}") if isinstance(v, float) else v for v in values]


def print_result(result: rasp.Trace, show_trace: bool, as_json: bool, out: TextIO) -> None:
    """Print the output (and the trace) as text, then optionally one JSON line."""
    if show_trace:
        for label, values in result.values.items():
            print(f"{label:>24}: {_short(values)}", file=out)
        for label, matrix in result.selectors.items():
            print(f"{label:>24}:", file=out)
            for row in matrix:
                print(" " * 26 + "".join("1" if x else "." for x in row), file=out)
    print(f"output: {_short(result.output)}", file=out)
    if as_json:
        payload = {
            "output": result.output,
            "trace": {"values": result.values, "selectors": result.selectors},
        }
        print_json(payload, out)
