"""Exceptions a user can cause. Each message names the offending thing and the fix."""


class InterpError(Exception):
    """Base class for every error this toolkit raises on purpose."""


class ConfigError(InterpError, ValueError):
    """A model configuration that cannot describe a valid transformer."""


class InputError(InterpError, ValueError):
    """Bad model input: a token outside the vocabulary, an over-long sequence, a wrong shape."""


class CheckpointError(InterpError):
    """A saved model that is missing, corrupt, truncated or not in this project's format."""


class TrainingDiverged(InterpError):
    """A training step whose loss or gradient is not finite: stopped before it changed any weight."""


class StaticExportError(InterpError):
    """A figure that cannot be drawn as a static image here (no Kaleido or no Chromium-based browser)."""
