"""compile_program: lower -> schedule -> numerics -> placement -> BOS hygiene -> assemble.

Each stage is one module (see rasp/compiler/README.md for what each adds to the ops)."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from rasp import core
from rasp.compiler import numerics
from rasp.compiler.assemble import build_model
from rasp.compiler.compiled import CompiledModel
from rasp.compiler.errors import CompileError
from rasp.compiler.hygiene import strip_bos_hygiene
from rasp.compiler.ir import Op, Var
from rasp.compiler.layout import component_names
from rasp.compiler.loops import compile_looped, find_loop
from rasp.compiler.lower import lower_program
from rasp.compiler.one_per_op import placement as one_per_op_placement
from rasp.compiler.placement import choose_placement
from rasp.compiler.program_layout import ProgramLayout
from rasp.compiler.schedule import op_reads, schedule
from rasp.compiler.values import sort_values, to_json
from rasp.limits import Limits, current_limits


def compile_program(
    program: core.SOp,
    vocab: Sequence[Any],
    max_seq_len: int,
    *,
    causal: bool = False,
    bos: str = "BOS",
    attention_kind: str = "softmax",
    limits: Limits | None = None,
    compact: bool = False,
    one_per_op: bool = False,
) -> CompiledModel:
    """Compile a RASP program into a HookedTransformer that computes it exactly.

    attention_kind: "softmax" (default; TransformerLens tools and the bridge work, the
    sharpness keeps errors below the decoding margin) or "hard" (uniform over the
    arg-max keys: RASP's own semantics, no approximation at all). limits: resource caps
    (default `rasp.limits.current_limits()`); every refusal names the cap it hit.
    compact: reuse dead variables' residual directions wherever that makes the model
    smaller; by default only where it adds no `circuit()` edge, so every edge of the
    ground truth carries a value its reader uses (compact models are up to ~1.5x smaller,
    and their circuits may list edges an erase cancels).
    one_per_op: the circuit-benchmark layout (tracr's): one MLP part per Map / SequenceMap
    and one head per Aggregate, nothing folded into the embeddings or fused, no direction
    reuse; `rasp.compiler.one_per_op.alignment(compiled)` maps nodes to components and
    residual subspaces. Larger than the default; exact all the same.
    """
    if limits is not None and not isinstance(limits, Limits):
        raise CompileError(f"limits must be a rasp.limits.Limits, got {limits!r}")
    limits = limits or current_limits()
    try:
        return _compile(program, vocab, max_seq_len, causal, bos, attention_kind, limits, compact,
                        one_per_op)
    except RecursionError:
        # Deep programs are walked iteratively; this is a last line of defence (e.g. a
        # selector nested thousands deep), never a silent wrong model.
        raise CompileError(
            f"program '{getattr(program, 'label', program)}' is nested too deeply to compile "
            "(Python recursion limit); workaround: split it into shallower parts or raise "
            "sys.setrecursionlimit") from None


def _compile(program: core.SOp, vocab: Sequence[Any], max_seq_len: int, causal: bool, bos: str,
             attention_kind: str, limits: Limits, compact: bool = False,
             one_per_op: bool = False) -> CompiledModel:
    start = time.perf_counter()
    if attention_kind not in ("softmax", "hard"):
        raise CompileError(f"attention_kind={attention_kind!r}; use 'softmax' or 'hard'")
    if not isinstance(bos, str) or not bos:
        raise CompileError(f"bos must be a non-empty string, got {bos!r}")
    vocab = _check_arguments(vocab, max_seq_len, limits)
    token_names = [str(t) for t in vocab]
    while bos in token_names:
        # The compiler's BOS must differ from every user token (hist_bos has a "BOS" token).
        bos = f"<{bos}>"
    block = find_loop(program) if isinstance(program, core.SOp) else None
    if block is not None and one_per_op:
        raise CompileError(f"one_per_op=True does not compile loops (program "
                           f"'{getattr(program, 'label', program)}' has a rasp.loop); "
                           "workaround: compile it with the default layout")
    if block is not None:  # a loop: one weight-shared layer group (loops.py)
        return compile_looped(program, block, vocab, token_names, bos, max_seq_len, causal,
                              attention_kind, limits)
    lowered = lower_program(program, vocab, max_seq_len, causal, limits, one_per_op)
    output, variables = lowered.output, lowered.variables
    ops, n_layers = schedule(_live_ops(lowered.ops, output.name), variables)
    tol = numerics.tolerance(variables, lowered.discretized)
    numerics.warn_if_imprecise(variables, lowered.discretized, tol)
    ops = numerics.apply_sharpness(ops, max_seq_len, tol)
    if one_per_op:
        placement = one_per_op_placement(ops, variables, output, n_layers, len(vocab) + 1,
                                         max_seq_len)
    else:
        placement = choose_placement(ops, variables, output, n_layers, len(vocab) + 1,
                                     max_seq_len, reuse_edges=compact)
    _check_model_size(placement.params, ops, variables, limits)
    alloc = placement.alloc
    # BOS-position hygiene only where a later read of the BOS position depends on it.
    all_ops, _ = strip_bos_hygiene(placement.ops, variables, set(lowered.bos_bounds), causal)
    layout = _program_layout(variables, all_ops, alloc, output.name, lowered.fused)
    metadata = compiler_metadata(program, vocab, bos, max_seq_len, causal, output, layout,
                                 one_per_op=one_per_op)
    model = build_model(variables, all_ops, n_layers, alloc, output, [bos, *token_names], vocab,
                        max_seq_len, causal, metadata, attention_kind)
    metadata["compiler"]["compile_seconds"] = round(time.perf_counter() - start, 4)
    model.metadata = metadata
    return CompiledModel(model, ProgramLayout.from_json(layout.to_json(), model.residual_labels),
                         program)



def compiler_metadata(program: Any, vocab: Sequence[Any], bos: str, max_seq_len: int, causal: bool,
                      output: Var, layout: Any, **extra: Any) -> dict[str, Any]:
    """The model's `metadata`: what decoding needs (`compiler`, plus `extra` fields such as the
    loop's) and the program layout; `compile_seconds` is filled in once the model is built."""
    return {
        "producer": "rasp.compiler",
        "program": getattr(program, "label", None),
        "compiler": {
            "vocab": [to_json(t) for t in vocab],
            "bos": bos,
            "max_seq_len": max_seq_len,
            "causal": causal,
            "numerical_output": output.numerical,
            "output_values": [to_json(v) for v in (output.values or [])],
            "compile_seconds": None,
            **extra,
        },
        "layout": layout.to_json(),
    }

def _live_ops(ops: Sequence[Op], output: str) -> list[Op]:
    """Drop ops whose results nobody reads (e.g. an SOp only used by a TRUE Select)."""
    needed = {output}
    live = []
    for op in reversed(ops):
        if any(name in needed for name in op.writes):
            live.append(op)
            for names in op_reads(op).values():
                needed.update(names)
    return live[::-1]


def _check_model_size(params: int, ops: list, variables: dict, limits: Limits) -> None:
    """Refuse (before any weight is allocated) a model over the parameter cap, naming the
    node with the largest share of it."""
    if params <= limits.model_parameters:
        return
    biggest = max(ops, key=lambda op: len(op.neurons) + sum(variables[n].width for n in op.writes))
    raise CompileError(
        f"the compiled model would have {params:,} parameters, more than the cap rasp.limits "
        f"model_parameters={limits.model_parameters:,}; the largest part is node "
        f"'{biggest.label}' ({len(biggest.neurons)} neurons, "
        f"{sum(variables[n].width for n in biggest.writes)} output directions); workaround: "
        "shrink value sets (bucket with a Map), max_seq_len or the vocabulary, or raise the cap "
        "(compile_program(..., limits=Limits(model_parameters=...)))")


def _check_arguments(vocab: Sequence[Any], max_seq_len: int, limits: Limits) -> list[Any]:
    if isinstance(vocab, str) or not isinstance(vocab, (list, tuple, set, frozenset)):
        raise CompileError(f"vocab must be a list of tokens, got {vocab!r}")
    for token in vocab:
        try:
            hash(token)
        except TypeError:
            raise CompileError(f"vocab token {token!r} is an unhashable {type(token).__name__}; "
                               "use strings, numbers or tuples") from None
    tokens = sort_values(vocab) if isinstance(vocab, (set, frozenset)) else list(dict.fromkeys(vocab))
    if not tokens:
        raise CompileError("vocab is empty; give the tokens the program reads")
    if any(t is None for t in tokens):
        raise CompileError("vocab contains None, which RASP reserves for 'no value'")
    bad = next((t for t in tokens if isinstance(t, float) and not math.isfinite(t)), None)
    if bad is not None:
        raise CompileError(f"vocab token {bad!r} is not a finite number (NaN equals nothing); "
                           "remove it")
    names = [str(t) for t in tokens]
    if len(set(names)) != len(names):
        raise CompileError(f"vocab tokens {tokens} do not have distinct names; rename them")
    if len(tokens) > limits.value_set:
        raise CompileError(f"vocab has {len(tokens)} tokens, more than the cap rasp.limits "
                           f"value_set={limits.value_set}; use a smaller vocabulary or raise the cap")
    if not isinstance(max_seq_len, int) or isinstance(max_seq_len, bool) or max_seq_len < 1:
        raise CompileError(f"max_seq_len must be a positive integer, got {max_seq_len!r}")
    if max_seq_len > limits.value_set:
        raise CompileError(f"max_seq_len={max_seq_len} is more than the cap rasp.limits "
                           f"value_set={limits.value_set} (positions are a value set); use a "
                           "smaller max_seq_len or raise the cap")
    return tokens


def _program_layout(variables: dict, ops: list, alloc: Any, output: str,
                    fused: dict[str, str]) -> ProgramLayout:
    names = component_names(ops)
    component_of: dict[str, list[str]] = {}
    selector_of: dict[str, list[str]] = {}
    node_of: dict[str, list[str]] = {}
    captions: dict[str, list[str]] = {}
    reads: dict[str, dict[str, list[str]]] = {}
    writes: dict[str, list[str]] = {}
    for op in ops:
        comp = names[id(op)]
        if op.kind != "erase":
            component_of.setdefault(op.label, [])
            if comp not in component_of[op.label]:
                component_of[op.label].append(comp)
            node_of.setdefault(comp, [])
            if op.label not in node_of[comp]:
                node_of[comp].append(op.label)
        for selector in op.selectors:
            if comp not in selector_of.setdefault(selector, []):
                selector_of[selector].append(comp)
        captions.setdefault(comp, []).append(op.caption)
        slots = reads.setdefault(comp, {})
        for slot, vars_read in op.reads.items():
            merged = set(slots.get(slot, [])) | set(vars_read)
            slots[slot] = sorted(merged)
        writes[comp] = sorted(set(writes.get(comp, [])) | set(op.writes))
    # A Map composed into its reader is computed by the reader's components.
    for inner in fused:
        outer = inner
        while outer in fused:
            outer = fused[outer]
        if outer in component_of and inner not in component_of:
            component_of[inner] = list(component_of[outer])
    embedded = {}
    for name in alloc.slots:
        var = variables[name]
        if var.embedded:
            embedded[name] = "pos_embed" if var.source == "pos" else "embed"
    return ProgramLayout(
        labels=None,  # filled from the model's labels
        directions={name: list(ix) for name, ix in alloc.slots.items()},
        component_of=component_of,
        node_of=node_of,
        captions={c: f"{c}: " + "; ".join(texts) for c, texts in captions.items()},
        reads=reads,
        writes=writes,
        embedded=embedded,
        output=output,
        selector_of=selector_of,
    )
