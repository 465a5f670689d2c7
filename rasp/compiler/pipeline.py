"""compile_program: lowering -> scheduling -> numerics -> residual layout -> assembly."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from rasp import core
from rasp.compiler import numerics
from rasp.compiler.assemble import build_model, estimate_params
from rasp.compiler.compiled import CompiledModel
from rasp.compiler.errors import CompileError
from rasp.compiler.hygiene import strip_bos_hygiene
from rasp.compiler.layout import allocate, component_names
from rasp.compiler.lower import Lowering
from rasp.compiler.program_layout import ProgramLayout
from rasp.compiler.schedule import op_reads, schedule, schedule_late
from rasp.compiler.values import sort_values, to_json


def compile_program(
    program: core.SOp,
    vocab: Sequence[Any],
    max_seq_len: int,
    *,
    causal: bool = False,
    bos: str = "BOS",
    attention_kind: str = "softmax",
) -> CompiledModel:
    """Compile a RASP program into a HookedTransformer that computes it exactly.

    attention_kind: "softmax" (default; TransformerLens tools and the bridge work, the
    sharpness keeps errors below the decoding margin) or "hard" (uniform over the
    arg-max keys: RASP's own semantics, no approximation at all).
    """
    start = time.perf_counter()
    if attention_kind not in ("softmax", "hard"):
        raise CompileError(f"attention_kind={attention_kind!r}; use 'softmax' or 'hard'")
    vocab = _check_arguments(vocab, max_seq_len)
    token_names = [str(t) for t in vocab]
    while bos in token_names:
        # The compiler's BOS must differ from every user token (hist_bos has a "BOS" token).
        bos = f"<{bos}>"
    lowering = Lowering(vocab, max_seq_len, causal)
    output = lowering.lower(program)
    variables = lowering.vars
    ops = _live_ops(lowering.ops, output.name)
    n_layers = schedule(ops, variables)
    tol = numerics.tolerance(variables, lowering.discretized)
    numerics.warn_if_imprecise(variables, lowering.discretized, tol)
    numerics.apply_sharpness(ops, max_seq_len, tol)

    # Register allocation: try early and late placement, with and without direction reuse,
    # and keep the smallest model (same depth either way).
    early = {id(op): op.layer for op in ops}
    schedule_late(ops, n_layers, output.name)
    late = {id(op): op.layer for op in ops}
    best = None
    for placement, reuse in ((early, False), (early, True), (late, False), (late, True)):
        for op in ops:
            op.layer = placement[id(op)]
        alloc = allocate(variables, ops, output.name, n_layers, reuse)
        all_ops = ops + alloc.erase_ops
        for op in alloc.erase_ops:
            op.reads = op_reads(op)
        params = estimate_params(variables, all_ops, n_layers, alloc.d_model, output,
                                 len(vocab) + 1, max_seq_len)
        if best is None or params < best[0]:
            best = (params, alloc, all_ops, placement)
    _, alloc, all_ops, placement = best
    for op in ops:
        op.layer = placement[id(op)]
    all_ops = sorted(all_ops, key=lambda op: op.layer)  # stable: keeps head order per layer
    # BOS-position hygiene only where a later read of the BOS position depends on it.
    strip_bos_hygiene(all_ops, variables, set(lowering.bos_bounds), causal)

    layout = _program_layout(variables, all_ops, alloc, output.name)
    for inner in lowering.fused:
        outer = inner
        while outer in lowering.fused:
            outer = lowering.fused[outer]
        if outer in layout.component_of and inner not in layout.component_of:
            layout.component_of[inner] = list(layout.component_of[outer])
    metadata = {
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
        },
        "layout": layout.to_json(),
    }
    model = build_model(variables, all_ops, n_layers, alloc, output, [bos, *token_names], vocab,
                        max_seq_len, causal, metadata, attention_kind)
    metadata["compiler"]["compile_seconds"] = round(time.perf_counter() - start, 4)
    model.metadata = metadata
    return CompiledModel(model, ProgramLayout.from_json(layout.to_json(), model.residual_labels),
                         program)


def _live_ops(ops: list, output: str) -> list:
    """Drop ops whose results nobody reads (e.g. an SOp only used by a TRUE Select)."""
    needed = {output}
    live = []
    for op in reversed(ops):
        if any(name in needed for name in op.writes):
            live.append(op)
            for names in op_reads(op).values():
                needed.update(names)
    return live[::-1]


def _check_arguments(vocab: Sequence[Any], max_seq_len: int) -> list[Any]:
    if isinstance(vocab, str) or not isinstance(vocab, (list, tuple, set, frozenset)):
        raise CompileError(f"vocab must be a list of tokens, got {vocab!r}")
    tokens = sort_values(vocab) if isinstance(vocab, (set, frozenset)) else list(dict.fromkeys(vocab))
    if not tokens:
        raise CompileError("vocab is empty; give the tokens the program reads")
    if any(t is None for t in tokens):
        raise CompileError("vocab contains None, which RASP reserves for 'no value'")
    names = [str(t) for t in tokens]
    if len(set(names)) != len(names):
        raise CompileError(f"vocab tokens {tokens} do not have distinct names; rename them")
    if not isinstance(max_seq_len, int) or max_seq_len < 1:
        raise CompileError(f"max_seq_len must be a positive integer, got {max_seq_len!r}")
    return tokens


def _program_layout(variables: dict, ops: list, alloc: Any, output: str) -> ProgramLayout:
    names = component_names(ops)
    component_of: dict[str, list[str]] = {}
    node_of: dict[str, list[str]] = {}
    captions: dict[str, list[str]] = {}
    reads: dict[str, dict[str, list[str]]] = {}
    writes: dict[str, list[str]] = {}
    for op in ops:
        comp = names[id(op)]
        if not op.label.startswith("erase:"):
            component_of.setdefault(op.label, [])
            if comp not in component_of[op.label]:
                component_of[op.label].append(comp)
            node_of.setdefault(comp, [])
            if op.label not in node_of[comp]:
                node_of[comp].append(op.label)
        captions.setdefault(comp, []).append(op.caption)
        slots = reads.setdefault(comp, {})
        for slot, vars_read in op.reads.items():
            merged = set(slots.get(slot, [])) | set(vars_read)
            slots[slot] = sorted(merged)
        writes[comp] = sorted(set(writes.get(comp, [])) | set(op.writes))
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
    )
