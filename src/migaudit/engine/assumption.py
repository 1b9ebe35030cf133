"""Identities a reader used to read a row are assumed there, not checked.

The web-text reader chooses between the possible splits of a row whose cell separators were
lost by the table's own identities (net = in − out): on that row the identity holds by
construction (`Table.meta["assumed"]`). Counting it as passed would claim a check that never
happened, so those instances move from `passed` to `assumed` (and out of `checked`).
"""

from __future__ import annotations

import numpy as np

from migaudit.engine.dense import Outcome, _full_index, _result_axes, evaluate, identity_plan
from migaudit.model.cube import Cube


def mark_assumed(cube: Cube, outcomes: list[Outcome]) -> None:
    """Move the passing instances of identities the reader relied on to `Outcome.assumed`."""
    assumed = cube.table.meta.get("assumed") if cube.table.meta else None
    if not assumed or not cube.dims:
        return
    row_dim = cube.table.dimensions[0].name
    columns_by_row: dict[str, list[set[str]]] = {}
    for a in assumed:
        columns_by_row.setdefault(str(a["row"]), []).append(set(a["columns"]))
    for out in outcomes:
        if out.table != cube.table.id or out.rule.kind != "identity" or not out.passed:
            continue
        n = _assumed_instances(out, cube, row_dim, columns_by_row)
        out.passed -= n
        out.checked -= n
        out.assumed += n


def _assumed_instances(out: Outcome, cube: Cube, row_dim: str,
                       columns_by_row: dict[str, list[set[str]]]) -> int:
    """Passing instances of `out` on a row whose split this rule's cells decided."""
    plan = identity_plan(out.rule, cube)
    if plan is None:
        return 0
    ax, index = plan[0], plan[1]
    bound = {cube.dims[ax].labels[i] for i in index.values() if i is not None}
    rows = {r for r, sets in columns_by_row.items() if any(bound <= cols for cols in sets)}
    if not rows or cube.axis(row_dim) is None:
        return 0
    full = evaluate(out.rule, cube, residuals=True)
    if full is None or full._instances is None:
        return 0
    kept_cube, actual, _expected, applicable, skipped, fail, parts, _tol, _sev = full._instances
    axes = _result_axes(parts)
    passed = np.broadcast_to(applicable, actual.shape) & ~np.broadcast_to(skipped, actual.shape) & ~fail
    n = 0
    for flat in np.flatnonzero(passed):
        _labels, codes = kept_cube.where(_full_index(parts, axes, np.unravel_index(flat, actual.shape)))
        n += codes.get(row_dim) in rows
    return n
