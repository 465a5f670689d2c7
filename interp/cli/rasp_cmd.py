"""`interp rasp FILE --input "a b c"`: run a textual RASP file or a library program.

Without FILE it starts the RASP REPL (rasp.repl); with FILE but no --input it runs the
file statement by statement the way the original RASP REPL would, showing each result on
the running example.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

import rasp
from rasp.lib import PROGRAMS
from rasp.parser import parse_file
from rasp.repl import Repl, run_repl
from rasp.text_sources import read_source


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "rasp",
        help="evaluate a RASP program (textual file or library name); no FILE starts a REPL",
    )
    parser.add_argument("file", nargs="?", help=f"a .rasp file or a library name ({', '.join(PROGRAMS)})")
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
    try:
        if args.file is None:
            tokens = read_tokens(args.input, None, args.ints) if args.input else None
            return _session(sys.stdin, tokens, args, banner=True)
        if args.input is None and args.file not in PROGRAMS:
            return _run_file_as_session(Path(args.file), args)
        program, vocab, max_seq_len = load(args.file, args.output, args.allow_outside)
        if args.input is None:
            raise rasp.RASPError('give the input tokens with --input "a b c"')
        tokens = read_tokens(args.input, vocab, args.ints)
        result = rasp.trace(program, tokens, causal=args.causal, vocab=vocab, max_seq_len=max_seq_len)
    except rasp.RASPError as error:
        print(f"error: {error}", file=sys.stderr)
        if args.json:
            kind = "syntax" if isinstance(error, rasp.RASPSyntaxError) else "rasp"
            print(json.dumps({"error": str(error), "kind": kind}))
        return 2
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


def _run_file_as_session(path: Path, args: argparse.Namespace) -> int:
    text = read_source(path)
    options = {"causal": args.causal, "allow_outside": args.allow_outside, "draw_dir": args.draw_dir}
    repl = Repl(sys.stdout, root=path.resolve().parent, **options)
    repl.interpreter.loading.append(path.resolve())  # its loads resolve next to it
    failed = repl.run(text.splitlines(keepends=True))
    return 2 if failed else 0


def load(
    name: str, output: str | None, allow_outside: bool = False
) -> tuple[rasp.SOp, list[Any] | None, int | None]:
    """A program from a library short name or a textual RASP file, with its vocab/length."""
    if name in PROGRAMS and not Path(name).exists():
        entry = PROGRAMS[name]
        return entry.build(), entry.vocab, entry.max_seq_len
    path = Path(name)
    if not path.exists():
        raise rasp.RASPError(
            f"{name!r} is neither a file nor a library program; library: {', '.join(PROGRAMS)}"
        )
    return parse_file(path, output=output, allow_outside=allow_outside), None, None


def read_tokens(text: str, vocab: list[Any] | None, ints: bool) -> list[Any]:
    """Split the --input string; match library vocab items by their text."""
    words = text.split()
    if vocab is not None:
        by_text = {str(v): v for v in vocab}
        return [by_text.get(w, w) for w in words]
    if ints:
        return [int(w) if w.lstrip("-").isdigit() else w for w in words]
    return words


def print_result(result: rasp.Trace, show_trace: bool, as_json: bool, out: TextIO) -> None:
    """Print the output (and the trace) as text, then optionally one JSON line."""
    if show_trace:
        for label, values in result.values.items():
            print(f"{label:>24}: {values}", file=out)
        for label, matrix in result.selectors.items():
            print(f"{label:>24}:", file=out)
            for row in matrix:
                print(" " * 26 + "".join("1" if x else "." for x in row), file=out)
    print(f"output: {result.output}", file=out)
    if as_json:
        payload = {
            "output": result.output,
            "trace": {"values": result.values, "selectors": result.selectors},
        }
        print(json.dumps(payload, default=str), file=out)
