"""The model on screen ("subject") and how each source builds one: library program, typed
RASP, uploaded checkpoint, or the built-in default. Compiling and loading are calls into
rasp/interp; this module only gathers their results for the views.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import rasp
from interp.errors import InputError
from interp.model import HookedTransformer, ModelConfig
from rasp.compiler import compile_program
from rasp.lib import PROGRAMS

DEFAULT_PROGRAM = "reverse"
DEFAULT_MAX_LEN = 8  # library programs compile for this length unless the user picks another
DEFAULT_RASP = """# Reverse the input (the RASP paper's first example).
opp_index = length - indices - 1;
flip = select(indices, opp_index, ==);
reverse = aggregate(flip, tokens);
"""


@dataclass
class Subject:
    """A model plus what is known about it: its program, compiled form, vocabulary, title."""

    model: HookedTransformer
    title: str
    kind: str  # "compiled" (from RASP), "saved" (uploaded) or "random" (random_subject)
    vocab: list[Any]  # input values the user may type (as their str())
    max_seq_len: int
    program: Any = None  # rasp SOp when the model was compiled from (or is paired with) one
    compiled: Any = None  # rasp.compiler.CompiledModel
    library_name: str | None = None

    @property
    def is_compiled(self) -> bool:
        return self.compiled is not None

    @property
    def identity(self) -> str:
        """Tells models apart in session state (same program, other vocab = other model)."""
        return f"{self.title}|{self.vocab}|{self.max_seq_len}|{id(self.model)}"

    def parse_tokens(self, text: str) -> list[Any]:
        """Typed space-separated tokens to input values (strings mapped back to vocab values)."""
        by_name = {str(v): v for v in self.vocab}
        # Unknown names are kept as typed so the model's own check can name them.
        return [by_name.get(word, word) for word in text.split()]

    def sample(self, rng: random.Random, length: int | None = None) -> list[Any]:
        """A random valid input of about `length` tokens (the library's sampler if any)."""
        if length is None:
            length = rng.randint(max(1, self.max_seq_len // 3), max(1, (2 * self.max_seq_len) // 3))
        if self.library_name is not None and set(PROGRAMS[self.library_name].vocab) <= set(self.vocab):
            # The library's sampler draws from the program's default vocabulary: use it only
            # when the chosen vocabulary still holds all of it.
            return PROGRAMS[self.library_name].sample(rng, length)[: self.max_seq_len]
        return [rng.choice(self.vocab) for _ in range(min(length, self.max_seq_len))]


def random_subject() -> Subject:
    """A seeded random 2-layer model that was not compiled from a program (no downloads)."""
    vocab = list("abcdefgh")
    cfg = ModelConfig(n_layers=2, d_model=32, n_ctx=12, d_vocab=len(vocab), n_heads=2, d_mlp=64,
                      vocab=vocab, seed=0)
    model = HookedTransformer(cfg).init_weights(std=0.5)
    return Subject(model, "random 2-layer model (seed 0)", "random", vocab, cfg.n_ctx)


def saved_subject(model: HookedTransformer, name: str, compiled: Any = None) -> Subject:
    """Wrap an uploaded model (with its CompiledModel when it was compiled from RASP)."""
    cfg = model.cfg
    if cfg.d_input is not None:
        raise InputError(f"{name}: the model reads vectors (d_input={cfg.d_input}); the dashboard "
                         "needs a token model.")
    if compiled is not None:
        return Subject(model, f"uploaded compiled program: {name}", "compiled", list(compiled.vocab),
                       compiled.max_seq_len, compiled=compiled)
    vocab = list(cfg.vocab) if cfg.vocab else list(range(cfg.d_vocab))
    return Subject(model, f"uploaded: {name}", "saved", vocab, cfg.n_ctx)


def compile_subject(program: Any, vocab: Sequence[Any], max_seq_len: int, title: str,
                    library_name: str | None = None) -> Subject:
    """Compile a RASP program with rasp.compiler."""
    compiled = compile_program(program, list(vocab), max_seq_len)
    return Subject(compiled.model, title, "compiled", list(vocab), max_seq_len, program=program,
                   compiled=compiled, library_name=library_name)


def library_subject(name: str, vocab: Sequence[Any] | None = None,
                    max_seq_len: int | None = None) -> Subject:
    """Compile library program `name` (its own vocabulary and length unless given)."""
    entry = PROGRAMS[name]
    vocab = list(vocab) if vocab is not None else list(entry.vocab)
    max_seq_len = max_seq_len or entry.max_seq_len
    return compile_subject(entry.build(), vocab, max_seq_len, f"{name} — {entry.description}",
                           library_name=name)


def rasp_text_subject(text: str, vocab: Sequence[Any], max_seq_len: int) -> Subject:
    """Parse textual RASP (RASPSyntaxError carries line/column) and compile it."""
    program = rasp.parse(text)
    return compile_subject(program, vocab, max_seq_len, f"typed RASP program ({program.label})")


def parse_vocab(text: str, like: Sequence[Any] = ()) -> list[Any]:
    """A typed vocabulary ("a b c" or "a, b, c"); numbers become ints when `like` (the default
    vocabulary) is numeric, or, with no default, when every word is a number."""
    words = [w for w in text.replace(",", " ").split() if w]
    if not words:
        raise InputError("the vocabulary is empty; type its tokens separated by spaces.")
    numeric = all(isinstance(v, int) for v in like) if like else True
    if numeric and all(w.lstrip("-").isdigit() for w in words):
        return list(dict.fromkeys(int(w) for w in words))
    return list(dict.fromkeys(words))
