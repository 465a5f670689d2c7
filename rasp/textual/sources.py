"""Reading .rasp files and resolving `load "name";`: relative to the loading file, never
outside the working tree unless allowed, with a RASPError for every unreadable path."""

from __future__ import annotations

from pathlib import Path

from rasp.errors import RASPError


def read_source(path: str | Path) -> str:
    """The text of a .rasp file, with a RASPError for a missing, non-file or non-UTF-8 path."""
    path = Path(path)
    if path.is_dir():
        raise RASPError(f"{str(path)!r} is a directory, not a .rasp file; give the file's path")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RASPError(f"cannot read {str(path)!r}: {error.strerror or error}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RASPError(
            f"{str(path)!r} is not UTF-8 text (byte {error.start}); save it as UTF-8"
        ) from None


def resolve_load(name: str, loading_dir: Path, roots: list[Path], allow_outside: bool) -> Path:
    """The file `load "name";` means: name(.rasp) next to the loading file, else in the
    working directory; refused outside `roots` unless `allow_outside`."""
    filename = name if name.endswith(".rasp") else name + ".rasp"
    candidates = [loading_dir / filename, Path.cwd() / filename]
    path = next((p for p in candidates if _is_file(p)), None)
    if path is None:
        tried = ", ".join(str(p) for p in dict.fromkeys(candidates))
        raise RASPError(f"could not find file {filename!r} (looked at {tried})")
    resolved = path.resolve()
    if not allow_outside and not any(resolved.is_relative_to(r) for r in roots):
        raise RASPError(
            f"load {name!r} resolves to {resolved}, outside the working tree "
            f"({', '.join(map(str, roots))}); pass allow_outside=True (--allow-outside) to permit it"
        )
    return resolved


def _is_file(path: Path) -> bool:
    """Path.is_file, with a name the OS refuses (too long, NUL byte) as a RASPError, not an OSError."""
    try:
        return path.is_file()
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise RASPError(f"cannot use {path.name[:60]!r}{'...' if len(path.name) > 60 else ''} as a file "
                        f"name: {reason}") from None
