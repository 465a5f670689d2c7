"""`interp rasp FILE --input "a b c"`: run a textual RASP file or a library program."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

import rasp
from rasp.lib import PROGRAMS


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
    parser.set_defaults(handler=run_rasp)


def run_rasp(args: argparse.Namespace) -> int:
    try:
        if args.file is None:
            return repl(sys.stdin, sys.stdout, args)
        program, vocab, max_seq_len = load(args.file, args.output)
        if args.input is None:
            raise rasp.RASPError('give the input tokens with --input "a b c"')
        tokens = read_tokens(args.input, vocab, args.ints)
        result = rasp.trace(program, tokens, causal=args.causal, vocab=vocab, max_seq_len=max_seq_len)
    except rasp.RASPError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print_result(result, args.trace, args.json, sys.stdout)
    return 0


def load(name: str, output: str | None) -> tuple[rasp.SOp, list[Any] | None, int | None]:
    """A program from a library short name or a textual RASP file, with its vocab/length."""
    if name in PROGRAMS and not Path(name).exists():
        entry = PROGRAMS[name]
        return entry.build(), entry.vocab, entry.max_seq_len
    path = Path(name)
    if not path.exists():
        raise rasp.RASPError(
            f"{name!r} is neither a file nor a library program; library: {', '.join(PROGRAMS)}"
        )
    return rasp.parse(path.read_text(), output=output), None, None


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
