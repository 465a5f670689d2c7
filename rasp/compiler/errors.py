"""Errors and warnings of the RASP compiler."""

from __future__ import annotations

from interp.errors import InterpError
from rasp.errors import RASPError


class CompileError(RASPError, InterpError):
    """A program the compiler cannot turn into weights; the message names the node and a fix."""


class UnsupportedProgramError(CompileError, NotImplementedError):
    """A CompileError raised through tracr's API, which raises NotImplementedError for programs
    it cannot compile; still a CompileError (and so a ValueError)."""


class CompileWarning(UserWarning):
    """The compiled model may differ from the interpreter; the message says where and why."""


def node_error(label: str, reason: str, workaround: str) -> CompileError:
    """A CompileError with the standard 'node: reason; workaround' message."""
    return CompileError(f"cannot compile node '{label}': {reason}; workaround: {workaround}")
