"""Selector lowering: selector nodes become formulas, formulas become a head's q/k dimensions.

A Select / ConstantSelector / And / Or / Not node becomes a `Formula` over variables
(selectors.py). For a head, the formula is split into conjuncts over one (key, query)
variable pair each; a conjunct that mixes pairs (| or ~ across variables) reads joint
variables (tuples), folded into the embeddings or built by an MLP. Each conjunct's 0/1
table over the pair's values is factored into head dimensions (attention.py).

Produces the `Formula` of every selector node, joint variables (and their MLP `Op`s) in
`Lowered.variables`, and the q/k dimensions of each head.
"""

from __future__ import annotations

from itertools import product
from typing import Any

from rasp import core
from rasp.compiler import attention, embedding, mlp
from rasp.compiler.errors import CompileError, node_error
from rasp.compiler.ir import BOS_DIR, Var
from rasp.compiler.lowering_state import LoweringState
from rasp.compiler.selectors import (
    FALSE,
    TRUE,
    And,
    Atom,
    Conjunct,
    Formula,
    Not,
    Or,
    atoms,
    conjunct_table,
    predicate_of,
    split_conjuncts,
)
from rasp.compiler.value_sets import combinations, domain


def selector_formula(st: LoweringState, node: core.Selector, var_of: dict[int, Var],
                     formula_of: dict[int, Formula]) -> Formula:
    """The formula of one selector node (its children already lowered, by id)."""
    if isinstance(node, core.Select):
        keys, queries = var_of[id(node.keys)], var_of[id(node.queries)]
        for role, var in (("keys", keys), ("queries", queries)):
            if var.numerical and var.source != "const":
                raise node_error(node.label, f"its {role} '{var.name}' are numerical; "
                                 "attention compares categorical values",
                                 f"select on rasp.categorical(rasp.Map(f, {var.name}))")
        if node.predicate is core.Comparison.TRUE:
            return TRUE
        comparison = node.predicate if isinstance(node.predicate, core.Comparison) else None
        return Atom(keys.name, queries.name, predicate_of(node), comparison)
    if isinstance(node, core.ConstantSelector):
        matrix = node.value

        # Rows are queries, columns keys; positions outside the matrix are unselected.
        def pick(k: Any, q: Any) -> bool:
            return q < len(matrix) and k < len(matrix[q]) and bool(matrix[q][k])

        indices = _positions(st)
        return Atom(indices.name, indices.name, pick)
    if isinstance(node, core.SelectorAnd):
        return And(formula_of[id(node.fst)], formula_of[id(node.snd)])
    if isinstance(node, core.SelectorOr):
        return Or(formula_of[id(node.fst)], formula_of[id(node.snd)])
    if isinstance(node, core.SelectorNot):
        return Not(formula_of[id(node.inner)])
    raise node_error(node.label, f"unknown selector type {type(node).__name__}",
                     "use Select, ConstantSelector and &, |, ~")


def selector_labels(selector: core.Selector) -> tuple[str, ...]:
    """Labels of a selector and of the selectors it combines (And/Or/Not), not those
    inside the SOps it compares."""
    labels, stack = [], [selector]
    while stack:
        node = stack.pop()
        if node.label not in labels:
            labels.append(node.label)
        stack += [c for c in node.children if isinstance(c, core.Selector)]
    return tuple(labels)


def head_dims(st: LoweringState, label: str, formula: Formula) -> tuple[list, int]:
    """The q/k dimensions scoring `formula` (each conjunct adds 1 when true) and the number
    of conjuncts, theta (a key is selected when its score reaches it)."""
    parts = _conjuncts(st, label, formula)
    dims = []
    for part in parts:
        dims += _table_dims(st, label, part)
    return dims, len(parts)


def _positions(st: LoweringState) -> Var:
    if "indices" not in st.vars:
        return st.add(Var("indices", False, list(range(st.max_seq_len)), source="pos",
                          fn=lambda i: i))
    var = st.vars["indices"]
    if var.source != "pos" or var.numerical:
        raise CompileError("a variable named 'indices' shadows the positions; rename it")
    return var


def _conjuncts(st: LoweringState, label: str, formula: Formula) -> list[Conjunct]:
    """Split into single-pair conjuncts, building joint variables where needed."""
    consts = st.consts()
    out, mixed, n_false = split_conjuncts(formula, consts.__contains__)
    if mixed is not None:
        key = _joint(st, label, sorted({a.key_var for a in atoms(mixed)} - consts))
        query = _joint(st, label, sorted({a.query_var for a in atoms(mixed)} - consts))
        out.append(Conjunct(key, query, mixed))
    return out + [Conjunct(None, None, FALSE)] * n_false


def _joint(st: LoweringState, label: str, names: list[str]) -> str | None:
    """One variable holding the tuple of `names` (the variable itself if just one)."""
    if not names:
        return None
    if len(names) == 1:
        return names[0]
    joint_name = "(" + ",".join(names) + ")"
    if joint_name in st.vars:
        return joint_name
    parts = [st.vars[n] for n in names]
    st.joint_parts[joint_name] = list(names)
    size = combinations(parts)
    if size > st.limits.joint_values:
        raise node_error(label, f"its selector combines {names} across variables with | or "
                         f"~, which needs their {size} joint values, more than the cap "
                         f"rasp.limits joint_values={st.limits.joint_values}",
                         "select on a single combined SOp built with SequenceMap, or raise "
                         "the cap")
    if embedding.foldable(parts):
        return embedding.fold(st, label, joint_name, parts, lambda *values: values, False).name
    var = st.add(Var(joint_name, False, [tuple(c) for c in product(*[domain(p) for p in parts])]))
    st.emit_mlp(f"{label}.joint", mlp.joint(parts, var), [var.name],
                f"{joint_name} = tuple({', '.join(names)})")
    return var.name


def _table_dims(st: LoweringState, label: str, part: Conjunct) -> list:
    consts = {n: v.const for n, v in st.vars.items() if v.source == "const"}

    def values(name: str | None) -> list[tuple[Any, tuple]]:
        if name is None:
            return [(None, ({BOS_DIR: -1.0}, 1.0))]
        var = st.vars[name]
        return [(a, mlp.feature(var, a)) for a in domain(var)]

    rows = values(part.query_var)
    cols = values(part.key_var)
    if len(rows) * len(cols) > st.limits.table_entries:
        raise node_error(label, f"its selector table has {len(rows)} x {len(cols)} entries, "
                         f"more than the cap rasp.limits table_entries="
                         f"{st.limits.table_entries}", "select on SOps with fewer values, "
                         "or raise the cap")
    table = conjunct_table(part, [v for v, _ in rows], [v for v, _ in cols], consts,
                           lambda name, value: _unpack(st, name, value))
    return attention.table_dims([f for _, f in rows], [f for _, f in cols], table)


def _unpack(st: LoweringState, var_name: str | None, value: Any) -> dict[str, Any]:
    """Variable values from one (possibly joint) table coordinate."""
    if var_name is None:
        return {}
    if var_name in st.joint_parts:
        return dict(zip(st.joint_parts[var_name], value))
    return {var_name: value}
