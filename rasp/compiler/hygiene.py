"""BOS hygiene: keep a variable 0 at the BOS position only where something depends on it.

Lowering emits every op "clean": each head's query reads `bos` so the BOS position attends
only to itself, and each MLP reads `bos` (gate_bos, and the BOS terms of None / constant
features) so it writes nothing there. Those reads change values at the BOS position only,
which is never decoded, so they matter only where a later computation reads a variable's
BOS-position value at a real position. This pass finds those variables by a backward pass
over the final ops and removes the hygiene reads everywhere else:

- a head's k and v read their variables at the BOS key, which every real query sees (its
  score decides when nothing is selected; its value is the default): always needed;
- an MLP whose output is needed keeps its BOS reads, and needs its inputs clean (gate_bos
  assumes them 0 there), except SelectorWidth's 1/(width+1), which lies in [0, 1] at the
  BOS position whatever the query there does (its value is the `bos` direction);
- an Aggregate whose output is needed needs its BOS query to attend only to the BOS key:
  its query variables are then needed (their features are 0 there), and with theta >= 1
  conjuncts the BOS key already wins by theta - 1/2 (real keys score 0), so only a
  select-all (theta = 0) head keeps the query weight on `bos`. A causal model's BOS query
  sees only itself anyway. SelectorWidth heads never need it (see above);
- a variable whose directions reuse a dead categorical variable's is clean only if that one
  was: erase neurons relu(x) remove only non-negative values.

Every dropped weight is on the `bos` direction of a query or an MLP input, which is 0 at
every real position, so nothing changes there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from rasp.compiler.ir import BOS_DIR, Neuron, Op, Var
from rasp.compiler.schedule import op_reads

Affine = tuple[dict, float]


def needs_clean_bos(ops: list[Op], variables: dict[str, Var], bounded: set[str],
                    causal: bool) -> set[str]:
    """Variables whose value at the BOS position some real-position result depends on."""
    reads = {id(op): op_reads(op) for op in ops}
    need: set[str] = set()
    for op in ops:
        if op.kind == "attn":
            need.update(reads[id(op)]["k"])
            need.update(reads[id(op)]["v"])
    need.discard("bos")
    changed = True
    while changed:
        changed = False
        for op in ops:
            if not any(name in need for name in op.writes):
                continue
            slots = reads[id(op)]
            if op.kind == "erase":
                more = {n for n in slots["in"] if not variables[n].numerical}
            elif op.kind == "mlp":
                more = {n for n in slots["in"] if n not in bounded}
            elif not op.head.counts and not causal:
                more = set(slots["q"])
            else:
                more = set()
            more -= need | {"bos"}
            if more:
                need |= more
                changed = True
    return need


def strip_bos_hygiene(ops: Sequence[Op], variables: dict[str, Var], bounded: set[str],
                      causal: bool) -> tuple[tuple[Op, ...], set[str]]:
    """The ops without the BOS reads nothing depends on, and the variables kept clean."""
    need = needs_clean_bos(ops, variables, bounded, causal)
    return tuple(_stripped(op, need, causal) for op in ops), need


def _stripped(op: Op, need: set[str], causal: bool) -> Op:
    """One op without its unneeded BOS reads (`reads` recomputed from the new weights)."""
    needed = any(name in need for name in op.writes)
    if op.kind != "attn":
        if not needed:
            neurons = [Neuron({d: w for d, w in n.w_in.items() if d != BOS_DIR}, n.bias, n.w_out)
                       for n in op.neurons]
            op = replace(op, neurons=neurons)
        return replace(op, reads=op_reads(op))
    head = op.head
    q = list(head.q)
    k = list(head.k)
    if head.counts or causal or not needed:
        q = [_without_bos(x) for x in q]
        if head.total and head.theta >= 1 and not any(bias for _, bias in k):
            # The selector always selects some key (totality.py), so the BOS key is never
            # the fallback: without its dimension it scores 0 <= theta - 1, below every
            # selected key, and the head no longer reads `bos` as a key (an edge that would
            # change nothing). Its query at the BOS position needs nothing (not read there;
            # under causal it sees only the BOS key).
            q, k = q[:-1], k[:-1]
    elif head.theta >= 1:
        q[-1] = _without_bos(q[-1])  # selection_head's BOS dimension
    # A dimension whose query or key side is now identically 0 adds nothing.
    pairs = [(x, y) for x, y in zip(q, k) if not (_zero(x) or _zero(y))]
    op = replace(op, head=replace(head, q=[x for x, _ in pairs], k=[y for _, y in pairs]))
    return replace(op, reads=op_reads(op))


def _without_bos(affine: Affine) -> Affine:
    weights, bias = affine
    return {d: w for d, w in weights.items() if d != BOS_DIR}, bias


def _zero(affine: Affine) -> bool:
    weights, bias = affine
    return bias == 0 and not any(weights.values())
