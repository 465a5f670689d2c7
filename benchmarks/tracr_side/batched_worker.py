"""tracr's side of benchmarks/batched_inference.py: a worker in the tracr venv, one thread.

Started by that script (never in the project's environment). Protocol, one JSON object a line:
first line in: {"programs": [{"name", "vocab", "max_seq_len", "inputs"}, ...]}; it compiles
each with tracr's own lib, warms up the jit and answers {"ready": true, "outputs": {name:
decoded outputs}}. Then each line {"time": name} is answered {"ms": wall time of one
batched run of that program's inputs}. The batched run is `measure_tracr.run_batched`'s
method: `jax.jit(model.forward)` on one [n_L, L+1] batch per length, tracr's own encoder
and decoder, BOS dropped; encode, forward and decode are all inside the time.
"""

from __future__ import annotations

import os

# One thread for XLA, set before jax is imported (the project side runs torch on one thread).
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1")

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from tracr.compiler import compiling, lib  # noqa: E402
from tracr.rasp import rasp  # noqa: E402

BOS = "compiler_bos"

# name -> tracr program, with the arguments rasp.lib.PROGRAMS uses for the same name.
BUILDERS = {
    "length": lambda m: lib.make_length(),
    "reverse": lambda m: lib.make_reverse(rasp.tokens),
    "hist": lambda m: lib.make_hist(),
    "sort_unique": lambda m: lib.make_sort_unique(rasp.tokens, rasp.tokens),
    "sort": lambda m: lib.make_sort(rasp.tokens, rasp.tokens, max_seq_len=m, min_key=1),
    "sort_freq": lambda m: lib.make_sort_freq(m),
    "frac_prevs": lambda m: lib.make_frac_prevs(rasp.tokens == "x"),
    "pair_balance": lambda m: lib.make_pair_balance(rasp.tokens, "(", ")"),
    "shuffle_dyck": lambda m: lib.make_shuffle_dyck(["()"]),
    "shuffle_dyck2": lambda m: lib.make_shuffle_dyck2(),
    "count_less_freq": lambda m: lib.make_count_less_freq(2),
    "count": lambda m: lib.make_count(rasp.tokens, "a"),
    "detect_pattern": lambda m: lib.detect_pattern(rasp.tokens, ["a", "b", "c"]),
    "shift_by": lambda m: lib.shift_by(1, rasp.tokens),
}


class Batched:
    """One compiled tracr model and its jitted forward, run on a fixed list of inputs."""

    def __init__(self, name: str, vocab: list[Any], max_seq_len: int, inputs: list[list[Any]]):
        self.model = compiling.compile_rasp_to_model(
            BUILDERS[name](max_seq_len), vocab=set(vocab), max_seq_len=max_seq_len,
            compiler_bos=BOS)
        self.forward = jax.jit(self.model.forward)
        self.inputs = inputs
        self.by_len: dict[int, list[int]] = {}
        for i, x in enumerate(inputs):
            self.by_len.setdefault(len(x), []).append(i)

    def run(self) -> list[list[Any]]:
        """Decoded outputs (BOS dropped): encode, jitted forward, decode."""
        enc, dec = self.model.input_encoder, self.model.output_encoder
        outputs: list[list[Any]] = [None] * len(self.inputs)  # type: ignore[list-item]
        for idx in self.by_len.values():
            toks = jnp.array([enc.encode([BOS] + self.inputs[i]) for i in idx])
            un = jax.block_until_ready(self.forward(self.model.params, toks).unembedded_output)
            for row, i in zip(np.asarray(un).tolist(), idx):
                outputs[i] = dec.decode(row)[1:] if dec else row[1:]
        return outputs


def main() -> int:
    spec = json.loads(sys.stdin.readline())
    runners = {p["name"]: Batched(p["name"], p["vocab"], p["max_seq_len"], p["inputs"])
               for p in spec["programs"]}
    outputs = {name: r.run() for name, r in runners.items()}  # also the jit warm-up
    print(json.dumps({"ready": True, "outputs": outputs}), flush=True)
    for line in sys.stdin:
        name = json.loads(line)["time"]
        t0 = time.perf_counter()
        runners[name].run()
        print(json.dumps({"ms": (time.perf_counter() - t0) * 1e3}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
