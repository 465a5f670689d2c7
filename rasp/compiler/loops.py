"""Loops: a `rasp.Loop` compiled to one weight-shared layer group applied T times.

The program splits into a prefix (everything the loop reads, computed once), the body and
a suffix (what reads the loop's results). Each carried SOp gets its own residual
directions, its *state*: the prefix's last MLP copies the initial value in; every
application of the body reads the state, computes the next one in scratch directions, and
the body's last MLP (the *commit*) replaces the state by the next one and erases every
scratch direction, so each application starts from the same layout and the same weights
compute every step. A halting loop also computes, from the state, `halted` = "the until
SOp is true at every position" (a select-all numerical head and a staircase) and the
commit is gated by it: once halted the state no longer changes, which is exactly the
interpreter's stop (`rasp.loops.run_loop`). The state's value set is the fixed point of
the body's value-set inference started from the initial value's.

The template model (prefix, one body, suffix) is assembled as any program; the emitted
model repeats the body's blocks T times with shared parameters (`interp.model.loops`), so
every application has its own hook names.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import torch

from interp.circuit import residual_stage
from rasp import core
from rasp.compiler import fusion, heads, mlp, numerics, scores
from rasp.compiler.assemble import build_model, estimate_params
from rasp.compiler.compiled import CompiledModel
from rasp.compiler.errors import CompileError
from rasp.compiler.ir import BOS_DIR, NUM, Neuron, Op, Var
from rasp.compiler.layout import allocate
from rasp.compiler.lower import _lower_sop, _Walk
from rasp.compiler.lowering_state import LoweringState
from rasp.compiler.program_layout import ProgramLayout
from rasp.compiler.schedule import op_reads, schedule, write_stage
from rasp.compiler.selectors import TRUE
from rasp.graph import walk
from rasp.limits import Limits
from rasp.loops import Loop, LoopResult

MAX_VALUE_ROUNDS = 32  # value-set fixed point: rounds before the compiler gives up


def find_loop(program: core.SOp) -> Loop | None:
    """The program's loop (None without one); CompileError for shapes not compiled yet."""
    blocks = list({id(n.block): n.block for n in walk(program) if isinstance(n, LoopResult)}.values())
    if not blocks:
        return None
    if len(blocks) > 1:
        raise CompileError(
            f"program '{program.label}' has {len(blocks)} loops ({', '.join(b.name for b in blocks)}); "
            "the compiler emits one weight-shared loop per model; workaround: merge them into "
            "one loop carrying all their states")
    block = blocks[0]
    inner = [n for n in block.body_nodes if isinstance(n, LoopResult)]
    if inner:
        raise CompileError(
            f"loop '{block.name}' has loop '{inner[0].block.name}' inside its body; nested loops "
            "are not compiled; workaround: carry the inner loop's state in the outer loop")
    return block


@dataclasses.dataclass
class _Lowered:
    """The loop program lowered: variables, ops per segment, and the loop's variables."""

    st: LoweringState
    output: Var
    prefix: list[Op]
    body: list[Op]
    suffix: list[Op]
    states: list[Var]
    inits: list[Var]
    updated: list[Var]
    halted: Var | None


def compile_looped(program: core.SOp, block: Loop, vocab: list[Any], token_names: list[str],
                   bos: str, max_seq_len: int, causal: bool, attention_kind: str,
                   limits: Limits) -> CompiledModel:
    """Compile a program with one loop (see the module docstring)."""
    start = time.perf_counter()
    if causal and block.halting:
        raise CompileError(
            f"loop '{block.name}' halts when its until SOp holds at every position, which a "
            "causal model cannot know at position i (it sees positions <= i only); "
            "workaround: give the loop a fixed count (steps=T), or compile with causal=False")
    low = _lower_to_fixed_point(program, block, vocab, max_seq_len, causal, limits)
    variables = low.st.vars
    steps = block.steps
    template, (a, b, s) = _place(low)
    n_template = a + b + s
    # Errors of a state computed by a head add up over the steps: share the budget.
    tol = numerics.tolerance(variables, set(low.st.discretized)) / (steps + 1)
    numerics.warn_if_imprecise(variables, set(low.st.discretized), tol)
    template = list(numerics.apply_sharpness(template, max_seq_len, tol))
    alloc = allocate(variables, template, low.output.name, n_template, reuse=False)
    params = estimate_params(variables, template, n_template, alloc.d_model, low.output,
                             len(vocab) + 1, max_seq_len)
    if params > limits.model_parameters:
        raise CompileError(
            f"the compiled loop model would have {params:,} parameters, more than the cap "
            f"rasp.limits model_parameters={limits.model_parameters:,}; workaround: shrink "
            "value sets, max_seq_len or the vocabulary, or raise the cap")
    # Without direction reuse every direction means one variable from the start.
    alloc.labels = [replace(label, first_stage=0, last_stage=None) for label in alloc.labels]
    from rasp.compiler.pipeline import _program_layout, compiler_metadata  # pipeline imports this module

    layout = _program_layout(variables, _expand(template, a, b, steps), alloc, low.output.name,
                             low.st.fused)
    metadata = compiler_metadata(
        program, vocab, bos, max_seq_len, causal, low.output, layout,
        loop={"name": block.name, "start": a, "layers": b, "steps": steps,
              "halting": block.halting, "states": [v.name for v in low.states]})
    template_model = build_model(variables, template, n_template, alloc, low.output,
                                 [bos, *token_names], vocab, max_seq_len, causal, metadata,
                                 attention_kind)
    model = _unrolled(template_model, a, b, steps, metadata)
    metadata["compiler"]["compile_seconds"] = round(time.perf_counter() - start, 4)
    model.metadata = metadata
    return CompiledModel(model, ProgramLayout.from_json(layout.to_json(), model.residual_labels),
                         program)


def _place(low: _Lowered) -> tuple[list[Op], tuple[int, int, int]]:
    """The template's ops at their layers (prefix, one body, suffix) and the three depths."""
    variables = low.st.vars
    prefix_ops = list(low.prefix)
    copies = []
    for init, state in zip(low.inits, low.states):
        direct = _write_init_into_state(low, prefix_ops, init, state)
        if direct is None:
            copies.append(_copy(init, state))
        else:
            prefix_ops = direct
    prefix, a = _schedule_segment([*prefix_ops, *copies], variables)
    body, b = _schedule_segment(list(low.body), variables, low.states)
    merged = _commit_in_last_layer(low, body, b)
    if merged is not None:
        body = merged
    else:  # the commit needs a layer of its own after the body
        body, b = _schedule_segment([*low.body, _commit(low, low.body)], variables, low.states)
    suffix, s = _schedule_segment(low.suffix, variables)
    template = (prefix + [replace(op, layer=op.layer + a) for op in body]
                + [replace(op, layer=op.layer + a + b) for op in suffix])
    return template, (a, b, s)


# ------------------------------------------------------------------------------ lowering


def _lower_to_fixed_point(program: core.SOp, block: Loop, vocab: list[Any], max_seq_len: int,
                          causal: bool, limits: Limits) -> _Lowered:
    """Lower with the state's value sets grown until the body maps them into themselves.

    Round r's sets hold every value of the first r steps, so after `steps` rounds they hold
    every value the state can take even if they would still grow (the next step's extra
    values are never reached: the commit drops them)."""
    halted_node = _halted_node(block) if block.halting else None
    state_values: list[tuple[list[Any], bool]] | None = None
    for round_ in range(block.steps + 1):
        if round_ > MAX_VALUE_ROUNDS:
            break
        low = _lower(program, block, halted_node, vocab, max_seq_len, causal, limits, state_values)
        grown = []
        for state, new in zip(low.states, low.updated):
            values = list(state.values or [])
            extra = [v for v in (new.values or []) if v not in values]
            grown.append((values + extra, state.may_none or new.may_none))
        if round_ == block.steps or all(len(g[0]) == len(s.values or []) and g[1] == s.may_none
                                        for g, s in zip(grown, low.states)):
            return low
        state_values = grown
    raise CompileError(
        f"loop '{block.name}': the carried SOps' value sets still grow after "
        f"{MAX_VALUE_ROUNDS} rounds of value-set inference (the loop has {block.steps} steps); "
        "workaround: bound them in the body (e.g. a Map with min/max or a modulo)")


def _halted_node(block: Loop) -> core.Map:
    """RASP for "until holds at every position": mean(not until) over all positions == 0."""
    not_done = core.numerical(core.Map(lambda v: 0 if v else 1, block.halt, simplify=False))
    everywhere = core.Select(core.indices, core.indices, core.Comparison.TRUE)
    undone = core.numerical(core.Aggregate(everywhere, not_done, default=0)).named(
        f"{block.name}.undone")
    return core.Map(lambda m: m == 0, undone, simplify=False).named(f"{block.name}.halted")


def _lower(program: core.SOp, block: Loop, halted_node: core.SOp | None, vocab: list[Any],
           max_seq_len: int, causal: bool, limits: Limits,
           state_values: list[tuple[list[Any], bool]] | None) -> _Lowered:
    st = LoweringState.start(vocab, max_seq_len, causal, limits)
    walked = _Walk(id(program))
    outer = walk(program)
    inner = list(block.body_nodes)
    halting: list[core.RASPExpr] = []
    if halted_node is not None:
        known = {id(n) for n in [*outer, *inner, *block.state]}
        halting = [n for n in walk(halted_node) if id(n) not in known]
    for node in [*outer, *inner, *halting]:
        for child in node.children:
            walked.readers.setdefault(id(child), []).append(node)
    marks: list[int] = []
    states: list[Var] = []
    halted: Var | None = None
    for node in outer:
        if isinstance(node, LoopResult):
            if not marks:
                marks.append(len(st.ops))
                states = _lower_body(st, walked, block, inner, state_values)
                if halted_node is not None:
                    halted = _lower_halting(st, walked, block, states, halting, halted_node)
                marks.append(len(st.ops))
            walked.var_of[id(node)] = states[node.index]
        else:
            _lower_node(st, walked, node)
    output = walked.var_of[id(program)]
    fusion.materialize(st, output)
    st.discretized.add(output.name)
    updated = [walked.var_of[id(sop)] for sop in block.updated]
    prefix, body = _hoist(st.ops[: marks[0]], st.ops[marks[0]: marks[1]], states)
    low = _Lowered(st, output, prefix, body, list(st.ops[marks[1]:]), states,
                   [walked.var_of[id(s)] for s in block.inits], updated, halted)
    return _live(low)


def _lower_node(st: LoweringState, walked: _Walk, node: core.RASPExpr) -> None:
    if isinstance(node, core.Selector):
        walked.formula_of[id(node)] = scores.selector_formula(st, node, walked.var_of,
                                                              walked.formula_of)
    else:
        walked.var_of[id(node)] = _lower_sop(st, walked, node)


def _lower_body(st: LoweringState, walked: _Walk, block: Loop, inner: list[core.RASPExpr],
                state_values: list[tuple[list[Any], bool]] | None) -> list[Var]:
    """The state variables, then the body's nodes and their ops."""
    states = []
    for i, (placeholder, init) in enumerate(zip(block.state, block.inits)):
        first = walked.var_of[id(init)]
        if first.numerical and first.values is None:
            raise CompileError(f"loop '{block.name}': carried SOp {i} starts from "
                               f"'{init.label}', whose values are too many to enumerate")
        values, may_none = (state_values[i] if state_values is not None
                            else (list(first.values or []), first.may_none))
        var = st.add(Var(st.name(placeholder), first.numerical, list(values), may_none))
        walked.var_of[id(placeholder)] = var
        states.append(var)
    for node in inner:
        _lower_node(st, walked, node)
    for sop in block.updated:
        fusion.materialize(st, walked.var_of[id(sop)])
    return states


def _lower_halting(st: LoweringState, walked: _Walk, block: Loop, states: list[Var],
                   halting: list[core.RASPExpr], halted_node: core.SOp) -> Var:
    """The `halted` flag: until holds at every position (a select-all head, a staircase)."""
    direct = _halt_of_one_state(block)
    if direct is not None and not states[direct[0]].numerical and not states[direct[0]].may_none:
        # The head reads the state's one-hot directly, weighting each value by "not done":
        # no MLP before it, so the flag is ready one layer earlier.
        state, until = states[direct[0]], direct[1]
        not_done = {v: 0.0 if _safe_truth(until, v) else 1.0 for v in state.values or []}
        undone_node = halted_node.inner  # the RASP Aggregate this head stands for
        ones = Var(f"{block.name}.not_done", True, [0.0, 1.0])
        undone = heads.lower_aggregate(st, undone_node, ones, TRUE, True)
        head = st.ops[-1]
        v = [{(state.name, value): w for value, w in not_done.items() if w}]
        caption = f"{undone.name} = mean over positions of not until({state.name})"
        st.ops[-1] = replace(head, head=replace(head.head, v=v), caption=caption)
        halted = st.add(Var(st.name(halted_node), False, [False, True]))
        st.discretized.add(undone.name)
        st.emit_mlp(halted.name, mlp.map_numerical(undone, lambda m: m == 0, halted),
                    [halted.name], f"{halted.name} = ({undone.name} == 0)")
        return halted
    _check_halt(block, walked.var_of[id(block.halt)])
    for node in halting:
        _lower_node(st, walked, node)
    halted = walked.var_of[id(halted_node)]
    fusion.materialize(st, halted)
    return halted


def _halt_of_one_state(block: Loop) -> tuple[int, Any] | None:
    """(state index, function) when the until SOp is a Map of one carried SOp (or it)."""
    halt, own = block.halt, {id(s): i for i, s in enumerate(block.state)}
    if id(halt) in own:
        return own[id(halt)], lambda v: v
    if type(halt) is core.Map and id(halt.inner) in own:
        return own[id(halt.inner)], halt.f
    return None


def _safe_truth(f: Any, value: Any) -> bool:
    # A value on which the until function fails is one the interpreter never reaches
    # without raising; counting it "not done" keeps the flag honest.
    try:
        return bool(f(value))
    except Exception:  # noqa: BLE001 - any user function failure
        return False


def _check_halt(block: Loop, halt: Var) -> None:
    if halt.may_none:
        raise CompileError(
            f"loop '{block.name}': its until SOp '{block.halt.label}' can be None (as far as "
            "value-set inference knows), which the interpreter reads as 'not halted'; "
            "workaround: make it a boolean at every position (e.g. give Aggregates a default)")


def _hoist(prefix: Sequence[Op], body: Sequence[Op], states: list[Var]) -> tuple[list[Op], list[Op]]:
    """Move body ops that do not depend on the state (e.g. a Map materialized late) to the prefix."""
    dependent = {v.name for v in states}
    prefix, kept = list(prefix), []
    for op in body:
        if any(name in dependent for names in op_reads(op).values() for name in names):
            kept.append(op)
            dependent.update(op.writes)
        else:
            prefix.append(op)
    return prefix, kept


def _live(low: _Lowered) -> _Lowered:
    """Drop ops nobody needs; the whole state (and the halting flag) counts as needed."""
    needed = {low.output.name}
    suffix = _needed_ops(low.suffix, needed)
    needed |= {v.name for v in low.updated} | {v.name for v in low.states}
    if low.halted is not None:
        needed.add(low.halted.name)
    body = _needed_ops(low.body, needed)
    needed |= {v.name for v in low.inits}
    prefix = _needed_ops(low.prefix, needed)
    return replace(low, prefix=prefix, body=body, suffix=suffix)


def _needed_ops(ops: Sequence[Op], needed: set[str]) -> list[Op]:
    live = []
    for op in reversed(ops):
        if any(name in needed for name in op.writes):
            live.append(op)
            for names in op_reads(op).values():
                needed.update(names)
    return live[::-1]


# --------------------------------------------------------------------- copy and commit


def _write_init_into_state(low: _Lowered, prefix: list[Op], init: Var,
                           state: Var) -> list[Op] | None:
    """The prefix with the MLP computing `init` writing the state's directions instead (no
    copy layer), or None when something else reads `init` or another op writes it."""
    writers = [op for op in prefix if init.name in op.writes]
    if (len(writers) != 1 or writers[0].kind != "mlp" or writers[0].writes != [init.name]
            or init is low.output or sum(v is init for v in low.inits) != 1):
        return None
    for op in [*prefix, *low.body, *low.suffix]:
        if any(init.name in names for names in op_reads(op).values()):
            return None
    writer = writers[0]
    reachable = set(state.values or [])
    neurons = []
    for neuron in writer.neurons:
        w_out = {}
        for (name, value), w in neuron.w_out.items():
            if name == init.name and (state.numerical or value in reachable):
                w_out[(state.name, value)] = w_out.get((state.name, value), 0.0) + w
        neurons.append(Neuron(neuron.w_in, neuron.bias, w_out))
    moved = replace(writer, writes=[state.name], neurons=neurons,
                    caption=f"{writer.caption}; into {state.name} (loop start)")
    return [moved if op is writer else op for op in prefix]


def _copy(init: Var, state: Var) -> Op:
    """The prefix MLP writing the initial value into the state's directions."""
    if init.source == "const":
        weights = {} if init.const is None else _write(state, init.const, 1.0)
        neurons = [Neuron({BOS_DIR: -1.0}, 1.0, weights)] if weights else []
    else:
        neurons = _moves(init, state, +1.0, gate=None, bound=1.0)
    return Op(state.name, "mlp", {}, [state.name], f"{state.name} = {init.name} (loop start)",
              neurons=neurons)


def _commit(low: _Lowered, body: Sequence[Op], in_place: Sequence[Var] = ()) -> Op:
    """The body's last MLP: state := next state (unless halted), every scratch variable := 0.

    States in `in_place` are updated by their own MLP already (see _commit_in_last_layer)."""
    done = {v.name for v in in_place}
    states = {v.name for v in low.states}
    written = [name for op in body for name in op.writes]
    scratch = list(dict.fromkeys(n for n in written if n not in states))
    gate = _gate(low)
    neurons: list[Neuron] = []
    for state, new in zip(low.states, low.updated):
        if new is state or state.name in done:
            continue  # unchanged by the body, or already updated in place
        bound = _state_bound(state, new)
        neurons += _moves(state, state, -1.0, gate, bound)
        neurons += _moves(new, state, +1.0, gate, bound)
    variables = low.st.vars
    for name in scratch:
        # Categorical directions hold values >= 0 (one-hots, a head's mixes of them):
        # relu(x) -> -x clears them; numerical ones get two neurons (mlp.erase).
        neurons += mlp.erase(variables[name])
    names = [v.name for v in low.states]
    caption = (f"commit: {', '.join(names)} := next value"
               + (f" unless {low.halted.name}" if gate else "") + "; clear the step's scratch")
    return Op(f"{names[0]}.commit", "mlp", {}, [*names, *scratch], caption, neurons=neurons)


def _gate(low: _Lowered) -> tuple[str, Any] | None:
    """The direction that is 1 once the loop has halted (None: the loop never halts early)."""
    if low.halted is not None and True in (low.halted.values or []):
        return (low.halted.name, True)
    return None


def _state_bound(state: Var, new: Var) -> float:
    if not state.numerical:
        return 1.0
    return 1.0 + max([abs(float(v)) for v in [*(state.values or []), *(new.values or [])]] + [0.0])


def _commit_in_last_layer(low: _Lowered, body: list[Op], n_layers: int) -> list[Op] | None:
    """The body with the commit in its last layer's MLP, or None where that is not exact.

    It is when every MLP part of the last layer computes a next state that nothing else in
    the body reads (it then writes into the state in place: + next - old, gated by
    `halted`), and `halted` exists before that MLP reads: every other value the commit
    reads or clears is then already in the residual stream there."""
    last = n_layers - 1
    if last < 0:
        return None
    gate = _gate(low)
    writer = {name: op for op in body for name in op.writes}
    if gate is not None and write_stage(writer[gate[0]]) > residual_stage(last, "mid"):
        return None
    pairs = {new.name: (state, new) for state, new in zip(low.states, low.updated) if new is not state}
    in_place: dict[int, tuple[Var, Var]] = {}
    for op in body:
        if op.layer != last or op.kind == "attn":
            continue
        if len(op.writes) != 1 or op.writes[0] not in pairs:
            return None
        name = op.writes[0]
        if any(name in names for other in body if other is not op
               for names in op_reads(other).values()):
            return None
        in_place[id(op)] = pairs[name]
    ops = [(_in_place(op, *in_place[id(op)], gate, low.st.vars) if id(op) in in_place else op)
           for op in body]
    commit = _commit(low, ops, [state for state, _ in in_place.values()])
    return [*ops, replace(commit, layer=last, reads=op_reads(commit))]


def _in_place(op: Op, state: Var, new: Var, gate: tuple[str, Any] | None,
              variables: dict[str, Var]) -> Op:
    """`op` writing its result into `state` (+ new - old), silenced once halted."""
    reachable = set(state.values or [])
    neurons = []
    for neuron in op.neurons:
        w_out: dict = {}
        for (name, value), w in neuron.w_out.items():
            if name == new.name:
                if not state.numerical and value not in reachable:
                    continue  # only past the last step: never happens
                name = state.name
            w_out[(name, value)] = w_out.get((name, value), 0.0) + w
        w_in = dict(neuron.w_in)
        if gate is not None:
            # Larger than the neuron's largest pre-activation: silent whenever halted = 1.
            w_in[gate] = w_in.get(gate, 0.0) - (_largest_input(neuron, variables) + 1.0)
        neurons.append(Neuron(w_in, neuron.bias, w_out))
    neurons += _moves(state, state, -1.0, gate, _state_bound(state, new))
    new_op = replace(op, writes=[state.name], neurons=neurons,
                     caption=f"{op.caption}; into {state.name} in place")
    return replace(new_op, reads=op_reads(new_op))


def _largest_input(neuron: Neuron, variables: dict[str, Var]) -> float:
    """An upper bound of |pre-activation| (one-hots <= 1, numbers <= their largest value)."""
    total = abs(neuron.bias)
    for (name, value), w in neuron.w_in.items():
        var = variables.get(name)
        size = 1.0
        if var is not None and var.numerical and value == NUM:
            size = 1.0 + max([abs(float(v)) for v in var.values or []] + [0.0])
        total += abs(w) * size
    return total


def _moves(src: Var, dst: Var, sign: float, gate: tuple[str, Any] | None,
           bound: float) -> list[Neuron]:
    """Neurons adding sign * src into dst's directions (silenced when the gate is 1)."""
    gate_in = {gate: -2.0 * bound} if gate is not None else {}
    if src.numerical:
        s, d = (src.name, NUM), (dst.name, NUM)
        return [Neuron({s: 1.0, **gate_in}, 0.0, {d: sign}),
                Neuron({s: -1.0, **gate_in}, 0.0, {d: -sign})]
    reachable = set(dst.values or [])  # values past the last step have no direction
    return [Neuron({(src.name, v): 1.0, **gate_in}, 0.0, {(dst.name, v): sign})
            for v in src.values or [] if v in reachable]


def _write(var: Var, value: Any, scale: float) -> dict:
    if var.numerical:
        return {} if value == 0 else {(var.name, NUM): float(value) * scale}
    return {(var.name, value): scale}


# ----------------------------------------------------------------- scheduling, unrolling


def _schedule_segment(ops: list[Op], variables: dict[str, Var],
                      carried: Sequence[Var] = ()) -> tuple[list[Op], int]:
    """Schedule one segment: whatever it does not write itself (and the `carried` state,
    which its commit writes for the next application) is ready at its start."""
    written = {name for op in ops for name in op.writes} - {v.name for v in carried}
    view = {name: var if var.embedded or name in written else replace(var, source="token")
            for name, var in variables.items()}
    scheduled, n_layers = schedule(ops, view)
    return list(scheduled), n_layers


def _expand(template: list[Op], a: int, b: int, steps: int) -> list[Op]:
    """The ops of every application (body ops repeated, each at its own layers)."""
    out = []
    for op in template:
        if op.layer < a:
            out.append(op)
        elif op.layer < a + b:
            out += [replace(op, layer=op.layer + t * b) for t in range(steps)]
        else:
            out.append(replace(op, layer=op.layer + (steps - 1) * b))
    return out


def _unrolled(template: Any, a: int, b: int, steps: int, metadata: dict) -> Any:
    """The model with the body's blocks applied `steps` times, parameters shared."""
    from interp.model import HookedTransformer

    cfg = template.cfg
    n_suffix = cfg.n_layers - a - b
    total = a + b * steps + n_suffix
    loop = {"loop_start": a, "loop_layers": b, "loop_steps": steps} if steps and b else {}
    new_cfg = replace(cfg, n_layers=total, **loop)
    model = HookedTransformer(new_cfg, labels=template.residual_labels, metadata=metadata)

    def source(layer: int) -> int:
        if layer < a:
            return layer
        if layer < a + b * steps:
            return a + (layer - a) % b
        return layer - b * (steps - 1) if steps else layer + b

    weights = template.state_dict()
    state = {}
    for name in model.state_dict():
        if name.startswith("blocks."):
            _, layer, rest = name.split(".", 2)
            state[name] = weights[f"blocks.{source(int(layer))}.{rest}"]
        else:
            state[name] = weights[name]
    with torch.no_grad():
        model.load_state_dict(state)
    return model
