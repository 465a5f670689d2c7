"""Argument types shared by every subcommand, and a parser whose mistakes are project errors.

Every numeric flag goes through one of these types, so `--max-len 0`, `--threshold nan` or
`--port -1` are refused by name before any work starts instead of falling back to a
default or producing a meaningless result.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable

from interp.errors import InterpError

MAX_SEED = 2**63 - 1  # torch.Generator.manual_seed refuses anything larger


class UsageError(InterpError, ValueError):
    """A command line that does not parse: unknown flag, missing argument, bad value."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad command line raises UsageError (so `main` reports it like any error)."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _bounded_int(low: int, high: int | None, what: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = _integer(text)
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return value

    parse.__name__ = what  # argparse names the type in some messages
    return parse


MAX_PER_LENGTH = 1000  # analysis inputs per length: more only slows discovery down
MAX_IG_STEPS = 1000  # integrated-gradients steps: beyond this the estimate no longer moves

positive_int = _bounded_int(1, None, "a positive integer")
nonnegative_int = _bounded_int(0, None, "a non-negative integer")
inputs_per_length = _bounded_int(1, MAX_PER_LENGTH, f"from 1 to {MAX_PER_LENGTH}")
ig_step_count = _bounded_int(1, MAX_IG_STEPS, f"from 1 to {MAX_IG_STEPS}")
seed_int = _bounded_int(0, MAX_SEED, f"an integer from 0 to {MAX_SEED}")
port_number = _bounded_int(1, 65535, "a port number from 1 to 65535")


def thread_count(text: str) -> int:
    """Torch threads: 1 up to this machine's core count (more only makes small matmuls wait)."""
    cores = os.cpu_count() or 1
    return _bounded_int(1, cores, f"from 1 to {cores} (this machine's cores)")(text)


def finite_float(text: str) -> float:
    """A real number; nan and inf are refused."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def nonnegative_float(text: str) -> float:
    """A finite number >= 0 (thresholds, cut-offs)."""
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    return value
