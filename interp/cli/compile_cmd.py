"""`interp compile PROGRAM ...` (RASP -> weights) and `interp run DIR --input ...`."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from interp.cli.arguments import positive_int
from interp.cli.info_cmd import NAME_HELP
from interp.cli.output import human, print_json
from interp.errors import InputError, InterpError

PROGRAM_HELP = ("a library program name (see `interp rasp --help`), a .py file defining `program`, "
                "or a textual .rasp file; write ./NAME for a file named like a library program")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("compile", help="compile a RASP program to a model directory")
    parser.add_argument("program", help=PROGRAM_HELP)
    parser.add_argument("--vocab", help="tokens separated by commas or spaces (library programs "
                        "have a default)")
    parser.add_argument("--max-len", type=positive_int,
                        help="longest input (library programs have a default)")
    parser.add_argument("--out", required=True, help="directory to write the model into")
    parser.add_argument("--causal", action="store_true", help="compile a causal (masked) model")
    parser.add_argument("--hard", action="store_true",
                        help="hard attention (exact RASP semantics) instead of softmax")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    parser.set_defaults(handler=run_compile)

    runner = subparsers.add_parser("run", help="run any model or program on one input")
    runner.add_argument("path", metavar="NAME", help=NAME_HELP)
    runner.add_argument("--input", required=True, help="one input in the model's own format (`interp info "
                        'NAME` shows it), e.g. "a b c" or "12345+67890="')
    runner.add_argument("--json", action="store_true", help="print one JSON object last")
    runner.set_defaults(handler=run_model)


def check_output_dir(path: Path) -> None:
    """InputError before any work when `path` cannot become a model directory."""
    if path.exists() and not path.is_dir():
        raise InputError(f"--out {path}: exists and is not a directory; choose a new directory name.")
    ancestor = path
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(f"--out {path}: {ancestor} is a file, not a directory; choose another place.")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise InputError(f"--out {path}: {ancestor} is not writable; choose a writable place.")
    if path.is_dir() and any(path.iterdir()) and not _is_saved_model(path):
        raise InputError(f"--out {path}: exists and holds files that are not a saved model; choose a "
                         "new directory (compiling replaces only a model saved here before).")


def _is_saved_model(path: Path) -> bool:
    from interp.model.checkpoint import read_header

    try:
        read_header(path)
    except InterpError:
        return False
    return True


def run_compile(args: argparse.Namespace) -> int:
    from interp.subjects import compile_subject, load_program, parse_vocab

    out = Path(args.out)
    check_output_dir(out)
    source = load_program(args.program)
    vocab = parse_vocab(args.vocab, source.vocab) if args.vocab is not None else None
    start = time.perf_counter()
    compiled = compile_subject(source, vocab, args.max_len, causal=args.causal,
                               attention_kind="hard" if args.hard else "softmax").compiled
    seconds = time.perf_counter() - start
    try:
        compiled.save(out)
    except OSError as err:
        raise InputError(f"--out {out}: cannot write the model ({err.strerror}).") from None
    summary = {**compiled.stats(), "compile_seconds": round(seconds, 4), "out": args.out}
    print(f"compiled {args.program} -> {args.out}: {summary['n_layers']} layers, "
          f"{summary['n_heads']} heads/layer, d_model={summary['d_model']}, "
          f"d_mlp={summary['d_mlp']}, {summary['params']} parameters, {seconds:.3f} s")
    if args.json:
        print_json(summary)
    return 0


def run_model(args: argparse.Namespace) -> int:
    from interp.subjects import load_subject

    subject = load_subject(args.path)
    given = subject.parse_input(args.input)
    output = subject.run(given)
    print(" ".join("None" if v is None else human(v) for v in output))
    if args.json:
        tokens = given if isinstance(given, list) else subject.format_input(given)
        print_json({"input": [str(t) for t in tokens] if isinstance(tokens, list) else tokens,
                    "output": output})
    return 0
