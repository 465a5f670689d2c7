"""`interp rasp PROGRAM --input "a b c"`: evaluate a library program, textual RASP or a .py program."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

import rasp
from interp.cli.output import print_json
from interp.errors import InputError
from interp.subjects import load_program, parse_tokens


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
    parser.set_defaults(handler=run_rasp)


def run_rasp(args: argparse.Namespace) -> int:
    if args.file is None:
        return repl(sys.stdin, sys.stdout, args)
    source = load_program(args.file, args.output)
    if args.input is None:
        raise InputError('give the input tokens with --input "a b c"')
    tokens = parse_tokens(args.input, source.vocab, args.ints)
    result = rasp.trace(source.program, tokens, causal=args.causal, vocab=source.vocab,
                        max_seq_len=source.max_seq_len)
    print_result(result, args.trace, args.json, sys.stdout)
    return 0


def read_tokens(text: str, vocab: list[Any] | None, ints: bool) -> list[Any]:
    """The REPL's `:input` words as tokens (the front door's rule; nothing typed: no input)."""
    return parse_tokens(text, vocab, ints) if text.split() else []


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
        print_json(payload, out)


def repl(stdin: TextIO, out: TextIO, args: argparse.Namespace) -> int:
    """Read RASP statements; after each, evaluate the last s-op on the current input.

    `:input a b c` sets the input; statements may span lines and end with ';' or '}'.
    """
    source = ""
    pending = ""
    tokens = read_tokens(args.input, None, args.ints) if args.input else None
    print("RASP REPL: statements end with ';'; ':input a b c' sets the input.", file=out)
    for line in stdin:
        if not pending and line.strip().startswith(":input"):
            tokens = read_tokens(line.strip()[len(":input") :], None, args.ints)
            print(f"input: {tokens}", file=out)
            continue
        pending += line
        stripped = pending.strip()
        if not stripped or pending.count("{") > pending.count("}"):
            continue
        if not (stripped.endswith(";") or stripped.endswith("}") or stripped.startswith("#")):
            continue
        try:
            program = rasp.parse(source + pending) if "=" in source + pending else None
            source += pending
            if program is not None and tokens:
                print(f"{program.label}: {rasp.evaluate(program, tokens, causal=args.causal)}", file=out)
        except rasp.RASPError as error:
            print(f"error: {error}", file=out)
        pending = ""
    return 0
