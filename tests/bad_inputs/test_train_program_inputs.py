"""Bad `interp train-program` inputs: each is one project error of the expected class naming
the offending option, raised before the data or the model is built (under an address-space cap
of the current size + 512 MB)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
from bounded import bounded_memory

from interp.cli import build_parser
from interp.errors import ConfigError, InputError
from interp.programs.pipeline import OPTION_RULES, PipelineOptions, run_pipeline
from interp.programs.train import CONFIG_RULES, ProgramTrainConfig

# option changes, error class, fragment the message must hold
OPTION_CASES = [
    ({"max_len": 300}, ConfigError, "max_len"),
    ({"vocab_size": 5000}, ConfigError, "vocab_size"),
    ({"max_len": 2}, ConfigError, "max_len"),
    ({"vocab_size": 3}, ConfigError, "vocab_size"),
    ({"size": 10**9}, ConfigError, "size"),
    ({"size": 0}, ConfigError, "size"),
    ({"n_layers": 10**4}, ConfigError, "n_layers"),
    ({"n_heads": 10**5}, ConfigError, "n_heads"),
    ({"n_num_mlps": -1}, ConfigError, "n_num_mlps"),
    ({"epochs": 0}, ConfigError, "epochs"),
    ({"batch_size": 10**9}, ConfigError, "batch_size"),
    ({"lr": math.inf}, ConfigError, "lr"),
    ({"lr": math.nan}, ConfigError, "lr"),
    ({"lr": -0.1}, ConfigError, "lr"),
    ({"seed": -1}, ConfigError, "seed"),
    ({"gumbel_samples": 0}, ConfigError, "gumbel_samples"),
    ({"gumbel_samples": 10**6}, ConfigError, "gumbel_samples"),
    ({"batches": "shuffled"}, ConfigError, "batches"),
    ({"sampling": "hard"}, ConfigError, "sampling"),
    ({"compile_rasp": "yes"}, ConfigError, "compile_rasp"),
    ({"task": "parity"}, InputError, "parity"),
]


def test_every_option_and_config_field_has_a_rule():
    assert set(OPTION_RULES) == {f.name for f in dataclasses.fields(PipelineOptions)}
    assert set(CONFIG_RULES) == {f.name for f in dataclasses.fields(ProgramTrainConfig)}


@pytest.mark.parametrize("changes,error,fragment", OPTION_CASES, ids=[next(iter(c)) + "=" + str(v)[:12]
                                                                     for c, *_ in OPTION_CASES
                                                                     for v in [next(iter(c.values()))]])
def test_bad_options_are_one_error_naming_the_option(tmp_path: Path, changes, error, fragment):
    options = PipelineOptions(**{"task": "sort", "epochs": 1, "size": 100, **changes})
    with bounded_memory(), pytest.raises(error) as info:
        run_pipeline(options, out_dir=tmp_path / "run", progress=False)
    assert type(info.value) is error and fragment in str(info.value), str(info.value)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("argv,fragment", [
    (["sort", "--max-len", "300"], "program_values"),
    (["hist", "--vocab-size", "5000"], "program_values"),
    (["sort", "--size", "1000000000"], "program_examples"),
    (["sort", "--n-layers", "100000"], "program_layers"),
])
def test_the_cli_refuses_oversized_settings_before_allocating(tmp_path: Path, argv, fragment):
    args = build_parser().parse_args(["train-program", *argv, "--out", str(tmp_path / "run")])
    with bounded_memory(), pytest.raises(ConfigError, match=fragment):
        args.handler(args)


def test_out_is_a_file_or_holds_a_run(tmp_path: Path):
    (tmp_path / "file").write_text("x")
    options = PipelineOptions(task="hist", max_len=4, vocab_size=4, epochs=1, size=40, n_layers=1, n_heads=0,
                              n_num_heads=1, n_mlps=0, n_num_mlps=1, compile_rasp=False)
    for out in (tmp_path / "file", tmp_path / "file" / "run"):
        with pytest.raises(ConfigError, match="is a file"):
            run_pipeline(options, out_dir=out, progress=False)
    run_pipeline(options, out_dir=tmp_path / "run", progress=False)
    log = (tmp_path / "run" / "train" / "log.jsonl").read_text()
    with pytest.raises(ConfigError, match="already holds a training run"):
        run_pipeline(options, out_dir=tmp_path / "run", progress=False)
    assert (tmp_path / "run" / "train" / "log.jsonl").read_text() == log
    changed = dataclasses.replace(options, size=30, epochs=2)  # other data: another training split
    with pytest.raises(Exception, match="train_sha256") as info:
        run_pipeline(changed, out_dir=tmp_path / "run", resume=True, progress=False)
    assert type(info.value).__name__ == "CheckpointError"
    run_pipeline(options, out_dir=tmp_path / "run", overwrite=True, progress=False)
