"""The RASP language embedded in Python, with tracr's names and semantics."""

from __future__ import annotations

import copy
import enum
import itertools
import numbers
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from rasp.errors import RASPError

# tracr's value types, for annotations in users' code.
Value = None | int | float | str | bool
NumericValue = int | float
SelectorValue = list[list[bool]]

# One global counter so every expression gets a distinct automatic label.
_ids = itertools.count(1)


class Encoding(enum.Enum):
    """How an SOp's value is stored in the residual stream."""

    CATEGORICAL = "categorical"
    NUMERICAL = "numerical"


class Comparison(enum.Enum):
    """A selection predicate, called as predicate(key, query) like tracr."""

    EQ = "EQ"
    LT = "LT"
    LEQ = "LEQ"
    GT = "GT"
    GEQ = "GEQ"
    NEQ = "NEQ"
    TRUE = "TRUE"
    FALSE = "FALSE"

    def __call__(self, key: Any, query: Any) -> bool:
        """Compare key with query; LT means key < query."""
        return _COMPARISON_TABLE[self](key, query)


_COMPARISON_TABLE: dict[Comparison, Callable[[Any, Any], bool]] = {
    Comparison.EQ: lambda k, q: k == q,
    Comparison.LT: lambda k, q: k < q,
    Comparison.LEQ: lambda k, q: k <= q,
    Comparison.GT: lambda k, q: k > q,
    Comparison.GEQ: lambda k, q: k >= q,
    Comparison.NEQ: lambda k, q: k != q,
    Comparison.TRUE: lambda k, q: True,
    Comparison.FALSE: lambda k, q: False,
}


class RASPExpr:
    """Base class of every RASP expression: annotations, label and children.

    Like tracr, an expression's `name` defaults to its kind ("map") and every instance has
    a `unique_id`; unlike tracr, an explicitly named expression's `label` is its name (the
    compiler's residual labels read it), and an unnamed one's is "map_62" style.
    """

    kind = "expr"
    _primitive = False  # tokens, indices, length: labelled by their kind alone

    def __init__(self) -> None:
        self._annotations: dict[str, Any] = {}
        self.unique_id = next(_ids)

    def __call__(self, xs: Sequence[Any]) -> Any:
        """Evaluate on input `xs` (a list, or a string read as its characters), like tracr."""
        from rasp.evaluate import evaluate  # evaluate imports core; import here to stay acyclic

        return evaluate(self, list(xs) if isinstance(xs, str) else xs)

    @property
    def annotations(self) -> Mapping[str, Any]:
        """Read-only annotations, always including 'name' (and 'encoding' for SOps)."""
        return MappingProxyType({**self._default_annotations(), **self._annotations})

    @annotations.setter
    def annotations(self, annotations: Mapping[str, Any]) -> None:
        self._annotations = dict(annotations)
        if "encoding" in self._annotations:
            _check_encoding_annotation(self)

    def _default_annotations(self) -> dict[str, Any]:
        return {"name": self.kind}

    @property
    def label(self) -> str:
        """The expression's name if it was given one, else kind_id (unique per instance)."""
        given = self._annotations.get("name")
        if given is not None:
            return given
        return self.kind if self._primitive else f"{self.kind}_{self.unique_id}"

    @property
    def name(self) -> str:
        """The 'name' annotation: the given name, or the kind ("map") like tracr."""
        return self.annotations["name"]

    @property
    def children(self) -> list[RASPExpr]:
        """The expressions this one reads, in argument order."""
        return []

    def copy(self) -> RASPExpr:
        """A shallow copy with a new unique_id and the same annotations (tracr's copy)."""
        new = copy.copy(self)
        new.unique_id = next(_ids)
        new._annotations = dict(self._annotations)
        return new

    def named(self, name: str) -> RASPExpr:
        """A copy of this expression labelled `name`."""
        return annotate(self, name=name)

    def annotated(self, **annotations: Any) -> RASPExpr:
        """A copy of this expression with extra annotations."""
        return annotate(self, **annotations)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.label!r})"


def annotate(expr: RASPExpr, **annotations: Any) -> RASPExpr:
    """A shallow copy of `expr` with updated annotations (tracr's `annotate`)."""
    if not isinstance(expr, RASPExpr):
        raise RASPError(f"annotate() needs a RASP expression, got {expr!r}")
    # A fresh id gives the copy its own automatic label, so labels stay unique.
    new = expr.copy()
    new._annotations = {**expr._annotations, **annotations}
    if "encoding" in annotations:
        _check_encoding_annotation(new)
    return new


def _require_sop(value: Any, what: str, owner: str) -> None:
    if not isinstance(value, SOp):
        raise RASPError(
            f"{owner}: {what} must be an SOp (e.g. rasp.tokens, a Map, an Aggregate), "
            f"got {value!r}; wrap constants with rasp.Full(value)"
        )


def _require_selector(value: Any, what: str, owner: str) -> None:
    if not isinstance(value, Selector):
        raise RASPError(f"{owner}: {what} must be a Selector (rasp.Select, ...), got {value!r}")


def _require_callable(value: Any, owner: str) -> None:
    if not callable(value):
        raise RASPError(f"{owner}: the function must be callable, got {value!r}; pass a lambda")


# ----------------------------------------------------------------------------- SOps


class SOp(RASPExpr):
    """A sequence operation: one value per position."""

    kind = "sop"

    def _default_annotations(self) -> dict[str, Any]:
        return {**super()._default_annotations(), "encoding": Encoding.CATEGORICAL}

    # Elementwise operators build Maps/SequenceMaps, as in tracr.
    def __lt__(self, other: Any) -> SOp:
        return _binary(lambda x, y: x < y, self, other)

    def __le__(self, other: Any) -> SOp:
        return _binary(lambda x, y: x <= y, self, other)

    def __eq__(self, other: Any) -> SOp:  # type: ignore[override]
        return _binary(lambda x, y: x == y, self, other)

    def __ne__(self, other: Any) -> SOp:  # type: ignore[override]
        return _binary(lambda x, y: x != y, self, other)

    def __gt__(self, other: Any) -> SOp:
        return _binary(lambda x, y: x > y, self, other)

    def __ge__(self, other: Any) -> SOp:
        return _binary(lambda x, y: x >= y, self, other)

    def __add__(self, other: Any) -> SOp:
        return _binary(lambda x, y: x + y, self, other)

    def __radd__(self, other: Any) -> SOp:
        return _binary(lambda x, y: y + x, self, other)

    def __sub__(self, other: Any) -> SOp:
        return _binary(lambda x, y: x - y, self, other)

    def __rsub__(self, other: Any) -> SOp:
        return _binary(lambda x, y: y - x, self, other)

    def __mul__(self, other: Any) -> SOp:
        return _binary(lambda x, y: x * y, self, other)

    def __rmul__(self, other: Any) -> SOp:
        return _binary(lambda x, y: y * x, self, other)

    def __truediv__(self, other: Any) -> SOp:
        return _binary(lambda x, y: x / y, self, other)

    def __rtruediv__(self, other: Any) -> SOp:
        return _binary(lambda x, y: y / x, self, other)

    def __invert__(self) -> SOp:
        return Map(lambda x: not x, self)

    def __neg__(self) -> SOp:
        return Map(lambda x: -x, self)

    def __and__(self, other: Any) -> SOp:
        return _binary(lambda x, y: x and y, self, other)

    def __or__(self, other: Any) -> SOp:
        return _binary(lambda x, y: x or y, self, other)

    def __rand__(self, other: Any) -> SOp:
        return _binary(lambda x, y: y and x, self, other)

    def __ror__(self, other: Any) -> SOp:
        return _binary(lambda x, y: y or x, self, other)

    # __eq__ is overloaded, so identity hashing must be restored explicitly.
    __hash__ = RASPExpr.__hash__


def _binary(f: Callable[[Any, Any], Any], sop: SOp, other: Any) -> SOp:
    if isinstance(other, SOp):
        return SequenceMap(f, sop, other)
    return Map(lambda x: f(x, other), sop)


class TokensType(SOp):
    """The input tokens."""

    kind = "tokens"
    _primitive = True


class IndicesType(SOp):
    """The position of each token, 0-based."""

    kind = "indices"
    _primitive = True


class LengthType(SOp):
    """The input length at every position (i+1 at position i in causal mode)."""

    kind = "length"
    _primitive = True


tokens = TokensType()
indices = IndicesType()
length = LengthType()


class Map(SOp):
    """Applies f to every value of `inner`; simplify=True fuses nested Maps like tracr."""

    kind = "map"

    def __init__(self, f: Callable[[Any], Any], inner: SOp, simplify: bool = True):
        super().__init__()
        _require_callable(f, "Map")
        _require_sop(inner, "its input", "Map")
        self.f = f
        self.inner = inner
        self.fused = 1
        # Fusing nests the functions, so a long chain is fused in bounded runs: calling a
        # fused function must never get near Python's recursion limit.
        if simplify and isinstance(inner, Map) and inner.fused < _MAX_FUSED_MAPS:
            inner_f = inner.f
            # Fusing must keep the rule "a Map of None is None" at the inner step too.
            self.f = lambda x: _none_or(f, inner_f(x))
            self.inner = inner.inner
            self.fused = inner.fused + 1

    @property
    def children(self) -> list[RASPExpr]:
        return [self.inner]


_MAX_FUSED_MAPS = 64


def _none_or(f: Callable[[Any], Any], value: Any) -> Any:
    return None if value is None else f(value)


class SequenceMap(SOp):
    """Applies f(x, y) positionwise to two SOps."""

    kind = "sequence_map"

    def __init__(self, f: Callable[[Any, Any], Any], fst: SOp, snd: SOp):
        super().__init__()
        _require_callable(f, "SequenceMap")
        _require_sop(fst, "the first input", "SequenceMap")
        _require_sop(snd, "the second input", "SequenceMap")
        self.f = f
        self.fst = fst
        self.snd = snd

    @property
    def children(self) -> list[RASPExpr]:
        return [self.fst, self.snd]


class LinearSequenceMap(SequenceMap):
    """coeff1 * fst + coeff2 * snd positionwise."""

    kind = "linear_sequence_map"

    def __init__(self, fst: SOp, snd: SOp, fst_fac: float, snd_fac: float):
        for coeff in (fst_fac, snd_fac):
            if not isinstance(coeff, numbers.Number):
                raise RASPError(f"LinearSequenceMap: coefficients must be numbers, got {coeff!r}")
        super().__init__(lambda x, y: fst_fac * x + snd_fac * y, fst, snd)
        self.fst_fac = fst_fac
        self.snd_fac = snd_fac


class Full(SOp):
    """The same value `fill` at every position."""

    kind = "full"

    def __init__(self, fill: Any):
        super().__init__()
        self.fill = fill


class ConstantSOp(SOp):
    """A fixed sequence of values; with check_length its length must match the input."""

    kind = "constant_sop"

    def __init__(self, value: Sequence[Any], check_length: bool = True):
        super().__init__()
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise RASPError(
                f"ConstantSOp needs a list of values, got {value!r}; use rasp.Full(x) for one value"
            )
        self.value = list(value)
        self.check_length = check_length


# ------------------------------------------------------------------------- Selectors


class Selector(RASPExpr):
    """A boolean attention pattern: matrix[query][key]."""

    kind = "selector"

    def __and__(self, other: Selector) -> Selector:
        return SelectorAnd(self, other)

    def __or__(self, other: Selector) -> Selector:
        return SelectorOr(self, other)

    def __invert__(self) -> Selector:
        return SelectorNot(self)


Predicate = Comparison | Callable[[Any, Any], bool]


class Select(Selector):
    """Selects key position k for query position q where predicate(keys[k], queries[q])."""

    kind = "select"

    def __init__(self, keys: SOp, queries: SOp, predicate: Predicate):
        super().__init__()
        _require_sop(keys, "keys", "Select")
        _require_sop(queries, "queries", "Select")
        # tracr's own library passes lambdas (shift_by, make_count), so callables are allowed.
        if not isinstance(predicate, Comparison) and not callable(predicate):
            names = ", ".join(c.name for c in Comparison)
            raise RASPError(
                f"Select: unknown comparison {predicate!r}; use rasp.Comparison.<one of {names}> "
                "or a function (key, query) -> bool"
            )
        self.keys = keys
        self.queries = queries
        self.predicate = predicate

    @property
    def children(self) -> list[RASPExpr]:
        return [self.keys, self.queries]


class ConstantSelector(Selector):
    """A fixed selection matrix [query][key]."""

    kind = "constant_selector"

    def __init__(self, value: Sequence[Sequence[bool]], check_length: bool = True):
        super().__init__()
        self.value = [list(row) for row in value]
        self.check_length = check_length


class _SelectorPair(Selector):
    """A positionwise combination of two selectors (the shared shape of AND and OR)."""

    def __init__(self, fst: Selector, snd: Selector):
        super().__init__()
        _require_selector(fst, "the first input", type(self).__name__)
        _require_selector(snd, "the second input", type(self).__name__)
        self.fst = fst
        self.snd = snd

    @property
    def children(self) -> list[RASPExpr]:
        return [self.fst, self.snd]


class SelectorAnd(_SelectorPair):
    """Positionwise AND of two selectors."""

    kind = "selector_and"


class SelectorOr(_SelectorPair):
    """Positionwise OR of two selectors."""

    kind = "selector_or"


class SelectorNot(Selector):
    """Positionwise NOT of a selector."""

    kind = "selector_not"

    def __init__(self, inner: Selector):
        super().__init__()
        _require_selector(inner, "its input", "SelectorNot")
        self.inner = inner

    @property
    def children(self) -> list[RASPExpr]:
        return [self.inner]


def selector_not(inner: Selector, simplify: bool = True) -> Selector:
    """NOT of a selector (tracr's `selector_not`); `simplify` is accepted and ignored."""
    # tracr folds NOT into a Select's predicate; we keep the composite, which evaluates
    # and compiles to the same values, including where keys or queries are None.
    return SelectorNot(inner)


def selector_and(fst: Selector, snd: Selector, simplify: bool = True) -> Selector:
    """AND of two selectors (tracr's `selector_and`); `simplify` is accepted and ignored."""
    return SelectorAnd(fst, snd)


def selector_or(fst: Selector, snd: Selector, simplify: bool = True) -> Selector:
    """OR of two selectors (tracr's `selector_or`); `simplify` is accepted and ignored."""
    return SelectorOr(fst, snd)


class SelectorWidth(SOp):
    """How many keys each query position selects."""

    kind = "selector_width"

    def __init__(self, selector: Selector):
        super().__init__()
        _require_selector(selector, "its input", "SelectorWidth")
        self.selector = selector

    @property
    def children(self) -> list[RASPExpr]:
        return [self.selector]


class Aggregate(SOp):
    """Per query, the selected value (categorical) or the mean of selected values (numerical)."""

    kind = "aggregate"

    def __init__(self, selector: Selector, sop: SOp, default: Any = None):
        super().__init__()
        _require_selector(selector, "selector", "Aggregate")
        _require_sop(sop, "sop", "Aggregate")
        self.selector = selector
        self.sop = sop
        self.default = default

    @property
    def children(self) -> list[RASPExpr]:
        return [self.selector, self.sop]


# ------------------------------------------------------------------------- Encodings


def get_encoding(expr: RASPExpr) -> Encoding:
    """The encoding annotation of an SOp (categorical unless annotated)."""
    if not isinstance(expr, SOp):
        raise RASPError(f"only SOps have an encoding, {expr!r} is a {type(expr).__name__}")
    return expr.annotations["encoding"]


def is_numerical(expr: RASPExpr) -> bool:
    """Whether an SOp is numerically encoded."""
    return get_encoding(expr) == Encoding.NUMERICAL


def is_categorical(expr: RASPExpr) -> bool:
    """Whether an SOp is categorically encoded."""
    return get_encoding(expr) == Encoding.CATEGORICAL


def numerical(sop: SOp) -> SOp:
    """A copy of `sop` annotated numerical."""
    _require_sop(sop, "the argument", "numerical()")
    return annotate(sop, encoding=Encoding.NUMERICAL)


def categorical(sop: SOp) -> SOp:
    """A copy of `sop` annotated categorical."""
    _require_sop(sop, "the argument", "categorical()")
    return annotate(sop, encoding=Encoding.CATEGORICAL)


def _check_encoding_annotation(expr: RASPExpr) -> None:
    encoding = expr._annotations["encoding"]
    if not isinstance(encoding, Encoding):
        raise RASPError(f"{expr.label}: encoding must be an rasp.Encoding, got {encoding!r}")


def check_aggregate_encoding(expr: RASPExpr) -> None:
    """Raise if an Aggregate mixes encodings the compiler cannot build (the interpreter
    evaluates them like tracr's evaluator: the mean of the selected numbers)."""
    if not isinstance(expr, Aggregate):
        return
    if is_categorical(expr) and is_numerical(expr.sop):
        raise RASPError(
            f"categorical Aggregate '{expr.label}' reads numerical SOp '{expr.sop.label}'; "
            "wrap the Aggregate in rasp.numerical(...) to average, or make the SOp categorical"
        )
    if is_numerical(expr) and is_categorical(expr.sop):
        raise RASPError(
            f"numerical Aggregate '{expr.label}' averages '{expr.sop.label}', which is "
            "categorical; annotate that SOp with rasp.numerical(...) first"
        )
