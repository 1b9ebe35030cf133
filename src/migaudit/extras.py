"""Optional packages and the extra that installs each.

pandera, Great Expectations, hypothesis and pyspark are optional: a missing one is a user
error that names the extra to install (`pip install 'migaudit[gx]'`), never a traceback.
"""

from __future__ import annotations

from importlib.util import find_spec

from migaudit.errors import MigauditError

#: extra name → (importable module, what needs it)
EXTRAS: dict[str, tuple[str, str]] = {
    "pandera": ("pandera", "the pandera backend"),
    "gx": ("great_expectations", "the Great Expectations backend"),
    "testing": ("hypothesis", "migaudit.backends.testing's strategies"),
    "spark": ("pyspark", "the Spark engine"),
}


class MissingExtra(MigauditError, ImportError):
    """An optional package is not installed: names the extra that brings it."""


def missing(extra: str) -> MissingExtra:
    """The error for a missing optional package of `extra` (raise it from the ImportError)."""
    module, what = EXTRAS[extra]
    return MissingExtra(f"{what} needs the optional package {module!r}, which is not installed",
                        expected=f"pip install 'migaudit[{extra}]'")


def require(extra: str) -> None:
    """Raise MissingExtra unless the optional package of `extra` can be imported."""
    if find_spec(EXTRAS[extra][0]) is None:
        raise missing(extra)
