"""Probe tracr's known problems with numbers (runs inside the tracr venv).

    /work/tracr-venv/bin/python benchmarks/tracr_side/known_problems.py

Writes benchmarks/tracr_side/known_problems.json; README.md summarises it.  Each probe
compiles a small program, runs N random inputs through the compiled model (batched per
length, as in measure_tracr.py) and compares with tracr.rasp.rasp.evaluate.
"""

from __future__ import annotations

import collections
import json
import os
import sys
import time
from typing import Any

from tracr.compiler import compiling, lib
from tracr.rasp import rasp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measure_tracr as mt  # noqa: E402

BOS = mt.BOS
N = 1000
HERE = os.path.dirname(os.path.abspath(__file__))


def compile_or_error(program: rasp.SOp, vocab: set, msl: int) -> tuple[Any, dict[str, Any]]:
    t0 = time.perf_counter()
    try:
        model = compiling.compile_rasp_to_model(program, vocab=vocab, max_seq_len=msl,
                                                compiler_bos=BOS)
    except Exception as exc:
        return None, dict(compiles=False, error=f"{type(exc).__name__}: {exc}"[:400])
    info = dict(compiles=True, compile_s=round(time.perf_counter() - t0, 3))
    info.update(mt.architecture(model))
    return model, info


def accuracy(program: rasp.SOp, vocab: list, msl: int, sampler=None, n: int = N,
             seed: int = 0) -> dict[str, Any]:
    model, info = compile_or_error(program, set(vocab), msl)
    if model is None:
        return info
    cfg = dict(vocab=vocab, sampler=sampler)
    inputs = mt.make_inputs(cfg, msl, n, seed)
    outputs, *_ = mt.run_batched(model, inputs)
    info.update(mt.compare(program, inputs, outputs))
    info["mismatch_examples"] = info["mismatch_examples"][:3]
    return info, model, inputs, outputs  # type: ignore[return-value]


def acc_only(*args, **kw) -> dict[str, Any]:
    res = accuracy(*args, **kw)
    return res[0] if isinstance(res, tuple) else res


def acc_by_length(program: rasp.SOp, vocab: list, msl: int) -> dict[str, Any]:
    """accuracy() plus per-input-length sequence agreement (%), and the wrong values."""
    res = accuracy(program, vocab, msl)
    if not isinstance(res, tuple):
        return res
    info, _, inputs, outputs = res
    ok: collections.Counter = collections.Counter()
    n: collections.Counter = collections.Counter()
    wrong: collections.Counter = collections.Counter()
    numerical = rasp.is_numerical(program)
    for x, got in zip(inputs, outputs):
        want = rasp.evaluate(program, x)
        good = True
        for a, b in zip(got, want):
            if b is not None and not mt._close(a, b, numerical):
                good = False
                wrong[f"{b!r}->{round(a, 3) if numerical else a!r}"] += 1
        n[len(x)] += 1
        ok[len(x)] += good
    info["seq_agreement_pct_by_input_length"] = {
        L: round(100.0 * ok[L] / n[L], 1) for L in sorted(n)}
    info["wrong_positions_expected->decoded"] = dict(wrong.most_common(12))
    return info


def probe_map_on_frac_prevs() -> dict[str, Any]:
    out = {}
    for msl in (5, 10):
        frac = lib.make_frac_prevs(rasp.tokens == "x")
        progs = {
            "numerical Map x -> 2x": rasp.numerical(rasp.Map(lambda x: 2 * x, frac)),
            "numerical Map x -> x^2": rasp.numerical(rasp.Map(lambda x: x * x, frac)),
            "numerical->categorical Map x > 0.5": rasp.Map(lambda x: x > 0.5, frac),
            "numerical->categorical Map round(10x)": rasp.Map(lambda x: round(10 * x), frac),
            "frac_prevs alone": frac,
        }
        for label, prog in progs.items():
            out[f"{label} @msl={msl}"] = acc_by_length(prog, ["a", "b", "x"], msl)
    return out


def probe_selector_width() -> dict[str, Any]:
    out = {}
    for msl in (5, 10, 20, 30, 40):
        out[f"length @msl={msl}"] = acc_by_length(lib.make_length(), ["a", "b", "c"], msl)
        out[f"hist @msl={msl}"] = acc_by_length(lib.make_hist(), ["a", "b", "c"], msl)
    return out


def probe_empty_categorical_aggregate() -> dict[str, Any]:
    """Positions whose categorical Aggregate selects nothing: evaluator says None."""
    out = {}
    progs = {
        "shift_by(1, tokens) [position 0 selects nothing]": lib.shift_by(1, rasp.tokens),
        "shift left: Select(indices, indices, k == q + 1) [last position selects nothing]":
            rasp.Aggregate(rasp.Select(rasp.indices, rasp.indices, lambda k, q: k == q + 1),
                           rasp.tokens),
        "Select(tokens, tokens, k == 'c' and q == 'a') on distinct-token inputs":
            rasp.Aggregate(rasp.Select(rasp.tokens, rasp.tokens,
                                       lambda k, q: k == "c" and q == "a"), rasp.indices),
    }
    for label, prog in progs.items():
        sampler = mt._distinct(["a", "b", "c"]) if "distinct" in label else None
        res = accuracy(prog, ["a", "b", "c"], 5, sampler=sampler)
        if not isinstance(res, tuple):
            out[label] = res
            continue
        info, model, inputs, outputs = res
        decoded_at_none: collections.Counter = collections.Counter()
        enc = model.output_encoder.encoding_map
        majority_hits = 0
        for x, got in zip(inputs, outputs):
            want = rasp.evaluate(prog, x)
            # Softmax-leakage hypothesis: with nothing selected, attention goes to BOS
            # (value 0) plus a uniform e^-large leak over every other key, so the argmax
            # is the most frequent aggregated value of the input (ties -> lowest index).
            vals = collections.Counter(rasp.evaluate(prog.sop, x))
            top = max(vals.values())
            majority = min((v for v in vals if vals[v] == top), key=enc.get)
            for a, b in zip(got, want):
                if b is None:
                    decoded_at_none[repr(a)] += 1
                    majority_hits += a == majority
        first = sorted(model.output_encoder.encoding_map, key=model.output_encoder.encoding_map.get)[0]
        total = sum(decoded_at_none.values())
        info.update(
            decoded_where_evaluator_is_None=dict(decoded_at_none),
            first_output_value=repr(first),
            pct_None_positions_decoded_as_first_value=round(
                100.0 * decoded_at_none[repr(first)] / max(total, 1), 2),
            pct_None_positions_decoded_as_majority_value=round(
                100.0 * majority_hits / max(total, 1), 2),
            n_None_positions=total,
        )
        out[label] = info
    return out


def probe_unsupported() -> dict[str, Any]:
    out = {}
    same_tok = rasp.Select(rasp.tokens, rasp.tokens, rasp.Comparison.EQ)
    prev = rasp.Select(rasp.indices, rasp.indices, rasp.Comparison.LEQ)
    out["SelectorAnd: SelectorWidth(And(same token, k <= q)) (running count of own token)"] = \
        acc_only(rasp.SelectorWidth(rasp.SelectorAnd(same_tok, prev)), ["a", "b", "c"], 5)
    lt = rasp.Select(rasp.indices, rasp.indices, rasp.Comparison.LT)
    out["SelectorAnd: numerical Aggregate(And(same token, k < q), 1)"] = acc_only(
        rasp.numerical(rasp.Aggregate(rasp.SelectorAnd(same_tok, lt),
                                      rasp.numerical(rasp.Map(lambda x: 1, rasp.tokens)),
                                      default=0)), ["a", "b", "c"], 5)
    out["SelectorOr: SelectorWidth(Or(same token, k <= q))"] = acc_only(
        rasp.SelectorWidth(rasp.SelectorOr(same_tok, prev)), ["a", "b", "c"], 5)
    out["SelectorNot: SelectorWidth(Not(same token))"] = acc_only(
        rasp.SelectorWidth(rasp.SelectorNot(same_tok)), ["a", "b", "c"], 5)
    out["rasp.length: Map(x -> x, rasp.length)"] = acc_only(
        rasp.Map(lambda x: x, rasp.length), ["a", "b", "c"], 5)
    out["rasp.length: SequenceMap(length - indices - 1) reverse selector"] = acc_only(
        rasp.Aggregate(rasp.Select(rasp.indices,
                                   rasp.SequenceMap(lambda n, i: n - i - 1, rasp.length,
                                                    rasp.indices),
                                   rasp.Comparison.EQ), rasp.tokens), ["a", "b", "c"], 5)
    out["rasp.Full: SequenceMap(x + y, tokens, Full(1))"] = acc_only(
        rasp.SequenceMap(lambda x, y: x + y, rasp.tokens, rasp.Full(1)), [1, 2, 3], 5)
    out["rasp.Full: tokens == Full('a') via SequenceMap"] = acc_only(
        rasp.SequenceMap(lambda x, y: x == y, rasp.tokens, rasp.Full("a")), ["a", "b", "c"], 5)
    out["rasp.ConstantSOp: SequenceMap(x + y, tokens, ConstantSOp([0..4]))"] = acc_only(
        rasp.SequenceMap(lambda x, y: x + y, rasp.tokens, rasp.ConstantSOp([0, 1, 2, 3, 4])),
        [1, 2, 3], 5)
    out["tokens + 1 (Map, control)"] = acc_only(rasp.Map(lambda x: x + 1, rasp.tokens),
                                                [1, 2, 3], 5)
    return out


def probe_reverse_sizes() -> dict[str, Any]:
    out = {}
    for msl in (5, 10, 20, 40):
        model, info = compile_or_error(lib.make_reverse(rasp.tokens), {"a", "b", "c"}, msl)
        out[f"reverse @msl={msl}"] = info
    out["reverse @msl=40 accuracy"] = acc_only(lib.make_reverse(rasp.tokens), ["a", "b", "c"],
                                               40, n=300)
    return out


def main() -> int:
    compiling.compile_rasp_to_model(lib.make_length(), vocab={"a"}, max_seq_len=2,
                                    compiler_bos=BOS)
    probes = [probe_map_on_frac_prevs, probe_selector_width, probe_empty_categorical_aggregate,
              probe_unsupported, probe_reverse_sizes]
    if len(sys.argv) > 1:
        probes = [p for p in probes if p.__name__ in sys.argv[1:]]
    results = {}
    for probe in probes:
        results[probe.__name__] = probe()
        print(f"# done {probe.__name__}", file=sys.stderr, flush=True)
        for k, v in results[probe.__name__].items():
            short = {kk: v.get(kk) for kk in ("compiles", "error", "agreement_pct",
                                              "agreement_positions_pct", "max_abs_err",
                                              "n_params", "d_model",
                                              "pct_None_positions_decoded_as_first_value",
                                              "pct_None_positions_decoded_as_majority_value",
                                              "decoded_where_evaluator_is_None",
                                              "seq_agreement_pct_by_input_length",
                                              "wrong_positions_expected->decoded")
                     if kk in v}
            print(f"{k}: {short}")
    path = os.path.join(HERE, "known_problems.json")
    if len(sys.argv) == 1:
        with open(path, "w") as f:
            json.dump(results, f, indent=1, default=mt._jsonable)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
