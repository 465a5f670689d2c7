"""CompiledModel.verify shows progress on stderr for many inputs (or when asked), and its
chunked model pass gives the same report as one pass."""

from __future__ import annotations

import pytest

import rasp
import rasp.compiler.compiled as compiled_module
from rasp.compiler import compile_program


@pytest.fixture(scope="module")
def compiled():
    return compile_program(rasp.lib.make_reverse(rasp.tokens), vocab={"a", "b"}, max_seq_len=4)


def test_no_bar_for_few_inputs_unless_asked(compiled, capsys):
    compiled.verify()  # 30 inputs
    assert "verify" not in capsys.readouterr().err
    compiled.verify(progress=True)
    assert "verify: model" in capsys.readouterr().err


def test_bar_by_default_from_the_threshold(compiled, capsys, monkeypatch):
    monkeypatch.setattr(compiled_module, "VERIFY_PROGRESS_MIN", 30)
    compiled.verify()
    err = capsys.readouterr().err
    assert "verify: interpreter" in err and "verify: model" in err
    compiled.verify(progress=False)
    assert "verify" not in capsys.readouterr().err


def test_chunks_change_nothing(compiled, monkeypatch):
    inputs = [list("ab"), list("ba"), list("abb"), list("bab"), list("a")]
    whole = compiled.verify(inputs=inputs)
    monkeypatch.setattr(compiled_module, "VERIFY_CHUNK", 2)
    chunked = compiled.verify(inputs=inputs)
    assert (chunked.n_inputs, chunked.mismatches) == (whole.n_inputs, whole.mismatches) == (5, [])
    # The independent reference: reversing each input by hand.
    assert compiled.run_batch(inputs) == [list(reversed(t)) for t in inputs]
