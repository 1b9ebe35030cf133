"""Rules learnt from a trusted table: last year's release teaches this year's audit.

`suggest(table)` proposes rules from the table's structure and keeps those that hold on it:
  - a total row or column along any dimension: total = Σ the other categories (from labels);
  - printed layouts where a subtotal row ("Europe total", "Africa total", ...) is followed by
    its members: one explicit group per subtotal, down to the next subtotal;
  - linear identities among measures: every a = b ± c (and a = b + c + d) that holds in
    every published instance, e.g. net = in − out in a table migaudit has no names for;
  - the shipped rules that apply to the table and pass on it.
A proposal that holds only as a bound (parent ≥ shown parts) is kept with `op: ">="`.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import replace
from typing import Any

import numpy as np
import yaml

from migaudit.engine.dense import evaluate
from migaudit.model.cube import Cube, is_residual_label, is_total_label, norm
from migaudit.model.table import Table
from migaudit.rules.ruleset import Group, Rule, RuleSet, Term, load_rules

_SUBTOTAL = re.compile(r"\btotal\b|\bi alt\b|, turkey included", re.IGNORECASE)


def _holds(rule: Rule, cube: Cube) -> bool:
    out = evaluate(rule, cube)
    return out is not None and out.checked > 0 and out.failed == 0


def _printed_groups(cube: Cube, ax: int) -> list[Group]:
    """Subtotal rows followed by their members, as printed tables lay them out."""
    labels = cube.dims[ax].labels
    heads = [i for i, lab in enumerate(labels) if _SUBTOTAL.search(lab) and not is_total_label(lab)]
    groups = []
    for n, h in enumerate(heads):
        end = heads[n + 1] if n + 1 < len(heads) else len(labels)
        members = [labels[i] for i in range(h + 1, end)]
        # stop at rows that are not members: totals, stateless/unknown after the last residual
        if any(is_residual_label(m) for m in members):
            last = max(i for i, m in enumerate(members) if is_residual_label(m))
            members = members[: last + 1]
        if members:
            groups.append(Group(labels[h], tuple(members)))
    return groups


def _total_rules(cube: Cube, name: str) -> list[Rule]:
    """total = Σ others for the measures where it holds exactly, ≥ where only as a bound."""
    base = Rule(id=f"suggested_{_slug(name)}_total", kind="hierarchy", along=name, from_labels=True,
                family="suggested", description=f"{name}: the total is the sum of the other categories")
    out = evaluate(base, cube)
    if out is None or out.checked == 0:
        return []
    m_ax = cube.axis("measure")
    if out.failed == 0 or m_ax is None:
        return [base] if out.failed == 0 else []
    measure = cube.dims[m_ax].name
    failing = sorted({v.codes[measure] for v in out.violations})
    exact = Rule(**{**base.__dict__, "exclude": {"measure": tuple(failing)}})
    bound = Rule(**{**base.__dict__, "id": base.id + "_bound", "op": ">=", "only": {"measure": tuple(failing)},
                    "description": f"{name}: the total is at least the sum of the others (they leave something out)"})
    return [r for r in (exact, bound) if _holds(r, cube)]


def _identities(cube: Cube) -> list[Rule]:
    m_ax = cube.axis("measure")
    if m_ax is None or len(cube.dims[m_ax]) < 3:
        return []
    vals = np.moveaxis(cube.values, m_ax, 0)
    names = cube.canon[m_ax]
    n = len(names)
    if n > 16:
        return []
    found: list[Rule] = []
    seen: set[frozenset] = set()
    published = ~np.isnan(vals)
    for a, b, c in itertools.permutations(range(n), 3):
        both = published[a] & published[b] & published[c]
        if both.sum() < 2:
            continue
        for sign, op in ((1, "+"), (-1, "-")):
            if op == "+" and b > c:
                continue
            key = frozenset({(a, 1), (b, -1), (c, -sign)})
            if key in seen:
                continue
            if np.array_equal(vals[a][both], vals[b][both] + sign * vals[c][both]):
                seen.add(key)
                seen.add(frozenset((i, -k) for i, k in key))
                found.append(Rule(
                    id=f"suggested_{_slug(names[a])}", kind="identity", family="suggested",
                    description=f"{names[a]} = {names[b]} {op} {names[c]} held in every published cell",
                    lhs=(Term(1.0, names[a]),), rhs=(Term(1.0, names[b]), Term(float(sign), names[c])),
                ))
    return found


def _scoped(rule: Rule, cube: Cube) -> Rule:
    """A learnt rule holds for the measures it was learnt on: `only` those, so a region total
    learnt on immigration is not applied to domestic moves (which do not add up by region)."""
    m_ax = cube.axis("measure")
    if m_ax is None or rule.along in ("measure", cube.dims[m_ax].name) or "measure" in rule.only:
        return rule
    excluded = set(rule.exclude.get("measure", ()))
    measures = tuple(m for m in dict.fromkeys(cube.canon[m_ax]) if m not in excluded)
    return replace(rule, only={**rule.only, "measure": measures},
                   exclude={k: v for k, v in rule.exclude.items() if k != "measure"})


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", norm(text)).strip("_")[:40] or "x"


def suggest(table: Table, rules: RuleSet | None = None) -> RuleSet:
    """The rules that hold on `table` (trusted), as a rule set to audit later tables with."""
    cube = Cube.of(table)
    kept: list[Rule] = []
    for ax, d in enumerate(cube.dims):
        if len(d) < 2 or d.role == "measure" or d.role == "time":
            continue
        name = d.name
        if cube.totals(ax):
            kept += _total_rules(cube, name)
        groups = _printed_groups(cube, ax)
        good = []
        for g in groups:
            r = Rule(id="probe", kind="hierarchy", along=name, groups=(g,))
            if _holds(r, cube):
                good.append(g)
        if good:
            kept.append(Rule(id=f"suggested_{_slug(name)}_subtotals", kind="hierarchy", along=name,
                             groups=tuple(good), family="suggested",
                             description=f"{name}: each subtotal is the sum of the rows printed below it"))
    kept += [r for r in _identities(cube) if _holds(r, cube)]
    from migaudit.structure.render import structure_rules

    kept += [r for r in structure_rules(cube.structure) if _holds(r, cube)]
    kept = [_scoped(r, cube) for r in kept]
    ids: dict[str, int] = {}
    unique = []
    for r in kept:
        ids[r.id] = ids.get(r.id, 0) + 1
        unique.append(r if ids[r.id] == 1 else Rule(**{**r.__dict__, "id": f"{r.id}_{ids[r.id]}"}))
    shipped = rules if rules is not None else load_rules()
    unique += [r for r in shipped if _holds(r, cube)]
    return RuleSet(unique, {"suggested": f"rules that held on {table.id}"})


def to_yaml(ruleset: RuleSet, family: str, description: str) -> str:
    """A rule file in the format of expectations/*.yaml."""
    docs: list[dict[str, Any]] = []
    for r in ruleset:
        d: dict[str, Any] = {"id": r.id, "description": r.description, "kind": r.kind, "severity": r.severity}
        if r.kind in ("identity", "conservation"):
            d["expr"] = r.expression
            if r.when_absent:
                d["when_absent"] = list(r.when_absent)
            if r.if_missing:
                d["if_missing"] = dict(r.if_missing)
            if r.sum_over:
                d["sum_over"] = r.sum_over
        if r.kind == "hierarchy":
            d["along"] = r.along
            if r.from_labels:
                d["from_labels"] = True
            elif r.classification:
                d["classification"] = r.classification
            else:
                d["groups"] = [{"parent": g.parent, "children": list(g.children),
                                **({} if g.complete else {"complete": False})} for g in r.groups]
            if r.op != "==":
                d["op"] = r.op
        if r.kind == "sign":
            d["integer"] = r.integer
        for key in ("when", "only", "exclude"):
            value = getattr(r, key)
            if value:
                d[key] = {k: list(v) for k, v in value.items()}
        if r.tolerance:
            d["tolerance"] = r.tolerance
        docs.append(d)
    return yaml.safe_dump({"family": family, "description": description, "rules": docs},
                          sort_keys=False, allow_unicode=True, width=100)
