"""Column labels that combine two dimensions, split into both.

SSB's tables of moves by citizenship print three column groups (total, "same citizenship as
the country moved from/to", "other citizenship"), each with immigration, emigration and net
immigration. A reader sees nine columns ("I alt, Innvandring", …, "Statsborgerskapet er
ulikt …, Nettoinnvandring"), none a known measure, and nothing is checked. When those labels
are the full product of two lists and one list is all measures, the axis is two dimensions:
the measures (so net = in − out is checked in every column group) and the column groups (so
the total is checked against its parts for every measure). The split is a reshape: no cell
is dropped or made up, and the evidence goes to the table's notes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from migaudit.knowledge.classification import label_key
from migaudit.model.table import Dimension, Table

#: name of the dimension the column groups become (a role only the structure step gives)
GROUP_DIMENSION = "column_group"
_MARKER = re.compile(r"[\s]*[\u00b9\u00b2\u00b3\u2070-\u2079]+$")


@dataclass(frozen=True)
class Combined:
    """An axis whose labels are "outer, inner" for every outer × inner, and which list is the measures."""

    axis: int
    outer: tuple[str, ...]
    inner: tuple[str, ...]
    outer_major: bool  # labels run outer by outer (inner varies fastest)
    measures: str  # "outer" or "inner"


def _plain(label: str) -> str:
    return _MARKER.sub("", label).strip()


def _product(labels: tuple[str, ...], cut: str) -> tuple[tuple[str, ...], tuple[str, ...], bool] | None:
    """(outer, inner, outer_major) when the labels, cut at the first or last ", ", are a product."""
    pairs = []
    for lab in labels:
        if ", " not in lab:
            return None
        a, b = lab.rsplit(", ", 1) if cut == "last" else lab.split(", ", 1)
        pairs.append((_plain(a), _plain(b)))
    outer = tuple(dict.fromkeys(a for a, _ in pairs))
    inner = tuple(dict.fromkeys(b for _, b in pairs))
    if len(outer) < 2 or len(inner) < 2 or len(outer) * len(inner) != len(labels):
        return None
    keys = [(label_key(a), label_key(b)) for a, b in pairs]
    ok, ik = [label_key(x) for x in outer], [label_key(x) for x in inner]
    if len(set(ok)) != len(ok) or len(set(ik)) != len(ik):
        return None
    if keys == [(a, b) for a in ok for b in ik]:
        return outer, inner, True
    if keys == [(a, b) for b in ik for a in ok]:
        return outer, inner, False
    return None


def _all_measures(labels: tuple[str, ...]) -> bool:
    try:
        from migaudit.knowledge.measures import resolve_measure
    except ImportError:  # pragma: no cover
        return False
    return all(resolve_measure(lab) for lab in labels)


def combined_axis(table: Table) -> Combined | None:
    """The one axis whose labels combine a list of measures with a list of column groups."""
    found = []
    for ax, d in enumerate(table.dimensions):
        if d.role not in (None, "measure") or len(d) < 4:
            continue
        for cut in ("last", "first"):
            got = _product(d.labels, cut)
            if got is None:
                continue
            outer, inner, major = got
            in_m, out_m = _all_measures(inner), _all_measures(outer)
            if in_m != out_m:  # exactly one list is measures
                found.append(Combined(ax, outer, inner, major, "inner" if in_m else "outer"))
                break
    return found[0] if len(found) == 1 else None


def split_combined(table: Table) -> Table:
    """The table with a combined column axis split into measures × column groups (else itself)."""
    c = combined_axis(table)
    if c is None or any(d.name == GROUP_DIMENSION for d in table.dimensions):
        return table
    old = table.dimensions[c.axis]
    measures, groups = (c.inner, c.outer) if c.measures == "inner" else (c.outer, c.inner)
    m_dim = Dimension(old.name, measures, measures, role="measure", label=old.label)
    g_dim = Dimension(GROUP_DIMENSION, groups, groups, role=None)
    # the reshape: the combined axis becomes (outer, inner) in the order its labels run
    shape = list(table.values.shape)
    first, second = (c.outer, c.inner) if c.outer_major else (c.inner, c.outer)
    new_shape = shape[: c.axis] + [len(first), len(second)] + shape[c.axis + 1:]
    values = table.values.reshape(new_shape)
    symbols = table.symbols.reshape(new_shape)
    first_is_groups = (first is groups)
    # column groups first, then the measures: the order a reader of the page sees them
    if not first_is_groups:
        values = np.swapaxes(values, c.axis, c.axis + 1)
        symbols = np.swapaxes(symbols, c.axis, c.axis + 1)
    dims: list[Dimension] = [*table.dimensions[: c.axis], g_dim, m_dim, *table.dimensions[c.axis + 1:]]
    note = (f"structure: the {len(old)} columns of {old.name!r} are {len(groups)} column groups "
            f"({_some(groups)}) × {len(measures)} measures ({_some(measures)}): read as two dimensions, "
            f"{GROUP_DIMENSION!r} and {old.name!r}")
    return replace(table, dimensions=dims, values=np.ascontiguousarray(values),
                   symbols=np.ascontiguousarray(symbols), notes=[*table.notes, note],
                   meta={**table.meta, "split_columns": {"from": old.name, "groups": list(groups),
                                                         "measures": list(measures)}})


def _some(labels: tuple[str, ...]) -> str:
    shown = ", ".join(repr(x) for x in labels[:3])
    return shown + (f" (+{len(labels) - 3})" if len(labels) > 3 else "")

