"""Loops: a block of RASP operations applied repeatedly to carried SOps (ALTA-style).

`loop(body, init, steps=T)` applies `body` T times; `loop(body, init, until=halt,
max_steps=T)` applies it until `halt(state)` holds at every position (checked before each
step, the initial state included) or T steps have run. `body` and `until` are built once
from placeholder SOps standing for the carried state, so the body is an ordinary RASP
graph; the interpreter (`rasp.evaluate`) re-evaluates it on each step, and the compiler
emits it as one weight-shared layer group applied T times (rasp/compiler/loops.py).

    parity = rasp.loop(lambda p: p ^ shifted(p), init=tokens, steps=3)
    p, done = rasp.loop(step, init=(tokens, first), until=lambda p, d: d, max_steps=16)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rasp import core
from rasp.errors import RASPError
from rasp.graph import walk


class LoopState(core.SOp):
    """The carried value `index` of a loop, as the body sees it on the current step."""

    kind = "loop_state"

    def __init__(self, index: int, owner: str):
        super().__init__()
        self.index = index
        self.owner = owner


class LoopResult(core.SOp):
    """The final value of one carried SOp of a `Loop` (its inputs are the loop's inputs)."""

    kind = "loop"

    def __init__(self, block: Loop, index: int):
        super().__init__()
        self.block = block
        self.index = index

    @property
    def children(self) -> list[core.RASPExpr]:
        return list(self.block.inputs)


class Loop:
    """A body applied repeatedly: `steps` times, or until `until` holds everywhere.

    init: the carried SOps' initial values (one SOp, or a sequence of them). body: called
    once with one placeholder per carried SOp, returns the next state (same count, same
    encodings). until: called once with the placeholders, returns a boolean SOp; the loop
    stops before a step where it is true (truthy, not None) at every position. max_steps
    caps the halting loop (the compiled model has that many applications).
    """

    def __init__(
        self,
        body: Callable[..., Any],
        init: core.SOp | Sequence[core.SOp],
        *,
        steps: int | None = None,
        until: Callable[..., core.SOp] | None = None,
        max_steps: int | None = None,
        name: str | None = None,
    ):
        self.name = name or f"loop{next(core._ids)}"
        self.inits = _as_sops(init, "init", self.name)
        if not callable(body):
            raise RASPError(f"loop '{self.name}': body must be a function of the state, got {body!r}")
        self.steps, self.halting = _check_counts(self.name, steps, until, max_steps)
        self.state = tuple(_placeholder(i, sop, self.name) for i, sop in enumerate(self.inits))
        updated = _as_sops(_call(body, self.state, self.name, "body"), "body's result", self.name)
        if len(updated) != len(self.inits):
            raise RASPError(
                f"loop '{self.name}': body returned {len(updated)} SOps for {len(self.inits)} "
                "carried SOps; return one new value per carried SOp, in the same order")
        for i, (new, old) in enumerate(zip(updated, self.inits)):
            if core.get_encoding(new) != core.get_encoding(old):
                raise RASPError(
                    f"loop '{self.name}': carried SOp {i} starts {core.get_encoding(old).value} "
                    f"but the body makes it {core.get_encoding(new).value}; annotate both alike")
        self.updated = updated
        self.halt: core.SOp | None = None
        if until is not None:
            self.halt = _as_sops(_call(until, self.state, self.name, "until"), "until's result",
                                 self.name)[0]
        self.body_nodes, externals = _split_body(self)
        # Inputs: everything the loop reads from outside it, computed before it runs.
        self.inputs = tuple(dict.fromkeys([*self.inits, *externals]))
        self.outputs = tuple(LoopResult(self, i) for i in range(len(self.inits)))

    def roots(self) -> list[core.SOp]:
        """The SOps each step computes: the new state, then the halting condition if any."""
        return [*self.updated, *([self.halt] if self.halt is not None else [])]


def loop(
    body: Callable[..., Any],
    init: core.SOp | Sequence[core.SOp],
    *,
    steps: int | None = None,
    until: Callable[..., core.SOp] | None = None,
    max_steps: int | None = None,
    name: str | None = None,
) -> Any:
    """The final carried SOp(s) of `Loop(body, init, ...)`: one SOp if `init` is one, else a tuple."""
    block = Loop(body, init, steps=steps, until=until, max_steps=max_steps, name=name)
    return block.outputs[0] if isinstance(init, core.SOp) else block.outputs


def run_loop(block: Loop, state: list[list[Any]],
             evaluate_body: Callable[[list[list[Any]]], tuple[list[list[Any]], list[Any] | None]],
             steps_taken: list[int] | None = None) -> list[list[Any]]:
    """The reference semantics of a loop: apply the body up to `block.steps` times, stopping
    before a step where the halting SOp is true at every position.

    evaluate_body(state) gives (the next state, the halting SOp's values on `state` or None).
    steps_taken: if given, the number of steps applied is appended to it.
    """
    applied = 0
    for _ in range(block.steps):
        updated, halt = evaluate_body(state)
        if halt is not None and all(v is not None and bool(v) for v in halt):
            break
        state = updated
        applied += 1
    if steps_taken is not None:
        steps_taken.append(applied)
    return state


def _as_sops(value: Any, what: str, name: str) -> tuple[core.SOp, ...]:
    items = (value,) if isinstance(value, core.SOp) else value
    if not isinstance(items, (tuple, list)) or not items or not all(
            isinstance(v, core.SOp) for v in items):
        raise RASPError(f"loop '{name}': {what} must be an SOp or a non-empty tuple of SOps, "
                        f"got {value!r}")
    return tuple(items)


def _check_counts(name: str, steps: Any, until: Any, max_steps: Any) -> tuple[int, bool]:
    """(number of applications, whether halting is dynamic), or a RASPError saying why not."""
    if (steps is None) == (until is None):
        raise RASPError(f"loop '{name}': give exactly one of steps=T (a fixed count) or "
                        "until=predicate with max_steps=T (halting)")
    count = steps if steps is not None else max_steps
    what = "steps" if steps is not None else "max_steps"
    if until is not None and not callable(until):
        raise RASPError(f"loop '{name}': until must be a function of the state, got {until!r}")
    if steps is not None and max_steps is not None:
        raise RASPError(f"loop '{name}': max_steps caps a halting loop; with steps=T leave it out")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise RASPError(f"loop '{name}': {what} must be a non-negative integer, got {count!r}"
                        + ("; a halting loop needs a cap: pass max_steps=T" if count is None else ""))
    return count, until is not None


def _placeholder(index: int, init: core.SOp, name: str) -> LoopState:
    state = LoopState(index, name)
    return core.annotate(state, name=f"{name}.state{index}", encoding=core.get_encoding(init))


def _call(fn: Callable[..., Any], state: tuple[LoopState, ...], name: str, what: str) -> Any:
    try:
        return fn(*state)
    except RASPError:
        raise
    except TypeError as error:
        raise RASPError(f"loop '{name}': calling {what} with the {len(state)} carried SOp(s) "
                        f"failed ({error}); it must take one argument per carried SOp") from error


def _split_body(block: Loop) -> tuple[list[core.RASPExpr], list[core.RASPExpr]]:
    """(nodes computed on every step, in dependency order; SOps the body reads from outside).

    A node belongs to the body when it depends on a placeholder; the others are computed
    once, before the loop."""
    own = {id(s) for s in block.state}
    inside: set[int] = set()
    body: list[core.RASPExpr] = []
    externals: list[core.RASPExpr] = []
    seen: set[int] = set()
    for root in block.roots():
        for node in walk(root):
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, LoopState) and id(node) not in own:
                raise RASPError(f"loop '{block.name}' reads the state of loop '{node.owner}' "
                                "from inside its body; pass that loop's result instead")
            if id(node) in own or any(id(c) in inside for c in node.children):
                inside.add(id(node))
                if id(node) not in own:
                    body.append(node)
    for node in body:
        externals += [c for c in node.children if id(c) not in inside]
    # A body that returns an outside SOp unchanged reads it too.
    externals += [r for r in block.roots() if id(r) not in inside]
    return body, list(dict.fromkeys(externals))
