"""Train -> discretise -> simplify -> decompile -> verify, for the CLI and the benchmark.

Verification compares every form with the exact argmax program at every position, and each
figure in result.json names its inputs (`checked_on`): the simplified program on every input of
the task when there are at most `interp.limits` exhaustive_inputs, else on the sampled inputs
only (program.py's header says which); the decompiled Python on every input too when there are
at most 50,000, else on the test split; the hooked-transformer conversion and the decompiled
RASP program (interpreted and compiled) on the test split.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import torch

import rasp
from interp.errors import CheckpointError, InputError
from interp.limits import current_limits
from interp.programs.convert import hooked_predict, to_hooked
from interp.programs.data import (
    PAPER_TASKS,
    Split,
    TaskData,
    all_inputs,
    input_space_size,
    make_task_data,
)
from interp.programs.decompile import count_lines, load_python, to_python, to_rasp
from interp.programs.model import CONVENTIONS
from interp.programs.program import DiscreteProgram, ProgramShape
from interp.programs.simplify import simplify
from interp.programs.train import (
    ProgramTrainConfig,
    ProgramTrainResult,
    accuracy,
    passes_per_epoch,
    train_program,
)
from interp.training.loop import check_out_dir, holds_run
from interp.training.rules import SEED, Field, check_fields


@dataclass
class PipelineOptions:
    task: str
    max_len: int | None = None
    vocab_size: int | None = None
    n_layers: int | None = None
    n_heads: int | None = None  # categorical heads per layer
    n_num_heads: int | None = None
    n_mlps: int | None = None  # categorical MLPs per layer
    n_num_mlps: int | None = None
    epochs: int = 250
    batch_size: int = 512
    lr: float = 5e-2
    seed: int = 0
    size: int = 20000
    exhaustive: bool = False
    compile_rasp: bool = True
    stop_when_perfect: bool = True  # stop at 100% hard validation accuracy (same selected model)
    gumbel_samples: int = 1  # Gumbel samples averaged per training step (the paper's default: 1)
    batches: str = "replacement"  # or "epochs": each epoch visits every example once (the paper's)
    sampling: str = "soft"  # or "straight-through": one-hot forward, soft gradient (the paper's gumbel_hard)
    conventions: str = "ours"  # or "paper": the paper code's model, loss and schedule (ProgramTrainConfig)
    min_epoch_steps: int = 1  # optimizer steps per epoch at least (small data: an epoch repeats the split)
    # Restarts selected on validation (the paper's best-of-runs): up to `restarts` trainings from
    # other initial weights and batches on the same data, each started only while the best hard
    # validation accuracy so far is below `restart_below`; the run with the best one is kept.
    restarts: int = 1
    restart_below: float = 0.99


# One row per PipelineOptions field (a test checks every field has one): the train-program config.
OPTION_RULES: dict[str, Field] = {
    "task": Field(str, choices=tuple(PAPER_TASKS)),
    "max_len": Field(int, optional=True, minimum=3, limit="program_values"),
    "vocab_size": Field(int, optional=True, minimum=4, limit="program_values"),
    "n_layers": Field(int, optional=True, minimum=1, limit="program_layers"),
    "n_heads": Field(int, optional=True, minimum=0, limit="program_components"),
    "n_num_heads": Field(int, optional=True, minimum=0, limit="program_components"),
    "n_mlps": Field(int, optional=True, minimum=0, limit="program_components"),
    "n_num_mlps": Field(int, optional=True, minimum=0, limit="program_components"),
    "epochs": Field(int, minimum=1),
    "batch_size": Field(int, minimum=1, limit="batch_examples"),
    "lr": Field(float, above=0),
    "seed": SEED,
    "size": Field(int, minimum=3, limit="program_examples"),
    "exhaustive": Field(bool),
    "compile_rasp": Field(bool),
    "stop_when_perfect": Field(bool),
    "gumbel_samples": Field(int, minimum=1, maximum=1024),
    "batches": Field(str, choices=("replacement", "epochs")),
    "sampling": Field(str, choices=("soft", "straight-through")),
    "conventions": Field(str, choices=CONVENTIONS),
    "min_epoch_steps": Field(int, minimum=1, maximum=100_000),
    "restarts": Field(int, minimum=1, maximum=100),
    "restart_below": Field(float, minimum=0.0, maximum=1.0),
}


def check_options(options: PipelineOptions) -> None:
    """ConfigError naming the option unless every one fits its row of OPTION_RULES."""
    check_fields("train-program", OPTION_RULES, asdict(options))


def shape_for(data: TaskData, options: PipelineOptions) -> ProgramShape:
    """The task's paper shape, with any option that is set overriding it."""
    spec = PAPER_TASKS[options.task]

    def pick(value: int | None, default: int) -> int:
        return default if value is None else value

    return ProgramShape(
        tokens=data.tokens, labels=data.labels, n_ctx=data.n_ctx, causal=data.causal,
        n_layers=pick(options.n_layers, spec.n_layers),
        n_cat_heads=pick(options.n_heads, spec.n_cat_heads),
        n_num_heads=pick(options.n_num_heads, spec.n_num_heads),
        n_cat_mlps=pick(options.n_mlps, spec.n_cat_mlps),
        n_num_mlps=pick(options.n_num_mlps, spec.n_num_mlps),
    )


def run_pipeline(options: PipelineOptions, out_dir: str | Path | None = None, resume: bool = False,
                 progress: bool = True, overwrite: bool = False) -> dict[str, Any]:
    """Everything `interp train-program` reports, as a JSON-able dict. An `out_dir` holding a
    run is refused unless `resume` or `overwrite` (see interp.training.train)."""
    if options.task not in PAPER_TASKS:
        raise InputError(f"unknown task {options.task!r}; known tasks: {sorted(PAPER_TASKS)}.")
    check_options(options)
    if out_dir is not None:
        check_out_dir(Path(out_dir) / "train", resume, overwrite)
    start, cpu_start = time.perf_counter(), time.process_time()
    data = make_task_data(options.task, options.vocab_size, options.max_len, options.size,
                          options.seed, options.exhaustive)
    shape = shape_for(data, options)
    config = ProgramTrainConfig(epochs=options.epochs, batch_size=options.batch_size, lr=options.lr,
                                seed=options.seed, stop_when_perfect=options.stop_when_perfect,
                                gumbel_samples=options.gumbel_samples, batches=options.batches,
                                sampling=options.sampling, conventions=options.conventions,
                                min_epoch_steps=options.min_epoch_steps)
    trained, runs = _train_with_restarts(data, shape, config, options, out_dir, resume, progress, overwrite)
    program = trained.model.discretize()
    result: dict[str, Any] = {
        "task": options.task, "seed": options.seed, "epochs": options.epochs,
        "gumbel_samples": options.gumbel_samples, "batches": options.batches,
        "sampling": options.sampling, "conventions": options.conventions,
        "min_epoch_steps": options.min_epoch_steps,
        "passes_per_epoch": passes_per_epoch(len(data.train), config),
        "n_train": len(data.train), "n_val": len(data.val), "n_test": len(data.test),
        "shape": {k: v for k, v in asdict(shape).items() if k not in ("tokens", "labels")},
        "epochs_run": trained.epochs_run, "stop_reason": trained.stop_reason,
        "best_epoch": trained.best_epoch, "hard_val_accuracy": trained.best_val_hard,
        "hard_test_accuracy": accuracy(trained.model, data.test, hard=True),
        "soft_test_accuracy": accuracy(trained.model, data.test, hard=False),
        "train_seconds": round(trained.seconds, 1),
        "threads": torch.get_num_threads(),  # how the seconds were measured
        # CPU time of the training steps over every session (None: resumed from a checkpoint saved
        # before CPU time was recorded)
        "train_cpu_seconds": None if math.isnan(trained.cpu_seconds) else round(trained.cpu_seconds, 1),
        "restarts": options.restarts, "restart_below": options.restart_below,
        "runs": runs,  # every training this run made; the kept one has "kept": true
    }
    result["discrete_matches_model"] = _discrete_agreement(trained.model, program, data.test)
    result.update(verify(program, data, options.compile_rasp, out_dir))
    result["seconds"] = round(time.perf_counter() - start, 1)
    result["cpu_seconds"] = round(time.process_time() - cpu_start, 1)
    if out_dir is not None:
        out = Path(out_dir)
        (out / "result.json").write_text(json.dumps(result, indent=2))
        (out / "history.json").write_text(json.dumps(trained.history))
        (out / "options.json").write_text(json.dumps(asdict(options), indent=2))
    return result


def restart_seed(seed: int, restart: int) -> int:
    """The training seed of restart `restart` (0: `seed` itself): another initial model and
    batch order, the data unchanged (it is drawn from `seed` alone)."""
    if restart == 0:
        return seed
    digest = hashlib.sha256(f"train-program restart {seed} {restart}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1  # below 2**63, the SEED rule's bound


def _train_with_restarts(data: TaskData, shape: ProgramShape, config: ProgramTrainConfig,
                         options: PipelineOptions, out_dir: str | Path | None, resume: bool,
                         progress: bool, overwrite: bool) -> tuple[ProgramTrainResult, list[dict[str, Any]]]:
    """Train once, then again from another seed while the best hard validation accuracy is below
    `options.restart_below`, at most `options.restarts` runs; keep the best (ties: the earlier).
    Run r is saved in train/ (r = 0) or train_restart{r}/, each resumable."""
    best: ProgramTrainResult | None = None
    runs: list[dict[str, Any]] = []
    for restart in range(options.restarts):
        if best is not None and best.best_val_hard >= options.restart_below:
            break
        name = "train" if restart == 0 else f"train_restart{restart}"
        train_dir = Path(out_dir) / name if out_dir is not None else None
        run_config = replace(config, seed=restart_seed(options.seed, restart))
        # A later restart resumes only where it had begun.
        go_on = resume and (restart == 0 or (train_dir is not None and holds_run(train_dir)))
        trained = train_program(data, shape, run_config, out_dir=train_dir, resume=go_on, progress=progress,
                                overwrite=overwrite)
        runs.append({"restart": restart, "train_seed": run_config.seed,
                     "hard_val_accuracy": trained.best_val_hard, "best_epoch": trained.best_epoch,
                     "epochs_run": trained.epochs_run, "kept": False})
        if best is None or trained.best_val_hard > best.best_val_hard:
            best, kept = trained, restart
    runs[kept]["kept"] = True
    return best, runs


# Most inputs the decompiled Python (a plain-Python interpreter loop) is run on when the task's
# inputs are enumerated; the batched forms are compared on every input.
_PYTHON_CHECKS = 50_000
_RASP_CHECKS = 5_000  # inputs the compiled RASP model runs when the task has that few


def checked_inputs(data: TaskData) -> tuple[Split, str, bool]:
    """The inputs a simplification is checked on: every input of the task when there are at most
    `exhaustive_inputs` of them, else the sampled train/validation/test inputs. Returns (inputs,
    a description of them, whether they are all the task's inputs)."""
    count = input_space_size(data.name, data.tokens, data.n_ctx)
    if count <= current_limits().exhaustive_inputs:
        tokens, lengths = all_inputs(data.name, data.tokens, data.n_ctx)
        unscored = torch.full_like(tokens, -100)
        return Split(tokens, lengths, unscored), f"all {count:,} inputs of the task", True
    sampled = _concat([data.train, data.val, data.test])
    return sampled, (f"the {len(sampled):,} sampled train/validation/test inputs only (the task has "
                     f"{count:,} inputs, over the exhaustive_inputs limit of "
                     f"{current_limits().exhaustive_inputs:,}; other inputs are unchecked)"), False


def verify(program: DiscreteProgram, data: TaskData, compile_rasp: bool = True,
           out_dir: str | Path | None = None) -> dict[str, Any]:
    """Simplify on every input of the task (the sampled ones where there are too many), decompile,
    and check every form against the argmax program; each figure says which inputs it covers."""
    test = data.test
    space, described, exhaustive = checked_inputs(data)
    sampled = _concat([data.train, data.val, data.test])  # a quick first screen of each candidate
    simplified, report = simplify(program, space.tokens, space.lengths,
                                  screen=(sampled.tokens, sampled.lengths) if exhaustive else None)
    simplified_same = _program_agreement(simplified, program, space)
    simplified.checked = (f"equals the argmax program on {described}" if simplified_same == 1.0 else
                          f"equals the argmax program on {100 * simplified_same:.2f}% of {described}")
    source_before = to_python(program, f"Transformer Program for {data.name}")
    source = to_python(simplified, f"Transformer Program for {data.name}")
    expected = _label_rows(program, test, data)
    test_inputs = f"the {len(test):,} test inputs"
    result: dict[str, Any] = {
        "lines_before": count_lines(source_before),
        "lines_after": count_lines(source),
        "simplify": {"merged": report.merged, "removed": report.removed,
                     "readout_dropped": report.readout_dropped, "checked_inputs": report.checked_inputs},
        "exhaustive": exhaustive,
        "simplified_matches_model": simplified_same,
        "checked_on": {"simplified_matches_model": described, "discrete_matches_model": test_inputs,
                       "hooked_matches_model": test_inputs, "rasp_interpreter_matches_model": test_inputs,
                       "rasp_matches_model": test_inputs},
    }
    run = load_python(source)
    python_split = space if exhaustive and len(space) <= _PYTHON_CHECKS else test
    python_inputs = _words(python_split, data)
    result["program_matches_model"] = _agreement([run(x) for x in python_inputs],
                                                 _label_rows(program, python_split, data))
    result["checked_on"]["program_matches_model"] = (
        described if python_split is space else test_inputs)
    inputs = _words(test, data)
    hooked = to_hooked(program)
    predicted = hooked_predict(hooked, test.tokens, test.lengths)
    result["hooked_matches_model"] = _agreement(
        [[data.labels[i] for i in row[:n].tolist()] for row, n in zip(predicted, test.lengths)], expected
    )
    rasp_program = to_rasp(simplified)
    outputs = [rasp.evaluate(rasp_program, x, causal=data.causal) for x in inputs]
    result["rasp_interpreter_matches_model"] = _agreement(outputs, expected)
    result["rasp_nodes"] = len(rasp.walk(rasp_program))
    result["rasp_matches_model"] = None
    if compile_rasp:
        from rasp.compiler import CompileError, compile_program

        try:
            started = time.perf_counter()
            # compact: residual directions reused (the program keeps every read-out variable
            # alive to the end, so without reuse the shipped sort is 120M parameters, over the cap).
            compiled = compile_program(rasp_program, vocab=data.tokens, max_seq_len=data.n_ctx,
                                       causal=data.causal, attention_kind="hard", compact=True)
            # Every input of the task where there are few (the compiled forward is the slow part).
            rasp_split = space if exhaustive and len(space) <= _RASP_CHECKS else test
            rasp_expected = expected if rasp_split is test else _label_rows(program, rasp_split, data)
            result["rasp_matches_model"] = _agreement(compiled.run_batch(_words(rasp_split, data)),
                                                      rasp_expected)
            result["checked_on"]["rasp_matches_model"] = (
                described if rasp_split is space else test_inputs)
            result["rasp_compile_seconds"] = round(time.perf_counter() - started, 1)
            result["rasp_compiled_layers"] = compiled.model.cfg.n_layers
        except CompileError as err:
            result["rasp_compile_error"] = str(err)
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "program.json").write_text(json.dumps(program.to_json()))
        (out / "simplified.json").write_text(json.dumps(simplified.to_json()))
        (out / "program.py").write_text(source)
        (out / "task.json").write_text(json.dumps({"task": data.name, "tokens": data.tokens,
                                                   "labels": data.labels, "n_ctx": data.n_ctx}))
        (out / "test.json").write_text(json.dumps(_test_words(data)))
        hooked.save(str(out / "hooked"))
    return result


def _words(split: Split, data: TaskData) -> list[list[str]]:
    return [[data.tokens[t] for t in row[:n].tolist()] for row, n in zip(split.tokens, split.lengths)]


def _program_agreement(a: DiscreteProgram, b: DiscreteProgram, split: Split, chunk: int = 65_536) -> float:
    """Fraction of inputs on which two programs predict the same label at every position."""
    same = 0
    for start in range(0, len(split), chunk):
        tokens, lengths = split.tokens[start : start + chunk], split.lengths[start : start + chunk]
        real = torch.arange(tokens.shape[1])[None] < lengths[:, None]
        equal = (a.predict(tokens, lengths) == b.predict(tokens, lengths)) | ~real
        same += int(equal.all(1).sum())
    return same / max(len(split), 1)


def _test_words(data: TaskData) -> dict[str, list]:
    """The test split as words and label strings (None: unscored), for shipping with a program."""
    test = data.test
    inputs = [[data.tokens[t] for t in row[:n].tolist()] for row, n in zip(test.tokens, test.lengths)]
    targets = [[None if t < 0 else data.labels[t] for t in row[:n].tolist()]
               for row, n in zip(test.targets, test.lengths)]
    return {"inputs": inputs, "targets": targets}


def _discrete_agreement(model, program: DiscreteProgram, split: Split) -> float:
    """Fraction of examples where the trained model's hard pass equals the extracted program."""
    with torch.no_grad():
        hard = model(split.tokens, split.lengths, hard=True).argmax(-1)
    real = torch.arange(split.tokens.shape[1])[None] < split.lengths[:, None]
    same = (hard == program.predict(split.tokens, split.lengths)) | ~real
    return same.all(1).float().mean().item()


def _label_rows(program: DiscreteProgram, split: Split, data: TaskData) -> list[list[str]]:
    predicted = program.predict(split.tokens, split.lengths)
    return [[data.labels[i] for i in row[:n].tolist()] for row, n in zip(predicted, split.lengths)]


def _agreement(got: list[list[Any]], expected: list[list[str]]) -> float:
    """Fraction of examples where every position agrees."""
    same = sum(1 for g, e in zip(got, expected) if [str(x) for x in g] == e)
    return same / max(len(expected), 1)


def _concat(splits: list[Split]) -> Split:
    return Split(torch.cat([s.tokens for s in splits]), torch.cat([s.lengths for s in splits]),
                 torch.cat([s.targets for s in splits]))


def load_discrete_program(directory: str | Path, simplified: bool = True) -> DiscreteProgram:
    """A saved program (`simplified.json` or `program.json`) from a train-program directory."""
    path = Path(directory) / ("simplified.json" if simplified else "program.json")
    if not path.is_file():
        raise InputError(f"{path} does not exist; pass a directory written by `interp train-program --out`.")
    cap = current_limits().program_file_bytes
    if path.stat().st_size > cap:
        raise CheckpointError(f"{path}: {path.stat().st_size:,} bytes, over the program_file_bytes limit "
                              f"of {cap:,}; raise it with interp.limits.set_limits(program_file_bytes=...) "
                              "if the file is genuine.")
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise CheckpointError(f"{path}: not valid JSON ({type(err).__name__}); the file is corrupt.") from err
    return DiscreteProgram.from_json(data, where=str(path))
