"""Roles of categories, with their evidence: the step between reading a table and auditing it.

Every category of every dimension gets a role:
  total        the whole of the dimension ("Total", "Yhteensä", code SSS, PX ELIMINATION)
  aggregate    a sum of some other categories ("15-64", "Europe total", a file hierarchy node)
  part         an addend of the total or of an aggregate
  residual     "the rest of", "ellers", "other": a part that closes a group
  selection    "of which", "selected": some of the parts, never all (a bound)
  non_additive a rate, share, average, median or index: never summed
  derived      a category the table computes from others (a change column)
Each aggregate is checked against its own members only; overlapping aggregates are never
summed as parts. Where coverage cannot be known (a period-less table of some counties) the
check is a bound, and the group says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from migaudit.knowledge.classification import label_key
from migaudit.structure.intervals import INF, Interval, exact_cover, parse_age
from migaudit.structure.vocabulary import vocabulary

if TYPE_CHECKING:
    from migaudit.model.cube import Cube
    from migaudit.model.table import Table

ROLES = ("total", "aggregate", "part", "residual", "selection", "non_additive", "derived")


@dataclass(frozen=True)
class Category:
    index: int
    code: str
    label: str
    role: str
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Aggregate:
    """parent = Σ children (op "==") or parent ≥ Σ children (">="), and why we believe it."""

    parent: int
    children: tuple[int, ...]
    op: str
    evidence: str
    reason: str = ""


@dataclass
class DimensionStructure:
    axis: int
    name: str
    role: str | None
    categories: list[Category]
    groups: list[Aggregate] = field(default_factory=list)
    #: why nothing (or only a bound) can be checked along this dimension
    note: str = ""

    @property
    def total(self) -> int | None:
        found = [c.index for c in self.categories if c.role == "total"]
        return found[0] if len(found) == 1 else None

    def checks(self) -> list[tuple[int, list[int], str]]:
        """(parent, children, op) for the engine."""
        return [(g.parent, list(g.children), g.op) for g in self.groups]


@dataclass
class Structure:
    table: str
    dimensions: list[DimensionStructure]

    def dimension(self, axis_or_name: int | str) -> DimensionStructure | None:
        for d in self.dimensions:
            if d.axis == axis_or_name or d.name == axis_or_name:
                return d
        return None

    def notes(self) -> list[str]:
        """One line per dimension whose structure could not be (fully) inferred, and per bound."""
        out = []
        for d in self.dimensions:
            if d.note:
                out.append(f"structure: {d.name}: {d.note}")
            for g in d.groups:
                if g.reason:
                    label = d.categories[g.parent].label
                    out.append(f"structure: {d.name}: {label!r} ≥ its {len(g.children)} parts, not =: {g.reason}")
        return out


# --- dimension roles ----------------------------------------------------------------------
def infer_dimension_role(table: Table, axis: int) -> tuple[str | None, str]:
    """The role of a dimension the reader left without one, and the evidence for it.

    The dimension's name in any of the vocabulary's languages, else its labels: age bands,
    the sexes, or the categories of a dated classification (regions, citizenships).
    """
    d = table.dimensions[axis]
    v = vocabulary()
    if (role := v.role_of_name(d.name)) or (d.label and (role := v.role_of_name(d.label))):
        return role, f"dimension name {d.label or d.name!r}"
    labels = [lab for lab, code in zip(d.labels, d.codes, strict=True) if not v.is_total(lab)
              and not (v.is_total_code(code) and parse_age(lab) is None)]
    if len(labels) < 2:
        return None, ""
    ages = sum(parse_age(lab) is not None for lab in labels)
    if ages >= max(2, 0.8 * len(labels)):
        return "age", f"{ages} of {len(labels)} labels are age bands"
    if all(label_key(lab) in v.sex_labels for lab in labels):
        return "sex", "labels are the sexes"
    try:
        from migaudit.knowledge.classification import best_classification
    except ImportError:  # pragma: no cover
        return None, ""
    year = _year_of(table)
    for role in ("region", "citizenship"):
        match = best_classification(labels, role, year)
        if match is not None and match.count >= 2 and match.share >= 0.9:
            return role, f"labels are {role}s of classification {match.classification}"
    return None, ""


def _year_of(table: Table) -> int | None:
    from migaudit.model.periods import parse_period

    for d in table.dimensions:
        if d.role == "time":
            years = [p.year for c in d.codes if (p := parse_period(c))]
            if years:
                return max(years)
    ref = table.meta.get("reference_period")
    p = parse_period(str(ref)) if ref else None
    return p.year if p else None


def inferred_roles(table: Table) -> dict[int, tuple[str | None, str]]:
    """Roles for the dimensions a reader left without one (or read as measures by default)."""
    out: dict[int, tuple[str | None, str]] = {}
    taken = {d.role for d in table.dimensions if d.role}
    for ax, d in enumerate(table.dimensions):
        by_default = d.role == "measure" and _measure_by_default(d)
        if d.role is None or by_default:
            role, why = infer_dimension_role(table, ax)
            if role and role not in taken:
                out[ax] = (role, why)
                taken.add(role)
            elif by_default and len(d) > 2 and _has_total_label(d.labels):
                out[ax] = (None, "no label is a known measure, and one is a total: a classification")
    return out


def _has_total_label(labels: tuple[str, ...]) -> bool:
    from migaudit.model.cube import is_total_label

    v = vocabulary()
    plain = _plain_labels(labels)
    return sum(is_total_label(lab) or v.is_total(lab) for lab in plain) == 1


def _measure_by_default(d) -> bool:  # noqa: ANN001
    """A "contents" axis none of whose labels is a known measure: the reader only guessed."""
    try:
        from migaudit.knowledge.measures import resolve_measure
    except ImportError:  # pragma: no cover
        return False
    v = vocabulary()
    return not any(resolve_measure(lab) or resolve_measure(code) or v.non_additive_word(lab)
                   for lab, code in zip(d.labels, d.codes, strict=True))


# --- categories ---------------------------------------------------------------------------
def infer(cube: Cube) -> Structure:
    """The structure of every dimension of a cube but time."""
    out = Structure(cube.table.id, [infer_dimension(cube, ax) for ax in range(len(cube.dims))])
    _groups_not_summed(cube, out)
    return out


def _groups_not_summed(cube: Cube, s: Structure) -> None:
    """Groups the table shows but no sum can check (an index with its file hierarchy, a table
    without figures) say so: the tree would otherwise promise sums the audit never makes."""
    import numpy as np

    from migaudit.structure.units import units_of

    why = ""
    units = units_of(cube.table)
    measures = [d for d in s.dimensions if d.role == "measure"]
    if (word := units.non_additive) is not None:
        why = f"the table's unit {units.unit!r} is {'an' if word[0] in 'aeiou' else 'a'} {word}: figures that do not add up"
    elif measures and all(c.role == "non_additive" for d in measures for c in d.categories):
        why = "every measure is a rate, share, average or index: figures that do not add up"
    elif any(d.categories and all(c.role == "non_additive" for c in d.categories) for d in s.dimensions):
        d = next(d for d in s.dimensions if d.categories and all(c.role == "non_additive" for c in d.categories))
        why = f"every category of {d.name!r} is a rate, share, average or index: figures that do not add up"
    elif not np.any(~np.isnan(cube.values)):
        why = "the table holds no figures"
    if not why:
        return
    for d in s.dimensions:
        if d.groups and d.role != "measure":
            d.note = "; ".join(x for x in (d.note, f"{why}, so these groups are shown but never checked") if x)


def infer_dimension(cube: Cube, ax: int) -> DimensionStructure:
    d = cube.dims[ax]
    v = vocabulary()
    n = len(d)
    roles = ["part"] * n
    ev: list[list[str]] = [[] for _ in range(n)]
    out = DimensionStructure(ax, d.name, d.role, [])
    if d.role == "time":
        out.categories = [Category(i, d.codes[i], d.labels[i], "part", ("a period",)) for i in range(n)]
        return out

    def mark(i: int, role: str, why: str) -> None:
        roles[i] = role
        ev[i].append(why)

    derived = {i for code in cube.derived(ax) if (i := cube.find(ax, code)) is not None}
    for i in derived:
        mark(i, "derived", f"the table computes it: {cube.derived(ax).get(d.codes[i], '')}".strip())
    for i in range(n):
        if i in derived:
            continue
        if d.role == "measure":
            if _is_ratio(cube.canon[ax][i]):
                mark(i, "non_additive", f"measure {cube.canon[ax][i]} is a rate or share")
                continue
            if (why := _ratio_unit(cube, d.name, d.codes[i])) is not None:
                mark(i, "non_additive", why)
                continue
        if (w := v.non_additive_word(d.labels[i])) is not None:
            mark(i, "non_additive", f"label word {w!r}")
    for i in cube.selections(ax):
        if roles[i] == "part":
            mark(i, "selection", "the reader found it under an 'of which'/'selected' heading")
    for i in range(n):
        if roles[i] == "part" and v.is_selection(d.labels[i]):
            mark(i, "selection", f"label {d.labels[i]!r} (of which / selected)")
    if d.role == "measure":
        _spanning_groups(d.labels, roles, ev, out)
        out.categories = [Category(i, d.codes[i], d.labels[i], roles[i], tuple(ev[i])) for i in range(n)]
        return out

    hier = (cube.table.meta.get("hierarchies") or {}).get(d.name)
    if hier:
        _file_hierarchy(cube, ax, hier, roles, ev, out)
    else:
        total = _total(cube, ax, roles, ev)
        if d.role == "age" or (d.role is None and _mostly_ages(d.labels, roles)):
            _age_groups(cube, ax, total, roles, ev, out)
        else:
            country = _country_groups(cube, ax, total, roles, ev, out)
            _printed_groups(cube, ax, total, roles, ev, out, country)
    for i in range(n):
        if roles[i] == "part" and v.is_residual(d.labels[i]):
            mark(i, "residual", f"label {d.labels[i]!r} (the rest of a group)")
        if not ev[i] and roles[i] == "part":
            parent = next((g.parent for g in out.groups if i in g.children), None)
            ev[i].append(f"member of {d.labels[parent]!r}" if parent is not None else "not in any group")
    out.categories = [Category(i, d.codes[i], d.labels[i], roles[i], tuple(ev[i])) for i in range(n)]
    if not out.groups and not out.note:
        if n < 2:
            pass
        elif out.total is None:
            out.note = (f"no total or aggregate recognised among {_some(d.labels)}: "
                        "its categories are not checked against a whole")
    return out


def _spanning_groups(labels: tuple[str, ...], roles: list[str], ev: list[list[str]],
                     out: DimensionStructure) -> None:
    """Columns under one spanning header ("Innvandrerbefolkningen: I alt, Norden, …", "Innvandring:
    I alt, samme statsborgerskap, annet statsborgerskap"): the header's total is the sum of the
    columns beside it. The reader joins header and column as "Header, column"."""
    v = vocabulary()
    by_head: dict[str, list[int]] = {}
    for i, lab in enumerate(labels):
        if ", " in lab and roles[i] == "part":
            by_head.setdefault(lab.split(", ", 1)[0], []).append(i)
    for head, members in by_head.items():
        totals = [i for i in members if v.is_total(labels[i].split(", ", 1)[1])]
        parts = [i for i in members if i not in totals]
        if len(totals) != 1 or len(parts) < 2:
            continue
        t = totals[0]
        roles[t] = "aggregate"
        ev[t].append(f"spanning header {head!r}: its total over the {len(parts)} columns beside it")
        for i in parts:
            ev[i].append(f"under spanning header {head!r}")
        out.groups.append(Aggregate(t, tuple(parts), "==", f"spanning header {head!r}"))


def _plain_labels(labels: tuple[str, ...]) -> tuple[str, ...]:
    """Labels without a prefix they all share ("Sivilstand, I alt" → "I alt"): a spanning header."""
    if len(labels) < 2 or not all(", " in lab for lab in labels):
        return labels
    heads = {lab.split(", ", 1)[0] for lab in labels}
    return tuple(lab.split(", ", 1)[1] for lab in labels) if len(heads) == 1 else labels


def _some(labels: tuple[str, ...]) -> str:
    shown = ", ".join(repr(x) for x in labels[:3])
    return shown + (f" (+{len(labels) - 3})" if len(labels) > 3 else "")


def _is_ratio(name: str) -> bool:
    try:
        from migaudit.knowledge.measures import measure_info

        return measure_info(name.split("{")[0]).kind == "ratio"
    except (ImportError, KeyError):
        return False


def _ratio_unit(cube: Cube, dim: str, code: str) -> str | None:
    """A declared unit that does not add up: JSON-stat `type: ratio`, per cent, an index."""
    v = vocabulary()
    unit = ((cube.table.meta.get("units") or {}).get(dim) or {}).get(code)
    if isinstance(unit, dict):
        if str(unit.get("type", "")).lower() == "ratio":
            return "unit type 'ratio' in the file"
        for key in ("base", "label", "symbol", "type"):  # ONS writes "type": "Index"
            if v.non_additive_word(str(unit.get(key, ""))) is not None:
                return f"unit {unit.get(key)!r} in the file"
    measures = [d for d in cube.dims if d.role == "measure"]
    if cube.table.unit and len(measures) == 1 and len(measures[0]) == 1:
        if v.non_additive_word(cube.table.unit) is not None:
            return f"table unit {cube.table.unit!r}"
    return None


def _mostly_ages(labels: tuple[str, ...], roles: list[str]) -> bool:
    cand = [lab for lab, r in zip(labels, roles, strict=True) if r == "part"]
    return len(cand) >= 2 and sum(parse_age(x) is not None for x in cand) >= 0.8 * len(cand)


def _total(cube: Cube, ax: int, roles: list[str], ev: list[list[str]]) -> int | None:
    """The one category that is the whole of the dimension, from the strongest evidence."""
    from migaudit.model.cube import is_total_label

    d = cube.dims[ax]
    v = vocabulary()
    free = [i for i in range(len(d)) if roles[i] == "part"]
    elim = (cube.table.meta.get("elimination") or {}).get(d.name)
    by_elim = [i for i in free if elim and elim not in ("YES", "NO") and label_key(d.labels[i]) == label_key(elim)]
    plain = _plain_labels(d.labels)
    named = {label_key(x) for x in (d.name, d.label or "") if x}
    by_label = [i for i in free if is_total_label(plain[i]) or v.is_total(plain[i])
                or (named and _stem(plain[i]) in named and _stem(plain[i]) != label_key(plain[i]))]
    by_code = [i for i in free if v.is_total_code(d.codes[i]) and d.codes[i] != d.labels[i]
               and parse_age(d.labels[i]) is None and label_key(d.labels[i]) not in v.sex_labels
               and not _names_a_leaf(cube, ax, d.labels[i])]
    for found, why in ((by_elim, "PX ELIMINATION names it"), (by_label, "label {label!r} (total vocabulary)"),
                       (by_code, "code {code!r} (a total code)")):
        if len(found) == 1:
            i = found[0]
            roles[i] = "total"
            ev[i].append(why.format(label=plain[i], code=d.codes[i]))
            for other, w in ((by_elim, "PX ELIMINATION"), (by_label, "label"), (by_code, f"code {d.codes[i]!r}")):
                if found is not other and i in other:
                    ev[i].append(w)
            return i
        if len(found) > 1:
            return None
    return None


def _names_a_leaf(cube: Cube, ax: int, label: str) -> bool:
    """True when `label` names one country or region of a dated classification (no children).

    SSB's country code of Norway is "000", which the vocabulary also lists as a total code:
    "Norge" is then one citizenship among 275, never their total."""
    role = cube.dims[ax].role
    if role not in ("citizenship", "region"):
        return False
    from migaudit.knowledge.classification import classifications_for

    year = _year_of(cube.table)
    for c in classifications_for(role, year):
        code = c.resolve(label, year)
        if code is not None:
            return not c.children(code, year)
    return False


def _file_hierarchy(cube: Cube, ax: int, hier: dict, roles: list[str], ev: list[list[str]],
                    out: DimensionStructure) -> None:
    """Groups the file itself declares (PX HIERARCHIES, JSON-stat `child`)."""
    d = cube.dims[ax]
    index = {code: i for i, code in enumerate(d.codes)}
    children_all = {str(c) for kids in hier.values() for c in kids}
    for parent, kids in hier.items():
        p = index.get(str(parent))
        present = [index[str(c)] for c in kids if str(c) in index and index[str(c)] != p]
        if p is None or not present:
            continue
        complete = len(present) == len(kids)
        if roles[p] == "part":
            roles[p] = "total" if str(parent) not in children_all else "aggregate"
        ev[p].append(f"file hierarchy: parent of {len(kids)}")
        for c in present:
            if roles[c] == "part":
                ev[c].append(f"file hierarchy: child of {d.codes[p]!r}")
        if complete:
            out.groups.append(Aggregate(p, tuple(present), "==", "file hierarchy"))
        elif len(present) >= 2:
            out.groups.append(Aggregate(p, tuple(present), ">=", "file hierarchy",
                                        f"{len(kids) - len(present)} of its {len(kids)} children are not in the table"))


def _age_groups(cube: Cube, ax: int, total: int | None, roles: list[str], ev: list[list[str]],
                out: DimensionStructure) -> None:
    """Age bands: each band that others tile is an aggregate of them; the total is all ages."""
    d = cube.dims[ax]
    ivs = {i: iv for i in range(len(d)) if roles[i] == "part" and (iv := parse_age(d.labels[i]))}
    others = [i for i in range(len(d)) if roles[i] == "part" and i not in ivs and i != total]
    for i, iv in ivs.items():
        ev[i].append(f"age {iv}")
    contained: set[int] = set()
    # each band against the coarsest set of other bands that tiles it exactly
    for p, whole in sorted(ivs.items(), key=lambda kv: kv[1].hi - kv[1].lo):
        cover = exact_cover(whole, {i: iv for i, iv in ivs.items() if i != p and whole.contains(iv)})
        if cover and len(cover) >= 2:
            roles[p] = "aggregate"
            ev[p].append(f"contains {', '.join(d.labels[i] for i in cover)}")
            out.groups.append(Aggregate(p, tuple(cover), "==", "interval arithmetic on age labels"))
            contained |= set(cover)
    if total is None:
        return
    all_ages = _total_ages(d.labels[total])
    left = dict(ivs)
    tilings = 0
    while (cover := exact_cover(all_ages, left)) is not None:
        tilings += 1
        out.groups.insert(tilings - 1, Aggregate(
            total, (*cover, *others), "==", f"interval arithmetic: the bands tile {all_ages}"
            + (f", plus {len(others)} unstated" if others else "")
            + (" (another set of bands than the first)" if tilings > 1 else "")))
        for i in cover:
            left.pop(i)
    if tilings:
        return
    top = [i for i, iv in ivs.items() if not any(j != i and other.contains(iv) for j, other in ivs.items())]
    top_ivs = sorted((ivs[i], i) for i in top)
    disjoint = all(not a.overlaps(b) for (a, _), (b, _) in zip(top_ivs, top_ivs[1:], strict=False))
    contiguous = bool(top_ivs) and top_ivs[0][0].lo == all_ages.lo and all(
        a.hi == b.lo for (a, _), (b, _) in zip(top_ivs, top_ivs[1:], strict=False))
    if top and contiguous:
        # "0-4" … "95-99": no gap, nothing older published; the table's own total is their sum
        last = top_ivs[-1][0].hi
        out.groups.insert(0, Aggregate(total, (*[i for _, i in top_ivs], *others), "==",
                                       f"interval arithmetic: the bands run without a gap from "
                                       f"{all_ages.lo} to {last} (no older band is published)"))
    elif top and disjoint:
        out.groups.insert(0, Aggregate(total, (*[i for _, i in top_ivs], *others), ">=",
                                       "interval arithmetic on age labels",
                                       "the age bands shown leave gaps in the ages the total covers: "
                                       "the total is a bound"))
    else:
        out.note = "the age bands overlap and no set of them covers all ages: the total is not checked"


def _total_ages(label: str) -> Interval:
    """The ages a total covers: all, or those it names ("All categories: Age 16 and over")."""
    key = label_key(label)
    for p in vocabulary().total_prefix:
        if key.startswith(p):
            key = key[len(p):].strip()
    key = re.sub(r"^(total|totalt|i alt|in total|all persons)\b[,:]?", "", key).strip()
    return (parse_age(key) if key else None) or Interval(0, INF)


def _country_groups(cube: Cube, ax: int, total: int | None, roles: list[str], ev: list[list[str]],
                    out: DimensionStructure) -> dict[int, set[int]]:
    """EU, EEA (EØS), EFTA and euro-area rows beside member countries: each checked against the
    members shown (equal when all are, a bound when some are). Returns group → members."""
    d = cube.dims[ax]
    if d.role not in (None, "region", "citizenship") or len(d) < 3:
        return {}
    from migaudit.structure.groups import country_groups

    shown = [i for i in range(len(d)) if i != total and roles[i] in ("part", "selection")]
    found: dict[int, set[int]] = {}
    for p, g, kids, missing in country_groups(d.codes, d.labels, cube.year, shown):
        if roles[p] != "part":
            continue
        roles[p] = "aggregate"
        n = len(g.members)
        if not kids:
            ev[p].append(f"country group ({g.why}): none of its {n} members is shown")
            continue
        found[p] = set(kids)
        for i in kids:
            ev[i].append(f"member of {d.labels[p]!r}")
        if g.exact and not missing:
            ev[p].append(f"country group ({g.why}): all {n} members shown")
            out.groups.append(Aggregate(p, tuple(kids), "==", f"country group: {g.why}"))
            continue
        why = (f"the table shows {len(kids)} of its {n} members" if g.exact else
               f"its members are not known exactly ({g.why})")
        ev[p].append(f"country group ({g.why}): {len(kids)} of its members shown, a bound")
        out.groups.append(Aggregate(p, tuple(kids), ">=", f"country group: {g.why}", why))
    return found


def _printed_groups(cube: Cube, ax: int, total: int | None, roles: list[str], ev: list[list[str]],
                    out: DimensionStructure, country: dict[int, set[int]] | None = None) -> None:
    """A subtotal row followed by its members, closed by a residual row or the next subtotal."""
    d = cube.dims[ax]
    v = vocabulary()
    labels = d.labels
    heads = [i for i in range(len(d)) if roles[i] == "part" and v.is_subtotal(labels[i])]
    unknown_span: list[int] = []
    member_of: dict[int, int] = {}
    spans: dict[int, list[int] | None] = {}  # head → its members when a residual row closes them
    for k, h in enumerate(heads):
        end = heads[k + 1] if k + 1 < len(heads) else len(d)
        members = [i for i in range(h + 1, end) if roles[i] == "part" and i != total]
        closed = [j for j, i in enumerate(members) if v.is_residual(labels[i])]
        spans[h] = members[: closed[-1] + 1] if closed else (members or None)
        if not closed:
            spans[h] = [] if not members else None
    for k, h in enumerate(heads):
        roles[h] = "aggregate"
        members = spans[h]
        if members:
            how = f"closed by {labels[members[-1]]!r}"
            ev[h].append(f"printed layout: subtotal row followed by {len(members)} members, {how}")
            for i in members:
                member_of[i] = h
            out.groups.append(Aggregate(h, tuple(members), "==", f"printed layout, {how}"))
            continue
        subs = _named_subgroups(labels, heads[k + 1:], h, spans) if members == [] else []
        if subs:
            ev[h].append(f"printed layout: a subtotal over the {len(subs)} subtotals below it that name it")
            for i in subs:
                member_of[i] = h
            out.groups.append(Aggregate(h, tuple(subs), "==", "printed layout: subtotals that name their group"))
            continue
        # nothing in the layout says where the group ends (the next rows may be its
        # members, or the next group's): never guess, say so
        unknown_span.append(h)
        ev[h].append("printed layout: a subtotal row, but no residual row closes its group")
    member_of.update({i: -1 for i in _classification_aggregates(cube, ax, total, roles, ev, out)})
    if not member_of:
        member_of.update({i: -1 for i in _nested_codes(cube, ax, total, roles, ev, out)})
    not_parts = _country_stand_ins(labels, country or {}, member_of, ev)
    if unknown_span:
        shown = ", ".join(repr(labels[h]) for h in unknown_span[:3])
        out.note = (f"where the group of {shown}{' …' if len(unknown_span) > 3 else ''} ends is not printed "
                    "(no residual row closes it): it is not checked"
                    + (", nor is the total" if total is not None else ""))
        return
    if total is None:
        return
    parts = [i for i in range(len(d)) if i != total and i not in member_of and i not in not_parts
             and roles[i] in ("part", "aggregate")]
    if not parts:
        return
    selections = [i for i in range(len(d)) if roles[i] == "selection"]
    op, reason = "==", ""
    if selections:
        op, reason = ">=", "some categories are a selection (of which): the rest is not shown"
    elif any(g.evidence.startswith("codes nest") for g in out.groups):
        op, reason = ">=", ("the region codes nest (a county and some of its municipalities): "
                            "whether every region of the total is shown is not known")
    else:
        op, reason = _coverage(cube, ax, total, parts)
    evidence = "label vocabulary: the total and the categories beside it"
    if len(parts) == 2 and {v.split_side(labels[i]) for i in parts} == {"same", "other"}:
        # "same citizenship as the country moved from/to" and "other citizenship": all of it
        evidence = "label vocabulary: the total split in two, a 'same … as' and an 'other' part"
        for i in parts:
            ev[i].append(f"the {v.split_side(labels[i])!r} side of a split of {labels[total]!r}")
    if any(roles[i] == "aggregate" for i in parts):
        evidence += " (subtotals in place of their members)"
    out.groups.insert(0, Aggregate(total, tuple(parts), op, evidence, reason))


def _country_stand_ins(labels: tuple[str, ...], country: dict[int, set[int]], member_of: dict[int, int],
                       ev: list[list[str]]) -> set[int]:
    """A country group stands in for its members in the total only when it overlaps no other
    group (EU28 beside EU27, the EU beside "Europa i alt"); otherwise it is never a part and its
    members are. Marks the members that are stood in for; returns the groups that are not parts."""
    not_parts: set[int] = set()
    for p, kids in country.items():
        others = [k for q, k in country.items() if q != p]
        if p in member_of or any(i in member_of for i in kids) or any(kids & k for k in others):
            not_parts.add(p)
            ev[p].append("overlaps another group: checked against its own members, never summed with them as a part")
    for p, kids in country.items():
        if p not in not_parts:
            member_of.update({i: p for i in kids})
    return not_parts


def _classification_aggregates(cube: Cube, ax: int, total: int | None, roles: list[str],
                               ev: list[list[str]], out: DimensionStructure) -> set[int]:
    """Groups a dated classification knows among the categories shown ("EU/EFTA" beside its
    member countries, a landsdel beside its counties): each is checked against its own members
    and stands in for them in the total. Returns the members."""
    d = cube.dims[ax]
    if d.role not in ("region", "citizenship") or total is None:
        return set()  # without a total, `classification: auto` rules check these groups
    try:
        from migaudit.knowledge.classification import best_classification, load_classification
    except ImportError:  # pragma: no cover
        return set()
    free = [i for i in range(len(d)) if roles[i] in ("part", "aggregate") and i != total]
    match = best_classification([d.labels[i] for i in free], d.role, cube.year)
    if match is None or match.count < 3:
        return set()
    cls = load_classification(match.classification)
    lookup: dict[str, int] = {}
    # the total too: a classification that splits the total two ways (Norway + foreign, and
    # the world regions) gives two overlapping groups, each checked on its own, never summed
    for i in [*free, total]:
        code = cls.resolve(d.labels[i], cube.year) or cls.resolve(d.codes[i], cube.year)
        if code is not None:
            lookup.setdefault(code, i)
    grouped = {g.parent for g in out.groups}
    members: set[int] = set()
    of_total: list[tuple[list[int], bool]] = []
    for g in cls.hierarchy(cube.year, present=lookup):
        p = lookup.get(g.parent)
        kids = [lookup[c] for c in g.children if c in lookup and lookup[c] != p]
        if p is None or not kids:
            continue
        if p == total:
            of_total.append((kids, g.complete))
            continue
        members |= set(kids)
        if p in grouped:
            continue
        roles[p] = "aggregate"
        ev[p].append(f"classification {cls.name}: a group over {len(kids)} of the categories shown")
        if g.complete:
            out.groups.append(Aggregate(p, tuple(kids), "==", f"classification {cls.name}"))
        elif len(kids) >= 2:
            out.groups.append(Aggregate(p, tuple(kids), ">=", f"classification {cls.name}",
                                        f"the table shows {len(kids)} of its members"))
    # The total split two ways by the classification (Norway + foreign, and the world regions):
    # overlapping groups, each checked on its own, never summed together. Used only when these
    # splits account for every category beside the total; otherwise the total is checked
    # against the categories beside it, as printed.
    beside = {i for i in free if i not in members}
    if of_total and beside <= set().union(*(set(k) for k, _ in of_total)) and total not in grouped:
        ev[total].append(f"classification {cls.name}: {len(of_total)} ways to split the total")
        for kids, complete in of_total:
            members |= set(kids)
            if complete:
                out.groups.append(Aggregate(total, tuple(kids), "==", f"classification {cls.name}"))
            elif len(kids) >= 2:
                out.groups.append(Aggregate(total, tuple(kids), ">=", f"classification {cls.name}",
                                            f"the table shows {len(kids)} of its members"))
    return members


def _nested_codes(cube: Cube, ax: int, total: int | None, roles: list[str], ev: list[list[str]],
                  out: DimensionStructure) -> set[int]:
    """Region codes that nest by prefix (SCB "01" Stockholm county ⊃ "0114" Upplands Väsby,
    NUTS "IE1" ⊃ "IE11"): each code shown with some of its longer codes is checked against them
    as a bound, since nothing says the table shows all of them; returns the nested members.

    Only fixed-width codes of at least two characters are parents, so "1" is never read as the
    parent of "10"-"15"."""
    d = cube.dims[ax]
    if d.role != "region" or total is None:
        return set()
    free = [i for i in range(len(d)) if roles[i] in ("part", "aggregate") and i != total]
    codes = {i: str(d.codes[i]).strip() for i in free}
    if len({len(c) for c in codes.values()}) < 2 or not all(c.isalnum() for c in codes.values()):
        return set()
    kids: dict[int, list[int]] = {}
    for i, c in codes.items():
        parents = [j for j, p in codes.items() if j != i and len(p) >= 2 and len(p) < len(c) and c.startswith(p)]
        if parents:
            kids.setdefault(max(parents, key=lambda j: len(codes[j])), []).append(i)
    members: set[int] = set()
    for p, ks in kids.items():
        members |= set(ks)
        roles[p] = "aggregate"
        ev[p].append(f"codes nest: {', '.join(repr(codes[k]) for k in ks[:3])}{' …' if len(ks) > 3 else ''} "
                     f"begin with {codes[p]!r}")
        for k in ks:
            ev[k].append(f"code {codes[k]!r} begins with {codes[p]!r}")
        out.groups.append(Aggregate(p, tuple(ks), ">=", f"codes nest under {codes[p]!r}",
                                    f"the table shows {len(ks)} codes under {codes[p]!r}; "
                                    "whether they are all of it is not known"))
    return members


def _stem(label: str) -> str:
    """"Europa i alt, unntatt Norge" → "europa": the name a subgroup's label repeats."""
    key = re.sub(r"\s*[(),]\s*", " ", label_key(label))
    key = re.sub(r"\b(i alt|total|totalt|unntatt norge|except norway|utenom norge|yhteensä)\b", " ", key)
    return re.sub(r"\s+", " ", key).strip()


def _named_subgroups(labels: tuple[str, ...], later: list[int], head: int,
                     spans: dict[int, list[int] | None]) -> list[int]:
    """The closed subtotal groups right below `head` whose labels name it ("Vest-Europa" under
    "Europa i alt"); [] unless there are at least two and each is closed by its residual row."""
    stem = _stem(labels[head])
    if not stem:
        return []
    subs: list[int] = []
    for h in later:
        if stem not in _stem(labels[h]) or not spans.get(h):
            break
        if subs and h != spans[subs[-1]][-1] + 1:
            break  # something between the subgroups
        if not subs and h != head + 1:
            break
        subs.append(h)
    return subs if len(subs) >= 2 else []


def _coverage(cube: Cube, ax: int, total: int, parts: list[int]) -> tuple[str, str]:
    """"==" when the parts are all of the whole; ">=" with the reason when they may not be."""
    d = cube.dims[ax]
    if d.role not in ("region", "citizenship"):
        return "==", ""
    try:
        from migaudit.knowledge.classification import classifications_for
    except ImportError:  # pragma: no cover
        return "==", ""
    year = cube.year
    resolved_somewhere = False
    complete_somewhere = False
    for cls in classifications_for(d.role, year):
        versions = [year] if year is not None else list(dict.fromkeys(
            v.valid_from if v.valid_from is not None else v.valid_to for v in cls.versions))
        for y in versions:
            parent = cls.resolve(d.labels[total], y)
            codes = [cls.resolve(d.labels[i], y) or cls.resolve(d.codes[i], y) for i in parts]
            if parent is None or any(c is None for c in codes):
                continue
            for g in cls.hierarchy(y, present=[parent, *codes]):
                if g.parent == parent and set(g.children) == set(codes):
                    resolved_somewhere = True
                    if g.complete:
                        complete_somewhere = True
                    elif year is not None:
                        return ">=", (f"classification {cls.name} ({y}) has more {d.role}s than the "
                                      f"{len(parts)} shown")
    if year is None and resolved_somewhere and not complete_somewhere:
        return ">=", (f"period unknown: the {len(parts)} {d.role}s shown may not be all of "
                      f"{d.labels[total]!r} (no classification version has exactly these)")
    return "==", ""
