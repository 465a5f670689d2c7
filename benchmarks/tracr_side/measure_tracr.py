"""Measure DeepMind's tracr on the programs of its own `compiler/lib.py`.

Runs INSIDE the tracr venv (see setup.sh), never in the project's environment:

    bash benchmarks/tracr_side/setup.sh            # once, creates /work/tracr-venv
    /work/tracr-venv/bin/python benchmarks/tracr_side/measure_tracr.py [--only NAME ...]
        [--n-inputs 1000] [--out benchmarks/tracr_side/tracr_results.json]

For every (program, max_seq_len) of CONFIGS it records: compile time, n_layers, total
heads, residual width, max MLP hidden width, parameter counts, inference time for
N random inputs, and agreement of the compiled model with tracr's own RASP evaluator
(`tracr.rasp.rasp.evaluate`) on the same inputs.

Inference: tracr's `AssembledTransformerModel.apply` takes ONE sequence (B=1, not
jitted).  Its `forward(params, tokens)` (a haiku-transformed function) does accept
[B, T] token ids, but the assembled model sets no pad mask (CompiledTransformerModel
.pad_token is None), so padded batches would be wrong for index-based selectors.  We
therefore batch *per sequence length*: `jax.jit(model.forward)` on one [n_L, L+1]
batch per length L (infer_mode = "jit_forward_batched_per_length"), then decode with
the model's own output encoder.  For reference `loop_apply_ms_per_input` times the
plain `model.apply` loop on the first 100 inputs.

Agreement follows tracr's integration tests: the BOS position is dropped; positions
where the evaluator returns None are not compared (counted in n_none_positions);
categorical outputs must be equal, numerical ones within |a-b| <= ATOL + RTOL*|b|.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from tracr.compiler import compiling, lib
from tracr.rasp import rasp

BOS = "compiler_bos"
ATOL = 1e-3
RTOL = 5e-3  # tracr's integration tests use rtol=0.005 (and atol=1e-7)
N_LOOP = 100  # inputs timed through the (non-batched, non-jitted) model.apply loop

TOKENS3 = ["a", "b", "c"]
NUM3 = [1, 2, 3]


def _uniform(vocab: list[Any]) -> Callable[[random.Random, int], list[Any]]:
    return lambda rng, n: [rng.choice(vocab) for _ in range(n)]


def _distinct(vocab: list[Any]) -> Callable[[random.Random, int], list[Any]]:
    # sort_unique needs unique keys: a random sample without replacement.
    return lambda rng, n: rng.sample(vocab, min(n, len(vocab)))


def _brackets(pairs: list[str]) -> Callable[[random.Random, int], list[Any]]:
    """Half uniform random brackets, half balanced shuffles (when the length is even)."""
    chars = [c for p in pairs for c in p]

    def sample(rng: random.Random, n: int) -> list[Any]:
        if n % 2 or rng.random() < 0.5:
            return [rng.choice(chars) for _ in range(n)]
        out: list[str] = []
        open_counts = {p: 0 for p in pairs}
        while len(out) < n:
            remaining = n - len(out)
            pending = sum(open_counts.values())
            can_open = pending < remaining
            if pending and (not can_open or rng.random() < 0.5):
                p = rng.choice([p for p, c in open_counts.items() if c])
                out.append(p[1])
                open_counts[p] -= 1
            else:
                p = rng.choice(pairs)
                out.append(p[0])
                open_counts[p] += 1
        return out

    return sample


def _nary(max_seq_len: int) -> rasp.SOp:
    del max_seq_len
    # f(token, index, length) = token * (length - index): token times distance to the end.
    return lib.make_nary_sequencemap(
        lambda t, i, n: t * (n - i), rasp.tokens, rasp.indices, lib.make_length()
    ).named("nary_sequencemap")


# name -> (builder(max_seq_len) -> program, vocab, max_seq_lens, sampler, description)
CONFIGS: dict[str, dict[str, Any]] = {
    "length": dict(build=lambda m: lib.make_length(), vocab=TOKENS3, max_seq_lens=[5],
                   desc="lib.make_length()"),
    "reverse": dict(build=lambda m: lib.make_reverse(rasp.tokens), vocab=TOKENS3,
                    max_seq_lens=[5, 10, 20], desc="lib.make_reverse(tokens)"),
    "hist": dict(build=lambda m: lib.make_hist(), vocab=TOKENS3, max_seq_lens=[5],
                 desc="lib.make_hist()"),
    "sort_unique": dict(build=lambda m: lib.make_sort_unique(rasp.tokens, rasp.tokens),
                        vocab=[1, 2, 3, 4, 5], max_seq_lens=[5],
                        sampler=_distinct([1, 2, 3, 4, 5]),
                        desc="lib.make_sort_unique(tokens, tokens); inputs are distinct"),
    "sort": dict(build=lambda m: lib.make_sort(rasp.tokens, rasp.tokens, max_seq_len=m,
                                               min_key=1),
                 vocab=NUM3, max_seq_lens=[5, 10, 20],
                 desc="lib.make_sort(tokens, tokens, max_seq_len=M, min_key=1)"),
    "sort_freq": dict(build=lambda m: lib.make_sort_freq(m), vocab=TOKENS3,
                      max_seq_lens=[5], desc="lib.make_sort_freq(M)"),
    "frac_prevs": dict(build=lambda m: lib.make_frac_prevs(rasp.tokens == "x"),
                       vocab=["a", "b", "x"], max_seq_lens=[5],
                       desc='lib.make_frac_prevs(tokens == "x")'),
    "pair_balance": dict(build=lambda m: lib.make_pair_balance(rasp.tokens, "(", ")"),
                         vocab=["(", ")"], max_seq_lens=[5], sampler=_brackets(["()"]),
                         desc='lib.make_pair_balance(tokens, "(", ")")'),
    "shuffle_dyck": dict(build=lambda m: lib.make_shuffle_dyck(["()"]), vocab=["(", ")"],
                         max_seq_lens=[5], sampler=_brackets(["()"]),
                         desc='lib.make_shuffle_dyck(["()"])'),
    "shuffle_dyck2": dict(build=lambda m: lib.make_shuffle_dyck2(),
                          vocab=["(", ")", "{", "}"], max_seq_lens=[5],
                          sampler=_brackets(["()", "{}"]), desc="lib.make_shuffle_dyck2()"),
    "count_less_freq": dict(build=lambda m: lib.make_count_less_freq(2), vocab=TOKENS3,
                            max_seq_lens=[5], desc="lib.make_count_less_freq(2)"),
    "count": dict(build=lambda m: lib.make_count(rasp.tokens, "a"), vocab=TOKENS3,
                  max_seq_lens=[5], desc='lib.make_count(tokens, "a")'),
    "nary_sequencemap": dict(build=_nary, vocab=NUM3, max_seq_lens=[5],
                             desc="lib.make_nary_sequencemap(lambda t, i, n: t * (n - i), "
                                  "tokens, indices, lib.make_length())"),
    "shift_by": dict(build=lambda m: lib.shift_by(1, rasp.tokens), vocab=TOKENS3,
                     max_seq_lens=[5], desc="lib.shift_by(1, tokens)"),
    "detect_pattern": dict(build=lambda m: lib.detect_pattern(rasp.tokens, "abc"),
                           vocab=TOKENS3, max_seq_lens=[5],
                           desc='lib.detect_pattern(tokens, "abc")'),
}


def count_params(params: Any) -> tuple[int, int]:
    leaves = jax.tree_util.tree_leaves(params)
    total = sum(int(np.size(x)) for x in leaves)
    nonzero = sum(int(np.count_nonzero(np.asarray(x))) for x in leaves)
    return total, nonzero


def architecture(model: Any) -> dict[str, Any]:
    """Sizes read off the assembled model; heads/sublayers counted if they carry weights."""
    cfg = model.model_config
    params = model.params
    n_heads = 0
    attn_used = mlp_used = 0
    for layer in range(cfg.num_layers):
        attn = f"transformer/layer_{layer}/attn"
        q = np.asarray(params[f"{attn}/query"]["w"])
        k = np.asarray(params[f"{attn}/key"]["w"])
        v = np.asarray(params[f"{attn}/value"]["w"])
        o = np.asarray(params[f"{attn}/linear"]["w"])
        ks = cfg.key_size
        layer_heads = 0
        for h in range(cfg.num_heads):
            blk = slice(h * ks, (h + 1) * ks)
            if (np.any(q[:, blk]) or np.any(k[:, blk]) or np.any(v[:, blk])
                    or np.any(o[blk, :])):
                layer_heads += 1
        n_heads += layer_heads
        attn_used += layer_heads > 0
        mlp = f"transformer/layer_{layer}/mlp"
        if np.any(np.asarray(params[f"{mlp}/linear_1"]["w"])):
            mlp_used += 1
    total, nonzero = count_params(params)
    return dict(
        n_layers=int(cfg.num_layers),  # tracr layer = one attention + one MLP sublayer
        n_heads=n_heads,  # total heads with weights, all layers
        max_heads_per_layer=int(cfg.num_heads),
        n_attn_sublayers_used=int(attn_used),
        n_mlp_sublayers_used=int(mlp_used),
        d_model=len(model.residual_labels),
        d_mlp=int(cfg.mlp_hidden_size),
        key_size=int(cfg.key_size),
        n_params=total,
        n_params_nonzero=nonzero,
    )


def _close(a: Any, b: Any, numerical: bool) -> bool:
    if numerical:
        try:
            return abs(float(a) - float(b)) <= ATOL + RTOL * abs(float(b))
        except (TypeError, ValueError):
            return False
    return a == b


def make_inputs(cfg: dict[str, Any], max_seq_len: int, n: int, seed: int) -> list[list[Any]]:
    rng = random.Random(seed)
    sampler = cfg.get("sampler") or _uniform(cfg["vocab"])
    out = []
    for _ in range(n):
        length = rng.randint(1, max_seq_len)
        out.append(sampler(rng, length))
    return out


def run_batched(model: Any, inputs: list[list[Any]]) -> tuple[list[list[Any]], float, float, float]:
    """Decoded outputs (BOS dropped), warm batched time (encode+forward+decode),
    forward-only time, and jit warm-up time."""
    fwd = jax.jit(model.forward)
    by_len: dict[int, list[int]] = {}
    for i, x in enumerate(inputs):
        by_len.setdefault(len(x), []).append(i)
    enc = model.input_encoder
    dec = model.output_encoder

    # warm-up: compile one executable per (batch, length) shape
    t0 = time.perf_counter()
    for idx in by_len.values():
        toks = jnp.array([enc.encode([BOS] + inputs[i]) for i in idx])
        jax.block_until_ready(fwd(model.params, toks).unembedded_output)
    warm = time.perf_counter() - t0

    outputs: list[list[Any]] = [None] * len(inputs)  # type: ignore[list-item]
    fwd_time = 0.0
    t0 = time.perf_counter()
    for idx in by_len.values():
        toks = jnp.array([enc.encode([BOS] + inputs[i]) for i in idx])
        t1 = time.perf_counter()
        un = jax.block_until_ready(fwd(model.params, toks).unembedded_output)
        fwd_time += time.perf_counter() - t1
        un = np.asarray(un).tolist()
        for row, i in zip(un, idx):
            outputs[i] = dec.decode(row)[1:] if dec else row[1:]
    total = time.perf_counter() - t0
    return outputs, total, fwd_time, warm


def compare(program: rasp.SOp, inputs: list[list[Any]], outputs: list[list[Any]]) -> dict[str, Any]:
    numerical = rasp.is_numerical(program)
    seq_ok = pos_ok = pos_total = n_none = eval_errors = 0
    max_err = 0.0
    mismatches = []
    for x, got in zip(inputs, outputs):
        try:
            want = rasp.evaluate(program, x)
        except Exception as exc:  # evaluator itself fails on this input
            eval_errors += 1
            if len(mismatches) < 5:
                mismatches.append(dict(input=x, evaluator_error=repr(exc)[:200]))
            continue
        ok = True
        for a, b in zip(got, want):
            if b is None:
                n_none += 1
                continue
            pos_total += 1
            if _close(a, b, numerical):
                pos_ok += 1
            else:
                ok = False
            if numerical:
                try:
                    max_err = max(max_err, abs(float(a) - float(b)))
                except (TypeError, ValueError):
                    pass
        seq_ok += ok
        if not ok and len(mismatches) < 5:
            mismatches.append(dict(input=x, model=[_jsonable(v) for v in got],
                                   evaluator=[_jsonable(v) for v in want]))
    n = len(inputs)
    return dict(
        agreement_pct=round(100.0 * seq_ok / n, 2),
        agreement_positions_pct=round(100.0 * pos_ok / max(pos_total, 1), 2),
        n_none_positions=n_none,
        evaluator_errors=eval_errors,
        max_abs_err=round(max_err, 6) if numerical else None,
        mismatch_examples=mismatches,
    )


def _jsonable(v: Any) -> Any:
    if isinstance(v, (np.floating, float)):
        return round(float(v), 6)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (str, int, bool)) or v is None:
        return v
    return repr(v)


def measure(name: str, max_seq_len: int, n_inputs: int, seed: int) -> dict[str, Any]:
    cfg = CONFIGS[name]
    vocab = set(cfg["vocab"])
    program = cfg["build"](max_seq_len)
    rec: dict[str, Any] = dict(
        program=name, description=cfg["desc"], vocab=sorted(cfg["vocab"], key=str),
        max_seq_len=max_seq_len,
        output_encoding="numerical" if rasp.is_numerical(program) else "categorical",
    )
    t0 = time.perf_counter()
    try:
        model = compiling.compile_rasp_to_model(program, vocab=vocab, max_seq_len=max_seq_len,
                                                compiler_bos=BOS)
    except Exception as exc:
        rec.update(compile_error=f"{type(exc).__name__}: {exc}"[:500])
        return rec
    rec["compile_s"] = round(time.perf_counter() - t0, 4)
    rec.update(architecture(model))

    inputs = make_inputs(cfg, max_seq_len, n_inputs, seed)
    outputs, total, fwd_time, warm = run_batched(model, inputs)
    rec.update(
        n_inputs=n_inputs,
        infer_mode="jit_forward_batched_per_length",
        infer_batched_s=round(total, 4),
        infer_forward_only_s=round(fwd_time, 4),
        jit_warmup_s=round(warm, 4),
    )
    # Reference: tracr's own per-sequence apply loop (not jitted), on N_LOOP inputs.
    loop_inputs = inputs[:N_LOOP]
    t0 = time.perf_counter()
    loop_outputs = [model.apply([BOS] + x).decoded[1:] for x in loop_inputs]
    rec["loop_apply_ms_per_input"] = round(1000 * (time.perf_counter() - t0) / len(loop_inputs), 3)
    numerical = rasp.is_numerical(program)
    rec["batched_equals_loop"] = all(
        all(_close(a, b, numerical) for a, b in zip(lo, bo))
        for lo, bo in zip(loop_outputs, outputs[:N_LOOP]))
    rec.update(compare(program, inputs, outputs))
    return rec


COLUMNS = [
    ("program", 16), ("max_seq_len", 4), ("compile_s", 8), ("n_layers", 3), ("n_heads", 3),
    ("d_model", 5), ("d_mlp", 5), ("n_params", 9), ("infer_batched_s", 8),
    ("loop_apply_ms_per_input", 8), ("agreement_pct", 7), ("agreement_positions_pct", 7),
]
HEAD = ["program", "msl", "compile_s", "L", "H", "d_model", "d_mlp", "params", "batch_s",
        "loop_ms", "agree%", "pos%"]


def print_table(results: list[dict[str, Any]]) -> None:
    widths = [max(w, len(h)) for (_, w), h in zip(COLUMNS, HEAD)]
    print(" ".join(h.rjust(w) if i else h.ljust(w) for i, (h, w) in enumerate(zip(HEAD, widths))))
    for r in results:
        if "compile_error" in r:
            print(f"{r['program']:<{widths[0]}} {r['max_seq_len']:>{widths[1]}}  COMPILE ERROR: "
                  f"{r['compile_error'][:80]}")
            continue
        cells = [str(r.get(k, "")) for k, _ in COLUMNS]
        print(" ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="*", help="program short names (default: all)")
    ap.add_argument("--n-inputs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "tracr_results.json"))
    args = ap.parse_args(argv)
    names = args.only or list(CONFIGS)
    # Warm-up compile so the first measured compile_s does not include jax start-up.
    compiling.compile_rasp_to_model(lib.make_length(), vocab={"a"}, max_seq_len=2,
                                    compiler_bos=BOS).apply([BOS, "a"])
    results = []
    for name in names:
        for msl in CONFIGS[name]["max_seq_lens"]:
            rec = measure(name, msl, args.n_inputs, args.seed)
            results.append(rec)
            print(f"# done {name} msl={msl}", file=sys.stderr, flush=True)
    print_table(results)
    meta = dict(
        tool="tracr", tracr_package="tracr-pypi==1.0.0", jax=jax.__version__,
        python=sys.version.split()[0], device=str(jax.devices()[0]),
        infer_mode_doc=(
            "jit_forward_batched_per_length: jax.jit(model.forward) on one [n_L, L+1] batch "
            "per input length L (tracr has no pad mask, apply() is B=1); infer_batched_s = "
            "encode + forward + decode for all n_inputs, after a jit warm-up (jit_warmup_s)."),
        agreement_doc=(
            "agreement_pct: % of inputs whose every non-None position matches "
            "tracr.rasp.rasp.evaluate; agreement_positions_pct: % of non-None positions; "
            f"numerical tolerance |a-b| <= {ATOL} + {RTOL}*|b|; BOS position dropped."),
        n_params_doc=(
            "n_params: every haiku parameter (token/pos embeddings and all layer weights, "
            "including the zero padding tracr adds up to num_heads/key_size/mlp_hidden_size); "
            "n_params_nonzero: those that are non-zero; unembedding is a fixed projection, "
            "not a parameter"),
        compile_s_doc=("wall time of compiling.compile_rasp_to_model (program construction "
                       "excluded), 2 shared CPU cores"),
    )
    with open(args.out, "w") as f:
        json.dump(dict(meta=meta, results=results), f, indent=1, default=_jsonable)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
