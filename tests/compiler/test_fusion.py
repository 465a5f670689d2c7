"""fusion.py / maps.py: a fused Map chain's table equals applying the Maps one by one."""

from __future__ import annotations

import itertools

from rasp import core
from rasp.compiler import maps
from rasp.compiler.ir import Var
from rasp.compiler.lowering_state import LoweringState
from rasp.limits import Limits


def _state(limits: Limits | None = None) -> LoweringState:
    return LoweringState.start(["a", "b"], 4, False, limits or Limits())


def _stored(st: LoweringState, name: str, values: list, may_none: bool = False) -> Var:
    """A variable computed by some head (not embedded, so Maps of it need an MLP)."""
    return st.add(Var(name, False, values, may_none))


def _step(f, *args):
    """One Map applied the interpreter's way: None in, None out; a raising input is None."""
    if any(a is None for a in args):
        return None
    try:
        return f(*args)
    except Exception:  # noqa: BLE001 - an input the function rejects is invalid
        return None


def test_a_map_chain_fuses_into_one_mlp_with_the_composed_table() -> None:
    st = _state()
    x = _stored(st, "x", [0, 1, 2, 3])
    y = _stored(st, "y", ["p", "q"], may_none=True)
    f1 = lambda v: 6 // v  # noqa: E731 - fails at 0
    f2 = lambda u, w: f"{u}{w}"  # noqa: E731
    f3 = lambda s: len(s) % 2  # noqa: E731
    n1 = core.Map(f1, core.tokens).named("m1")
    n2 = core.Map(lambda s: s, core.tokens).named("m2")
    n3 = core.Map(lambda s: s, core.tokens).named("m3")
    m1 = maps.lower_elementwise(st, n1, [x], f1, False, deferrable=True)
    m2 = maps.lower_elementwise(st, n2, [m1, y], f2, False, deferrable=True)
    assert st.ops == []  # both pending
    expected = {(a, b): _step(f2, _step(f1, a), b)
                for a, b in itertools.product([0, 1, 2, 3], ["p", "q", None])}
    assert m2.pending.leaves == (x, y)
    assert m2.pending.table == expected
    m3 = maps.lower_elementwise(st, n3, [m2], f3, False, deferrable=False)
    assert [op.writes for op in st.ops] == [["m3"]]
    assert st.fused == {"m1": "m2", "m2": "m3"}
    assert sorted(m3.values) == sorted({_step(f3, v) for v in expected.values()} - {None})


def test_a_chain_too_wide_to_fuse_is_stored_stepwise() -> None:
    st = _state(Limits(fused_table_entries=4))
    x, y, z = (_stored(st, n, [0, 1, 2]) for n in "xyz")
    pair = core.Map(lambda s: s, core.tokens).named("pair")
    last = core.Map(lambda s: s, core.tokens).named("last")
    inner = maps.lower_elementwise(st, pair, [x, y], lambda a, b: a + b, False, deferrable=True)
    # Fusing would read x, y, z: 27 combinations > fused_table_entries=4, so `pair` is stored.
    maps.lower_elementwise(st, last, [inner, z], lambda s, c: s * c, False, deferrable=False)
    assert [op.label for op in st.ops] == ["pair", "last"]
    assert st.fused == {}
    assert inner.pending is None
