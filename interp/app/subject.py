"""The model on screen ("subject"), built through the front door (interp.subjects) the CLI
uses too: library programs, typed RASP, shipped models, Transformer Programs and saved models
load the same way in both. This module only adds the app's defaults."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from interp.subjects import (
    Subject,
    compile_subject,
    load_program,
    load_subject,
    parse_vocab,
    program_from_text,
    random_subject,
    saved_subject,
)

__all__ = ["DEFAULT_MAX_LEN", "DEFAULT_PROGRAM", "DEFAULT_RASP", "Subject", "library_subject",
           "named_subject", "parse_vocab", "random_subject", "rasp_text_subject", "saved_subject"]

DEFAULT_PROGRAM = "reverse"
DEFAULT_MAX_LEN = 8  # library programs compile for this length unless the user picks another
DEFAULT_RASP = """# Reverse the input (the RASP paper's first example).
opp_index = length - indices - 1;
flip = select(indices, opp_index, ==);
reverse = aggregate(flip, tokens);
"""


def library_subject(name: str, vocab: Sequence[Any] | None = None,
                    max_seq_len: int | None = None) -> Subject:
    """Compile library program `name` (its own vocabulary and length unless given)."""
    return compile_subject(load_program(f"lib:{name}"), vocab, max_seq_len)


def named_subject(name: str) -> Subject:
    """Any name the CLI accepts (`model:addition-1l`, `program:sort`, ...), resolved the same way."""
    return load_subject(name)


def rasp_text_subject(text: str, vocab: Sequence[Any], max_seq_len: int) -> Subject:
    """Parse textual RASP (RASPSyntaxError carries line/column) and compile it."""
    source = program_from_text(text)
    subject = compile_subject(source, vocab, max_seq_len)
    subject.title = f"typed RASP program ({source.program.label})"
    return subject
