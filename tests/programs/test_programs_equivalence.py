"""Every form of a Transformer Program computes the same thing on every input of a tiny
setting: the exact program vs an independent per-example reference, the soft model's hard
pass, the hooked-transformer conversion, the decompiled Python, the decompiled RASP program
(interpreter and compiled)."""

from __future__ import annotations

import pytest
import torch

import rasp
from interp.programs import TransformerProgramModel, hooked_predict, to_hooked
from interp.programs.decompile import load_python, to_python, to_rasp
from interp.programs.program import DiscreteProgram, ProgramShape
from tests.programs.helpers import all_inputs, random_program, reference_run

TOKENS = ["<s>", "a", "b", "c"]


def shape(causal: bool, **sizes: int) -> ProgramShape:
    defaults = dict(n_layers=2, n_cat_heads=2, n_num_heads=1, n_cat_mlps=1, n_num_mlps=1)
    sizes = {**defaults, **sizes}
    return ProgramShape(tokens=TOKENS, labels=["x", "y", "z"], n_ctx=5, causal=causal, **sizes)


def _rows(predicted: torch.Tensor, lengths: torch.Tensor) -> list[list[int]]:
    return [row[:n].tolist() for row, n in zip(predicted, lengths)]


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_program_equals_reference_hooked_python_and_rasp(seed: int, causal: bool) -> None:
    program = random_program(shape(causal), seed)
    tokens, lengths = all_inputs(program.shape, max_body=4)  # every input: 121 sequences
    expected = [reference_run(program, row[:n].tolist()) for row, n in zip(tokens, lengths)]
    assert _rows(program.predict(tokens, lengths), lengths) == expected
    assert _rows(hooked_predict(to_hooked(program), tokens, lengths), lengths) == expected
    run = load_python(to_python(program))
    rasp_program = to_rasp(program)
    labels = program.shape.labels
    for row, n, want in zip(tokens, lengths, expected):
        words = [TOKENS[t] for t in row[:n].tolist()]
        assert run(words) == [labels[i] for i in want]
        assert rasp.evaluate(rasp_program, words, causal=causal) == [labels[i] for i in want]
    # The program must actually exercise matches, misses and several labels.
    assert len({label for row in expected for label in row}) > 1


def test_soft_model_hard_pass_equals_discretized_program() -> None:
    for causal in (False, True):
        model = TransformerProgramModel(shape(causal), seed=3)
        program = model.discretize()
        tokens, lengths = all_inputs(program.shape, max_body=4)
        real = torch.arange(5)[None] < lengths[:, None]
        with torch.no_grad():
            hard = model(tokens, lengths, hard=True).argmax(-1)
        assert torch.equal(hard[real], program.predict(tokens, lengths)[real])
        # JSON round trip keeps the program exactly.
        again = DiscreteProgram.from_json(program.to_json())
        assert torch.equal(again.predict(tokens, lengths), program.predict(tokens, lengths))


def test_hooked_residual_labels_decode_every_variable() -> None:
    program = random_program(shape(False), 5)
    model = to_hooked(program)
    tokens = torch.tensor([[0, 1, 3, 2, 1]])
    trace = program.run(tokens)
    with torch.no_grad():
        _, cache = model.run_with_cache(torch.cat([torch.tensor([[len(TOKENS)]]), tokens], 1))
    final = cache[f"blocks.{model.cfg.n_layers - 1}.hook_resid_post"][0, 1:]
    names = program.shape.cat_var_names()
    for index, name in enumerate(names):
        labels = program.value_labels[index]
        assert model.residual_labels.read(final, name) == [labels[v] for v in trace.cat[index][0].tolist()]
    for index, name in enumerate(program.shape.num_var_names()):
        assert model.residual_labels.read(final, name) == trace.num[index][0].tolist()


@pytest.mark.parametrize("causal", [False, True])
def test_compiled_rasp_equals_program_on_every_input(causal: bool) -> None:
    from rasp.compiler import compile_program

    small = shape(causal, n_layers=1, n_cat_heads=1, n_num_heads=1, n_cat_mlps=0, n_num_mlps=1)
    program = random_program(small, 7)
    # Read-out from the head and the numerical MLP only, so the compiled model stays small.
    program.readout_cat[:2] = 0
    program.readout_num[:] = 0
    tokens, lengths = all_inputs(small, max_body=3)
    compiled = compile_program(to_rasp(program), vocab=TOKENS, max_seq_len=5, causal=causal,
                               attention_kind="hard")
    words = [[TOKENS[t] for t in row[:n].tolist()] for row, n in zip(tokens, lengths)]
    expected = [[small.labels[i] for i in row] for row in _rows(program.predict(tokens, lengths), lengths)]
    assert compiled.run_batch(words) == expected


def test_sink_residual_stays_exactly_clean_in_deep_programs() -> None:
    """The sink must read exactly [sink=1, 0, ...] at every stage: any residue shifts the sink's
    scores, which hard attention and the counting heads' 1/(width+1) trick do not tolerate."""
    wide = ProgramShape(tokens=["<s>", *"abcdef"], labels=["x", "y"], n_ctx=8, n_layers=3, n_cat_heads=3,
                        n_num_heads=2, n_cat_mlps=1, n_num_mlps=1)
    program = random_program(wide, 11)
    model = to_hooked(program)
    tokens = torch.tensor([[0, 3, 1, 6, 2, 2, 5, 4], [0, 1, 1, 1, 6, 6, 6, 6]])
    with torch.no_grad():
        _, cache = model.run_with_cache(torch.cat([torch.full((2, 1), len(wide.tokens)), tokens], 1))
    sink = torch.zeros(model.cfg.d_model)
    sink[model.residual_labels.of("sink")[0].index] = 1.0
    for block in range(model.cfg.n_layers):
        assert torch.equal(cache[f"blocks.{block}.hook_resid_post"][:, 0], sink.expand(2, -1)), block
    assert torch.equal(hooked_predict(model, tokens, torch.tensor([8, 8])), program.predict(tokens))


def test_removed_components_are_constants_in_every_form() -> None:
    """A simplified program holds removed components at a constant (read-out included)."""
    program = random_program(shape(False), 4)
    program.removed = {"attn_0_1": 2, "count_0_0": 3, "mlp_0_0": 1, "attn_1_0": 0}
    tokens, lengths = all_inputs(program.shape, max_body=3)
    expected = [reference_run(program, row[:n].tolist()) for row, n in zip(tokens, lengths)]
    assert _rows(program.predict(tokens, lengths), lengths) == expected
    run, rasp_program = load_python(to_python(program)), to_rasp(program)
    labels = program.shape.labels
    for row, n, want in zip(tokens, lengths, expected):
        words = [TOKENS[t] for t in row[:n].tolist()]
        assert run(words) == [labels[i] for i in want]
        assert rasp.evaluate(rasp_program, words) == [labels[i] for i in want]
