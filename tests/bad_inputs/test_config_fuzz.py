"""Config fuzzers: hypothesis draws `interp train` configs (task, model, train sections,
init_std) and `train-program` options, mixing valid values with hostile ones (NaN, inf,
negative, huge, wrong types, unknown fields). Every draw must give a correct run (finite
weights that load back, the steps asked for) or a project error (InterpError); anything else
(a TypeError, a RecursionError, a MemoryError under the address-space cap) fails.

The caps are tightened (interp.limits) so every valid draw is small and quick. Quick profile in
the normal suite; FUZZ_PROFILE=long runs many more examples."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from bounded import bounded_memory
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from interp.cli import build_parser
from interp.errors import InterpError
from interp.limits import set_limits
from interp.model import load_model
from interp.programs.pipeline import OPTION_RULES, PipelineOptions, run_pipeline
from interp.training.config import FIELD_RULES

LONG = os.environ.get("FUZZ_PROFILE") == "long"
TIGHT = dict(batch_examples=256, batch_elements=100_000, model_parameters=300_000, model_layers=4,
             sequence_length=128, task_table_entries=4096, vocab_size=64, program_values=8,
             program_examples=300, program_layers=2, program_components=2, exhaustive_inputs=5_000)

HOSTILE = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, -1, 0, -0.5, 10**9, 10**18, 2.5, True, "", "x", None,
                     [], {}, [1, 2], {"a": 1}, 1e308, -(10**9)]),
    st.integers(-10, 10**7), st.floats(allow_nan=True, allow_infinity=True),
)

# Valid-looking values per field (so correct runs happen), else a hostile one.
TRAIN_VALID = {
    "steps": st.integers(1, 3), "batch_size": st.sampled_from([1, 2, 8, 32]),
    "lr": st.floats(1e-5, 1e-1), "min_lr_ratio": st.floats(0, 1), "warmup_steps": st.integers(0, 3),
    "weight_decay": st.floats(0, 1), "beta1": st.floats(0, 0.99), "beta2": st.floats(0, 0.999),
    "grad_clip": st.one_of(st.none(), st.floats(0.1, 10)), "eval_every": st.integers(0, 3),
    "eval_size": st.integers(1, 64), "eval_batch_size": st.integers(1, 64), "select_metric": st.just("loss"),
    "select_mode": st.sampled_from(["min", "max"]), "patience": st.one_of(st.none(), st.integers(1, 3)),
    "min_delta": st.floats(0, 1), "checkpoint_every": st.integers(0, 3), "log_every": st.integers(1, 3),
    "seed": st.integers(0, 2**40), "device": st.just("cpu"),
}
MODEL_VALID = {
    "n_layers": st.integers(0, 2), "d_model": st.sampled_from([4, 8, 16]), "n_heads": st.sampled_from([1, 2]),
    "d_mlp": st.one_of(st.none(), st.sampled_from([0, 8, 16])), "act_fn": st.sampled_from(["relu", "gelu"]),
    "normalization_type": st.sampled_from([None, "LN"]),
}
TASK_VALID = {
    "markov-switching": {"p": st.floats(0.01, 1), "q": st.floats(0.01, 1), "order": st.integers(1, 5),
                         "seq_len": st.integers(6, 32), "kind": st.sampled_from(["switching", "dirichlet"]),
                         "symbols": st.integers(2, 4), "alpha": st.floats(0.1, 2)},
    "icl-gpt": {"d": st.integers(1, 4), "n_points": st.integers(1, 8), "noise_std": st.floats(0, 1),
                "w_scale": st.floats(0.1, 2), "pool_size": st.one_of(st.none(), st.integers(1, 8)),
                "function_class": st.sampled_from(["linear", "sparse_linear", "relu_net"]),
                "sparsity": st.integers(1, 3), "hidden": st.integers(1, 8)},
    "ngrams": {"symbols": st.integers(2, 4), "n": st.integers(2, 3), "alpha": st.floats(0.1, 2),
               "seq_len": st.integers(4, 32)},
}


def _section(valid: dict, corrupt: bool) -> st.SearchStrategy:
    """Some of the fields, valid-looking; when `corrupt`, each may be hostile and an unknown
    field may be added."""
    keys = st.lists(st.sampled_from(sorted(valid)), unique=True, max_size=4)
    if not corrupt:
        return keys.flatmap(lambda chosen: st.fixed_dictionaries({k: valid[k] for k in chosen}))
    return keys.flatmap(lambda chosen: st.fixed_dictionaries(
        {k: st.one_of(valid[k], HOSTILE) for k in chosen}, optional={"unknown_field": HOSTILE},
    ))


@st.composite
def train_configs(draw):
    """About half the draws are valid configs (a run), the rest have hostile values somewhere."""
    recipe = draw(st.sampled_from(sorted(TASK_VALID)))
    corrupt = draw(st.booleans())
    config = {"train": draw(_section(TRAIN_VALID, corrupt)), "model": draw(_section(MODEL_VALID, corrupt)),
              "task": draw(_section(TASK_VALID[recipe], corrupt))}
    if draw(st.booleans()):
        config["init_std"] = draw(st.one_of(st.floats(0.01, 1), HOSTILE) if corrupt else st.floats(0.01, 1))
    if corrupt and draw(st.integers(0, 9)) == 0:  # a whole section of the wrong type
        config[draw(st.sampled_from(["train", "model", "task"]))] = draw(HOSTILE)
    return recipe, config


def test_the_fuzzers_cover_every_field():
    assert set(TRAIN_VALID) == set(FIELD_RULES)
    assert set(PROGRAM_VALID) | {"exhaustive", "compile_rasp", "stop_when_perfect"} == set(OPTION_RULES)


PROFILE = settings(max_examples=250 if LONG else 4, deadline=None, derandomize=not LONG,
                   suppress_health_check=list(HealthCheck))


@pytest.fixture
def tight_limits():
    previous = set_limits()
    set_limits(**TIGHT)
    yield
    set_limits(**dataclasses.asdict(previous))


def _train_once(recipe: str, config: dict) -> None:
    directory = Path(tempfile.mkdtemp())
    try:
        path = directory / "config.json"
        path.write_text(json.dumps(config))
        argv = ["train", recipe, "--config", str(path), "--out", str(directory / "run"), "--no-progress"]
        args = build_parser().parse_args(argv)
        try:
            with bounded_memory():
                code = args.handler(args)
        except InterpError as error:
            event(f"project error: {type(error).__name__}")
            return  # a project error: allowed
        event("correct run")
        assert code == 0
        model = load_model(directory / "run" / "model")  # checks every weight is finite
        card = json.loads((directory / "run" / "card.json").read_text())
        steps = config["train"].get("steps", 3) if isinstance(config.get("train"), dict) else 3
        assert card["steps"] == steps or card["stop_reason"] == "early_stopping", card
        assert model.cfg.n_layers <= TIGHT["model_layers"]
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@PROFILE
@given(train_configs())
def test_training_config_fuzz(tight_limits, drawn):
    recipe, config = drawn
    if isinstance(config.get("train"), dict):
        config["train"].setdefault("steps", 3)  # a valid run stays short
        config["train"].setdefault("eval_size", 32)
        config["train"].setdefault("batch_size", 8)
    _train_once(recipe, config)


PROGRAM_VALID = {
    "task": st.sampled_from(["sort", "reverse", "hist", "most_freq", "dyck1"]),
    "max_len": st.one_of(st.none(), st.integers(3, 8)), "vocab_size": st.one_of(st.none(), st.integers(4, 8)),
    "n_layers": st.one_of(st.none(), st.integers(1, 2)), "n_heads": st.one_of(st.none(), st.integers(0, 2)),
    "n_num_heads": st.one_of(st.none(), st.integers(0, 2)), "n_mlps": st.one_of(st.none(), st.integers(0, 2)),
    "n_num_mlps": st.one_of(st.none(), st.integers(0, 2)), "epochs": st.integers(1, 2),
    "batch_size": st.sampled_from([8, 32]), "lr": st.floats(1e-3, 0.5), "seed": st.integers(0, 100),
    "size": st.integers(3, 300), "gumbel_samples": st.integers(1, 2),
    "batches": st.sampled_from(["replacement", "epochs"]),
    "sampling": st.sampled_from(["soft", "straight-through"]),
    "conventions": st.sampled_from(["ours", "paper"]), "min_epoch_steps": st.integers(1, 4),
    "restarts": st.integers(1, 2), "restart_below": st.floats(0.0, 1.0),
}


@st.composite
def program_options(draw):
    chosen = draw(st.lists(st.sampled_from(sorted(PROGRAM_VALID)), unique=True, max_size=6))
    corrupt = draw(st.booleans())
    options = {k: draw(st.one_of(PROGRAM_VALID[k], HOSTILE) if corrupt else PROGRAM_VALID[k]) for k in chosen}
    return {"task": "hist", "epochs": 1, "size": 60, "n_layers": 1, "batch_size": 32, "compile_rasp": False,
            **options}


@settings(PROFILE, max_examples=60 if LONG else 2)
@given(program_options())
def test_train_program_options_fuzz(tight_limits, options):
    directory = Path(tempfile.mkdtemp())
    try:
        try:
            with bounded_memory():
                result = run_pipeline(PipelineOptions(**options), out_dir=directory / "run", progress=False)
        except InterpError as error:
            event(f"project error: {type(error).__name__}")
            return
        event("correct run")
        assert result["simplified_matches_model"] == 1.0  # exact on the inputs it names
        assert result["program_matches_model"] == 1.0
        assert 0.0 <= result["hard_test_accuracy"] <= 1.0
    finally:
        shutil.rmtree(directory, ignore_errors=True)
