"""Attention lowering: Aggregate, SelectorWidth and length become heads (and decoding MLPs).

A categorical or numerical Aggregate is one head (mean of the selected values; the BOS key
wins when nothing is selected, giving None or 0); a non-None default adds an MLP mapping
None to it. SelectorWidth (and `length`, the width of select-all) is a head reading
1/(width+1) off the BOS key plus a staircase MLP decoding the width. Under `causal=True`
every head is masked to keys <= query, which is exactly `rasp.causal_eval`'s semantics
(each selector masked; `length` at position i is i+1), so no selector is refused.

Produces `Lowered.variables` entries for these nodes (and their helper variables
`.raw`, `.picked_none`, `.bos_weight`), their `Op`s, `Lowered.bos_bounds`, and
discretized entries.
"""

from __future__ import annotations

from dataclasses import replace

from rasp import core
from rasp.compiler import attention, mlp
from rasp.compiler.errors import node_error
from rasp.compiler.ir import BOS_DIR, NUM, Op, Var
from rasp.compiler.lowering_state import LoweringState
from rasp.compiler.scores import head_dims, selector_labels
from rasp.compiler.selectors import TRUE, Formula, describe
from rasp.compiler.value_sets import aggregate_means
from rasp.compiler.values import sort_values


def lower_aggregate(st: LoweringState, node: core.Aggregate, sop: Var, formula: Formula,
                    numerical: bool, total: bool = False) -> Var:
    """An Aggregate of `sop` under the selector's `formula`; `total`: the selector provably
    selects something for every query (totality.py)."""
    core.check_aggregate_encoding(node)
    text = f"Aggregate({describe(node.selector)}, {sop.name})"
    selectors = selector_labels(node.selector)
    if numerical:
        if node.default not in (0, 0.0):
            raise node_error(node.label, f"a numerical Aggregate's default must be 0 "
                             f"(got {node.default!r}): the empty mean is read as 0",
                             "pass default=0 and map 0 to what you need afterwards")
        if not sop.numerical:
            raise node_error(node.label, "a numerical Aggregate needs a numerical SOp",
                             "annotate the aggregated SOp with rasp.numerical(...)")
        values = aggregate_means(node.label, sop, st.max_seq_len, st.limits)
        out = st.add(Var(st.name(node), True, values))
        v, o = attention.aggregate_values(sop, out)
        _emit_head(st, node.label, formula, 0.5, v, o, out, sop, f"{out.name} = {text}",
                   selectors=selectors, total=total)
        return out
    if sop.numerical:
        raise node_error(node.label, "a categorical Aggregate cannot read a numerical SOp",
                         "wrap the Aggregate in rasp.numerical(...) (it then averages)")
    if node.default is None:
        out = st.add(Var(st.name(node), False, list(sop.values or []), True))
        v, o = attention.aggregate_values(sop, out)
        _emit_head(st, node.label, formula, 0.5, v, o, out, sop, f"{out.name} = {text}",
                   selectors=selectors, total=total)
        return out
    # A non-None default: aggregate with None, then an MLP maps None to the default.
    raw = st.add(Var(st.name(node, ".raw"), False, list(sop.values or []), True))
    v, o = attention.aggregate_values(sop, raw)
    v_bias = [0.0] * len(v)
    picked_none = None
    if sop.may_none:
        # Selecting a None value must stay None (only selecting nothing gives the
        # default), so the head also averages "the key's value is None" into a flag.
        picked_none = st.add(Var(st.name(node, ".picked_none"), True, [0.0, 1.0]))
        weights, bias = mlp.feature(sop, None)
        v.append(weights)
        v_bias.append(bias)
        o.append({(picked_none.name, NUM): 1.0})
    _emit_head(st, node.label, formula, 0.5, v, o, raw, sop, f"{raw.name} = {text}",
               v_bias=v_bias, extra_writes=[picked_none.name] if picked_none else [],
               selectors=selectors, total=total)
    table = {a: a for a in raw.values}
    table[None] = node.default
    # Selecting a None value gives None (only selecting nothing gives the default), so
    # the output can be None exactly when the aggregated SOp can.
    out = st.add(Var(st.name(node), False, sort_values(table.values()), sop.may_none))
    neurons = mlp.map_categorical(raw, table, out)
    if picked_none is not None:
        for neuron in neurons:
            if (out.name, node.default) in neuron.w_out:
                neuron.w_in[(picked_none.name, NUM)] = -2.0
    st.emit_mlp(node.label, neurons, [out.name],
                f"{out.name} = {raw.name} or default {node.default!r}")
    return out


def lower_length(st: LoweringState, node: core.LengthType) -> Var:
    """`length`: the width of select-all (causal: the masked width i+1, as causal_eval)."""
    return lower_selector_width(st, node, False, TRUE, "all positions", ())


def lower_selector_width(st: LoweringState, node: core.SOp, numerical: bool, formula: Formula,
                         text: str, selectors: tuple[str, ...]) -> Var:
    """The number of keys `formula` selects: a counting head, then a staircase MLP."""
    fractions = [1.0 / (w + 1) for w in range(st.max_seq_len + 1)]
    tmp = st.add(Var(st.name(node, ".bos_weight"), True, fractions))
    # The BOS position's own query attends only BOS, so this reads 1 there.
    st.bos_bounds[tmp.name] = 1.0
    st.discretized.add(tmp.name)
    _emit_head(st, node.label, formula, None, [{BOS_DIR: 1.0}], [{(tmp.name, NUM): 1.0}],
               tmp, None, f"{tmp.name} = 1/(1+SelectorWidth({text}))", selectors=selectors)
    widths = list(range(st.max_seq_len + 1))
    out = st.add(Var(st.name(node), numerical, sort_values(widths)))
    neurons = mlp.staircase(tmp, fractions[::-1], widths[::-1], out, gate=None)
    st.emit_mlp(node.label, neurons, [out.name], f"{out.name} = SelectorWidth({text})")
    return out


def _emit_head(st: LoweringState, label: str, formula: Formula, bos_offset: float | None,
               v: list, o: list, out: Var, sop: Var | None, caption: str,
               v_bias: list[float] | None = None, extra_writes: list[str] = (),
               selectors: tuple[str, ...] = (), total: bool = False) -> None:
    """Append one head: scores from `formula`, values v -> o. bos_offset: the BOS key scores
    theta - bos_offset (Aggregate), or None: theta, joining the selected keys (counting)."""
    dims, theta = head_dims(st, label, formula)
    bos_score = theta - bos_offset if bos_offset is not None else float(theta)
    head = replace(attention.make_head(dims, theta, bos_score, v, o), v_bias=list(v_bias or []),
                   counts=bos_offset is None, total=total)
    bound = 1.0
    if sop is not None and sop.numerical:
        bound = max([1.0] + [abs(float(x)) for x in sop.values or []])
    st.ops.append(Op(label, "attn", {}, [out.name, *extra_writes], caption, head=head,
                     value_bound=bound, selectors=selectors))
