"""RASP: the language, its reference interpreter, a program library and a textual parser.

`import rasp` replaces tracr's `from tracr.rasp import rasp`; `from rasp import lib`
replaces `from tracr.compiler import lib`.
"""

from rasp.core import (
    Aggregate,
    Comparison,
    ConstantSelector,
    ConstantSOp,
    Encoding,
    Full,
    IndicesType,
    LengthType,
    LinearSequenceMap,
    Map,
    NumericValue,
    Predicate,
    RASPExpr,
    Select,
    Selector,
    SelectorAnd,
    SelectorNot,
    SelectorOr,
    SelectorValue,
    SelectorWidth,
    SequenceMap,
    SOp,
    TokensType,
    Value,
    annotate,
    categorical,
    get_encoding,
    indices,
    is_categorical,
    is_numerical,
    length,
    numerical,
    selector_and,
    selector_not,
    selector_or,
    tokens,
)
from rasp.errors import RASPError, RASPSyntaxError
from rasp.evaluate import DefaultRASPEvaluator, Trace, check_input, evaluate, trace
from rasp.graph import check_unique_labels, dataflow_edges, walk
from rasp.loops import Loop, LoopResult, LoopState, loop
from rasp.readout import ArgmaxReadout

__all__ = [
    "Aggregate",
    "ArgmaxReadout",
    "Comparison",
    "ConstantSOp",
    "ConstantSelector",
    "DefaultRASPEvaluator",
    "Encoding",
    "Full",
    "IndicesType",
    "LengthType",
    "LinearSequenceMap",
    "Loop",
    "LoopResult",
    "LoopState",
    "Map",
    "NumericValue",
    "Predicate",
    "RASPError",
    "RASPExpr",
    "RASPSyntaxError",
    "SOp",
    "Select",
    "Selector",
    "SelectorAnd",
    "SelectorNot",
    "SelectorOr",
    "SelectorValue",
    "SelectorWidth",
    "SequenceMap",
    "TokensType",
    "Value",
    "Trace",
    "annotate",
    "categorical",
    "check_input",
    "check_unique_labels",
    "dataflow_edges",
    "evaluate",
    "get_encoding",
    "indices",
    "is_categorical",
    "is_numerical",
    "length",
    "loop",
    "numerical",
    "parse",
    "parse_file",
    "parse_program",
    "selector_and",
    "selector_not",
    "selector_or",
    "tokens",
    "trace",
    "walk",
]


def __getattr__(name: str):
    # The parser and library import lazily so `import rasp` stays light and acyclic.
    if name in ("parse", "parse_program", "parse_file"):
        from rasp.textual import interpreter

        return getattr(interpreter, name)
    if name in ("lib", "causal_eval"):
        import importlib

        return importlib.import_module(f"rasp.{name}")
    raise AttributeError(f"module 'rasp' has no attribute {name!r}")
