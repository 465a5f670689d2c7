"""The front door: resolve "the thing the user named" and load it as a subject — a model
plus what its own task says about it. The CLI, the app, the benchmarks and the notebooks
all come through here, so each name means the same thing everywhere.

- names, and the one precedence rule between them: `resolver` (library program, RASP file,
  saved model, training run, shipped model, shipped Transformer Program; `interp models`
  lists them);
- one subject class per kind, all implementing `Subject` (base): `CompiledSubject`,
  `ProgramSubject` (Transformer Programs), `TaskSubject` / `AdditionSubject` /
  `MarkovSubject` (token tasks), `RegressionSubject` (in-context regression), `PlainSubject`
  (no task). Each encodes/decodes its inputs, samples them from its own task, corrupts them
  the task's way, and knows its metric, answer positions, captions and true circuit;
- what a user types: `text` (vocabularies, tokens, input lengths) and `programs` (RASP).

Heavy modules (torch, the compiler) are imported inside the functions that need them, so
importing this package is cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from interp.errors import InputError
from interp.subjects.base import AnalysisInputs, Subject
from interp.subjects.programs import ProgramFileError, ProgramSource, program_from_text
from interp.subjects.resolver import (
    LIBRARY,
    PROGRAM_KINDS,
    PROGRAM_RUN,
    RASP_FILE,
    SHIPPED_MODEL,
    SHIPPED_PROGRAM,
    SHIPPED_SIIT,
    TASK_MODEL_KINDS,
    TRAINED_PROGRAM_KINDS,
    Resolved,
    all_names,
    catalogue,
    resolve,
)
from interp.subjects.text import Sampler, input_lengths, parse_tokens, parse_vocab, uniform_sampler

__all__ = [
    "PROGRAM_KINDS", "RASP_FILE", "TASK_MODEL_KINDS", "TRAINED_PROGRAM_KINDS",
    "AnalysisInputs", "ProgramFileError", "ProgramSource", "Resolved", "Sampler", "Subject",
    "all_names", "catalogue", "check_compiler_metadata", "compile_subject", "input_lengths",
    "load_compiled", "load_program", "load_subject", "parse_tokens", "parse_vocab",
    "program_from_text", "random_subject", "resolve", "saved_subject", "shipped_program_subject",
    "subject_of", "uniform_sampler",
]


def check_compiler_metadata(header: dict, path: str | Path) -> None:
    """CheckpointError naming the field when a compiled checkpoint's metadata cannot decode it
    (interp.model.compiler_metadata: the same checks CompiledModel.load runs)."""
    from interp.model.compiler_metadata import check_compiler_metadata as check

    check(header, path)


def load_program(spec: str, output: str | None = None, allow_outside: bool = False) -> ProgramSource:
    """A RASP program by name: a library program or a `.py` / textual RASP file (the resolver's
    rule); `output` picks an s-op of a textual file; its `load`s resolve next to it (outside
    the working tree only with `allow_outside`)."""
    from interp.subjects.programs import library_program, program_file

    resolved = resolve(spec, PROGRAM_KINDS, "a RASP program")
    if resolved.kind == LIBRARY:
        if output is not None:
            raise InputError(f"--output {output!r} picks an s-op of a textual RASP file; {spec} is "
                             "not one (leave --output out).")
        return library_program(resolved.key)
    assert resolved.location is not None
    return program_file(resolved.location, output, allow_outside)


def compile_subject(source: ProgramSource, vocab: Any = None, max_seq_len: int | None = None,
                    **options: Any) -> Subject:
    """Compile `source` (its own vocabulary and length unless given; see compiled.compile_subject)."""
    from interp.subjects.compiled import compile_subject as compile_it

    return compile_it(source, vocab, max_seq_len, **options)


def load_compiled(path: str | Path) -> Any:
    """A saved compiled RASP model (CompiledModel); CheckpointError if corrupt or not one."""
    from interp.subjects.compiled import load_compiled as load_it

    return load_it(path)


def saved_subject(path: str | Path, title: str | None = None) -> Subject:
    """A saved model directory: compiled (with its CompiledModel), trained on a task (its
    metadata names it), or plain."""
    from interp.model.checkpoint import read_header

    header = read_header(path)
    title = title or str(path)
    metadata = header.get("metadata")
    if isinstance(metadata, dict) and "compiler" in metadata:
        from interp.subjects.compiled import CompiledSubject

        return CompiledSubject(load_compiled(path), title)
    from interp.model import load_model

    model = load_model(path)
    if "task" in model.metadata:
        from interp.evaluation import task_of
        from interp.subjects.tasks import task_subject

        return task_subject(model, task_of(model), title)
    from interp.subjects.plain import PlainSubject

    return PlainSubject(model, title)


def shipped_program_subject(name: str) -> Subject:
    """A shipped Transformer Program as its lossless hooked model."""
    from interp.subjects.transformer_program import shipped_program_subject as load_it

    return load_it(name)


def subject_of(resolved: Resolved, vocab_text: str | None = None, max_len: int | None = None,
               **options: Any) -> Subject:
    """Load what `resolve` found; `vocab_text` and `max_len` apply to programs compiled here
    (`options`: causal, attention_kind), `max_len` also to a plain saved model."""
    if resolved.kind in PROGRAM_KINDS:
        source = load_program(resolved.name if resolved.kind == LIBRARY else str(resolved.location))
        vocab = parse_vocab(vocab_text, source.vocab) if vocab_text is not None else None
        return compile_subject(source, vocab, max_len, **options)
    if vocab_text is not None:
        raise InputError(f"{resolved.name}: --vocab does not apply to a trained or saved model (its "
                         "vocabulary is fixed); leave it out.")
    if resolved.kind in (SHIPPED_PROGRAM, PROGRAM_RUN):
        from interp.subjects.transformer_program import program_dir_subject, shipped_program_subject

        subject = (shipped_program_subject(resolved.key) if resolved.kind == SHIPPED_PROGRAM
                   else program_dir_subject(resolved.location))
    else:
        title = resolved.name
        if resolved.kind in (SHIPPED_MODEL, SHIPPED_SIIT):
            from interp.shipped import SHIPPED

            title = f"shipped: {resolved.key} — {SHIPPED[resolved.key]}"
        subject = saved_subject(resolved.model_dir(), title)
    if max_len is not None:
        subject.limit_length(max_len)
    return subject


def load_subject(spec: str, vocab_text: str | None = None, max_len: int | None = None,
                 **options: Any) -> Subject:
    """What a user named, resolved by the one rule (`resolver`) and loaded."""
    return subject_of(resolve(spec), vocab_text, max_len, **options)


def random_subject() -> Subject:
    """A seeded random 2-layer model that was not compiled from a program (no downloads)."""
    from interp.model import HookedTransformer, ModelConfig
    from interp.subjects.plain import PlainSubject

    vocab = list("abcdefgh")
    cfg = ModelConfig(n_layers=2, d_model=32, n_ctx=12, d_vocab=len(vocab), n_heads=2, d_mlp=64,
                      vocab=vocab, seed=0)
    model = HookedTransformer(cfg).init_weights(std=0.5)
    return PlainSubject(model, "random 2-layer model (seed 0)")

