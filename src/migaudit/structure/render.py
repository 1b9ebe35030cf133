"""The inferred structure for people: a tree per dimension (`migaudit read`), rules (`suggest`)."""

from __future__ import annotations

import re

from migaudit.rules.ruleset import Group, Rule
from migaudit.structure.infer import DimensionStructure, Structure

#: at most this many categories are drawn per dimension
MAX_LINES = 40


def _parents(d: DimensionStructure) -> dict[int, int]:
    """child → parent: an aggregate's own members first, the total's parts after."""
    out: dict[int, int] = {}
    for g in sorted(d.groups, key=lambda g: len(g.children)):
        for c in g.children:
            out.setdefault(c, g.parent)
    return out


def _draw(d: DimensionStructure, i: int, depth: int, kids: dict[int | None, list[int]],
          lines: list[str], budget: list[int]) -> None:
    if budget[0] <= 0:
        return
    c = d.categories[i]
    g = next((g for g in d.groups if g.parent == i), None)
    rel = ""
    if g is not None:
        rel = f" = Σ {len(g.children)}" if g.op == "==" else f" ≥ Σ {len(g.children)} (bound: {g.reason})"
    why = "; ".join(c.evidence)
    lines.append(f"  {'  ' * depth}{'└ ' if depth else ''}{c.label}  [{c.role}{rel}]  {why}".rstrip())
    budget[0] -= 1
    for k in kids.get(i, []):
        _draw(d, k, depth + 1, kids, lines, budget)


def tree_lines(structure: Structure, max_lines: int = MAX_LINES) -> list[str]:
    """Text lines: each dimension with its role and a tree of categories, role and evidence."""
    lines: list[str] = []
    for d in structure.dimensions:
        if d.role == "time":
            continue
        if d.role == "measure" and all(c.role == "part" for c in d.categories):
            continue
        lines.append(f"{d.name} ({d.role or 'no role'})")
        parents = _parents(d)
        kids: dict[int | None, list[int]] = {}
        for c in d.categories:
            kids.setdefault(parents.get(c.index), []).append(c.index)
        budget = [max_lines]
        for root in kids.get(None, []):
            _draw(d, root, 0, kids, lines, budget)
        if budget[0] <= 0 and len(d.categories) > max_lines:
            lines.append(f"  … {len(d.categories) - max_lines} more categories")
        if d.note:
            lines.append(f"  ! {d.note}")
    return lines


def _slug(text: str) -> str:
    return re.sub(r"\W+", "_", text.casefold()).strip("_")[:40] or "x"


def structure_rules(structure: Structure) -> list[Rule]:
    """One hierarchy rule per dimension with inferred groups: explicit, so a user can correct them."""
    out = []
    for d in structure.dimensions:
        if not d.groups or d.role in ("time", "measure"):
            continue
        labels = [c.label for c in d.categories]
        groups = tuple(Group(labels[g.parent], tuple(labels[i] for i in g.children), g.op == "==")
                       for g in d.groups)
        evidence = "; ".join(dict.fromkeys(g.evidence for g in d.groups))
        out.append(Rule(id=f"structure_{_slug(d.name)}", kind="hierarchy", along=d.name, groups=groups,
                        family="suggested",
                        description=f"{d.name}: the inferred structure ({evidence}); correct it if it is wrong"))
    return out
