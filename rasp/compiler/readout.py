"""`rasp.ArgmaxReadout` lowering: the read-out becomes the model's output logits.

One MLP: a lookup neuron per value of each input writes that value's score row into the
output's directions, and a constant neuron writes the bias, so the output directions hold
bias + the sum of the rows (plus one shift for every label) and the decoder's argmax picks
the label. Nothing is tabulated over the product of the inputs' value sets (the reason the
node exists). The shift keeps the winning score above the decoder's 0.5 threshold on every
value combination; where an input may be None a neuron pushes every score below it, so the
output decodes to None exactly where the interpreter gives None.

Because the output directions then hold scores rather than one-hot values, nothing may read
the node: it must be the program's output.
"""

from __future__ import annotations

from rasp import core
from rasp.compiler import fusion, mlp
from rasp.compiler.errors import node_error
from rasp.compiler.ir import Dir, Neuron, Var
from rasp.compiler.lowering_state import LoweringState
from rasp.readout import ArgmaxReadout


def lower_readout(st: LoweringState, node: ArgmaxReadout, children: list[Var], is_output: bool) -> Var:
    """The output variable of an ArgmaxReadout and the MLP writing its scores."""
    if not is_output:
        raise node_error(node.label, "an ArgmaxReadout writes scores, not one-hot values, so only "
                         "the program's output may be one", "make it the program's output, or "
                         "compute the label with Maps / SequenceMaps where something reads it")
    if core.is_numerical(node):
        raise node_error(node.label, "an ArgmaxReadout gives labels, so it is categorical",
                         "drop the numerical annotation")
    for child in children:
        fusion.materialize(st, child)
        if child.numerical:
            raise node_error(node.label, f"input '{child.name}' is numerical; the read-out looks up "
                             "one score row per categorical value", "wrap the input in "
                             "rasp.categorical(...) (its values are then looked up)")
    # In the node's label order (not sorted): the decoder's argmax keeps the first label on ties.
    out = st.add(Var(st.name(node), False, list(node.labels), any(c.may_none for c in children)))
    width = len(node.labels)
    rows: list[list[tuple[list[float], tuple[dict[Dir, float], float]]]] = []
    for position, (child, table) in enumerate(zip(children, node.rows)):
        values = [child.const] if child.source == "const" else list(child.values or [])
        missing = [v for v in values if v not in table]
        if missing:
            raise node_error(node.label, f"input {position} ('{child.name}') can take the values "
                             f"{missing!r}, which have no score row", "give a row for every value")
        rows.append([(list(table[v]), mlp.feature(child, v)) for v in values])
    low = [b + sum(min(row[i] for row, _ in part) for part in rows if part) for i, b in enumerate(node.bias)]
    high = [b + sum(max(row[i] for row, _ in part) for part in rows if part) for i, b in enumerate(node.bias)]
    # Every label's score gets the same shift (the argmax is unchanged), so the best is >= 1.
    shift = max(0.0, 1.0 - max(low))
    neurons = [Neuron({}, 1.0, _scores(node, out, [b + shift for b in node.bias]))]
    for part in rows:
        for row, (w_in, bias) in part:
            neurons.append(Neuron(w_in, bias, _scores(node, out, row)))
    sink = max(high) + shift + 1.0  # a None input: every score below 0, so it decodes to None
    for child in children:
        if child.may_none:
            w_in, bias = mlp.feature(child, None)
            neurons.append(Neuron(w_in, bias, _scores(node, out, [-sink] * width)))
    names = ", ".join(child.name for child in children)
    st.emit_mlp(node.label, neurons, [out.name], f"{out.name} = ArgmaxReadout({names})")
    return out


def _scores(node: ArgmaxReadout, out: Var, row: list[float]) -> dict[Dir, float]:
    """Output weights adding `row` (one score per label) to the output's directions."""
    return {(out.name, label): score for label, score in zip(node.labels, row) if score != 0.0}
