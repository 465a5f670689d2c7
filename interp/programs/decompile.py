"""Decompile a `DiscreteProgram` into (a) a readable, self-contained Python module and (b) a
`rasp` program (the project's compiler turns it back into weights; `rasp.evaluate` runs it).

Both follow `interp.programs.spec` (closest match, earlier on ties, itself last; no match ->
BOS) exactly as the model does. Only live components are written: a variable
is live when the read-out depends on it or a live component reads it. Removed components
(see `simplify`) appear as constants.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

import rasp
from interp.programs.domains import variable_domains
from interp.programs.program import DiscreteProgram
from interp.programs.spec import NO_MATCH_POSITION


class _Components:
    """Every component of a program as (kind, output name, reads, spec), with liveness."""

    def __init__(self, program: DiscreteProgram):
        self.program = program
        shape = program.shape
        self.cat_names, self.num_names = shape.cat_var_names(), shape.num_var_names()
        self.cat_dom, self.num_dom = variable_domains(program)
        self.items: list[tuple[str, str, list[str], Any]] = []
        for layer_index, layer in enumerate(program.layers):
            cat0 = shape.cat_vars_before(layer_index)
            num0 = shape.num_vars_before(layer_index)
            for h, head in enumerate(layer.cat_heads):
                reads = [self.cat_names[i] for i in (head.q, head.k, head.v)]
                self.items.append(("cat_head", self.cat_names[cat0 + h], reads, head))
            for h, head in enumerate(layer.num_heads):
                reads = [self.cat_names[head.q], self.cat_names[head.k]]
                self.items.append(("num_head", self.num_names[num0 + h], reads, head))
            mid = shape.cat_vars_before(layer_index, after_attention=True)
            for m, mlp in enumerate(layer.cat_mlps):
                reads = [self.cat_names[mlp.a], self.cat_names[mlp.b]]
                self.items.append(("cat_mlp", self.cat_names[mid + m], reads, mlp))
            for m, mlp in enumerate(layer.num_mlps):
                reads = [self.num_names[mlp.a], self.num_names[mlp.b]]
                self.items.append(("num_mlp", self.cat_names[mid + len(layer.cat_mlps) + m], reads, mlp))
        # Removed components still count in the read-out at their constant value.
        self.readout_vars = [
            name for i, name in enumerate(self.cat_names) if _varies(program.readout_cat[i], self.cat_dom[i])
        ] + [
            name for i, name in enumerate(self.num_names)
            if bool(program.readout_num[i].any()) and self.num_dom[i] != [0]
        ]
        live = set(self.readout_vars)
        removed = set(program.removed)
        for _, out, reads, _ in reversed(self.items):
            if out in live and out not in removed:
                live.update(reads)
        self.live = live

    def is_numerical(self, name: str) -> bool:
        return name in self.num_names

    def domain(self, name: str) -> list[int]:
        if name in self.num_names:
            return self.num_dom[self.num_names.index(name)]
        return self.cat_dom[self.cat_names.index(name)]

    def label(self, name: str, value: int) -> Any:
        if name in self.num_names:
            return value
        return self.program.value_labels[self.cat_names.index(name)][value]

    def readout_row(self, name: str, value: int) -> list[float]:
        if name in self.num_names:
            return self.program.readout_num[self.num_names.index(name)].double().tolist()
        return self.program.readout_cat[self.cat_names.index(name)][value].double().tolist()


def _varies(rows: torch.Tensor, domain: list[int]) -> bool:
    """Whether a categorical read-out block is not all zero over the variable's values."""
    return bool(rows[domain].any())


# ====================================================================== Python
_HELPERS = '''

def rank(q, k):
    """Priority of key k for query q (lower wins): closest, earlier on ties, itself last."""
    if k == q:
        return 2 * N_CTX
    return 2 * (abs(k - q) - 1) + (0 if k < q else 1)


def visible(q, n):
    return range(q + 1) if CAUSAL else range(n)


def select_closest(keys, queries, predicate):
    """Per query position: the best-ranked key position whose key matches; BOS (0) if none."""
    chosen = []
    for q, query in enumerate(queries):
        matches = [k for k in visible(q, len(keys)) if predicate(query, keys[k])]
        chosen.append(min(matches, key=lambda k: rank(q, k)) if matches else 0)
    return chosen


def aggregate(chosen, values):
    """The value at each chosen key position."""
    return [values[k] for k in chosen]


def select_width(keys, queries, predicate):
    """Per query position: how many key positions match (RASP's SelectorWidth)."""
    return [sum(predicate(query, keys[k]) for k in visible(q, len(keys))) for q, query in enumerate(queries)]


def argmax(scores):
    return max(range(len(scores)), key=scores.__getitem__)  # first maximum, like torch
'''


def to_python(program: DiscreteProgram, title: str = "Transformer Program") -> str:
    """A self-contained Python module with `run(tokens) -> labels` (no data files)."""
    comps = _Components(program)
    shape = program.shape
    lines = [
        f'"""{title}, decompiled by interp.programs.',
        "",
        *_claim(program),
        "",
        "Semantics (interp.programs.spec): a categorical head selects, among the keys whose value",
        "matches what the query's predicate asks for, the closest position (earlier on ties, the",
        "query itself last); when nothing matches it attends to BOS (position 0).",
        '"""',
        "",
        f"N_CTX = {shape.n_ctx}",
        f"CAUSAL = {shape.causal}",
        f"LABELS = {list(shape.labels)!r}",
    ]
    lines += _HELPERS.split("\n")
    body: list[str] = []
    for kind, out, reads, spec in comps.items:
        if out not in comps.live:
            continue
        if out in program.removed:
            constant = comps.label(out, program.removed[out])
            body.append(f"    {out} = [{constant!r}] * n  # removed: constant")
            continue
        if kind in ("cat_head", "num_head"):
            lines += ["", ""] + _predicate_source(comps, out, reads, spec)
            q, k = reads[0], reads[1]
            if kind == "cat_head":
                selected = f"select_closest({k}, {q}, predicate_{out})"
                body.append(f"    {out} = aggregate({selected}, {reads[2]})")
            else:
                body.append(f"    {out} = select_width({k}, {q}, predicate_{out})")
        else:
            lines += ["", ""] + _table_source(comps, out, reads, spec)
            a, b = reads
            body.append(f"    {out} = [table_{out}(a, b) for a, b in zip({a}, {b})]")
    lines += ["", ""] + _readout_source(comps, program)
    lines += [
        "",
        "",
        "def run(tokens):",
        '    """Predicted label at every position of `tokens` (a list starting with BOS)."""',
        "    n = len(tokens)",
        "    positions = list(range(n))",
        "    ones = [1] * n",
        *body,
        "    return [",
        "        LABELS[argmax(readout({}))]".format(", ".join(f"{v}[i]" for v in comps.readout_vars)),
        "        for i in range(n)",
        "    ]",
        "",
    ]
    return "\n".join(lines)


def _claim(program: DiscreteProgram) -> list[str]:
    """The header's statement of exactness, saying over which inputs it was checked."""
    if program.checked:
        text = f"Checked: {program.checked}."
    elif program.removed:
        text = ("Simplified on inputs that were not recorded: agreement with the argmax model is "
                "unchecked outside them.")
    else:
        text = "Exact: the same computation as the argmax program it was decompiled from (no simplification)."
    words, lines, line = text.split(), [], ""
    for word in words:  # wrap at 95 columns
        if line and len(line) + 1 + len(word) > 95:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return lines + [line]


def _predicate_source(comps: _Components, out: str, reads: list[str], head) -> list[str]:
    q, k = reads[0], reads[1]
    key_domain = set(comps.domain(k))
    groups: dict[Any, list[Any]] = {}
    for value in comps.domain(q):
        wanted = head.predicate[value]
        target = comps.label(k, wanted) if wanted in key_domain else None  # None: matches nothing
        groups.setdefault(target, []).append(comps.label(q, value))
    lines = [f"def predicate_{out}(query, key):", f'    """{out}: query reads {q}, key reads {k}."""']
    ordered = sorted(groups.items(), key=lambda item: len(item[1]))
    for target, values in ordered[:-1]:
        test = f"query == {values[0]!r}" if len(values) == 1 else f"query in {set(values)!r}"
        result = "False" if target is None else f"key == {target!r}"
        lines += [f"    if {test}:", f"        return {result}"]
    target = ordered[-1][0]
    lines.append(f"    return {'False' if target is None else f'key == {target!r}'}")
    return lines


def _table_source(comps: _Components, out: str, reads: list[str], mlp) -> list[str]:
    a, b = reads
    groups: dict[Any, list[tuple]] = {}
    for i in comps.domain(a):
        for j in comps.domain(b):
            key = (comps.label(a, i), comps.label(b, j))
            if a == b and i != j:
                continue  # the same variable twice: only the diagonal occurs
            groups.setdefault(comps.label(out, mlp.table[i][j]), []).append(key)
    lines = [f"def table_{out}(a, b):", f'    """{out}: a lookup table over ({a}, {b})."""']
    ordered = sorted(groups.items(), key=lambda item: len(item[1]))
    for value, keys in ordered[:-1]:
        test = f"(a, b) == {keys[0]!r}" if len(keys) == 1 else f"(a, b) in {set(keys)!r}"
        lines += [f"    if {test}:", f"        return {value!r}"]
    lines.append(f"    return {ordered[-1][0]!r}")
    return lines


def _readout_source(comps: _Components, program: DiscreteProgram) -> list[str]:
    lines = []
    for name in comps.readout_vars:
        if comps.is_numerical(name):
            lines.append(f"READOUT_{name} = {tuple(comps.readout_row(name, 0))!r}  # times the count")
            continue
        lines.append(f"READOUT_{name} = {{")
        for value in comps.domain(name):
            lines.append(f"    {comps.label(name, value)!r}: {tuple(comps.readout_row(name, value))!r},")
        lines.append("}")
    args = ", ".join(comps.readout_vars)
    lines += [
        "",
        "",
        f"def readout({args}):",
        '    """Label scores: a linear function of every variable the output depends on."""',
        f"    scores = list({tuple(program.readout_bias.double().tolist())!r})",
    ]
    # Same order of float64 additions as DiscreteProgram.run, so scores are bit-identical.
    for name in comps.readout_vars:
        if comps.is_numerical(name):
            lines.append(f"    scores = [s + {name} * w for s, w in zip(scores, READOUT_{name})]")
        else:
            lines.append(f"    scores = [s + w for s, w in zip(scores, READOUT_{name}[{name}])]")
    lines.append("    return scores")
    return lines


def load_python(source: str) -> Callable[[list[str]], list[str]]:
    """`run` from decompiled source (executed in a fresh namespace)."""
    namespace: dict[str, Any] = {}
    exec(compile(source, "<transformer-program>", "exec"), namespace)  # noqa: S102 - our own output
    return namespace["run"]


def count_lines(source: str) -> int:
    """Non-blank lines (the paper's program-size measure)."""
    return sum(1 for line in source.splitlines() if line.strip())


# ======================================================================= RASP
def to_rasp(program: DiscreteProgram) -> rasp.SOp:
    """The program as a RASP expression whose output is the predicted label."""
    comps = _Components(program)
    shape = program.shape
    sops: dict[str, rasp.SOp] = {"tokens": rasp.tokens, "positions": rasp.indices, "ones": rasp.Full(1)}
    occurrences: dict[str, rasp.SOp] = {}

    def occurrence(name: str) -> rasp.SOp:
        # How often each position's value of `name` occurred at earlier positions (shared by heads).
        if name not in occurrences:
            same = rasp.Select(sops[name], sops[name], rasp.Comparison.EQ)
            earlier = same & rasp.Select(rasp.indices, rasp.indices, rasp.Comparison.LT)
            earlier = earlier.named(f"{name}_earlier")
            occurrences[name] = rasp.SelectorWidth(earlier).named(f"{name}_before")
        return occurrences[name]

    for kind, out, reads, spec in comps.items:
        if out not in comps.live:
            continue
        if out in program.removed:
            sops[out] = rasp.Full(comps.label(out, program.removed[out])).named(out)
        elif kind == "cat_head":
            sops[out] = _rasp_closest(comps, out, reads, spec, occurrence, sops, shape.causal)
        elif kind == "num_head":
            want = _wanted(comps, reads, spec)
            selector = rasp.Select(sops[reads[1]], sops[reads[0]], lambda k, q, w=want: k == w[q])
            sops[out] = rasp.SelectorWidth(_causal(selector, shape.causal).named(f"select_{out}")).named(out)
        else:
            a, b = reads
            table = {
                (comps.label(a, i), comps.label(b, j)): comps.label(out, spec.table[i][j])
                for i in comps.domain(a) for j in comps.domain(b)
            }
            if a == b:
                sops[out] = rasp.Map(lambda x, t=table: t[(x, x)], sops[a]).named(out)
            else:
                sops[out] = rasp.SequenceMap(lambda x, y, t=table: t[(x, y)], sops[a], sops[b]).named(out)
    return _rasp_readout(comps, program, sops)


def _wanted(comps: _Components, reads: list[str], head) -> dict[Any, Any]:
    """Query value label -> the key value label it matches (None: matches nothing)."""
    q, k = reads[0], reads[1]
    key_domain = set(comps.domain(k))
    return {
        comps.label(q, v): comps.label(k, head.predicate[v]) if head.predicate[v] in key_domain else None
        for v in comps.domain(q)
    }


def _rasp_closest(comps, out, reads, head, occurrence, sops, causal: bool) -> rasp.SOp:
    """The spec's closest-match head in plain RASP, by counting instead of one Aggregate per offset:
    with `before` (how often a key's value occurred earlier, shared per key variable), the last
    match left of the query is the key whose value is the wanted one and whose `before` is one
    less than the number of matches left of the query; the first match right of it is the one
    whose `before` equals the matches up to the query. The nearer of the two wins (left on ties),
    then the query itself, then BOS; one last Aggregate copies the value there. Every selector
    selects at most one key, and every value set stays within positions."""
    q, k, v = reads
    want = _wanted(comps, reads, head)
    matches = rasp.Select(sops[k], sops[q], lambda key, query, w=want: key == w[query]).named(f"{out}_match")
    before = occurrence(k)
    left_count = rasp.SelectorWidth(
        (matches & rasp.Select(rasp.indices, rasp.indices, rasp.Comparison.LT)).named(f"{out}_left")
    ).named(f"{out}_left_count")
    previous = rasp.Select(before, left_count, lambda b, c: b == c - 1).named(f"{out}_previous")
    left = rasp.Aggregate((matches & previous).named(f"{out}_last_left"), rasp.indices,
                          default=_NONE).named(f"{out}_left_at")
    # The query's own position if it matches, else BOS: the last two ranks of the spec.
    itself = (matches & rasp.Select(rasp.indices, rasp.indices, rasp.Comparison.EQ)).named(f"{out}_self")
    fallback = rasp.Aggregate(itself, rasp.indices, default=NO_MATCH_POSITION).named(f"{out}_fallback")
    if causal:  # keys after the query are invisible
        nearest = left
    else:
        upto_count = rasp.SelectorWidth(
            (matches & rasp.Select(rasp.indices, rasp.indices, rasp.Comparison.LEQ)).named(f"{out}_upto")
        ).named(f"{out}_upto_count")
        following = rasp.Select(before, upto_count, rasp.Comparison.EQ).named(f"{out}_following")
        right = rasp.Aggregate((matches & following).named(f"{out}_first_right"), rasp.indices,
                               default=_NONE).named(f"{out}_right_at")
        left_here = rasp.SequenceMap(lambda a, i: (a, i), left, rasp.indices).named(f"{out}_left_here")
        nearest = rasp.SequenceMap(_nearer, left_here, right).named(f"{out}_nearest")
    # Copy from the nearest match, or from the fallback where there is none. (Selectors, not a Map
    # choosing the position: a Select reads `nearest` stored, so the compiler does not fuse the
    # choice into one table over every input of both.)
    at_nearest = rasp.Select(rasp.indices, nearest, rasp.Comparison.EQ).named(f"{out}_at_nearest")
    none_near = rasp.Select(rasp.indices, nearest, lambda k, n: n == _NONE).named(f"{out}_none_near")
    at_fallback = rasp.Select(rasp.indices, fallback, rasp.Comparison.EQ).named(f"{out}_at_fallback")
    chosen = (at_nearest | (none_near & at_fallback)).named(f"{out}_select")
    return rasp.Aggregate(chosen, sops[v]).named(out)


_NONE = -1  # "no such key" (a position never is -1)


def _nearer(left_here: tuple[int, int], right: int) -> int:
    """The nearer of the last match left of position q and the first right of it (left on a tie)."""
    left, q = left_here
    if left == _NONE:
        return right
    if right == _NONE or q - left <= right - q:
        return left
    return right


def _causal(selector: rasp.Selector, causal: bool) -> rasp.Selector:
    """In a causal program, AND the selector with key <= query so the compiler can see it is causal."""
    if not causal:
        return selector
    return selector & rasp.Select(rasp.indices, rasp.indices, rasp.Comparison.LEQ)


def _rasp_readout(comps: _Components, program: DiscreteProgram, sops: dict[str, rasp.SOp]) -> rasp.SOp:
    """argmax(bias + one read-out row per variable) as one `rasp.ArgmaxReadout`: the compiler makes
    it the model's output logits. A chain of Maps summing score tuples would list every reachable
    score vector (127,008 for a small hist program), more than any compiler tabulates."""
    labels = list(program.shape.labels)
    bias = program.readout_bias.double().tolist()
    if not comps.readout_vars:
        best = max(range(len(bias)), key=bias.__getitem__)
        return rasp.Map(lambda _: labels[best], rasp.tokens).named("output")
    rows = []
    for name in comps.readout_vars:
        # A row for every value the variable could hold, not only those it takes, so the compiler
        # finds one for every value its own value-set inference admits.
        if comps.is_numerical(name):
            row = comps.readout_row(name, 0)
            rows.append({c: [c * w for w in row] for c in range(program.shape.n_counts)})
        else:
            rows.append({comps.label(name, v): comps.readout_row(name, v)
                         for v in range(program.shape.d_var)})
    inputs = [sops[name] for name in comps.readout_vars]
    # Bias first, then left to right: the same float64 additions as the model and the Python.
    return rasp.ArgmaxReadout(inputs, rows, bias, labels).named("output")
