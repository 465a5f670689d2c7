"""The front door: load "the thing the user named" — a library program, a `.py` or `.rasp`
file, or a saved model directory — and read the vocabularies, tokens and input lengths
that go with it. The CLI, the app, the benchmarks and the notebooks all come through here,
so each of these has exactly one behaviour:

- a program name: a `rasp.lib` library name wins; anything else is a file (write `./sort`
  for a file named like a library program); `.py` files are run and must define `program`
  (and may define `vocab`, `max_seq_len`); every other file is textual RASP (UTF-8).
- a vocabulary: tokens separated by commas and/or spaces; numbers become ints when the
  default vocabulary is numeric (or, with no default, when every token is a number);
  duplicates are dropped, order kept.
- an input: tokens separated by spaces, each matched to the vocabulary by its text; a word
  outside the vocabulary is an InputError naming it and its position.
- input lengths for analyses: 1, 2, 3, 4, n/2, n-1 and n (n = the longest input).

Heavy modules (torch, the compiler) are imported inside the functions that need them, so
importing this module is cheap.
"""

from __future__ import annotations

import random
import re
import runpy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interp.errors import CheckpointError, InputError, InterpError

if TYPE_CHECKING:
    import torch

    from interp.model import HookedTransformer

Sampler = Callable[[random.Random, int], list[Any]]  # (rng, length) -> one input


class ProgramFileError(InputError):
    """A user's `.py` program file that raised while it ran (its error, not ours)."""


@dataclass(frozen=True)
class ProgramSource:
    """A RASP program and what came with it (library defaults, or a .py file's `vocab`)."""

    program: Any  # rasp.SOp
    name: str  # what the user typed
    vocab: list[Any] | None = None
    max_seq_len: int | None = None
    library_name: str | None = None  # set for rasp.lib programs (their sampler applies)

    def sampler(self) -> Sampler | None:
        """The library's input sampler (valid inputs, e.g. balanced words), if any."""
        if self.library_name is None:
            return None
        from rasp.lib import PROGRAMS

        return PROGRAMS[self.library_name].sample


# ---------------------------------------------------------------------------- programs
def load_program(spec: str, output: str | None = None, allow_outside: bool = False) -> ProgramSource:
    """A program from a library name, a `.py` file (defining `program`) or a textual RASP file
    (whose `load`s resolve next to it, and outside the working tree only with `allow_outside`)."""
    from rasp.lib import PROGRAMS

    if spec in PROGRAMS or Path(spec).suffix == ".py":
        if output is not None:
            raise InputError(f"--output {output!r} picks an s-op of a textual RASP file; {spec} is "
                             "not one (leave --output out).")
    if spec in PROGRAMS:
        entry = PROGRAMS[spec]
        return ProgramSource(entry.build(), spec, list(entry.vocab), entry.max_seq_len, spec)
    path = Path(spec)
    if not path.exists():
        raise InputError(f"{spec!r} is neither a library program ({', '.join(PROGRAMS)}) nor a file.")
    if path.is_dir():
        raise InputError(f"{spec}: is a directory; give a .py or .rasp program file "
                         "(a saved model directory works with run, info, discover, decompose, ablate).")
    if path.suffix == ".py":
        return _load_python_program(path)
    import rasp

    return ProgramSource(rasp.parse_file(path, output=output, allow_outside=allow_outside), spec)


def program_from_text(text: str, name: str = "typed RASP program", output: str | None = None
                      ) -> ProgramSource:
    """A textual RASP program (RASPSyntaxError carries line and column)."""
    import rasp

    return ProgramSource(rasp.parse(text, output=output), name)


def _load_python_program(path: Path) -> ProgramSource:
    import rasp

    try:
        namespace = runpy.run_path(str(path), run_name="__interp_program__")
    except (Exception, SystemExit) as err:  # noqa: BLE001 - any failure of the user's code is theirs
        raise ProgramFileError(f"{path}{_user_line(err, path)} raised {type(err).__name__}: {err}") from err
    program = namespace.get("program")
    if program is None:
        raise InputError(f"{path} does not define a variable named `program` (an SOp).")
    if not isinstance(program, rasp.SOp):
        raise InputError(f"{path}: `program` is a {type(program).__name__}, not a RASP SOp.")
    vocab, max_seq_len = namespace.get("vocab"), namespace.get("max_seq_len")
    if vocab is not None and (isinstance(vocab, (str, bytes)) or not hasattr(vocab, "__iter__")):
        raise InputError(f"{path}: `vocab` must be a list or set of tokens, got {type(vocab).__name__}.")
    if max_seq_len is not None and (type(max_seq_len) is not int or max_seq_len < 1):
        raise InputError(f"{path}: `max_seq_len` must be a positive int, got {max_seq_len!r}.")
    return ProgramSource(program, str(path), None if vocab is None else list(vocab), max_seq_len)


def _user_line(err: BaseException, path: Path) -> str:
    """' (line N)' for the deepest frame of the traceback inside the user's file."""
    if isinstance(err, SyntaxError) and err.lineno:
        return f" (line {err.lineno})"
    line, tb = None, err.__traceback__
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename).resolve() == path.resolve():
            line = tb.tb_lineno
        tb = tb.tb_next
    return "" if line is None else f" (line {line})"


# ----------------------------------------------------------------- vocabularies, tokens
def _is_int(word: str) -> bool:
    # ASCII digits only: str.isdigit() accepts '²', which int() refuses.
    return re.fullmatch(r"-?[0-9]+", word) is not None


def parse_vocab(text: str, like: Sequence[Any] | None = None) -> list[Any]:
    """Tokens separated by commas and/or spaces; ints when `like` (the default) is numeric."""
    words = text.replace(",", " ").split()
    if not words:
        raise InputError(f"the vocabulary {text!r} is empty; give its tokens, e.g. a,b,c.")
    numeric = all(isinstance(v, int) for v in like) if like else True
    if numeric and all(_is_int(w) for w in words):
        return list(dict.fromkeys(int(w) for w in words))
    return list(dict.fromkeys(words))


def parse_tokens(text: str, vocab: Sequence[Any] | None = None, ints: bool = False) -> list[Any]:
    """Space-separated tokens matched to `vocab` by their text; without a vocab, numbers become
    ints when `ints` is set. InputError names a word outside the vocabulary."""
    words = text.split()
    if not words:
        raise InputError("the input is empty; give at least one token, e.g. --input \"a b c\".")
    if vocab is None:
        return [int(w) if ints and _is_int(w) else w for w in words]
    by_text = {str(v): v for v in vocab}
    for position, word in enumerate(words):
        if word not in by_text:
            raise InputError(f"token {word!r} at position {position} is not in the vocabulary "
                             f"{list(by_text)}.")
    return [by_text[w] for w in words]


def input_lengths(max_len: int) -> list[int]:
    """Input lengths analyses sample: 1, 2, 3, 4, n/2, n-1 and n (those within 1..n)."""
    return sorted({n for n in (1, 2, 3, 4, max_len // 2, max_len - 1, max_len) if 1 <= n <= max_len})


def uniform_sampler(vocab: Sequence[Any]) -> Sampler:
    """Inputs of uniformly drawn vocabulary tokens."""
    choices = list(vocab)

    def sample(rng: random.Random, n: int) -> list[Any]:
        return [rng.choice(choices) for _ in range(n)]

    return sample


# ------------------------------------------------------------------------------ subjects
@dataclass
class Subject:
    """A model plus what is known about it: its program, compiled form, vocabulary, title."""

    model: HookedTransformer
    title: str
    kind: str  # "compiled" (from RASP), "program" (a Transformer Program), "saved" or "random"
    vocab: list[Any]  # input values a user may type (matched by their str())
    max_seq_len: int
    program: Any = None  # rasp.SOp when compiled from one in this process
    compiled: Any = None  # rasp.compiler.CompiledModel
    library_name: str | None = None
    discrete: Any = None  # interp.programs.DiscreteProgram of a Transformer Program (exact)
    discrete_simplified: Any = None  # its simplified form, when shipped with it
    prefix: list[str] = dataclass_field(default_factory=list)  # read before the input (a program's sink)
    sampler: Sampler | None = None  # the model's own input sampler, when it has one

    @property
    def is_compiled(self) -> bool:
        return self.compiled is not None

    @property
    def identity(self) -> str:
        """Tells models apart (same program, other vocab = other model)."""
        return f"{self.title}|{self.vocab}|{self.max_seq_len}|{id(self.model)}"

    def parse_tokens(self, text: str) -> list[Any]:
        """The user's space-separated input as vocabulary values."""
        return parse_tokens(text, self.vocab)

    def sample(self, rng: random.Random, length: int | None = None) -> list[Any]:
        """A random valid input of about `length` tokens (the library's sampler if any)."""
        if length is None:
            length = rng.randint(max(1, self.max_seq_len // 3), max(1, (2 * self.max_seq_len) // 3))
        if self.library_name is not None:
            from rasp.lib import PROGRAMS

            return PROGRAMS[self.library_name].sample(rng, length)[: self.max_seq_len]
        if self.sampler is not None:
            return self.sampler(rng, length)
        return uniform_sampler(self.vocab)(rng, length)

    def batches(self, per_length: int, seed: int = 0) -> list[torch.Tensor]:
        """Analysis inputs: `per_length` inputs at each of `input_lengths(max_seq_len)`; a plain
        saved model gets one batch of random token ids (or vectors) at full length."""
        import torch

        if self.compiled is not None:
            from rasp.compiler.batches import program_batches

            return program_batches(self.compiled, self.sample, input_lengths(self.max_seq_len),
                                   per_length, seed)
        generator = torch.Generator().manual_seed(seed)
        cfg, n = self.model.cfg, 8 * per_length
        if cfg.d_input is not None:
            return [torch.randn(n, self.max_seq_len, cfg.d_input, generator=generator)]
        return [torch.randint(0, cfg.d_vocab, (n, self.max_seq_len), generator=generator)]


def compile_subject(source: ProgramSource, vocab: Sequence[Any] | None = None,
                    max_seq_len: int | None = None, **options: Any) -> Subject:
    """Compile `source` with its own vocabulary and length unless given (`options`: causal,
    attention_kind). A library sampler applies only with the library's own vocabulary."""
    from rasp.compiler import compile_program

    vocab = list(vocab) if vocab is not None else source.vocab
    max_seq_len = max_seq_len if max_seq_len is not None else source.max_seq_len
    if not vocab or max_seq_len is None:
        raise InputError(f"{source.name}: give a vocabulary and a maximum length (--vocab a,b,c "
                         "--max-len N) for a program outside the library.")
    compiled = compile_program(source.program, vocab, max_seq_len, **options)
    library = source.library_name if vocab == source.vocab else None
    title = source.name
    if source.library_name is not None:
        from rasp.lib import PROGRAMS

        title = f"{source.name} — {PROGRAMS[source.name].description}"
    return Subject(compiled.model, title, "compiled", list(vocab), max_seq_len, source.program,
                   compiled, library)


def load_compiled(path: str | Path) -> Any:
    """A saved compiled RASP model (rasp.compiler.CompiledModel); CheckpointError if it is not one
    or its compiler metadata is corrupt (checked before the weights are read)."""
    from interp.model.checkpoint import read_header

    header = read_header(path)
    check_compiler_metadata(header, path)
    from rasp.compiler import CompiledModel

    try:
        return CompiledModel.load(path)
    except InterpError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
        # The weights loaded (load_model checks them); what failed is the decoding metadata.
        raise CheckpointError(f"{path}: corrupt compiler metadata in config.json "
                              f"({type(err).__name__}: {err}); compile it again.") from err


_COMPILER_FIELDS = {"vocab": list, "bos": str, "max_seq_len": int, "causal": bool,
                    "numerical_output": bool, "output_values": list}


def check_compiler_metadata(header: dict, path: str | Path) -> None:
    """CheckpointError naming the field when a checkpoint's compiler metadata cannot decode its
    model: a missing/mistyped field, or sizes that disagree with the model config."""
    metadata = header.get("metadata")
    info = metadata.get("compiler") if isinstance(metadata, dict) else None
    if not isinstance(info, dict) or not isinstance(metadata.get("layout"), dict):
        raise CheckpointError(f"{path}: not a compiled RASP model (no compiler metadata and layout); "
                              "`interp info` describes any saved model.")

    def corrupt(what: str) -> CheckpointError:
        return CheckpointError(f"{path}: corrupt compiler metadata in config.json: {what}; "
                               "compile the program again.")

    for field, kind in _COMPILER_FIELDS.items():
        value = info.get(field)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise corrupt(f"metadata.compiler.{field} is {value!r}, expected a {kind.__name__}")
    if info["max_seq_len"] < 1:
        raise corrupt(f"metadata.compiler.max_seq_len is {info['max_seq_len']}, expected >= 1")
    cfg = header.get("config") if isinstance(header.get("config"), dict) else {}
    checks = [
        ("d_vocab", len(info["vocab"]) + 1, "len(vocab) + 1 (BOS)"),
        ("causal", info["causal"], "metadata.compiler.causal"),
    ]
    if not info["numerical_output"] and info["output_values"]:
        checks.append(("d_vocab_out", len(info["output_values"]), "len(output_values)"))
    for field, expected, meaning in checks:
        if field in cfg and cfg[field] is not None and cfg[field] != expected:
            raise corrupt(f"config.{field} is {cfg[field]!r} but {meaning} is {expected!r}")
    if isinstance(cfg.get("n_ctx"), int) and info["max_seq_len"] + 1 > cfg["n_ctx"]:
        raise corrupt(f"metadata.compiler.max_seq_len {info['max_seq_len']} does not fit "
                      f"config.n_ctx {cfg['n_ctx']} (BOS takes one position)")


def saved_subject(path: str | Path, title: str | None = None) -> Subject:
    """A saved model directory; a compiled one comes with its CompiledModel (weights read once)."""
    from interp.model.checkpoint import read_header

    header = read_header(path)
    title = title or str(path)
    metadata = header.get("metadata")
    if isinstance(metadata, dict) and "compiler" in metadata:
        compiled = load_compiled(path)  # reads the header again (small), the weights once
        return Subject(compiled.model, title, "compiled", list(compiled.vocab), compiled.max_seq_len,
                       compiled=compiled)
    from interp.model import load_model

    model = load_model(path)
    vocab = list(model.cfg.vocab) if model.cfg.vocab else list(range(model.cfg.d_vocab))
    return Subject(model, title, "saved", vocab, model.cfg.n_ctx)


def shipped_program_subject(name: str) -> Subject:
    """A shipped Transformer Program as its lossless hooked model (input: [<sink>] + tokens),
    with the exact and simplified programs it decompiles to."""
    from interp.programs.convert import SINK
    from interp.programs.shipped import load_shipped_model, load_shipped_program, shipped_programs
    from interp.programs.views import input_sampler

    model = load_shipped_model(name)
    exact = load_shipped_program(name)
    try:
        simplified = load_shipped_program(name, simplified=True)
    except InputError:  # shipped without a simplified form
        simplified = None
    shape = exact.shape
    task = shipped_programs()[name].get("task", name)
    return Subject(model, f"Transformer Program: {name} (task {task})", "program", list(shape.tokens),
                   shape.n_ctx, discrete=exact, discrete_simplified=simplified, prefix=[SINK],
                   sampler=input_sampler(list(shape.tokens), shape.n_ctx))


def load_subject(spec: str, vocab_text: str | None = None, max_len: int | None = None,
                 **options: Any) -> Subject:
    """What a user named: a saved model directory, or a program compiled for `vocab_text` and
    `max_len` (its defaults when None)."""
    if Path(spec).is_dir() and not _is_library_name(spec):
        if vocab_text is not None:
            raise InputError(f"{spec}: --vocab does not apply to a saved model (its vocabulary is "
                             "fixed); leave it out.")
        subject = saved_subject(spec)
        if max_len is not None:
            if subject.is_compiled:
                raise InputError(f"{spec}: --max-len does not apply to a saved compiled model (it "
                                 f"was compiled for {subject.max_seq_len}); leave it out.")
            if max_len > subject.model.cfg.n_ctx:
                raise InputError(f"{spec}: --max-len {max_len} exceeds the model's context "
                                 f"n_ctx={subject.model.cfg.n_ctx}.")
            subject.max_seq_len = max_len
        return subject
    source = load_program(spec)
    vocab = parse_vocab(vocab_text, source.vocab) if vocab_text is not None else None
    return compile_subject(source, vocab, max_len, **options)


def _is_library_name(spec: str) -> bool:
    from rasp.lib import PROGRAMS

    return spec in PROGRAMS
