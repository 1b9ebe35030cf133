"""Errors for user mistakes: each names the file, the place in it and what was expected.

The CLI turns any `MigauditError` into one line on stderr and exit code 2; anything else
is a bug in migaudit and keeps its traceback.
"""

from __future__ import annotations


class MigauditError(Exception):
    """Bad input, bad rules or bad usage: a user error, never a bug."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        where: str | None = None,
        expected: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.where = where
        self.expected = expected
        super().__init__(str(self))

    def __str__(self) -> str:
        place = ":".join(str(p) for p in (self.source, self.where) if p)
        text = f"{place}: {self.message}" if place else self.message
        if self.expected:
            text += f" (expected {self.expected})"
        return " ".join(text.splitlines())  # always one line: the CLI prints exactly one


class ReadError(MigauditError):
    """A data file that cannot be read faithfully."""


class RuleError(MigauditError):
    """A rule file or classification file that is malformed."""


class UsageError(MigauditError):
    """A command or API call with arguments that do not fit."""
