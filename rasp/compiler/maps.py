"""Map and SequenceMap lowering: tabulate the function, then fold, fuse or emit an MLP.

A Map / SequenceMap is tabulated over its stored inputs (value_sets.py). Constants are
substituted and functions of the token or the position alone folded into the embeddings
(embedding.py); a categorical Map read only by the next Map stays pending (fusion.py);
anything else becomes an MLP (`mlp.table_neurons`). A SequenceMap of two numerical SOps
compiles only when linear (a*x + b*y + c; two neurons per input).

Produces `Lowered.variables` entries for Map / SequenceMap nodes and their MLP `Op`s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rasp import core
from rasp.compiler import embedding, fusion, mlp
from rasp.compiler.errors import node_error
from rasp.compiler.ir import Var
from rasp.compiler.lowering_state import LoweringState
from rasp.compiler.value_sets import (
    Tabulated,
    check_near_values,
    check_numerical,
    linear_values,
    tabulate,
)
from rasp.compiler.values import sort_values


def lower_elementwise(st: LoweringState, node: core.SOp, children: list[Var], f: Callable[..., Any],
                      numerical: bool, deferrable: bool) -> Var:
    """A Map / SequenceMap of `children` (its variable; pending if `deferrable` allows)."""
    own = Tabulated(node.label, f)
    leaves, fn = fusion.compose(st, node.label, children, own)
    leaves, fn = embedding.substitute_constants(leaves, fn)
    if not leaves:
        value = fn()
        own.check_some_evaluate()
        return embedding.constant(st, node, value, numerical)
    if embedding.foldable(leaves) and not st.one_per_op:  # one_per_op: an MLP instead
        var = embedding.fold(st, node.label, st.name(node), leaves, fn, numerical)
        own.check_some_evaluate()
        return var
    table = tabulate(node.label, leaves, fn, st.limits)
    own.check_some_evaluate()
    check_near_values(node.label, leaves, table, fn)
    out = st.add(Var(st.name(node), numerical, sort_values(table.values()),
                     any(v is None for v in table.values())))
    check_numerical(node.label, out)
    names = ", ".join(v.name for v in leaves)
    kind = "Map" if len(leaves) == 1 else "SequenceMap"
    caption = f"{out.name} = {kind}({names})"
    if deferrable:
        fusion.defer(out, node.label, leaves, table, caption)
    else:
        st.emit_table(node.label, leaves, table, out, caption)
    return out


def lower_numerical_pair(st: LoweringState, node: core.SequenceMap, x: Var, y: Var,
                         numerical: bool) -> Var:
    """A SequenceMap of two stored numerical SOps: refused unless linear."""
    fusion.materialize(st, x)
    fusion.materialize(st, y)
    size = len(x.values or []) * len(y.values or [])
    if size > st.limits.table_entries:
        raise node_error(node.label, f"{size} input combinations are more than the cap "
                         f"rasp.limits table_entries={st.limits.table_entries}",
                         "shrink the inputs' value sets, or raise the cap")
    own = Tabulated(node.label, node.f)
    table = {(p, q): own(p, q) for p in x.values or [] for q in y.values or []}
    own.check_some_evaluate()
    if isinstance(node, core.LinearSequenceMap):
        a, b, c = float(node.fst_fac), float(node.snd_fac), 0.0
    else:
        fit = fit_linear2(table, x.values, y.values)
        if fit is None:
            raise node_error(
                node.label,
                "a SequenceMap of two numerical SOps is only compiled when it is linear "
                "(a*x + b*y + c)",
                "make one input categorical with rasp.categorical(rasp.Map(...)), or use "
                "rasp.LinearSequenceMap",
            )
        a, b, c = fit
    if not numerical:
        raise node_error(node.label, "a linear combination of numerical SOps must be "
                         "numerical", "wrap it in rasp.numerical(...)")
    out = st.add(Var(st.name(node), True, linear_values(node.label, x, y, a, b, c, st.limits)))
    check_numerical(node.label, out)
    st.emit_mlp(node.label, mlp.linear([(x, a), (y, b)], c, out), [out.name],
                f"{out.name} = SequenceMap({x.name}, {y.name})")
    return out


def fit_linear2(table: dict[tuple, Any], xs: list | None,
                ys: list | None) -> tuple[float, float, float] | None:
    """(a, b, c) with table[(x, y)] = a*x + b*y + c on every value pair, or None."""
    if not xs or not ys:
        return None
    if any(not isinstance(z, (int, float)) or isinstance(z, bool) for z in table.values()):
        return None
    x0, y0, x1, y1 = xs[0], ys[0], xs[-1], ys[-1]
    c0 = table[(x0, y0)]
    a = (table[(x1, y0)] - c0) / (x1 - x0) if x1 != x0 else 0.0
    b = (table[(x0, y1)] - c0) / (y1 - y0) if y1 != y0 else 0.0
    c = c0 - a * x0 - b * y0
    for (x, y), z in table.items():
        if abs(a * x + b * y + c - z) > 1e-9 * max(1.0, abs(z)):
            return None
    return a, b, c
