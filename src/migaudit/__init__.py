"""migaudit: audit the consistency of Statistics Norway's population and migration tables.

    import migaudit
    result = migaudit.audit(["release/"])      # files, folders or Tables
    result.summary(); result.violations; result.ok

Heavy pieces (the engine, pandera, Great Expectations) load on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "Table": "migaudit.model.table",
    "Dimension": "migaudit.model.table",
    "read": "migaudit.readers",
    "read_table": "migaudit.readers",
    "MigauditError": "migaudit.errors",
    "ReadError": "migaudit.errors",
    "RuleError": "migaudit.errors",
    "audit": "migaudit.runner",
    "AuditResult": "migaudit.result",
    "RuleSet": "migaudit.rules.ruleset",
    "load_rules": "migaudit.rules.ruleset",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'migaudit' has no attribute {name!r}")
