"""Reports of an `AuditResult`: text (rich), json, junit, markdown, html.

Each format is one module with `render(result, **options) -> str`; `render(result, fmt)` picks
it. Every format leads with the verdict and the counts, and lists failures first.
"""

from __future__ import annotations

import importlib

from migaudit.errors import UsageError
from migaudit.result import AuditResult

FORMATS = ("text", "json", "junit", "markdown", "html")


def render(result: AuditResult, fmt: str = "text", **options: object) -> str:
    """The report of `result` in format `fmt` as a string."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown report format {fmt!r}", expected=" | ".join(FORMATS))
    if fmt == "json":
        return _json(result) + "\n"
    module = importlib.import_module(f"{__name__}.{fmt}")
    return module.render(result, **options)


def _json(result: AuditResult) -> str:
    """`to_dict()` with `summary` second, so a reader of the file sees the counts first.

    Key order means nothing to a JSON parser: the contract (docs/json-report.md) is unchanged.
    """
    import json

    d = result.to_dict()
    ordered = {"migaudit": d["migaudit"], "summary": d["summary"], **d}
    return json.dumps(ordered, ensure_ascii=False, indent=1)
