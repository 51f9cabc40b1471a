"""Errors that reach the user as one clear line.

Every error a user can cause (a bad file, a bad parameter, a missing reference) is raised as a
subclass of :class:`WebbflowError`; the command-line tools print ``str(error)`` on one line and
exit with a non-zero status instead of showing a traceback.
"""

from __future__ import annotations


class WebbflowError(Exception):
    """Base class of errors meant for the user (printed as one line, exit status 1)."""

    exit_code = 1

    def __str__(self) -> str:
        return " ".join(str(a) for a in self.args).replace("\n", " ")


class InputError(WebbflowError, ValueError):
    """An input file or model cannot be used: ``"<file>: <problem>"``."""


class ParameterError(WebbflowError, ValueError):
    """An unknown step, unknown parameter, or a value of the wrong type or out of range."""


class ReferenceError_(WebbflowError, LookupError):
    """A reference file cannot be selected, read, or does not match the science data."""


class ConfigError(WebbflowError, ValueError):
    """The workflow configuration is invalid."""


def input_error(path: object, problem: str) -> InputError:
    """Build the canonical one-line input error ``"<path>: <problem>"``."""
    return InputError(f"{path}: {problem}")
