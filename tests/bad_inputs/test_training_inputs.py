"""Bad `interp train` inputs (command line, --config, --out, --resume): each is one project error
of the expected class naming the offending field, raised before anything large is allocated
(every case runs under an address-space cap of the current size + 512 MB)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bounded import bounded_memory

from interp.cli import build_parser, main
from interp.errors import CheckpointError, ConfigError, InputError

# A fast run of the shipped Markov recipe (the held-out set and schedule shrunk).
FAST = {"train": {"eval_size": 64, "eval_every": 1, "checkpoint_every": 1, "log_every": 1}}


@dataclass(frozen=True)
class Case:
    name: str
    config: Any  # the --config file's content (None: no file); a str is written as is
    error: type[Exception]
    fragment: str  # the offending field (or cap) the message must name
    recipe: str = "markov-switching"


def _train(section: str, **fields: Any) -> dict:
    return {section: fields}


CONFIG_CASES = [
    Case("lr_inf", _train("train", lr=math.inf), ConfigError, "lr"),
    Case("lr_nan", _train("train", lr=math.nan), ConfigError, "lr"),
    Case("min_delta_nan", _train("train", min_delta=math.nan), ConfigError, "min_delta"),
    Case("beta1_above_one", _train("train", beta1=1.5), ConfigError, "beta1"),
    Case("beta2_negative", _train("train", beta2=-0.5), ConfigError, "beta2"),
    Case("weight_decay_nan", _train("train", weight_decay=math.nan), ConfigError, "weight_decay"),
    Case("weight_decay_negative", _train("train", weight_decay=-1), ConfigError, "weight_decay"),
    Case("grad_clip_inf", _train("train", grad_clip=math.inf), ConfigError, "grad_clip"),
    Case("eval_size_huge", _train("train", eval_size=10**9), ConfigError, "eval_size"),
    Case("batch_size_huge", _train("train", batch_size=10**9), ConfigError, "batch_size"),
    Case("eval_batch_size_zero", _train("train", eval_batch_size=0), ConfigError, "eval_batch_size"),
    Case("steps_string", _train("train", steps="10"), ConfigError, "steps"),
    Case("seed_negative", _train("train", seed=-1), ConfigError, "seed"),
    Case("patience_zero", _train("train", patience=0), ConfigError, "patience"),
    Case("select_mode_unknown", _train("train", select_mode="best"), ConfigError, "select_mode"),
    Case("unknown_train_field", _train("train", stepz=3), ConfigError, "stepz"),
    Case("d_model_huge", _train("model", d_model=10**9), ConfigError, "model_parameters"),
    Case("n_layers_huge", _train("model", n_layers=10**6), ConfigError, "model_layers"),
    Case("act_fn_unknown", _train("model", act_fn="tanh"), ConfigError, "act_fn"),
    Case("model_sets_n_ctx", _train("model", n_ctx=5), ConfigError, "n_ctx"),
    Case("init_std_nan", {"init_std": math.nan}, ConfigError, "init_std"),
    Case("init_std_zero", {"init_std": 0}, ConfigError, "init_std"),
    Case("init_from_number", {"init_from": 3}, ConfigError, "init_from"),
    Case("train_section_list", {"train": [1, 2]}, ConfigError, "train"),
    Case("task_section_string", {"task": "p=0.5"}, ConfigError, "task"),
    Case("unknown_section", {"optimizer": {}}, ConfigError, "optimizer"),
    Case("not_an_object", [1, 2], ConfigError, "JSON object"),
    Case("nested_100k_deep", "[" * 100_000 + "]" * 100_000, ConfigError, "nested"),
    Case("nested_40_deep", {"task": {"kernel": json.loads("[" * 40 + "]" * 40)}}, ConfigError,
         "config_nesting"),
    Case("not_json", "{task: }", ConfigError, "cannot read the config file"),
    # Task parameters, checked before any table or batch is built.
    Case("markov_order_40", _train("task", order=40), InputError, "task_table_entries"),
    Case("markov_p_nan", _train("task", p=math.nan), InputError, "p must be finite"),
    Case("markov_seq_len_huge", _train("task", seq_len=10**7), InputError, "seq_len"),
    Case("markov_kind_unknown", _train("task", kind="hidden"), InputError, "kind"),
    Case("markov_option_unknown", _train("task", symbolz=3), InputError, "symbolz"),
    Case("regression_pool_huge", _train("task", pool_size=10**12), ConfigError, "pool_size",
         recipe="icl-task-diversity"),
    Case("regression_points_huge", _train("task", n_points=10**9), ConfigError, "n_points", recipe="icl-gpt"),
    Case("regression_noise_nan", _train("task", noise_std=math.nan), ConfigError, "noise_std",
         recipe="icl-gpt"),
    Case("regression_w_scale_zero", _train("task", w_scale=0), ConfigError, "w_scale", recipe="icl-gpt"),
    Case("regression_hidden_zero", _train("task", function_class="relu_net", hidden=0), ConfigError, "hidden",
         recipe="icl-gpt"),
    Case("regression_sparsity_float", _train("task", function_class="sparse_linear", sparsity=2.5),
         ConfigError, "sparsity", recipe="icl-gpt"),
    Case("ngrams_50_symbols_6grams", _train("task", symbols=50, n=6), InputError, "task_table_entries",
         recipe="ngrams"),
    Case("addition_digits_float", _train("task", n_digits=2.5), InputError, "n_digits", recipe="addition-1l"),
]  # fmt: skip


def _args(tmp_path: Path, case: Case, *extra: str):
    argv = ["train", case.recipe, "--out", str(tmp_path / "run"), "--no-progress", *extra]
    if case.config is not None:
        path = tmp_path / "config.json"
        path.write_text(case.config if isinstance(case.config, str) else json.dumps(case.config))
        argv += ["--config", str(path)]
    return build_parser().parse_args(argv)


def _expect(args, error: type[Exception], fragment: str) -> Exception:
    with bounded_memory(), pytest.raises(error) as info:
        args.handler(args)
    assert type(info.value) is error, repr(info.value)
    assert fragment in str(info.value), str(info.value)
    return info.value


@pytest.mark.parametrize("case", CONFIG_CASES, ids=[c.name for c in CONFIG_CASES])
def test_bad_config_is_one_error_naming_the_field(tmp_path: Path, case: Case):
    _expect(_args(tmp_path, case), case.error, case.fragment)
    assert not (tmp_path / "run" / "log.jsonl").exists()  # refused before anything ran


def _run(tmp_path: Path, out: Path, *extra: str, config: dict | None = None) -> int:
    path = tmp_path / "fast.json"
    path.write_text(json.dumps(config or FAST))
    return main(["train", "markov-switching", "--out", str(out), "--steps", "2", "--config", str(path),
                 "--no-progress", *extra])


def _fast_args(tmp_path: Path, out: Path, *extra: str, config: dict | None = None):
    path = tmp_path / "fast.json"
    path.write_text(json.dumps(config or FAST))
    return build_parser().parse_args(["train", "markov-switching", "--out", str(out), "--config", str(path),
                                      "--no-progress", *extra])


def test_out_is_a_file(tmp_path: Path):
    (tmp_path / "file").write_text("x")
    _expect(_fast_args(tmp_path, tmp_path / "file"), ConfigError, "is a file")
    _expect(_fast_args(tmp_path, tmp_path / "file" / "run"), ConfigError, "is a file")


def test_out_unwritable(tmp_path: Path):
    target = Path("/sys/interp-run")  # a kernel filesystem: mkdir is refused even for root
    try:
        target.mkdir()
    except OSError:
        _expect(_fast_args(tmp_path, target), ConfigError, "cannot write there")
    else:  # pragma: no cover - not a Linux sysfs
        target.rmdir()
        pytest.skip("/sys is writable here")


def test_existing_run_needs_resume_or_overwrite_and_nothing_is_truncated(tmp_path: Path, capsys):
    out = tmp_path / "run"
    assert _run(tmp_path, out) == 0
    log = (out / "log.jsonl").read_text()
    _expect(_fast_args(tmp_path, out, "--steps", "1"), ConfigError, "already holds a training run")
    assert (out / "log.jsonl").read_text() == log
    _expect(_fast_args(tmp_path, out, "--resume", "--overwrite"), ConfigError, "exclude each other")
    assert _run(tmp_path, out, "--steps", "3", "--resume") == 0
    assert _run(tmp_path, out, "--steps", "1", "--overwrite") == 0
    steps = [json.loads(line).get("step") for line in (out / "log.jsonl").read_text().splitlines()]
    assert max(s for s in steps if s is not None) == 1
    capsys.readouterr()


def test_resume_with_another_task_or_recipe_is_refused(tmp_path: Path):
    out = tmp_path / "run"
    assert _run(tmp_path, out) == 0
    changed = {**FAST, "task": {"p": 0.3, "q": 0.9}}
    error = _expect(_fast_args(tmp_path, out, "--resume", "--steps", "4", config=changed), CheckpointError,
                    "task_options")
    assert "trained on something else" in str(error)
    other = build_parser().parse_args(["train", "markov", "--out", str(out), "--resume", "--no-progress"])
    _expect(other, CheckpointError, "trained on something else")
    arch = {**FAST, "model": {"act_fn": "gelu"}}
    _expect(_fast_args(tmp_path, out, "--resume", "--steps", "4", config=arch), CheckpointError, "act_fn")


def test_resume_from_a_negative_step_is_refused(tmp_path: Path):
    out = tmp_path / "run"
    assert _run(tmp_path, out) == 0
    state = out / "checkpoint" / "state.json"
    header = json.loads(state.read_text())
    header["loop"]["step"] = -5
    state.write_text(json.dumps(header))
    _expect(_fast_args(tmp_path, out, "--resume", "--steps", "4"), CheckpointError, "loop.step")


def test_the_cli_prints_one_error_line_and_exits_2(tmp_path: Path, capsys):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"train": {"lr": math.inf}}))
    code = main(["train", "markov-switching", "--config", str(path), "--out", str(tmp_path / "r"), "--json"])
    captured = capsys.readouterr()
    assert code == 2
    assert [line for line in captured.err.splitlines() if line.startswith("error:")] == [
        line for line in captured.err.splitlines() if line.strip()]
    assert "lr" in captured.err
