"""Lowering: a RASP program becomes variables (value sets inferred) and per-node ops.

The first compiler stage. It walks the program in dependency order and hands each node to
the module doing that job, all adding to one `LoweringState`:

- tokens, indices, Full, ConstantSOp: embedding.py (folded into the embeddings);
- Map / SequenceMap: maps.py (value sets via value_sets.py; folded, fused by fusion.py,
  or an MLP);
- selectors: scores.py (formulas; q/k dimensions when a head reads them);
- Aggregate, SelectorWidth, length: heads.py (heads, plus decoding MLPs).
- ArgmaxReadout (the output only): readout.py (score rows into the output's logits).

It returns the frozen `Lowered` the later stages read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rasp import core
from rasp.compiler import embedding, fusion, heads, maps, readout, scores, totality
from rasp.compiler.errors import CompileError, node_error
from rasp.compiler.ir import Op, Var
from rasp.compiler.lowering_state import LoweringState
from rasp.compiler.selectors import Formula, describe
from rasp.graph import walk
from rasp.limits import Limits
from rasp.readout import ArgmaxReadout


@dataclass(frozen=True)
class Lowered:
    """What lowering hands the later stages.

    variables: every variable by name (value sets inferred); ops: per-node heads and MLP
    parts in dependency order (reads and layer not set yet); output: the program's
    variable; discretized: numerical variables read by staircases (their gaps set the
    error budget); bos_bounds: variables bounded (not 0) at the BOS position; fused:
    Map label -> label of the reader it was composed into.
    """

    variables: dict[str, Var]
    ops: tuple[Op, ...]
    output: Var
    discretized: frozenset[str]
    bos_bounds: dict[str, float]
    fused: dict[str, str]


def lower_program(program: core.SOp, vocab: Sequence[Any], max_seq_len: int, causal: bool,
                  limits: Limits, one_per_op: bool = False) -> Lowered:
    """Lower a whole program (the first compiler stage). one_per_op: no folding into the
    embeddings and no Map fusion (see one_per_op.py)."""
    if not isinstance(program, core.SOp):
        raise CompileError(
            f"compile_program needs an SOp (a sequence operation), got {program!r}; "
            "selectors are not programs, aggregate them first"
        )
    st = LoweringState.start(vocab, max_seq_len, causal, limits, one_per_op)
    walked = _Walk(id(program))
    nodes = walk(program)
    for node in nodes:
        for child in node.children:
            walked.readers.setdefault(id(child), []).append(node)
    for node in nodes:
        if isinstance(node, core.Selector):
            walked.formula_of[id(node)] = scores.selector_formula(st, node, walked.var_of,
                                                                  walked.formula_of)
        else:
            walked.var_of[id(node)] = _lower_sop(st, walked, node)
    output = walked.var_of[id(program)]
    fusion.materialize(st, output)
    st.discretized.add(output.name)
    return Lowered(st.vars, tuple(st.ops), output, frozenset(st.discretized),
                   dict(st.bos_bounds), dict(st.fused))


@dataclass
class _Walk:
    """The program's nodes lowered so far (by id) and who reads each."""

    output_id: int
    var_of: dict[int, Var] = field(default_factory=dict)
    formula_of: dict[int, Formula] = field(default_factory=dict)
    readers: dict[int, list[core.RASPExpr]] = field(default_factory=dict)


def _lower_sop(st: LoweringState, walked: _Walk, node: core.SOp) -> Var:
    """The variable of one SOp node (its children already lowered)."""
    numerical = core.is_numerical(node)
    var_of = walked.var_of
    if isinstance(node, core.TokensType):
        return embedding.embedded(st, node.label, st.name(node), "token", lambda t: t, numerical)
    if isinstance(node, core.IndicesType):
        return embedding.embedded(st, node.label, st.name(node), "pos", lambda i: i, numerical)
    if isinstance(node, core.LengthType):
        return heads.lower_length(st, node)
    if isinstance(node, core.Full):
        return embedding.constant(st, node, node.fill, numerical)
    if isinstance(node, core.ConstantSOp):
        values = list(node.value)
        return embedding.embedded(st, node.label, st.name(node), "pos",
                                  lambda i: values[i] if i < len(values) else None, numerical)
    if isinstance(node, ArgmaxReadout):
        children = [var_of[id(child)] for child in node.children]
        return readout.lower_readout(st, node, children, id(node) == walked.output_id)
    if isinstance(node, (core.Map, core.SequenceMap)):
        children = [var_of[id(child)] for child in node.children]
        if (isinstance(node, core.SequenceMap) and all(v.numerical for v in children)
                and all(v.source != "const" for v in children)):
            return maps.lower_numerical_pair(st, node, *children, numerical)
        deferrable = not st.one_per_op and fusion.deferrable(
            numerical, id(node) == walked.output_id, walked.readers.get(id(node), []))
        return maps.lower_elementwise(st, node, children, node.f, numerical, deferrable)
    if isinstance(node, core.Aggregate):
        total = totality.always_selects(node.selector, lambda sop: var_of.get(id(sop)), st.vocab,
                                        st.max_seq_len, st.causal)
        return heads.lower_aggregate(st, node, var_of[id(node.sop)],
                                     walked.formula_of[id(node.selector)], numerical, total)
    if isinstance(node, core.SelectorWidth):
        return heads.lower_selector_width(st, node, numerical, walked.formula_of[id(node.selector)],
                                          describe(node.selector),
                                          scores.selector_labels(node.selector))
    raise node_error(node.label, f"{type(node).__name__} is not a known RASP SOp",
                     "build the program from rasp.core expressions")
