"""The front door's resolver (one precedence rule for every name) and the subjects' task
behaviour (inputs in the task's own format, task-aware corruptions, metrics), each checked
against an independent computation: integer arithmetic, the chain, the task generator."""

from __future__ import annotations

import json
import random
import re

import pytest
import torch

from interp.errors import CheckpointError, InputError
from interp.subjects import load_program, load_subject, resolve
from interp.subjects.resolver import (
    LIBRARY,
    PROGRAM_RUN,
    SAVED_MODEL,
    SHIPPED_MODEL,
    SHIPPED_PROGRAM,
    TRAINED_PROGRAM_KINDS,
    TRAINING_RUN,
    catalogue,
)

QUESTION = re.compile(r"^(\d{5})\+(\d{5})=(\d{6})$")


# ------------------------------------------------------------------------ the resolver
def test_bare_names_follow_the_precedence_library_shipped_program():
    assert resolve("sort").kind == LIBRARY
    assert resolve("addition-1l").kind == SHIPPED_MODEL
    assert resolve("program:sort").kind == SHIPPED_PROGRAM
    # A command that takes only Transformer Programs reads the bare word among those.
    assert resolve("sort", TRAINED_PROGRAM_KINDS).kind == SHIPPED_PROGRAM


def test_every_catalogued_name_resolves_to_itself():
    for row in catalogue(include_library=True):
        resolved = resolve(row["name"])
        assert (resolved.name, resolved.kind) == (row["name"], row["kind"])


@pytest.mark.parametrize("name,kinds", [("markov-switching", None), ("sort", TRAINED_PROGRAM_KINDS),
                                        ("reverse", None)])
def test_a_package_name_that_is_also_a_folder_here_is_refused(tmp_path, monkeypatch, name, kinds):
    """Issue 24: `interp eval markov-switching` next to a user's folder of that name evaluated
    the shipped model while `interp decompile` preferred the path. Now both refuse."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).mkdir()
    with pytest.raises(InputError, match=rf"ambiguous.*write ./{name} for the folder or \w+:{name}"):
        resolve(name, kinds)
    with pytest.raises(InputError, match="a folder, but not a saved model"):
        resolve(f"./{name}")


def test_unknown_names_suggest_the_closest():
    with pytest.raises(InputError, match=r"did you mean 'addition-1l'"):
        resolve("addtion-1l")
    with pytest.raises(InputError, match=r"no shipped Transformer Program 'srot'.*'program:sort'"):
        resolve("program:srot")


def test_a_command_refuses_a_kind_it_does_not_take():
    with pytest.raises(InputError, match="is a shipped model; this command takes a library program"):
        load_program("addition-1l")


def test_folders_resolve_by_what_they_hold(tmp_path):
    from interp.model import HookedTransformer, ModelConfig

    model = HookedTransformer(ModelConfig(n_layers=1, d_model=4, n_ctx=5, d_vocab=3, seed=0))
    model.save(tmp_path / "saved")
    model.save(tmp_path / "run" / "model")  # what `interp train --out run` writes
    (tmp_path / "tp").mkdir()
    (tmp_path / "tp" / "program.json").write_text("{}")
    assert resolve(str(tmp_path / "saved")).kind == SAVED_MODEL
    run = resolve(str(tmp_path / "run"))
    assert run.kind == TRAINING_RUN and run.model_dir() == tmp_path / "run" / "model"
    assert resolve(f"path:{tmp_path / 'tp'}").kind == PROGRAM_RUN


# ---------------------------------------------------------------------- token tasks
@pytest.fixture(scope="module")
def addition():
    return load_subject("addition-1l")


def test_addition_reads_its_own_text_format(addition):
    tokens = addition.parse_input("12345+67890=")
    assert tokens == list("12345+67890=")
    assert addition.format_input(tokens) == "12345+67890="
    assert addition.parse_input("1 2 3 4 5 + 6 7 8 9 0 =") == tokens
    names, ids = addition.encode(tokens)
    assert ids.shape == (1, 12) and addition.answer_positions(12) == [11]
    for bad in ("1234+67890=", "12345-67890=", "12345+6789a=", "12345+67890"):
        with pytest.raises(InputError):
            addition.parse_input(bad)


def test_addition_samples_are_well_formed_questions_with_their_sums(addition):
    rng = random.Random(3)
    for _ in range(20):
        text = addition.format_input(addition.sample(rng))
        a, b, c = QUESTION.match(text).groups()
        assert int(a) + int(b) == int(c)


def test_addition_corruption_changes_one_operand_digit_and_the_answer_follows(addition):
    clean = list("12345+67890=080235")
    for seed in range(10):
        text = addition.format_input(addition.corrupt(clean, seed))
        a, b, c = QUESTION.match(text).groups()
        changed = sum(x != y for x, y in zip("12345" + "67890", a + b))
        assert changed == 1 and int(a) + int(b) == int(c)


def test_addition_discovery_inputs_are_questions_and_one_digit_corruptions(addition):
    inputs = addition.analysis_inputs(per_length=1, seed=0)
    (clean,), (corrupted,) = inputs.batches, inputs.corrupted
    assert inputs.ablation == "resample" and inputs.positions == list(range(11, 17))
    digits = [i for i in range(18) if i not in (5, 11)]
    assert ((clean[:, :11] != corrupted[:, :11]).sum(1) == 1).all()  # one operand digit
    for row in torch.cat([clean, corrupted]).tolist():
        text = "".join(addition.vocab[i] for i in row)
        a, b, c = QUESTION.match(text).groups()
        assert int(a) + int(b) == int(c) and all(text[i].isdigit() for i in digits)


def test_markov_corruption_resamples_the_first_half_only():
    markov = load_subject("markov-switching")
    inputs = markov.analysis_inputs(per_length=1, seed=0)
    (clean,), (corrupted,) = inputs.batches, inputs.corrupted
    half = clean.shape[1] // 2
    assert torch.equal(clean[:, half:], corrupted[:, half:]) and not torch.equal(clean, corrupted)
    assert next(iter(markov.patch_metrics())) == "KL to clean"


# ------------------------------------------------------------------------ regression
def test_regression_prompt_from_json_seed_and_its_corruptions(tmp_path):
    icl = load_subject("icl-gpt")
    xs, ys = icl.parse_input("seed=4")
    expected = icl.task.prompts(1, seed=4)
    assert torch.equal(xs, expected.xs[0]) and torch.equal(ys, expected.ys[0])
    path = tmp_path / "prompt.json"
    path.write_text(json.dumps({"xs": xs.tolist(), "ys": ys.tolist()}))
    assert torch.allclose(icl.parse_input(str(path))[1], ys)
    new_xs, new_ys = icl.corrupt((xs, ys), 0, "resample the task vector w")
    assert torch.equal(new_xs, xs) and not torch.allclose(new_ys, ys)
    # ys of one linear function: least squares on the corrupted prompt fits exactly.
    w = torch.linalg.lstsq(new_xs, new_ys[:, None]).solution
    assert torch.allclose(new_xs @ w, new_ys[:, None], atol=1e-4)
    with pytest.raises(InputError, match="neither JSON"):
        icl.parse_input("not a prompt")
    for bad in ("seed=-1", "seed=x", f"seed={2**63}"):
        with pytest.raises(InputError, match="seed=N with an integer N"):
            icl.parse_input(bad)
    with pytest.raises(InputError, match="non-finite"):
        icl.parse_input(json.dumps({"xs": [[float("nan")] * 5], "ys": [0.0]}))


def test_regression_discovery_metric_is_squared_error_on_the_predictions():
    icl = load_subject("icl-lsa")
    inputs = icl.analysis_inputs(per_length=1, seed=0)
    assert inputs.positions == [inputs.batches[0].shape[1] - 1]  # the query only
    clean = torch.randn(3, inputs.batches[0].shape[1], 1)
    other = clean + 0.5
    metric = icl.discovery_metric(inputs.positions)(clean)
    assert float(metric(other)) == pytest.approx(0.25)


def test_every_shipped_models_default_patching_pair_has_an_effect():
    """The dashboard's default Patching view: the task's corruption of the default input moves
    the task's metric (a real effect to attribute), for every shipped model."""
    for row in catalogue():
        subject = load_subject(row["name"])
        clean = subject.default_input()
        _, a = subject.encode(clean)
        _, b = subject.encode(subject.corrupt(clean, 0))
        with torch.no_grad():
            clean_logits, bad_logits = subject.model(a), subject.model(b)
        metric = next(iter(subject.patch_metrics().values()))(
            clean_logits, bad_logits, subject.answer_positions(a.shape[1]))
        assert abs(float(metric(clean_logits)) - float(metric(bad_logits))) > 1e-3, row["name"]


# ------------------------------------------------------------ CompiledModel.load checks
def test_compiled_model_load_refuses_corrupt_metadata_by_name(tmp_path):
    from rasp.compiler import CompiledModel, compile_program
    from rasp.lib import PROGRAMS

    compile_program(PROGRAMS["reverse"].build(), ["a", "b"], 3).save(tmp_path / "m")
    config = tmp_path / "m" / "config.json"
    data = json.loads(config.read_text())
    del data["metadata"]["compiler"]["bos"]
    config.write_text(json.dumps(data))
    with pytest.raises(CheckpointError, match=r"metadata\.compiler\.bos is None, expected a str"):
        CompiledModel.load(tmp_path / "m")
