"""Why a rule checked nothing: a rule is never silently not applied.

A rule applies to a table when the table has the rule's dimension and members. A rule that
applied to no table of a release is reported in every format with the nearest miss (the
table that lacked the fewest of its members), so a misspelt member or a rule meant for other
tables shows up instead of passing quietly.
"""

from __future__ import annotations

from dataclasses import dataclass

from migaudit.engine.dense import Outcome
from migaudit.model.cube import Cube
from migaudit.rules.ruleset import Rule, RuleSet


@dataclass(frozen=True)
class NotApplied:
    rule: str
    why: str

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "why": self.why}


def not_applied(ruleset: RuleSet, outcomes: list[Outcome], cubes: list[Cube]) -> list[NotApplied]:
    """The rules of `ruleset` with no outcome on any table, each with the nearest miss."""
    applied = {o.rule.id for o in outcomes}
    return [NotApplied(r.id, why_not(r, cubes)) for r in ruleset if r.id not in applied]


def why_not(rule: Rule, cubes: list[Cube]) -> str:
    """The nearest miss of `rule` over `cubes`, in words."""
    if not cubes:
        return "no table was audited"
    dim = rule.along or "measure"
    with_axis = [(c, ax) for c in cubes if (ax := c.axis(dim)) is not None]
    if not with_axis:
        return f"no table has a {dim} dimension"
    members = [m for m in rule.members if m not in rule.if_missing]
    if rule.kind in ("identity", "conservation") and members:
        lacking, cube, axis = min(((sorted(m for m in members if c.find(ax, m) is None), c, ax)
                                   for c, ax in with_axis), key=lambda miss: len(miss[0]))
        if lacking:
            return (f"no table has all of {', '.join(members)} on its {dim} dimension; nearest: "
                    f"table {cube.table.id} lacks {', '.join(lacking)}")
        present = [m for m in rule.when_absent if cube.find(axis, m) is not None]
        if present:
            return f"the tables with its members also have {', '.join(present)} (when_absent)"
        if rule.kind == "conservation":
            return f"no table with its members covers every {rule.sum_over}"
        return "its conditions (when/only/exclude, or a previous period for [t-1]) match no cell"
    if rule.kind == "hierarchy":
        return f"no table shows a parent with its children on the {dim} dimension"
    return "no table has the cells it checks (its conditions match no cell)"
