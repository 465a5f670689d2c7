"""`interp discover` (ACDC / EAP circuit discovery, scored against the compiler's ground
truth), `interp decompose` (direct logit attribution, residual readout) and `interp ablate`."""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

import torch

from interp.errors import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    discover = subparsers.add_parser(
        "discover", help="find a program's circuit with ACDC or EAP and score it"
    )
    _add_subject(discover)
    discover.add_argument("--method", choices=("acdc", "eap", "eap-ig"), default="acdc")
    discover.add_argument("--ig-steps", type=int, default=20, help="EAP-IG steps (default 20)")
    discover.add_argument("--ablation", choices=("zero", "mean", "resample"), default="zero")
    discover.add_argument("--threshold", type=float, help="ACDC tau (default 1e-4) / EAP cut-off")
    discover.set_defaults(handler=run_discover)

    decompose = subparsers.add_parser(
        "decompose", help="per-component logit attribution and residual readout of one input"
    )
    _add_subject(decompose)
    decompose.add_argument("--input", help='space-separated tokens, e.g. "a b c" (default: sampled)')
    decompose.set_defaults(handler=run_decompose)

    ablate_cmd = subparsers.add_parser("ablate", help="switch components off and compare outputs")
    _add_subject(ablate_cmd)
    ablate_cmd.add_argument("--nodes", required=True, help="comma-separated nodes, e.g. L0H0,MLP1")
    ablate_cmd.add_argument("--ablation", choices=("zero", "mean", "resample"), default="zero")
    ablate_cmd.set_defaults(handler=run_ablate)


def _add_subject(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "program", help="a library program, a .py/.rasp program file, or a saved model directory"
    )
    parser.add_argument("--vocab", help="comma-separated tokens (library programs have a default)")
    parser.add_argument("--max-len", type=int, help="longest input (library programs have a default)")
    parser.add_argument("--per-length", type=int, default=8, help="inputs per length (default 8)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (default 1: small models run fastest on one)")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")


class Subject:
    """What the commands analyse: a model, its input batches, and (if compiled) the program."""

    def __init__(self, model, batches: list[torch.Tensor], compiled: Any = None, name: str = ""):
        self.model = model
        self.batches = batches
        self.compiled = compiled
        self.name = name


def load_subject(args: argparse.Namespace) -> Subject:
    """Compile a program (library name or file) or load a saved model; sample inputs."""
    from rasp.compiler.batches import program_batches

    torch.set_num_threads(args.threads)
    path = Path(args.program)
    if path.is_dir():
        return _load_directory(path, args)
    from interp.cli.compile_cmd import load_program, parse_vocab
    from rasp.compiler import compile_program
    from rasp.lib import PROGRAMS

    program, vocab, max_len = load_program(args.program)
    sample = PROGRAMS[args.program].sample if args.program in PROGRAMS else None
    if args.vocab:
        vocab, sample = parse_vocab(args.vocab, vocab), None
    max_len = args.max_len or max_len
    if not vocab or not max_len:
        raise InputError("give --vocab a,b,c and --max-len N for a program outside the library.")
    compiled = compile_program(program, vocab, max_len)
    if sample is None:
        sample = _uniform(list(vocab))
    batches = program_batches(compiled, sample, _lengths(max_len), args.per_length, args.seed)
    return Subject(compiled.model, batches, compiled, args.program)


def _load_directory(path: Path, args: argparse.Namespace) -> Subject:
    from interp.model import load_model
    from rasp.compiler.batches import program_batches

    model = load_model(path)
    if "compiler" in model.metadata:
        from rasp.compiler import CompiledModel

        compiled = CompiledModel.load(path)
        sample = _uniform(list(compiled.vocab))
        batches = program_batches(compiled, sample, _lengths(compiled.max_seq_len), args.per_length,
                                  args.seed)
        return Subject(compiled.model, batches, compiled, str(path))
    generator = torch.Generator().manual_seed(args.seed)
    n, seq = 8 * args.per_length, args.max_len or model.cfg.n_ctx
    if model.cfg.d_input is not None:
        batch = torch.randn(n, seq, model.cfg.d_input, generator=generator)
    else:
        batch = torch.randint(0, model.cfg.d_vocab, (n, seq), generator=generator)
    return Subject(model, [batch], None, str(path))


def _uniform(vocab: list[Any]):
    def sample(rng: random.Random, n: int) -> list[Any]:
        return [rng.choice(vocab) for _ in range(n)]

    return sample


def _lengths(max_len: int) -> list[int]:
    return sorted({n for n in (1, 2, 3, 4, max_len // 2, max_len - 1, max_len) if 1 <= n <= max_len})


def run_discover(args: argparse.Namespace) -> int:
    from interp.analysis import acdc, eap, faithfulness, precision_recall, roc_auc
    from interp.circuit import Circuit

    subject = load_subject(args)
    model = subject.model
    start = time.perf_counter()
    if args.method == "acdc":
        threshold = 1e-4 if args.threshold is None else args.threshold
        found = acdc(model, subject.batches, threshold=threshold, ablation=args.ablation,
                     seed=args.seed, progress=True)
    else:
        steps = args.ig_steps if args.method == "eap-ig" else 0
        found = eap(model, subject.batches, threshold=args.threshold, ablation=args.ablation,
                    seed=args.seed, ig_steps=steps)
    seconds = time.perf_counter() - start
    summary: dict[str, Any] = {
        "program": subject.name,
        "method": args.method,
        "ablation": args.ablation,
        "seconds": round(seconds, 3),
        "n_edges": len(found.edges),
        "n_candidates": len(Circuit.full(model.cfg).edges),
        "edges": [str(e) for e in found.edges],
        "faithfulness": faithfulness(model, found, subject.batches, kind=args.ablation),
        "auc": None,
        "precision": None,
        "recall": None,
    }
    print(f"{args.method} ({args.ablation} ablation) kept {len(found.edges)} of "
          f"{summary['n_candidates']} edges in {seconds:.2f}s")
    for edge in sorted(found.edges, key=lambda e: -found.scores.get(e, 0.0)):
        print(f"  {str(edge):28s} {found.scores.get(edge, 0.0):.4g}")
    if subject.compiled is not None:
        truth = subject.compiled.circuit()
        candidates = Circuit.full(model.cfg).edges
        try:
            summary["auc"] = roc_auc(found.scores, truth.edges, candidates)
        except InputError as err:
            print(f"AUC undefined: {err}")
        summary["precision"], summary["recall"] = precision_recall(found.edges, truth.edges)
        missed = sorted(set(truth.edges) - set(found.edges))
        extra = sorted(set(found.edges) - set(truth.edges))
        print(f"ground truth: {len(truth.edges)} edges; missed {[str(e) for e in missed]}; "
              f"extra {[str(e) for e in extra]}")
        auc = "n/a" if summary["auc"] is None else f"{summary['auc']:.3f}"
        print(f"ROC AUC {auc}  precision {summary['precision']:.3f}  "
              f"recall {summary['recall']:.3f}")
    print(f"faithfulness {summary['faithfulness']:.3f}  wall time {seconds:.2f}s")
    if args.json:
        print(json.dumps(summary))
    return 0


def run_decompose(args: argparse.Namespace) -> int:
    from interp.analysis import direct_logit_attribution, residual_readout

    subject = load_subject(args)
    model = subject.model
    if args.input is not None:
        if subject.compiled is None:
            raise InputError("--input needs a compiled program; saved plain models use sampled input.")
        inputs = torch.tensor([subject.compiled.encode(_parse_tokens(args.input, subject))])
    else:
        inputs = subject.batches[-1][:1]
    logits, cache = model.run_with_cache(inputs)
    predicted = logits.argmax(-1)
    attrs, labels = direct_logit_attribution(cache, predicted)
    print("direct logit attribution to the predicted output (rows: components, columns: positions)")
    for label, row in zip(labels, attrs[:, 0]):
        print(f"  {label:>10s} " + " ".join(f"{v:7.3f}" for v in row.tolist()))
    result: dict[str, Any] = {"labels": labels, "dla": attrs[:, 0].tolist()}
    if model.residual_labels is not None:
        readout = residual_readout(model, inputs)
        print(readout.to_text())
        result["readout"] = readout.values
    if args.json:
        print(json.dumps(result, default=str))
    return 0


def run_ablate(args: argparse.Namespace) -> int:
    from interp.analysis import ablate, agreement

    subject = load_subject(args)
    nodes = [n.strip() for n in args.nodes.split(",") if n.strip()]
    total, agreeing = 0, 0.0
    with torch.no_grad():
        for batch in subject.batches:
            full = subject.model(batch)
            with ablate(subject.model, nodes=nodes, kind=args.ablation, reference=batch,
                        seed=args.seed):
                ablated = subject.model(batch)
            agreeing += agreement(full, ablated) * batch.shape[0]
            total += batch.shape[0]
    unchanged = agreeing / total
    print(f"ablating {', '.join(nodes)} ({args.ablation}): {unchanged:.3f} of outputs unchanged")
    if args.json:
        print(json.dumps({"nodes": nodes, "ablation": args.ablation, "unchanged": unchanged}))
    return 0


def _parse_tokens(text: str, subject: Subject) -> list[Any]:
    vocab = subject.compiled.vocab
    tokens = text.split()
    if all(isinstance(v, int) for v in vocab):
        return [int(t) if t.lstrip("-").isdigit() else t for t in tokens]
    return tokens
