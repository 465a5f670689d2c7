"""Lowering: a RASP program becomes variables (value sets inferred) and per-node ops.

Walks the program in dependency order. Functions of the token alone or the position
alone (Maps of tokens, Maps of indices, Full, ConstantSOp) are folded into the
embeddings; Maps/SequenceMaps become MLP neurons; Aggregate and SelectorWidth become
attention heads (SelectorWidth plus a decoding MLP).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any

from rasp import core
from rasp.compiler import attention, mlp
from rasp.compiler.causal import check_causal
from rasp.compiler.errors import CompileError, node_error
from rasp.compiler.ir import BOS_DIR, NUM, Neuron, Op, PendingMap, Var
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
    describe,
    predicate_of,
    split_conjuncts,
)
from rasp.compiler.values import apply_safely, cluster_floats, mean_values, sort_values
from rasp.graph import walk
from rasp.limits import Limits


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
                  limits: Limits) -> Lowered:
    """Lower a whole program (the first compiler stage)."""
    lowering = Lowering(vocab, max_seq_len, causal, limits)
    output = lowering.lower(program)
    return Lowered(lowering.vars, tuple(lowering.ops), output, frozenset(lowering.discretized),
                   dict(lowering.bos_bounds), dict(lowering.fused))


class Lowering:
    """State of lowering one program: variables by name, ops in dependency order."""

    def __init__(self, vocab: Sequence[Any], max_seq_len: int, causal: bool, limits: Limits):
        self.vocab = list(vocab)
        self.n = max_seq_len
        self.causal = causal
        self.limits = limits
        self.vars: dict[str, Var] = {"bos": Var("bos", True, [1.0], source="token")}
        self.ops: list[Op] = []
        self.var_of: dict[int, Var] = {}
        self.formula_of: dict[int, Formula] = {}
        self.bos_bounds: dict[str, float] = {}
        self.joint_parts: dict[str, list[str]] = {}
        self.readers: dict[int, list[core.RASPExpr]] = {}
        # Maps composed into their reader: label -> reader label (they share its MLP).
        self.fused: dict[str, str] = {}
        # Numerical variables read by staircases: their value gaps set the error budget.
        self.discretized: set[str] = set()
        self.output_id = 0

    # ------------------------------------------------------------------ driver
    def lower(self, program: core.SOp) -> Var:
        """Lower every node; returns the output variable."""
        if not isinstance(program, core.SOp):
            raise CompileError(
                f"compile_program needs an SOp (a sequence operation), got {program!r}; "
                "selectors are not programs, aggregate them first"
            )
        nodes = walk(program)
        self.output_id = id(program)
        for node in nodes:
            for child in node.children:
                self.readers.setdefault(id(child), []).append(node)
        for node in nodes:
            if isinstance(node, core.Selector):
                self.formula_of[id(node)] = self._formula(node)
            else:
                self.var_of[id(node)] = self._lower_sop(node)
        output = self.var_of[id(program)]
        self._materialize(output)
        self.discretized.add(output.name)
        return output

    def _name(self, node: core.RASPExpr, suffix: str = "") -> str:
        base = node.label + suffix
        name, i = base, 2
        while name in self.vars:
            name, i = f"{base}#{i}", i + 1
        return name

    def _add(self, var: Var) -> Var:
        for value in var.values or []:
            if isinstance(value, float) and not math.isfinite(value):
                raise node_error(var.name, f"it can take the value {value!r}, which has no exact "
                                 "place in the residual stream (NaN equals nothing; inf "
                                 "overflows the weights)", "make its function return finite numbers")
        if var.numerical and var.values:
            clusters = cluster_floats(var.values)
            var.values = [c[0] for c in clusters]
            var.near = {c[0]: tuple(c[1:]) for c in clusters if len(c) > 1}
        if var.values is not None and len(var.values) > self.limits.value_set:
            raise node_error(var.name, f"it can take {len(var.values)} distinct values, more than "
                             f"the cap rasp.limits value_set={self.limits.value_set}",
                             "round or bucket it with a Map, shorten max_seq_len or the vocabulary, "
                             "or raise the cap (compile_program(..., limits=Limits(value_set=...)))")
        self.vars[var.name] = var
        return var

    def _check_size(self, label: str, params: int, what: str) -> None:
        """Refuse before building a node whose model part alone exceeds the parameter cap."""
        cap = self.limits.model_parameters
        if params > cap:
            raise node_error(label, f"{what} needs at least {params:,} parameters, more than the "
                             f"cap rasp.limits model_parameters={cap:,}",
                             "shrink its inputs' value sets (bucket them with a Map first) or "
                             "max_seq_len, or raise the cap "
                             "(compile_program(..., limits=Limits(model_parameters=...)))")

    # -------------------------------------------------------------------- SOps
    def _lower_sop(self, node: core.SOp) -> Var:
        numerical = core.is_numerical(node)
        if isinstance(node, core.TokensType):
            return self._embedded(node, "token", lambda t: t, numerical)
        if isinstance(node, core.IndicesType):
            return self._embedded(node, "pos", lambda i: i, numerical)
        if isinstance(node, core.LengthType):
            return self._length(node)
        if isinstance(node, core.Full):
            return self._add(
                Var(self._name(node), numerical, sort_values([node.fill]), node.fill is None,
                    source="const", const=node.fill)
            )
        if isinstance(node, core.ConstantSOp):
            values = list(node.value)
            return self._embedded(
                node, "pos", lambda i: values[i] if i < len(values) else None, numerical
            )
        if isinstance(node, core.Map):
            return self._map(node, numerical)
        if isinstance(node, core.SequenceMap):
            return self._sequence_map(node, numerical)
        if isinstance(node, core.Aggregate):
            return self._aggregate(node, numerical)
        if isinstance(node, core.SelectorWidth):
            return self._selector_width(node, numerical, self.formula_of[id(node.selector)],
                                        describe(node.selector), _selector_labels(node.selector))
        raise node_error(node.label, f"{type(node).__name__} is not a known RASP SOp",
                         "build the program from rasp.core expressions")

    def _embedded(self, node: core.SOp, source: str, fn: Callable[[Any], Any],
                  numerical: bool) -> Var:
        domain = self.vocab if source == "token" else list(range(self.n))
        # Each function is called once per input: the table is what the weights store.
        table = {x: fn(x) for x in domain}
        for value in table.values():
            _check_hashable(node.label, value)
        outputs = list(table.values())
        var = Var(self._name(node), numerical, sort_values(outputs),
                  any(o is None for o in outputs), source=source, fn=table.__getitem__)
        self._check_numerical(node, var)
        return self._add(var)

    def _check_numerical(self, node: core.SOp, var: Var) -> None:
        if not var.numerical:
            return
        if var.may_none:
            raise node_error(node.label, "a numerical SOp can be None here, which has no "
                             "number to store", "make its function return a number everywhere "
                             "(e.g. 0), or make it categorical")
        bad = next((v for v in var.values or [] if not isinstance(v, (int, float))), None)
        if bad is not None:
            raise node_error(node.label, f"numerical SOp takes the non-number value {bad!r}",
                             "annotate it rasp.categorical(...) or return numbers")

    # ------------------------------------------------------------------ Maps
    def _map(self, node: core.Map, numerical: bool) -> Var:
        return self._elementwise(node, [self.var_of[id(node.inner)]], node.f, numerical)

    def _sequence_map(self, node: core.SequenceMap, numerical: bool) -> Var:
        x = self.var_of[id(node.fst)]
        y = self.var_of[id(node.snd)]
        if x.numerical and y.numerical and x.source != "const" and y.source != "const":
            self._materialize(x)
            self._materialize(y)
            caption = f"{{out}} = SequenceMap({x.name}, {y.name})"
            return self._numerical_pair(node, x, y, numerical, caption)
        return self._elementwise(node, [x, y], node.f, numerical)

    def _elementwise(self, node: core.SOp, children: list[Var], f: Callable[..., Any],
                     numerical: bool) -> Var:
        """A Map/SequenceMap over at most two stored inputs ('leaves').

        A categorical Map/SequenceMap read only by the next Map/SequenceMap is not stored:
        its table is composed into the reader (one MLP instead of two, one layer less),
        as long as the reader still has at most two inputs. Composition goes through
        tables, never nested functions, so chains of any length stay flat.
        """
        own = _Tabulated(node.label, f)
        leaves, inputs = _expand(children)

        def fn(*args: Any) -> Any:
            return own(*inputs(*args))

        stored_numerical = [v for v in leaves if v.numerical and v.source != "const"]
        stored = [v for v in leaves if v.source != "const"]
        too_wide = len(stored) > 2 and (
            stored_numerical or _combinations(stored) > self.limits.fused_table_entries)
        if too_wide or len(stored_numerical) > 1:
            for child in children:
                self._materialize(child)
            leaves, fn = children, own
        for child in children:
            if child.pending is not None:
                self.fused[child.name] = node.label
        # Constants are substituted; they need no input.
        consts = [v for v in leaves if v.source == "const"]
        if consts:
            const_values = {v.name: v.const for v in consts}
            names = [v.name for v in leaves]
            inner_fn = fn
            leaves = [v for v in leaves if v.source != "const"]
            kept = [v.name for v in leaves]

            def fn(*args: Any, inner_fn=inner_fn, names=names, kept=kept) -> Any:
                env = dict(const_values)
                env.update(zip(kept, args))
                return inner_fn(*[env[n] for n in names])

        if not leaves:
            value = fn()
            own.check_some_evaluate()
            return self._add(Var(self._name(node), numerical, sort_values([value]),
                                 value is None, source="const", const=value))
        sources = {v.source for v in leaves}
        if all(v.embedded for v in leaves) and len(sources) == 1:
            fns = [v.fn for v in leaves]
            var = self._embedded(node, leaves[0].source,
                                 lambda t: fn(*[g(t) for g in fns]), numerical)
            own.check_some_evaluate()
            return var
        for var in leaves:
            if var.values is None:
                raise node_error(node.label, f"its input '{var.name}' can take too many values "
                                 "to tabulate", "round or bucket it with a Map first")
        domains = [list(v.values) + ([None] if v.may_none else []) for v in leaves]
        size = 1
        for d in domains:
            size *= len(d)
        if size > self.limits.table_entries:
            raise node_error(node.label, f"{size} input combinations are more than the cap "
                             f"rasp.limits table_entries={self.limits.table_entries}",
                             "shrink the inputs' value sets, or raise the cap "
                             "(compile_program(..., limits=Limits(table_entries=...)))")
        table = {combo: fn(*combo) for combo in product(*domains)}
        own.check_some_evaluate()
        _check_near_values(node.label, leaves, table, fn)
        out = self._add(Var(self._name(node), numerical, sort_values(table.values()),
                            any(v is None for v in table.values())))
        self._check_numerical(node, out)
        names = ", ".join(v.name for v in leaves)
        kind = "Map" if len(leaves) == 1 else "SequenceMap"
        caption = f"{out.name} = {kind}({names})"
        if self._deferrable(node, numerical):
            out.pending = PendingMap(node.label, tuple(leaves), table, caption)
        else:
            self._emit_elementwise(node.label, leaves, table, out, caption)
        return out

    def _deferrable(self, node: core.SOp, numerical: bool) -> bool:
        readers = self.readers.get(id(node), [])
        return (
            not numerical
            and id(node) != self.output_id
            and len(readers) == 1
            and type(readers[0]) in (core.Map, core.SequenceMap)
        )

    def _materialize(self, var: Var) -> None:
        """Emit the MLP of a pending variable (someone needs it stored after all)."""
        pending = var.pending
        if pending is not None:
            var.pending = None
            self._emit_elementwise(pending.label, list(pending.leaves), pending.table, var,
                                   pending.caption)

    def _emit_elementwise(self, label: str, leaves: list[Var], table: dict, out: Var,
                          caption: str) -> None:
        if not out.numerical:
            # A stored categorical output needs a direction per value and, since each MLP
            # neuron changes the output by a fixed vector, at least W - 1 neurons.
            self._check_size(label, 2 * out.width * max(out.width - 1, 1),
                             f"its MLP ({out.width} output values)")
        self.discretized.update(v.name for v in leaves if v.numerical)
        if len(leaves) > 2:
            neurons = mlp.lookup_nary(leaves, table, out)
        elif len(leaves) == 1:
            x = leaves[0]
            single = {a[0]: z for a, z in table.items()}
            if x.numerical:
                neurons = mlp.map_numerical(x, lambda a: single[a], out)
            else:
                neurons = mlp.map_categorical(x, {a: z for a, z in single.items() if a is not None},
                                              out)
        else:
            x, y = leaves
            # A function that ignores one argument is a Map of the other, provided the
            # ignored one is never None: a None input makes the output None (interpreter).
            xs = list(x.values) + ([None] if x.may_none else [])
            ys = list(y.values) + ([None] if y.may_none else [])
            if ys and all(table[(a, b)] == table[(a, ys[0])] for a in xs for b in ys):
                self._emit_elementwise(label, [x], {(a,): table[(a, ys[0])] for a in xs}, out,
                                       caption)
                return
            if xs and all(table[(a, b)] == table[(xs[0], b)] for a in xs for b in ys):
                self._emit_elementwise(label, [y], {(b,): table[(xs[0], b)] for b in ys}, out,
                                       caption)
                return
            def lookup(a: Any, b: Any) -> Any:
                return table.get((a, b))
            if x.numerical:
                neurons = mlp.sequence_map_mixed(x, y, lookup, out)
            elif y.numerical:
                neurons = mlp.sequence_map_mixed(y, x, lambda b, a: lookup(a, b), out)
            else:
                neurons = mlp.sequence_map_categorical(x, y, lookup, out)
                additive = mlp.sequence_map_additive(x, y, lookup, out)
                if additive is not None and len(additive) < len(neurons):
                    neurons = additive
        self._mlp(label, neurons, [out.name], caption)

    def _numerical_pair(self, node: core.SequenceMap, x: Var, y: Var, numerical: bool,
                        caption: str) -> Var:
        size = len(x.values or []) * len(y.values or [])
        if size > self.limits.table_entries:
            raise node_error(node.label, f"{size} input combinations are more than the cap "
                             f"rasp.limits table_entries={self.limits.table_entries}",
                             "shrink the inputs' value sets, or raise the cap")
        own = _Tabulated(node.label, node.f)
        table = {(p, q): own(p, q) for p in x.values or [] for q in y.values or []}
        own.check_some_evaluate()
        if isinstance(node, core.LinearSequenceMap):
            a, b, c = float(node.fst_fac), float(node.snd_fac), 0.0
        else:
            fit = _fit_linear2(table, x.values, y.values)
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
        # Include the rounding neighbours (near) so the output's value set has every float
        # the interpreter can produce; Maps downstream are then checked against all of them.
        xs, ys = _with_near(x), _with_near(y)
        if len(xs) * len(ys) > self.limits.table_entries:
            raise node_error(node.label, f"{len(xs) * len(ys)} input combinations are more than "
                             f"the cap rasp.limits table_entries={self.limits.table_entries}",
                             "shrink the inputs' value sets, or raise the cap")
        values = sort_values(a * p + b * q + c for p in xs for q in ys)
        out = self._add(Var(self._name(node), True, values))
        self._check_numerical(node, out)
        self._mlp(node.label, mlp.linear([(x, a), (y, b)], c, out), [out.name],
                  caption.replace("{out}", out.name))
        return out

    # ---------------------------------------------------------------- attention
    def _aggregate(self, node: core.Aggregate, numerical: bool) -> Var:
        core.check_aggregate_encoding(node)
        sop = self.var_of[id(node.sop)]
        formula = self.formula_of[id(node.selector)]
        text = f"Aggregate({describe(node.selector)}, {sop.name})"
        if numerical:
            if node.default not in (0, 0.0):
                raise node_error(node.label, f"a numerical Aggregate's default must be 0 "
                                 f"(got {node.default!r}): the empty mean is read as 0",
                                 "pass default=0 and map 0 to what you need afterwards")
            if not sop.numerical:
                raise node_error(node.label, "a numerical Aggregate needs a numerical SOp",
                                 "annotate the aggregated SOp with rasp.numerical(...)")
            values = mean_values(_with_near(sop), self.n, 0.0, self.limits.value_set,
                                 self.limits.table_entries)
            if values is None:
                # Decoding an unlisted mean could only be approximate: refuse instead.
                raise node_error(node.label, f"the means of '{sop.name}' ({len(sop.values or [])} "
                                 f"values) over up to {self.n} positions are more than the cap "
                                 f"rasp.limits value_set={self.limits.value_set} (or take more than "
                                 f"table_entries={self.limits.table_entries} steps to list), so "
                                 "they cannot be decoded exactly",
                                 f"round '{sop.name}' to fewer values with a Map, shorten "
                                 "max_seq_len, or raise the caps")
            out = self._add(Var(self._name(node), True, values))
            v, o = attention.aggregate_values(sop, out)
            self._head(node.label, formula, 0.5, v, o, out, sop, f"{out.name} = {text}",
                       selectors=_selector_labels(node.selector))
            return out
        if sop.numerical:
            raise node_error(node.label, "a categorical Aggregate cannot read a numerical SOp",
                             "wrap the Aggregate in rasp.numerical(...) (it then averages)")
        if node.default is None:
            out = self._add(Var(self._name(node), False, list(sop.values or []), True))
            v, o = attention.aggregate_values(sop, out)
            self._head(node.label, formula, 0.5, v, o, out, sop, f"{out.name} = {text}",
                       selectors=_selector_labels(node.selector))
            return out
        # A non-None default: aggregate with None, then an MLP maps None to the default.
        raw = self._add(Var(self._name(node, ".raw"), False, list(sop.values or []), True))
        v, o = attention.aggregate_values(sop, raw)
        v_bias = [0.0] * len(v)
        picked_none = None
        if sop.may_none:
            # Selecting a None value must stay None (only selecting nothing gives the
            # default), so the head also averages "the key's value is None" into a flag.
            picked_none = self._add(Var(self._name(node, ".picked_none"), True, [0.0, 1.0]))
            weights, bias = mlp.feature(sop, None)
            v.append(weights)
            v_bias.append(bias)
            o.append({(picked_none.name, NUM): 1.0})
        self._head(node.label, formula, 0.5, v, o, raw, sop, f"{raw.name} = {text}",
                   v_bias=v_bias, extra_writes=[picked_none.name] if picked_none else [],
                   selectors=_selector_labels(node.selector))
        table = {a: a for a in raw.values}
        table[None] = node.default
        # Selecting a None value gives None (only selecting nothing gives the default), so
        # the output can be None exactly when the aggregated SOp can.
        out = self._add(Var(self._name(node), False, sort_values(table.values()), sop.may_none))
        neurons = mlp.map_categorical(raw, table, out)
        if picked_none is not None:
            for neuron in neurons:
                if (out.name, node.default) in neuron.w_out:
                    neuron.w_in[(picked_none.name, NUM)] = -2.0
        self._mlp(node.label, neurons, [out.name],
                  f"{out.name} = {raw.name} or default {node.default!r}")
        return out

    def _length(self, node: core.LengthType) -> Var:
        if self.causal:
            raise node_error(node.label, "`length` at position i depends on later positions, "
                             "so a causal model cannot compute it",
                             "compile with causal=False, or use indices + 1 (the prefix length)")
        return self._selector_width(node, False, TRUE, "all positions", ())

    def _selector_width(self, node: core.SOp, numerical: bool, formula: Formula,
                        text: str, selectors: tuple[str, ...]) -> Var:
        fractions = [1.0 / (w + 1) for w in range(self.n + 1)]
        tmp = self._add(Var(self._name(node, ".bos_weight"), True, fractions))
        # The BOS position's own query attends only BOS, so this reads 1 there.
        self.bos_bounds[tmp.name] = 1.0
        self.discretized.add(tmp.name)
        self._head(node.label, formula, None, [{BOS_DIR: 1.0}], [{(tmp.name, "<num>"): 1.0}],
                   tmp, None, f"{tmp.name} = 1/(1+SelectorWidth({text}))", selectors=selectors)
        widths = list(range(self.n + 1))
        out = self._add(Var(self._name(node), numerical, sort_values(widths)))
        neurons = mlp.staircase(tmp, fractions[::-1], widths[::-1], out, gate=None)
        self._mlp(node.label, neurons, [out.name], f"{out.name} = SelectorWidth({text})")
        return out

    def _head(self, label: str, formula: Formula, bos_offset: float | None,
              v: list, o: list, out: Var, sop: Var | None, caption: str,
              v_bias: list[float] | None = None, extra_writes: list[str] = (),
              selectors: tuple[str, ...] = ()) -> None:
        if self.causal:
            check_causal(label, formula, self.vars, self.n, self.limits.table_entries)
        parts = self._conjuncts(label, formula)
        theta = len(parts)
        dims = []
        for part in parts:
            dims += self._table_dims(label, part)
        bos_score = theta - bos_offset if bos_offset is not None else float(theta)
        head = attention.make_head(dims, theta, bos_score, v, o)
        head.v_bias = list(v_bias or [])
        head.counts = bos_offset is None
        bound = 1.0
        if sop is not None and sop.numerical:
            bound = max([1.0] + [abs(float(x)) for x in sop.values or []])
        self.ops.append(Op(label, "attn", {}, [out.name, *extra_writes], caption, head=head,
                           value_bound=bound, selectors=selectors))

    def _mlp(self, label: str, neurons: list[Neuron], writes: list[str], caption: str) -> None:
        neurons = [mlp.gate_bos(n, self.bos_bounds) for n in neurons]
        self.ops.append(Op(label, "mlp", {}, writes, caption, neurons=neurons))

    # ----------------------------------------------------------------- selectors
    def _formula(self, node: core.Selector) -> Formula:
        if isinstance(node, core.Select):
            keys, queries = self.var_of[id(node.keys)], self.var_of[id(node.queries)]
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
            indices = self._positions()
            return Atom(indices.name, indices.name, pick)
        if isinstance(node, core.SelectorAnd):
            return And(self.formula_of[id(node.fst)], self.formula_of[id(node.snd)])
        if isinstance(node, core.SelectorOr):
            return Or(self.formula_of[id(node.fst)], self.formula_of[id(node.snd)])
        if isinstance(node, core.SelectorNot):
            return Not(self.formula_of[id(node.inner)])
        raise node_error(node.label, f"unknown selector type {type(node).__name__}",
                         "use Select, ConstantSelector and &, |, ~")

    def _positions(self) -> Var:
        if "indices" not in self.vars:
            return self._add(Var("indices", False, list(range(self.n)), source="pos",
                                 fn=lambda i: i))
        var = self.vars["indices"]
        if var.source != "pos" or var.numerical:
            raise CompileError("a variable named 'indices' shadows the positions; rename it")
        return var

    def _conjuncts(self, label: str, formula: Formula) -> list[Conjunct]:
        """Split into single-pair conjuncts, building joint variables where needed."""
        consts = self._consts()
        out, mixed, n_false = split_conjuncts(formula, consts.__contains__)
        if mixed is not None:
            key = self._joint(label, sorted({a.key_var for a in atoms(mixed)} - consts))
            query = self._joint(label, sorted({a.query_var for a in atoms(mixed)} - consts))
            out.append(Conjunct(key, query, mixed))
        return out + [Conjunct(None, None, FALSE)] * n_false

    def _consts(self) -> set[str]:
        return {name for name, var in self.vars.items() if var.source == "const"}

    def _joint(self, label: str, names: list[str]) -> str | None:
        """One variable holding the tuple of `names` (the variable itself if just one)."""
        if not names:
            return None
        if len(names) == 1:
            return names[0]
        joint_name = "(" + ",".join(names) + ")"
        if joint_name in self.vars:
            return joint_name
        parts = [self.vars[n] for n in names]
        self.joint_parts[joint_name] = list(names)
        domains = [list(p.values or []) + ([None] if p.may_none else []) for p in parts]
        size = 1
        for d in domains:
            size *= len(d)
        if size > self.limits.joint_values:
            raise node_error(label, f"its selector combines {names} across variables with | or "
                             f"~, which needs their {size} joint values, more than the cap "
                             f"rasp.limits joint_values={self.limits.joint_values}",
                             "select on a single combined SOp built with SequenceMap, or raise "
                             "the cap")
        sources = {p.source for p in parts}
        if sources <= {"token"} or sources <= {"pos"}:
            fns = [p.fn for p in parts]
            src = parts[0].source
            domain = self.vocab if src == "token" else list(range(self.n))
            table = {t: tuple(fn(t) for fn in fns) for t in domain}
            var = Var(joint_name, False, sort_values(table.values()), source=src,
                      fn=table.__getitem__)
            return self._add(var).name
        var = self._add(Var(joint_name, False, [tuple(c) for c in product(*domains)]))
        self._mlp(f"{label}.joint", mlp.joint(parts, var), [var.name],
                  f"{joint_name} = tuple({', '.join(names)})")
        return var.name

    def _table_dims(self, label: str, part: Conjunct) -> list:
        consts = {n: v.const for n, v in self.vars.items() if v.source == "const"}

        def domain(name: str | None) -> list[tuple[Any, tuple]]:
            if name is None:
                return [(None, ({BOS_DIR: -1.0}, 1.0))]
            var = self.vars[name]
            values = list(var.values or []) + ([None] if var.may_none else [])
            return [(a, mlp.feature(var, a)) for a in values]

        rows = domain(part.query_var)
        cols = domain(part.key_var)
        if len(rows) * len(cols) > self.limits.table_entries:
            raise node_error(label, f"its selector table has {len(rows)} x {len(cols)} entries, "
                             f"more than the cap rasp.limits table_entries="
                             f"{self.limits.table_entries}", "select on SOps with fewer values, "
                             "or raise the cap")
        table = conjunct_table(part, [v for v, _ in rows], [v for v, _ in cols], consts,
                               self._unpack)
        return attention.table_dims([f for _, f in rows], [f for _, f in cols], table)

    def _unpack(self, var_name: str | None, value: Any) -> dict[str, Any]:
        """Variable values from one (possibly joint) table coordinate."""
        if var_name is None:
            return {}
        if var_name in self.joint_parts:
            return dict(zip(self.joint_parts[var_name], value))
        return {var_name: value}

class _Tabulated:
    """A node's function with the interpreter's rules (None in, None out; a raising input
    is invalid), counting whether it ever evaluates, and refusing unhashable results."""

    def __init__(self, label: str, f: Callable[..., Any]):
        self.label = label
        self.f = f
        self.calls = 0
        self.ok = 0
        self.first_failure: tuple[tuple, Exception] | None = None

    def __call__(self, *args: Any) -> Any:
        if any(a is None for a in args):
            return None
        self.calls += 1
        ok, value = apply_safely(self.f, *args)
        if not ok:
            if self.first_failure is None:
                self.first_failure = (args, value)
            return None
        self.ok += 1
        _check_hashable(self.label, value)
        return value

    def check_some_evaluate(self) -> None:
        """Refuse a node whose function fails on every input it can receive: the
        interpreter would reject every program input that reaches it."""
        if self.calls and not self.ok and self.first_failure is not None:
            args, error = self.first_failure
            shown = args[0] if len(args) == 1 else args
            raise node_error(self.label, f"its function fails on every value it can receive "
                             f"(e.g. {shown!r}: {type(error).__name__}: {error}), so the "
                             "interpreter rejects every input", "make its function handle those values")


def _with_near(var: Var) -> list[Any]:
    """A numerical variable's values and the rounding neighbours each stands for."""
    return list(var.values or []) + [alt for alts in var.near.values() for alt in alts]


def _check_near_values(label: str, leaves: list[Var], table: dict[tuple, Any],
                       fn: Callable[..., Any]) -> None:
    """A numerical value stands for the floats within rounding of it; refuse a function
    that tells them apart (the model stores only one of them, so it could not be exact)."""
    for i, leaf in enumerate(leaves):
        if not leaf.near:
            continue
        for combo, value in table.items():
            for alt in leaf.near.get(combo[i], ()):
                other = fn(*combo[:i], alt, *combo[i + 1:])
                if other != value:
                    raise node_error(label, f"its input '{leaf.name}' takes both {combo[i]!r} and "
                                     f"{alt!r} (the same mean summed in another order), and its "
                                     f"function gives {value!r} and {other!r} for them",
                                     "round the input (e.g. round(x, 6)) before comparing or "
                                     "bucketing it")


def _selector_labels(selector: core.Selector) -> tuple[str, ...]:
    """Labels of a selector and of the selectors it combines (And/Or/Not), not those
    inside the SOps it compares."""
    labels, stack = [], [selector]
    while stack:
        node = stack.pop()
        if node.label not in labels:
            labels.append(node.label)
        stack += [c for c in node.children if isinstance(c, core.Selector)]
    return tuple(labels)


def _check_hashable(label: str, value: Any) -> None:
    try:
        hash(value)
    except TypeError:
        raise node_error(label, f"its function returns the unhashable {type(value).__name__} "
                         f"{value!r}, which cannot name a residual direction",
                         "return a tuple (or a frozenset) instead") from None


def _expand(children: list[Var]) -> tuple[list[Var], Callable[..., list[Any]]]:
    """Leaves (stored inputs) of `children`, looking through pending Maps, and a function
    from leaf values to the children's values (pending ones read from their tables)."""
    leaves: list[Var] = []
    plans: list[tuple[dict | None, list[int]]] = []
    for child in children:
        pending = child.pending
        sub_leaves = list(pending.leaves) if pending is not None else [child]
        idx = []
        for leaf in sub_leaves:
            if leaf not in leaves:
                leaves.append(leaf)
            idx.append(leaves.index(leaf))
        plans.append((pending.table if pending is not None else None, idx))

    def inputs(*args: Any) -> list[Any]:
        return [table[tuple(args[i] for i in idx)] if table is not None else args[idx[0]]
                for table, idx in plans]

    return leaves, inputs


def _fit_linear2(table: dict[tuple, Any], xs: list | None,
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


def _combinations(variables: list[Var]) -> int:
    size = 1
    for var in variables:
        size *= len(var.values or []) + (1 if var.may_none else 0)
    return size
