"""The SIIT benchmark's own programs (interp.tasks.siit_programs): hand-checked outputs, the
one_per_op compile equal to the interpreter on every input up to length 4, one head and one MLP
each, and name lookup shared with the library."""

import itertools
import warnings

import pytest

from interp.errors import InputError
from interp.tasks.siit_programs import SIIT_PROGRAMS, library_program, program_names
from rasp.compiler import compile_program
from rasp.evaluate import evaluate
from rasp.lib import PROGRAMS


def test_hand_checked_outputs():
    x = list("aabca")
    assert evaluate(SIIT_PROGRAMS["prev_equal"].build(), x) == [None, True, False, False, False]
    assert evaluate(SIIT_PROGRAMS["same_as_first"].build(), x) == [True, True, False, False, True]
    assert evaluate(SIIT_PROGRAMS["pair_order"].build(), x) == [None, "same", "up", "up", "down"]
    assert evaluate(SIIT_PROGRAMS["count_first"].build(), x) == [3, 3, 3, 3, 3]  # a, a, a
    # one repeat (position 1); position 0's flag is None, and a None query selects nothing
    assert evaluate(SIIT_PROGRAMS["count_repeats"].build(), x) == [0, 1, 1, 1, 1]


@pytest.mark.parametrize("name", sorted(SIIT_PROGRAMS))
def test_one_per_op_compile_equals_the_interpreter_on_every_short_input(name):
    entry = SIIT_PROGRAMS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = compile_program(entry.build(), entry.vocab, 4, one_per_op=True)
    # one head feeding one MLP; the counting programs add a SelectorWidth layer
    layers = 2 if name.startswith("count_") else 1
    assert (compiled.model.cfg.n_layers, compiled.model.cfg.n_heads) == (layers, 1)
    for length in range(1, 5):
        for tokens in itertools.product(entry.vocab, repeat=length):
            assert compiled.run(list(tokens)) == evaluate(entry.build(), list(tokens)), tokens


def test_lookup_takes_library_and_own_names_and_refuses_others():
    assert library_program("reverse") is PROGRAMS["reverse"]
    assert library_program("pair_order") is SIIT_PROGRAMS["pair_order"]
    assert set(program_names()) == set(PROGRAMS) | set(SIIT_PROGRAMS)
    assert not set(PROGRAMS) & set(SIIT_PROGRAMS)
    with pytest.raises(InputError, match="pair_ordr"):
        library_program("pair_ordr")
