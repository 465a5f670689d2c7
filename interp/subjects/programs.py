"""RASP programs by name: a `rasp.lib` library program, a `.py` file defining `program` (and
optionally `vocab`, `max_seq_len`), or a textual RASP file (UTF-8). Which of these a name
means is the resolver's decision (interp.subjects.resolver); this module loads one."""

from __future__ import annotations

import runpy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interp.errors import InputError
from interp.subjects.text import Sampler


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
def library_program(name: str) -> ProgramSource:
    """A `rasp.lib` program with its default vocabulary, length and input sampler."""
    from rasp.lib import PROGRAMS

    entry = PROGRAMS[name]
    return ProgramSource(entry.build(), name, list(entry.vocab), entry.max_seq_len, name)


def program_file(path: Path, output: str | None = None, allow_outside: bool = False) -> ProgramSource:
    """A `.py` file (defining `program`) or a textual RASP file (whose `load`s resolve next to
    it, and outside the working tree only with `allow_outside`)."""
    if path.suffix == ".py":
        if output is not None:
            raise InputError(f"--output {output!r} picks an s-op of a textual RASP file; {path} is "
                             "not one (leave --output out).")
        return _load_python_program(path)
    import rasp

    return ProgramSource(rasp.parse_file(path, output=output, allow_outside=allow_outside), str(path))


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
