"""Our RASP compiler on every library program: size, compile time, inference time, agreement.

Run: .venv/bin/python benchmarks/compile.py   (prints a markdown table)
`measure_ours(name)` is what the tracr-side table merges with.
"""

from __future__ import annotations

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


def measure_ours(name: str, seed: int = 0) -> dict:
    """Compile library program `name` at its default size and measure it."""
    entry = PROGRAMS[name]
    program = entry.build()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CompileWarning)
        start = time.perf_counter()
        compiled = compile_program(program, entry.vocab, entry.max_seq_len)
        compile_seconds = time.perf_counter() - start
    rng = random.Random(seed)
    inputs = [entry.sample(rng, rng.randint(1, entry.max_seq_len))[: entry.max_seq_len]
              for _ in range(N_INPUTS)]
    start = time.perf_counter()
    outputs = compiled.run_batch(inputs)
    infer_seconds = time.perf_counter() - start
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
        "infer_seconds_1000": round(infer_seconds, 4),
        "agreement": round(100.0 * agree / max(total, 1), 2),
    }


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(a - b) <= 1e-6 * max(1.0, abs(a))
    return a == b


def main() -> None:
    columns = ["program", "vocab", "max_len", "compile_s", "layers", "heads", "d_model", "d_mlp",
               "params", "infer_1000_s", "agreement_%"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for name, entry in PROGRAMS.items():
        m = measure_ours(name)
        row = [name, len(entry.vocab), entry.max_seq_len, m["compile_seconds"], m["n_layers"],
               m["n_heads"], m["d_model"], m["d_mlp"], m["params"], m["infer_seconds_1000"],
               m["agreement"]]
        print("| " + " | ".join(str(x) for x in row) + " |", flush=True)


if __name__ == "__main__":
    main()
