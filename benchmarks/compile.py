"""Our RASP compiler on every library program: size, compile time, inference time, agreement.

Run: .venv/bin/python benchmarks/compile.py   (prints a markdown table)
`measure_ours(name)` is what the tracr-side table merges with.
"""

from __future__ import annotations

import json
import random
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rasp.compiler import CompileWarning, compile_program  # noqa: E402
from rasp.evaluate import evaluate  # noqa: E402
from rasp.lib import PROGRAMS  # noqa: E402

N_INPUTS = 1000


def measure_ours(name: str, vocab: list | None = None, max_seq_len: int | None = None,
                 seed: int = 0) -> dict:
    """Compile library program `name` (default vocab/length unless given) and measure it.

    infer_seconds_1000: best of 3 batched runs (grouped by length) over the same 1,000
    inputs, after one warm-up call; agreement: % of positions equal to rasp.evaluate on
    the inputs it accepts.
    """
    entry = PROGRAMS[name]
    vocab = list(entry.vocab if vocab is None else vocab)
    max_seq_len = max_seq_len or entry.max_seq_len
    program = entry.build()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CompileWarning)
        start = time.perf_counter()
        compiled = compile_program(program, vocab, max_seq_len)
        compile_seconds = time.perf_counter() - start
    rng = random.Random(seed)
    inputs = []
    for _ in range(N_INPUTS):
        sample = entry.sample(rng, rng.randint(1, max_seq_len))[:max_seq_len]
        # The library sampler draws from the default vocabulary; keep inputs in `vocab`.
        if not set(sample) <= set(vocab):
            sample = [rng.choice(vocab) for _ in range(rng.randint(1, max_seq_len))]
        inputs.append(sample)
    compiled.run_batch(inputs[:1])
    infer_seconds = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        outputs = compiled.run_batch(inputs)
        infer_seconds = min(infer_seconds, time.perf_counter() - start)
    agree = total = 0
    for tokens, got in zip(inputs, outputs):
        try:
            want = evaluate(program, tokens)
        except Exception:  # noqa: BLE001 - inputs the interpreter rejects are not scored
            continue
        total += len(want)
        agree += sum(_same(a, b) for a, b in zip(want, got))
    stats = compiled.stats()
    return {
        "compile_seconds": round(compile_seconds, 4),
        "n_layers": stats["n_layers"],
        "n_heads": stats["n_heads"],
        "d_model": stats["d_model"],
        "d_mlp": stats["d_mlp"],
        "params": stats["params"],
        "params_nonzero": stats["params_nonzero"],
        "infer_seconds_1000": round(infer_seconds, 4),
        "agreement": round(100.0 * agree / max(total, 1), 2),
    }


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(a - b) <= 1e-6 * max(1.0, abs(a))
    return a == b


def compare_with_tracr(path: Path) -> None:
    """Ours at the exact (program, vocab, max_seq_len) settings tracr_side measured."""
    results = json.loads(path.read_text())["results"]
    columns = ["program", "vocab", "max_len", "tracr layers", "ours layers", "tracr d_model",
               "ours d_model", "tracr params", "ours params", "tracr compile_s", "ours compile_s",
               "tracr agree_%", "ours agree_%"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for r in results:
        if r["program"] not in PROGRAMS or r.get("error"):
            continue
        m = measure_ours(r["program"], r["vocab"], r["max_seq_len"])
        row = [r["program"], len(r["vocab"]), r["max_seq_len"], r["n_layers"], m["n_layers"],
               r["d_model"], m["d_model"], r["n_params"], m["params"], r["compile_s"],
               m["compile_seconds"], r.get("agreement_pct"), m["agreement"]]
        print("| " + " | ".join(str(x) for x in row) + " |", flush=True)


def main() -> None:
    if "--tracr" in sys.argv:
        compare_with_tracr(Path(__file__).parent / "tracr_side" / "tracr_results.json")
        return
    columns = ["program", "vocab", "max_len", "compile_s", "layers", "heads", "d_model", "d_mlp",
               "params", "nonzero", "infer_1000_s", "agreement_%"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for name, entry in PROGRAMS.items():
        m = measure_ours(name)
        row = [name, len(entry.vocab), entry.max_seq_len, m["compile_seconds"], m["n_layers"],
               m["n_heads"], m["d_model"], m["d_mlp"], m["params"], m["params_nonzero"],
               m["infer_seconds_1000"],
               m["agreement"]]
        print("| " + " | ".join(str(x) for x in row) + " |", flush=True)


if __name__ == "__main__":
    main()
