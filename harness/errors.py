"""The harness's own error family.

Two kinds of trouble exist and must never be confused: the app under test breaking a claim
(a check raises :class:`harness.checks.Failure`, the outcome is ``fail``) and the harness itself
being misused or broken (a :class:`HarnessError`, the outcome is ``error`` or exit code 2).
"""

from __future__ import annotations

__all__ = ["HarnessError", "UsageError", "ScenarioError"]


class HarnessError(Exception):
    """The harness could not do its job: never reported as a verdict on the app."""


class UsageError(HarnessError):
    """Bad input from the user (an unknown name, a malformed option): exit code 2."""


class ScenarioError(UsageError):
    """A scenario file is broken; the message names the file, the field and what was expected."""

    def __init__(self, file: str, field: str, expected: str, seen: object = None, line: int | None = None):
        where = f"{file}:{line}" if line else file
        msg = f"{where}: scenario field {field!r}: expected {expected}"
        if seen is not None:
            msg += f", got {seen!r}"
        super().__init__(msg)
        self.file, self.field, self.expected, self.line = file, field, expected, line
