"""The reference interpreter: exact RASP semantics, the ground truth for the compiler."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rasp import core, loops, readout
from rasp.errors import RASPError
from rasp.graph import check_unique_labels, walk
from rasp.limits import current_limits

Matrix = list[list[bool]]


@dataclass
class Trace:
    """Every intermediate value of one evaluation, in evaluation order."""

    output: list[Any]
    values: dict[str, list[Any]] = field(default_factory=dict)
    selectors: dict[str, Matrix] = field(default_factory=dict)
    loop_steps: dict[str, int] = field(default_factory=dict)  # loop name -> steps applied


def evaluate(
    program: core.SOp,
    tokens: Sequence[Any],
    *,
    causal: bool = False,
    vocab: Sequence[Any] | None = None,
    max_seq_len: int | None = None,
) -> list[Any]:
    """The output of `program` on `tokens` (None where an Aggregate selects nothing)."""
    return _Evaluator(tokens, causal, vocab, max_seq_len).run(program)


def trace(
    program: core.SOp,
    tokens: Sequence[Any],
    *,
    causal: bool = False,
    vocab: Sequence[Any] | None = None,
    max_seq_len: int | None = None,
) -> Trace:
    """Evaluate `program` and record every SOp's values and every selector's matrix."""
    check_unique_labels(program)
    evaluator = _Evaluator(tokens, causal, vocab, max_seq_len)
    output = evaluator.run(program)
    result = Trace(output=output)
    for node, value in evaluator.results:
        if isinstance(node, core.Selector):
            result.selectors[node.label] = value
        else:
            result.values[node.label] = value
    result.loop_steps = dict(evaluator.loop_steps)
    return result


class DefaultRASPEvaluator:
    """tracr's evaluator class: `DefaultRASPEvaluator().evaluate(expr, xs)`."""

    causal = False

    def evaluate(self, expr: core.RASPExpr, xs: Sequence[Any]) -> Any:
        """The value of `expr` on `xs` (a list of tokens)."""
        return evaluate(expr, list(xs) if isinstance(xs, str) else xs, causal=self.causal)


def check_input(
    tokens: Sequence[Any], vocab: Sequence[Any] | None, max_seq_len: int | None
) -> None:
    """Raise a RASPError if `tokens` is empty, too long, or uses a token outside `vocab`."""
    if isinstance(tokens, str):
        raise RASPError(
            f"tokens must be a list, got the string {tokens!r}; pass list({tokens!r}) "
            "or tokens.split()"
        )
    if not isinstance(tokens, (list, tuple)):
        raise RASPError(
            f"tokens must be a list, got {type(tokens).__name__} {tokens!r:.60}; pass list(...) of tokens"
        )
    if len(tokens) == 0:
        raise RASPError("empty input: RASP programs need at least one token")
    cap = current_limits().input_length
    if len(tokens) > cap:
        raise RASPError(
            f"input has {len(tokens)} tokens, over the interpreter's cap of {cap} (its selectors are "
            "n x n); shorten the input or raise it with rasp.limits.set_limits(input_length=...)"
        )
    if max_seq_len is not None and len(tokens) > max_seq_len:
        raise RASPError(
            f"input has length {len(tokens)} but max_seq_len is {max_seq_len}; "
            "shorten the input or raise max_seq_len"
        )
    if vocab is not None:
        allowed = list(vocab)  # a list, so unhashable tokens are compared, not hashed
        for position, token in enumerate(tokens):
            if token not in allowed:
                raise RASPError(
                    f"token {token!r} at position {position} is not in the vocabulary "
                    f"{sorted(allowed, key=repr)}; use only those tokens or add it to vocab"
                )


class _Evaluator:
    """Evaluates each node of one program once, on one input."""

    def __init__(
        self,
        tokens: Sequence[Any],
        causal: bool,
        vocab: Sequence[Any] | None,
        max_seq_len: int | None,
    ):
        check_input(tokens, vocab, max_seq_len)
        self.tokens = list(tokens)
        self.n = len(self.tokens)
        self.causal = causal
        # Memo by node identity: programs share subexpressions.
        self.memo: dict[Any, Any] = {}  # node id (or ("loop", id)) -> value
        self.results: list[tuple[core.RASPExpr, Any]] = []
        self.loop_steps: dict[str, int] = {}  # loop name -> steps its last run applied

    def run(self, program: core.RASPExpr) -> Any:
        if not isinstance(program, core.RASPExpr):
            raise RASPError(f"evaluate() needs a RASP program (an SOp), got {program!r}")
        for node in walk(program):
            value = self._eval_node(node)
            self.memo[id(node)] = value
            self.results.append((node, value))
        return self.memo[id(program)]

    def _eval_node(self, node: core.RASPExpr) -> Any:
        for cls in type(node).__mro__:
            handler = _HANDLERS.get(cls)
            if handler is not None:
                return handler(self, node)
        raise RASPError(f"the interpreter does not know expression type {type(node).__name__}")

    def _value(self, node: core.RASPExpr) -> Any:
        return self.memo[id(node)]

    # SOps ---------------------------------------------------------------------------
    def tokens_(self, node: core.TokensType) -> list[Any]:
        return list(self.tokens)

    def indices_(self, node: core.IndicesType) -> list[int]:
        return list(range(self.n))

    def length_(self, node: core.LengthType) -> list[int]:
        # Causal (prefix) semantics: position i has only seen i+1 tokens.
        if self.causal:
            return [i + 1 for i in range(self.n)]
        return [self.n] * self.n

    def full(self, node: core.Full) -> list[Any]:
        return [node.fill] * self.n

    def constant_sop(self, node: core.ConstantSOp) -> list[Any]:
        if node.check_length and len(node.value) != self.n:
            raise RASPError(
                f"ConstantSOp '{node.label}' has {len(node.value)} values but the input has "
                f"{self.n} tokens; give one value per token or pass check_length=False"
            )
        return list(node.value[: self.n]) + [None] * (self.n - len(node.value))

    def map_(self, node: core.Map) -> list[Any]:
        f = node.f
        out = []
        for x in self._value(node.inner):
            out.append(None if x is None else _call(f, node, x))
        return out

    def sequence_map(self, node: core.SequenceMap) -> list[Any]:
        f = node.f
        out = []
        for x, y in zip(self._value(node.fst), self._value(node.snd)):
            out.append(None if x is None or y is None else _call(f, node, x, y))
        return out

    def argmax_readout(self, node: readout.ArgmaxReadout) -> list[Any]:
        columns = [self._value(sop) for sop in node.inputs]
        return [None if any(x is None for x in xs) else node.apply(*xs)
                for xs in zip(*columns)]

    def selector_width(self, node: core.SelectorWidth) -> list[int]:
        return [sum(row) for row in self._value(node.selector)]

    def aggregate(self, node: core.Aggregate) -> list[Any]:
        matrix = self._value(node.selector)
        values = self._value(node.sop)
        numerical = core.is_numerical(node)
        out = []
        for q, row in enumerate(matrix):
            selected = [values[k] for k, chosen in enumerate(row) if chosen]
            if not selected:
                out.append(node.default)
            elif numerical:
                out.append(_mean(node, q, selected))
            else:
                out.append(_single_value(node, q, selected))
        return out

    def loop_result(self, node: loops.LoopResult) -> list[Any]:
        block = node.block
        key = ("loop", id(block))  # all results of one loop share one run
        if key not in self.memo:
            start = [self._value(sop) for sop in block.inits]
            taken: list[int] = []
            self.memo[key] = loops.run_loop(block, start, lambda state: self._loop_body(block, state), taken)
            self.loop_steps[block.name] = taken[0]  # a nested loop: its last run's count
        return list(self.memo[key][node.index])

    def _loop_body(self, block: loops.Loop, state: list[list[Any]]) -> tuple[list, list | None]:
        """One step of `block` on `state`: (next state, halting values on `state`)."""
        for placeholder, values in zip(block.state, state):
            self.memo[id(placeholder)] = values
        for node in block.body_nodes:
            if isinstance(node, loops.LoopResult):
                self.memo.pop(("loop", id(node.block)), None)  # a nested loop reruns per step
            self.memo[id(node)] = self._eval_node(node)
        halt = None if block.halt is None else self._value(block.halt)
        return [self._value(sop) for sop in block.updated], halt

    def loop_state(self, node: loops.LoopState) -> list[Any]:
        raise RASPError(f"'{node.label}' is the state of loop '{node.owner}' and exists only "
                        "inside its body; use the loop's result outside it")

    # Selectors ----------------------------------------------------------------------
    def select(self, node: core.Select) -> Matrix:
        keys = self._value(node.keys)
        queries = self._value(node.queries)
        predicate = node.predicate
        matrix = []
        for q, query in enumerate(queries):
            # Causal: query i sees keys 0..i only.
            visible = keys[: q + 1] if self.causal else keys
            row = [_compare(predicate, node, key, query) for key in visible]
            matrix.append(row + [False] * (self.n - len(row)))
        return matrix

    def constant_selector(self, node: core.ConstantSelector) -> Matrix:
        value = node.value
        if node.check_length and (len(value) != self.n or any(len(r) != self.n for r in value)):
            raise RASPError(
                f"ConstantSelector '{node.label}' is not {self.n}x{self.n} like the input; "
                "give a square matrix of the input's length or pass check_length=False"
            )
        return self._mask([[bool(v) for v in row] for row in value])

    def selector_and(self, node: core.SelectorAnd) -> Matrix:
        a, b = self._value(node.fst), self._value(node.snd)
        return [[x and y for x, y in zip(ra, rb)] for ra, rb in zip(a, b)]

    def selector_or(self, node: core.SelectorOr) -> Matrix:
        a, b = self._value(node.fst), self._value(node.snd)
        return [[x or y for x, y in zip(ra, rb)] for ra, rb in zip(a, b)]

    def selector_not(self, node: core.SelectorNot) -> Matrix:
        return self._mask([[not x for x in row] for row in self._value(node.inner)])

    def _mask(self, matrix: Matrix) -> Matrix:
        if not self.causal:
            return matrix
        return [[x and k <= q for k, x in enumerate(row)] for q, row in enumerate(matrix)]


def _call(f: Callable[..., Any], node: core.RASPExpr, *args: Any) -> Any:
    try:
        return f(*args)
    except Exception as error:  # noqa: BLE001 - any user function failure becomes a RASPError
        shown = args[0] if len(args) == 1 else args
        raise RASPError(
            f"{type(node).__name__} '{node.label}' failed on input value {shown!r}: "
            f"{type(error).__name__}: {error}; make its function handle that value"
        ) from error


def _compare(predicate: Any, node: core.Select, key: Any, query: Any) -> bool:
    if key is None or query is None:
        # None means "no value"; it matches nothing rather than crashing comparisons.
        return predicate is core.Comparison.TRUE
    try:
        return bool(predicate(key, query))
    except Exception as error:  # noqa: BLE001 - any predicate failure becomes a RASPError
        raise RASPError(
            f"Select '{node.label}' cannot compare key {key!r} with query {query!r}: "
            f"{type(error).__name__}: {error}; make keys and queries comparable"
        ) from error


def _mean(node: core.Aggregate, q: int, selected: list[Any]) -> Any:
    if any(v is None for v in selected):
        raise RASPError(
            f"numerical Aggregate '{node.label}' at position {q} selected a None value; "
            "numerical SOps need a number at every position"
        )
    try:
        return sum(selected) / len(selected)
    except TypeError as error:
        raise RASPError(
            f"numerical Aggregate '{node.label}' at position {q} cannot average {selected!r}; "
            "numerical SOps must hold numbers"
        ) from error


def _single_value(node: core.Aggregate, q: int, selected: list[Any]) -> Any:
    first = selected[0]
    for value in selected[1:]:
        if value != first:
            distinct = list(dict.fromkeys(selected))
            raise RASPError(
                f"categorical Aggregate '{node.label}' at position {q} selects several "
                f"different values {distinct!r}; make its selector pick one value per query, "
                "or wrap it in rasp.numerical(...) to average numbers"
            )
    return first


_HANDLERS: dict[type, Callable[[_Evaluator, Any], Any]] = {
    core.TokensType: _Evaluator.tokens_,
    core.IndicesType: _Evaluator.indices_,
    core.LengthType: _Evaluator.length_,
    core.Full: _Evaluator.full,
    core.ConstantSOp: _Evaluator.constant_sop,
    core.Map: _Evaluator.map_,
    core.SequenceMap: _Evaluator.sequence_map,
    core.SelectorWidth: _Evaluator.selector_width,
    core.Aggregate: _Evaluator.aggregate,
    core.Select: _Evaluator.select,
    core.ConstantSelector: _Evaluator.constant_selector,
    core.SelectorAnd: _Evaluator.selector_and,
    core.SelectorOr: _Evaluator.selector_or,
    core.SelectorNot: _Evaluator.selector_not,
    loops.LoopResult: _Evaluator.loop_result,
    loops.LoopState: _Evaluator.loop_state,
    readout.ArgmaxReadout: _Evaluator.argmax_readout,
}
