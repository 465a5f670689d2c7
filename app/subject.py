"""The model on screen ("subject"), built through the front door (interp.subjects) the CLI
uses too: library programs, typed RASP and saved models load the same way in both. This
module only adds the app's defaults and its no-download random model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from interp.model import HookedTransformer, ModelConfig
from interp.subjects import (
    Subject,
    compile_subject,
    load_program,
    parse_vocab,
    program_from_text,
    saved_subject,
)

__all__ = ["DEFAULT_MAX_LEN", "DEFAULT_PROGRAM", "DEFAULT_RASP", "Subject", "library_subject",
           "parse_vocab", "random_subject", "rasp_text_subject", "saved_subject"]

DEFAULT_PROGRAM = "reverse"
DEFAULT_MAX_LEN = 8  # library programs compile for this length unless the user picks another
DEFAULT_RASP = """# Reverse the input (the RASP paper's first example).
opp_index = length - indices - 1;
flip = select(indices, opp_index, ==);
reverse = aggregate(flip, tokens);
"""


def random_subject() -> Subject:
    """A seeded random 2-layer model that was not compiled from a program (no downloads)."""
    vocab = list("abcdefgh")
    cfg = ModelConfig(n_layers=2, d_model=32, n_ctx=12, d_vocab=len(vocab), n_heads=2, d_mlp=64,
                      vocab=vocab, seed=0)
    model: HookedTransformer = HookedTransformer(cfg).init_weights(std=0.5)
    return Subject(model, "random 2-layer model (seed 0)", "random", vocab, cfg.n_ctx)


def library_subject(name: str, vocab: Sequence[Any] | None = None,
                    max_seq_len: int | None = None) -> Subject:
    """Compile library program `name` (its own vocabulary and length unless given)."""
    return compile_subject(load_program(name), vocab, max_seq_len)


def rasp_text_subject(text: str, vocab: Sequence[Any], max_seq_len: int) -> Subject:
    """Parse textual RASP (RASPSyntaxError carries line/column) and compile it."""
    source = program_from_text(text)
    subject = compile_subject(source, vocab, max_seq_len)
    subject.title = f"typed RASP program ({source.program.label})"
    return subject
