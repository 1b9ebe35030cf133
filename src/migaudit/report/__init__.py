"""Reports of an `AuditResult`: text (rich), json, junit, markdown, html.

Each format is one module with `render(result) -> str`; `render(result, fmt)` picks it.
"""

from __future__ import annotations

import importlib

from ..errors import UsageError
from ..result import AuditResult

FORMATS = ("text", "json", "junit", "markdown", "html")


def render(result: AuditResult, fmt: str = "text", **options: object) -> str:
    """The report of `result` in format `fmt` as a string."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown report format {fmt!r}", expected=" | ".join(FORMATS))
    if fmt == "json":
        return result.to_json() + "\n"
    module = importlib.import_module(f"{__name__}.{fmt}")
    return module.render(result, **options)
