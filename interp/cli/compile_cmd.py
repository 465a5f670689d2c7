"""`interp compile PROGRAM ...` (RASP -> weights) and `interp run DIR --input ...`."""

from __future__ import annotations

import argparse
import json
import runpy
import time
from pathlib import Path
from typing import Any

from interp.errors import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    from rasp.lib import PROGRAMS

    parser = subparsers.add_parser("compile", help="compile a RASP program to a model directory")
    parser.add_argument(
        "program",
        help=f"a library name ({', '.join(PROGRAMS)}), a .py file defining `program`, or a .rasp file",
    )
    parser.add_argument("--vocab", help="comma-separated tokens (library programs have a default)")
    parser.add_argument("--max-len", type=int, help="longest input (library programs have a default)")
    parser.add_argument("--out", required=True, help="directory to write the model into")
    parser.add_argument("--causal", action="store_true", help="compile a causal (masked) model")
    parser.add_argument("--hard", action="store_true",
                        help="hard attention (exact RASP semantics) instead of softmax")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    parser.set_defaults(handler=run_compile)

    runner = subparsers.add_parser("run", help="run a compiled model directory on one input")
    runner.add_argument("path", help="directory written by `interp compile`")
    runner.add_argument("--input", required=True, help='space-separated tokens, e.g. "a b c"')
    runner.add_argument("--json", action="store_true", help="print one JSON object last")
    runner.set_defaults(handler=run_model)


def load_program(spec: str) -> tuple[Any, list[Any] | None, int | None]:
    """(program, default vocab, default max_seq_len) from a library name or a file."""
    from rasp.lib import PROGRAMS

    if spec in PROGRAMS:
        entry = PROGRAMS[spec]
        return entry.build(), list(entry.vocab), entry.max_seq_len
    path = Path(spec)
    if not path.is_file():
        raise InputError(f"{spec!r} is neither a library program ({', '.join(PROGRAMS)}) nor a file.")
    if path.suffix == ".py":
        namespace = runpy.run_path(str(path))
        if "program" not in namespace:
            raise InputError(f"{path} does not define a variable named `program` (an SOp).")
        return namespace["program"], namespace.get("vocab"), namespace.get("max_seq_len")
    from rasp.parser import parse

    return parse(path.read_text()), None, None


def parse_vocab(text: str, like: list[Any] | None) -> list[Any]:
    """Comma-separated tokens; numbers become ints when the default vocabulary is ints."""
    tokens = [t.strip() for t in text.split(",") if t.strip()]
    default_is_ints = like is None or all(isinstance(t, int) for t in like)
    if default_is_ints and all(_is_int(t) for t in tokens):
        return [int(t) for t in tokens]
    return tokens


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit()


def run_compile(args: argparse.Namespace) -> int:
    from rasp.compiler import compile_program

    program, vocab, max_len = load_program(args.program)
    if args.vocab:
        vocab = parse_vocab(args.vocab, vocab)
    if args.max_len:
        max_len = args.max_len
    if not vocab or not max_len:
        raise InputError("give --vocab a,b,c and --max-len N for a program outside the library.")
    start = time.perf_counter()
    compiled = compile_program(program, vocab, max_len, causal=args.causal,
                               attention_kind="hard" if args.hard else "softmax")
    seconds = time.perf_counter() - start
    compiled.save(args.out)
    summary = {**compiled.stats(), "compile_seconds": round(seconds, 4), "out": args.out}
    print(f"compiled {args.program} -> {args.out}: {summary['n_layers']} layers, "
          f"{summary['n_heads']} heads/layer, d_model={summary['d_model']}, "
          f"d_mlp={summary['d_mlp']}, {summary['params']} parameters, {seconds:.3f} s")
    if args.json:
        print(json.dumps(summary))
    return 0


def run_model(args: argparse.Namespace) -> int:
    from rasp.compiler import CompiledModel

    compiled = CompiledModel.load(args.path)
    by_name = {str(t): t for t in compiled.vocab}
    tokens = []
    for position, name in enumerate(args.input.split()):
        if name not in by_name:
            raise InputError(f"token {name!r} at position {position} is not in the vocabulary "
                             f"{list(by_name)}.")
        tokens.append(by_name[name])
    output = compiled.run(tokens)
    print(" ".join("None" if v is None else str(v) for v in output))
    if args.json:
        print(json.dumps({"input": [str(t) for t in tokens], "output": output}, default=str))
    return 0
