"""`interp info NAME`: describe any model or program a name resolves to (kind, where it lives,
size, task, input format, labelled variables); JSON only with --json."""

from __future__ import annotations

import argparse

from interp.cli.output import human, print_json

NAME_HELP = ("a library program, a shipped model (addition-1l), a shipped Transformer Program "
             "(program:sort), a .py/.rasp file, or a model / training-run folder; `interp models` lists them")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("info", help="describe a model or program (kind, size, task, input)")
    parser.add_argument("name", help=NAME_HELP)
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    parser.set_defaults(handler=run_info)


def run_info(args: argparse.Namespace) -> int:
    from interp.subjects import resolve, subject_of

    resolved = resolve(args.name)
    subject = subject_of(resolved)
    summary = {"name": resolved.name, "resolved_as": resolved.kind,
               "location": str(resolved.location) if resolved.location else "rasp.lib (built in code)",
               **subject.describe()}
    print(f"{resolved.name}: {subject.title}")
    print(f"  {subject.kind} ({resolved.kind}), {summary['location']}")
    print(f"  {summary['n_layers']} layers x {summary['n_heads']} heads, d_model {summary['d_model']}, "
          f"d_head {summary['d_head']}, d_mlp {summary['d_mlp']}, n_ctx {summary['n_ctx']}, "
          f"{summary['attention_kind']} attention, {summary['params']:,} parameters")
    print(f"  input: {summary['input']}")
    print(f"  example: {subject.show_input(subject.default_input())[:120]}")
    for key in ("task", "d", "n_points", "encoding", "noise_std"):
        if key in summary:
            print(f"  {key}: {human(summary[key])}")
    print(f"  corruptions (the task's first): {'; '.join(summary['corruptions'])}")
    print(f"  patching metrics: {'; '.join(summary['patch_metrics'])}")
    if summary["labelled_variables"]:
        print(f"  labelled variables: {', '.join(summary['labelled_variables'])}")
    if args.json:
        print_json(summary)
    return 0
