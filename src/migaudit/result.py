"""What an audit found: per rule and table counts, violations, and a verdict.

Mirrors R's validate: `summary()` (one row per rule and table: checked, passed, failed,
skipped), `violations` (one row per failing instance), `ok`. `to_dict()` is the JSON
contract documented in docs/json-report.md.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from migaudit import __version__
from migaudit.engine.dense import Outcome, Violation
from migaudit.model.table import Table

if TYPE_CHECKING:  # pandas loads on first use of a frame
    import pandas as pd

SEVERITY_RANK = {"info": 1, "warning": 2, "error": 3}


@dataclass
class AuditResult:
    tables: list[Table]
    outcomes: list[Outcome]
    families: dict[str, str] = field(default_factory=dict)
    #: files in a release folder that hold no table, with the reason
    ignored: list[tuple[str, str]] = field(default_factory=list)
    #: rules that applied to no table, each with why (`applicability.NotApplied`)
    not_applied: list[Any] = field(default_factory=list)
    #: messages about the audit itself, not findings: an `accept` entry that matches nothing,
    #: a limit the audit met (violations counted but not itemised): nothing is skipped silently
    warnings: list[str] = field(default_factory=list)
    #: suppressed cells (`:`) and the range their value must lie in, from localization
    intervals: list[dict[str, Any]] = field(default_factory=list)

    @property
    def violation_list(self) -> list[Violation]:
        return [v for o in self.outcomes for v in o.violations]

    @property
    def violations(self) -> pd.DataFrame:
        import pandas as pd

        rows = [
            {
                "rule": v.rule, "severity": v.severity, "table": v.table,
                "where": v.where, "expected": v.expected, "actual": v.actual,
                "imbalance": v.imbalance, "tolerance": v.tolerance, "message": v.message,
                "other": v.other, "suspects": v.suspects,
            }
            for v in self.violation_list
        ]
        cols = ["rule", "severity", "table", "where", "expected", "actual", "imbalance", "tolerance",
                "message", "other", "suspects"]
        return pd.DataFrame(rows, columns=cols)

    def summary(self) -> pd.DataFrame:
        import pandas as pd

        rows = [
            {"rule": o.rule.id, "table": o.table, "kind": o.rule.kind, "severity": o.rule.severity,
             "checked": o.checked, "passed": o.passed, "failed": o.failed, "skipped": o.skipped,
             "assumed": o.assumed}
            for o in self.outcomes
        ]
        return pd.DataFrame(rows, columns=["rule", "table", "kind", "severity", "checked", "passed", "failed", "skipped",
                                           "assumed"])

    def count(self, severity: str) -> int:
        return sum(1 for v in self.violation_list if v.severity == severity)

    @property
    def ok(self) -> bool:
        """No violation of severity error."""
        return self.count("error") == 0

    def worst(self) -> str | None:
        ranks = [SEVERITY_RANK[v.severity] for v in self.violation_list]
        if not ranks:
            return None
        return {r: s for s, r in SEVERITY_RANK.items()}[max(ranks)]

    def fails(self, fail_on: str) -> bool:
        """True when some violation is at or above `fail_on` (error|warning|info|never)."""
        if fail_on == "never":
            return False
        worst = self.worst()
        return worst is not None and SEVERITY_RANK[worst] >= SEVERITY_RANK[fail_on]

    def to_dict(self) -> dict[str, Any]:
        return {
            "migaudit": __version__,
            "tables": [
                {"id": t.id, "title": t.title, "source": t.source,
                 "family": self.families.get(t.id), "cells": t.size, "notes": list(t.notes)}
                for t in self.tables
            ],
            "rules": [
                {"id": o.rule.id, "kind": o.rule.kind, "table": o.table, "severity": o.rule.severity, "checked": o.checked,
                 "passed": o.passed, "failed": o.failed, "skipped": o.skipped, "assumed": o.assumed}
                for o in self.outcomes
            ],
            "violations": [_violation_dict(v) for v in self.violation_list],
            "not_applied": [n.to_dict() for n in self.not_applied],
            "warnings": list(self.warnings),
            "intervals": self.intervals,
            "summary": {
                "tables": len(self.tables),
                "cells": sum(t.size for t in self.tables),
                "rules": len({o.rule.id for o in self.outcomes}),
                "checked": sum(o.checked for o in self.outcomes),
                "assumed": sum(o.assumed for o in self.outcomes),
                "errors": self.count("error"),
                "warnings": self.count("warning"),
                "infos": self.count("info"),
            },
        }

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)


def _num(x: float) -> float | int | None:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return int(x) if float(x).is_integer() else float(x)


def _violation_dict(v: Violation) -> dict[str, Any]:
    where = dict(v.where)
    codes = {k: c for k, c in v.codes.items() if c != where.get(k)}
    out: dict[str, Any] = {
        "rule": v.rule, "severity": v.severity, "table": v.table, "where": where,
        "expected": _num(v.expected), "actual": _num(v.actual), "imbalance": _num(v.imbalance),
        "tolerance": _num(v.tolerance), "message": v.message,
    }
    if codes:
        out["codes"] = codes
    if getattr(v, "bound", ""):  # a bound has a limit, not an expected value
        out["bound"], out["limit"], out["expected"] = v.bound, out["expected"], None
    if v.other is not None:
        out["other"] = v.other
    out["suspects"] = v.suspects
    if v.accepted:
        out["accepted"] = v.accepted
    ties = sorted({s["tie_size"] for s in v.suspects if "tie_size" in s})
    if ties:
        out["tie_size"] = ties[0] if len(ties) == 1 else ties
        alternatives: dict[int, list[dict[str, Any]]] = {}
        for s in v.suspects:
            alternatives.setdefault(s.get("alternative", 0), []).append(s)
        out["alternatives"] = list(alternatives.values())
    return out
