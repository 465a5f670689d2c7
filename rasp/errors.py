"""Exceptions raised by the rasp package."""


class RASPError(Exception):
    """A user-caused problem with a RASP program or its input."""


class RASPSyntaxError(RASPError):
    """A textual RASP program that does not parse; carries `.line` and `.column` (1-based)."""

    def __init__(self, message: str, line: int, column: int):
        super().__init__(f"line {line}, column {column}: {message}")
        self.line = line
        self.column = column
