"""compile_program(..., one_per_op=True): exact, and one component per RASP operation.

The reference for exactness is the interpreter (compiled.verify, exhaustive at length <= 3);
the reference for the layout is the program graph itself, counted here independently."""

from __future__ import annotations

import re
import warnings

import pytest

from rasp import core, lib, tokens
from rasp.compiler import CompileError, CompileWarning, compile_program
from rasp.compiler.one_per_op import alignment
from rasp.graph import walk
from rasp.lib import PROGRAMS

STRAIGHT = sorted(n for n in PROGRAMS if "loop" not in n and n != "alta_add")
HEAD = re.compile(r"^L\d+H\d+$")


def _compile(entry, max_len: int, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CompileWarning)
        return compile_program(entry.build(), entry.vocab, max_len, one_per_op=True, **kw)


def _constant(node: core.RASPExpr) -> bool:
    """Whether an SOp is the same everywhere (a Full, or a Map of Fulls)."""
    if isinstance(node, core.Full):
        return True
    if isinstance(node, (core.Map, core.SequenceMap)):
        return all(_constant(c) for c in node.children)
    return False


@pytest.mark.parametrize("name", STRAIGHT)
def test_one_per_op_equals_interpreter_and_has_one_component_per_op(name: str) -> None:
    entry = PROGRAMS[name]
    max_len = 2 if len(entry.vocab) > 12 else 3 if len(entry.vocab) > 5 else 4
    compiled = _compile(entry, max_len)
    report = compiled.verify()
    assert report.exhaustive and report.ok, str(report)

    layout = compiled.layout
    sops = [n for n in walk(compiled.program) if isinstance(n, core.SOp)]
    counted = [n for n in sops if isinstance(n, (core.Aggregate, core.SelectorWidth,
                                                 core.LengthType))]
    heads = [c for c in layout.node_of if HEAD.match(c)]
    # One head per Aggregate / SelectorWidth / length, each head computing one node.
    assert len(heads) == len({n.label for n in counted})
    assert all(len(layout.node_of[h]) == 1 for h in heads)
    for node in sops:
        comps = layout.component_of.get(node.label, [])
        n_heads = sum(bool(HEAD.match(c)) for c in comps)
        n_mlps = len(comps) - n_heads
        if isinstance(node, (core.Map, core.SequenceMap)) and not _constant(node):
            # Its own MLP, its own stored variable (never embedded, never fused away).
            assert (n_heads, n_mlps) == (0, 1), (node.label, comps)
            assert node.label in layout.directions and node.label not in layout.embedded
        elif isinstance(node, core.Aggregate):
            assert n_heads == 1 and n_mlps <= 1, (node.label, comps)
        elif isinstance(node, (core.SelectorWidth, core.LengthType)):
            assert (n_heads, n_mlps) == (1, 1), (node.label, comps)


def test_alignment_names_components_and_disjoint_subspaces() -> None:
    program = lib.make_reverse(tokens)
    compiled = compile_program(program, list("abc"), 4, one_per_op=True)
    aligned = alignment(compiled)
    by_kind = {a.kind for a in aligned.values()}
    assert {"TokensType", "IndicesType", "Map", "Aggregate"} <= by_kind
    seen: set[int] = set()
    for entry in aligned.values():
        assert not seen & set(entry.directions)  # no reuse: every node its own subspace
        seen |= set(entry.directions)
        for comp in entry.components:
            assert entry.label in compiled.layout.node_of[comp]
    assert aligned["reverse"].components and HEAD.match(aligned["reverse"].components[0])


def test_default_folds_what_one_per_op_keeps() -> None:
    """detect_pattern's token-only Maps are embedded by default, MLPs in this mode."""
    entry = PROGRAMS["detect_pattern"]
    default = compile_program(entry.build(), entry.vocab, 4)
    faithful = _compile(entry, 4)
    assert faithful.model.cfg.n_layers > default.model.cfg.n_layers
    assert faithful.model.metadata["compiler"]["one_per_op"] is True


def test_loops_are_refused() -> None:
    entry = PROGRAMS["parity_loop"]
    with pytest.raises(CompileError, match="one_per_op"):
        compile_program(entry.build(), entry.vocab, 4, one_per_op=True)
