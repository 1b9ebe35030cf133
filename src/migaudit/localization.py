"""Which cell is most likely wrong: the smallest change that makes the failing checks pass.

In a two-way table a wrong interior cell breaks both its row sum and its column sum; the
cell to name is the one at the crossing, not the whole row. For each table with errors
this module takes the cells of the failing rule instances, ranks them by how many
failures one consistent change of that cell would explain, and tries the best few: apply
the change, re-run every rule on the table, keep the candidates that leave the fewest
failures (a change that would break a check that passes now is not a fix). Repeats for
tables with several errors. Each violation whose instance contains a suspect gets it in
`suspects`, with the value that would make the checks pass.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace

import numpy as np

from .cube import Cube
from .engine import Violation, evaluate
from .result import AuditResult
from .rules import RuleSet

#: how many candidate cells are re-checked per round, and how many rounds (errors) at most
CANDIDATES = 6
ROUNDS = 5
#: tables with more failing instances than this are not localized (the report says so)
MAX_FAILURES = 200


def _failing(cube: Cube, rules: RuleSet) -> list[Violation]:
    out = []
    for rule in rules:
        o = evaluate(rule, cube, errors_only=True)
        if o is not None:
            out += [v for v in o.violations if v.severity in ("error", "warning")]
    return out


def _candidates(failures: list[Violation]) -> list[tuple[tuple[int, ...], float, int]]:
    """(cell, change, failures explained) for cells whose one change explains most failures."""
    proposals: dict[tuple[int, ...], Counter[float]] = defaultdict(Counter)
    for v in failures:
        for _, idx, coef in v.cells:
            if coef:
                proposals[idx][round(-v.imbalance / coef, 9)] += 1
    ranked = []
    for idx, deltas in proposals.items():
        delta, n = deltas.most_common(1)[0]
        ranked.append((idx, delta, n))
    ranked.sort(key=lambda c: -c[2])
    return ranked


def localize_cube(cube: Cube, rules: RuleSet) -> list[dict]:
    """Suspect cells of one cube: [{"index", "actual", "suggested"}], best first."""
    suspects: list[dict] = []
    values = cube.values.copy()
    work = replace(cube, values=values)
    failures = _failing(work, rules)
    for _ in range(ROUNDS):
        if not failures or len(failures) > MAX_FAILURES:
            break
        best: list[tuple[int, tuple[int, ...], float, list[Violation]]] = []
        for idx, delta, _n in _candidates(failures)[:CANDIDATES]:
            if np.isnan(values[idx]):
                continue
            values[idx] += delta
            after = _failing(work, rules)
            values[idx] -= delta
            best.append((len(after), idx, delta, after))
        if not best:
            break
        best.sort(key=lambda b: b[0])
        remaining, idx, delta, after = best[0]
        if remaining >= len(failures):
            break  # no single change helps: leave the rest unexplained
        ties = [b for b in best if b[0] == remaining]
        for _, tidx, tdelta, _ in ties[:3]:
            suspects.append({"index": tidx, "actual": float(cube.values[tidx]),
                             "suggested": float(cube.values[tidx] + tdelta), "tied": len(ties) > 1})
        values[idx] += delta
        failures = after
    return suspects


def localize(result: AuditResult, cubes: list[Cube], rules: RuleSet) -> None:
    """Fill `suspects` on the violations of `result` (errors and warnings within tables)."""
    by_table = {c.table.id: c for c in cubes}
    tables = {v.table for v in result.violation_list if v.severity in ("error", "warning") and v.other is None}
    for tid in tables:
        cube = by_table.get(tid)
        if cube is None:
            continue
        suspects = localize_cube(cube, rules)
        for s in suspects:
            where, _ = cube.where(s["index"])
            entry = {"table": tid, "where": where, "actual": s["actual"], "suggested": s["suggested"]}
            for v in result.violation_list:
                if v.table == tid and any(idx == s["index"] for _, idx, _ in v.cells):
                    v.suspects.append(entry)
