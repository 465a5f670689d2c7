"""`interp info DIR`: describe a saved model (size, hooks, labels)."""

from __future__ import annotations

import argparse

from interp.cli.output import print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("info", help="describe a saved model directory")
    parser.add_argument("path", help="model directory (config.json + model.safetensors)")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    parser.set_defaults(handler=run_info)


def run_info(args: argparse.Namespace) -> int:
    from interp.model import load_model

    model = load_model(args.path)
    cfg = model.cfg
    summary = {
        "path": args.path,
        "n_layers": cfg.n_layers,
        "d_model": cfg.d_model,
        "n_heads": cfg.n_heads,
        "d_head": cfg.d_head,
        "d_mlp": cfg.d_mlp or 0,
        "n_ctx": cfg.n_ctx,
        "d_vocab": cfg.d_vocab,
        "attention_kind": cfg.attention_kind,
        "params": model.n_params(),
        "labelled_variables": model.residual_labels.variables() if model.residual_labels else [],
        "metadata": model.metadata,
    }
    for key, value in summary.items():
        print(f"{key:>20}: {value}")
    if args.json:
        print_json(summary)
    return 0
