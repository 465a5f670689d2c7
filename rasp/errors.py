"""Exceptions raised by the rasp package."""


class RASPError(ValueError):
    """A user-caused problem with a RASP program or its input.

    A ValueError, as tracr raises for the same problems (e.g. a ConstantSOp applied to an
    input of another length), so tracr code's `except ValueError` catches it."""


class RASPSyntaxError(RASPError):
    """A textual RASP program that does not parse or run; carries `.line` and `.column` (1-based).

    `incomplete` is True when the text ended before the statement did (the REPL then reads
    another line instead of reporting an error).
    """

    def __init__(self, message: str, line: int, column: int, incomplete: bool = False):
        super().__init__(f"line {line}, column {column}: {message}")
        self.line = line
        self.column = column
        self.incomplete = incomplete
