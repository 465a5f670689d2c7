"""Programs the compiler cannot take give CompileError naming the node, reason and fix."""

from __future__ import annotations

import pytest

import rasp
from rasp import Comparison, Select, indices, tokens
from rasp.compiler import CompileError, compile_program


def test_compile_error_is_both_project_and_rasp_error() -> None:
    from interp.errors import InterpError

    assert issubclass(CompileError, InterpError)
    assert issubclass(CompileError, rasp.RASPError)


def test_numerical_keys_in_select_name_the_node() -> None:
    frac = rasp.lib.make_frac_prevs(tokens == "a")
    sel = Select(frac, frac, Comparison.EQ).named("bad_select")
    with pytest.raises(CompileError, match=r"bad_select.*numerical.*workaround"):
        compile_program(rasp.SelectorWidth(sel), list("ab"), 4)


def test_nonlinear_numerical_pair_names_the_node() -> None:
    a = rasp.numerical(rasp.Map(lambda t: 1 if t == "a" else 0, tokens))
    b = rasp.numerical(rasp.Map(lambda t: 2 if t == "b" else 1, tokens))
    fa = rasp.numerical(rasp.Aggregate(Select(indices, indices, Comparison.LEQ), a, default=0))
    fb = rasp.numerical(rasp.Aggregate(Select(indices, indices, Comparison.LEQ), b, default=0))
    product = rasp.numerical(rasp.SequenceMap(lambda x, y: x * y, fa, fb)).named("product")
    with pytest.raises(CompileError, match=r"'product'.*linear.*workaround"):
        compile_program(product, list("ab"), 4)


def test_numerical_default_must_be_zero() -> None:
    a = rasp.numerical(rasp.Map(lambda t: 1, tokens))
    agg = rasp.numerical(rasp.Aggregate(Select(tokens, tokens, Comparison.EQ), a, default=5))
    with pytest.raises(CompileError, match=r"default must be 0"):
        compile_program(agg.named("avg"), list("ab"), 4)


def test_not_an_sop() -> None:
    with pytest.raises(CompileError, match="SOp"):
        compile_program(Select(tokens, tokens, Comparison.EQ), list("ab"), 4)


def test_bad_arguments() -> None:
    with pytest.raises(CompileError, match="max_seq_len"):
        compile_program(tokens, list("ab"), 0)
    with pytest.raises(CompileError, match="vocab"):
        compile_program(tokens, [], 3)


def test_cli_reports_compile_errors(tmp_path, capsys) -> None:
    from interp.cli import main

    source = tmp_path / "prog.py"
    source.write_text(
        "import rasp\n"
        "f = rasp.lib.make_frac_prevs(rasp.tokens == 'a')\n"
        "program = rasp.SelectorWidth(rasp.Select(f, f, rasp.Comparison.EQ).named('bad_select'))\n"
    )
    code = main(["compile", str(source), "--vocab", "a,b", "--max-len", "3", "--out", str(tmp_path / "m")])
    assert code == 2
    assert "bad_select" in capsys.readouterr().err
