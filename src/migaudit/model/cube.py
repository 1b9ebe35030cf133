"""A Table seen through SSB's vocabulary: canonical names on every axis, ready for rules.

Rules speak of `births`, `Q4`, `Western Norway` or county `03`; tables publish `Fodte2`,
`2014K4`, `Western Norway ¹`. A `Cube` keeps the table's dense arrays and adds, per axis,
the canonical name of each category, so the engine can find members by name. A table
that publishes a single measure or period only in its title (`12 Emigration, by
citizenship and region. 2011`) gets that measure and period as singleton axes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from migaudit.knowledge.classification import label_key
from migaudit.model import symbols as sym
from migaudit.model.periods import Period, parse_period
from migaudit.model.table import Dimension, Table

#: bits of `Cube.flags`
ABSENT, UNKNOWN, BOUND = 1, 2, 4

_TOTAL_LABELS = {
    "total", "i alt", "alle", "the whole country", "hele landet", "heile landet", "whole country",
    "males and females", "begge kjønn", "all", "total, all", "in total",
}
_PERCENT = re.compile(r"\b(per ?cent|prosent)\b", re.IGNORECASE)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RESIDUAL = re.compile(r"^(the rest of|rest of|other|others|resten av|andre|øvrige)\b", re.IGNORECASE)
_MARKER = re.compile(r"[\s]*[\u00b9\u00b2\u00b3\u2070-\u2079]+$")


def norm(text: str) -> str:
    """Case-, space- and footnote-insensitive form of a label (the classifications' key)."""
    return label_key(text)


def is_total_label(text: str) -> bool:
    return norm(text) in _TOTAL_LABELS


def is_residual_label(text: str) -> bool:
    return bool(_RESIDUAL.match(norm(text)))


def _measure_name(code: str, label: str) -> str:
    """Canonical measure name; a label hiding another dimension gets it as a suffix.

    "Norwegian citizens, immigration" → `immigration{citizenship=000}`, so it is never
    mistaken for total immigration, and cross-table keys can put the citizenship back.
    """
    try:
        from migaudit.knowledge.measures import resolve_measure
    except ImportError:
        return norm(label)
    for text in (label, code):
        found = resolve_measure(text)
        if found:
            name, extra = found
            extra = {k: v for k, v in extra.items() if k != "time"}
            if extra:
                name += "{" + ",".join(f"{k}={v}" for k, v in sorted(extra.items())) + "}"
            return name
    if _PERCENT.search(label):
        return "change_percent"
    return norm(label)


def _canonical_measure(label_or_code: str) -> str | None:
    try:
        from migaudit.knowledge.measures import canonical_measure
    except ImportError:  # the measure vocabulary is optional for bare cubes
        return None
    return canonical_measure(label_or_code)


def _period_from_measures(dims: list[Dimension]) -> str | None:
    """The year a table is about when only its column names say it (`pop_1_jan_2011`)."""
    try:
        from migaudit.knowledge.measures import resolve_measure
    except ImportError:
        return None
    years = set()
    for d in dims:
        if d.role != "measure":
            continue
        for code in d.codes:
            found = resolve_measure(code)
            if found and "time" in found[1]:
                years.add(int(str(found[1]["time"])[:4]))
    return str(min(years)) if years else None


def _with_inferred_roles(table: Table) -> list[Dimension]:
    """The table's dimensions, with a role where the reader gave none but names or labels tell it.

    "Ikä" is age, "Sukupuoli" sex, columns that are all regions of a dated classification are
    regions (migaudit.structure.inferred_roles); the evidence goes to the table's notes.
    """
    from dataclasses import replace

    try:
        from migaudit.structure import inferred_roles
    except ImportError:  # pragma: no cover
        return list(table.dimensions)
    dims = list(table.dimensions)
    for ax, (role, why) in inferred_roles(table).items():
        dims[ax] = replace(dims[ax], role=role)
        note = f"structure: dimension {dims[ax].name!r} taken as {role or 'a classification'}: {why}"
        if note not in table.notes:
            table.notes.append(note)
    return dims


@dataclass
class Cube:
    table: Table
    dims: list[Dimension]
    values: np.ndarray
    symbols: np.ndarray
    #: canonical name of every category, per axis (measure names, period codes, norm labels)
    canon: list[list[str]]
    periods: list[Period | None] = field(default_factory=list)
    year: int | None = None

    @classmethod
    def of(cls, table: Table) -> Cube:
        dims = _with_inferred_roles(table)
        values, symbols = table.values, table.symbols
        roles = {d.role for d in dims}
        measure = table.meta.get("measure")
        if "measure" not in roles and measure:
            code = _canonical_measure(measure) or norm(measure)
            # a "contents" axis the structure step took as a classification keeps its name
            name = "measure" if any(d.name == "contents" for d in dims) else "contents"
            dims.append(Dimension(name, (code,), (str(measure),), role="measure"))
            values, symbols = values[..., None], symbols[..., None]
        ref = table.meta.get("reference_period") or _period_from_measures(dims)
        if "time" not in roles and ref and (parse_period(str(ref)) or _DATE.match(str(ref))):
            p = parse_period(str(ref))
            dims.append(Dimension("time", (p.code if p else str(ref),), (str(ref),), role="time"))
            values, symbols = values[..., None], symbols[..., None]
        canon: list[list[str]] = []
        periods: list[Period | None] = []
        for d in dims:
            if d.role == "measure":
                names = [_measure_name(c, lab) for c, lab in zip(d.codes, d.labels, strict=True)]
                # "Internal migration. Total between municipalities": a column called Total
                # measures what the title names
                titled = _canonical_measure(table.title.split(".")[0]) if table.title else None
                names = [titled if titled and n == "total" else n for n in names]
                canon.append(names)
            elif d.role == "time":
                ps = [parse_period(c) or parse_period(lab) for c, lab in zip(d.codes, d.labels, strict=True)]
                periods = ps
                canon.append([p.code if p else norm(c) for p, c in zip(ps, d.codes, strict=True)])
            else:
                canon.append([norm(lab) for lab in d.labels])
        years = [p.year for p in periods if p] or [int(c[:4]) for d in dims if d.role == "time"
                                                    for c in d.codes if _DATE.match(c)]
        year = max(years) if years else None
        return cls(table, dims, values, symbols, canon, periods, year)

    @cached_property
    def structure(self):  # noqa: ANN201 - migaudit.structure.Structure, imported lazily
        """Roles of every category (total, aggregate, part, …) with their evidence."""
        from migaudit.structure import infer

        return infer(self)

    # --- lookup -------------------------------------------------------------------------
    def axis(self, name_or_role: str) -> int | None:
        for i, d in enumerate(self.dims):
            if d.name == name_or_role:
                return i
        for i, d in enumerate(self.dims):
            if d.role == name_or_role:
                return i
        return None

    def find(self, axis: int, name: str) -> int | None:
        """Index of the category called `name` (canonical name, code or label) on `axis`."""
        if name == "@total":
            totals = self.totals(axis)
            return totals[0] if len(totals) == 1 else None
        index = self._lookup(axis)
        for key in (name, norm(name)):
            for kind in ("canon", "code", "label"):
                if (i := index[kind].get(key)) is not None:
                    return i
        return None

    def _lookup(self, axis: int) -> dict[str, dict[str, int]]:
        """Canonical names, codes and normalised labels of an axis → index (first wins)."""
        cache = self.__dict__.setdefault("_lookups", {})
        if axis not in cache:
            d = self.dims[axis]
            index: dict[str, dict[str, int]] = {"canon": {}, "code": {}, "label": {}}
            for i, (c, code, lab) in enumerate(zip(self.canon[axis], d.codes, d.labels, strict=True)):
                index["canon"].setdefault(c, i)
                index["code"].setdefault(code, i)
                index["label"].setdefault(norm(lab), i)
            cache[axis] = index
        return cache[axis]

    def derived(self, axis: int) -> dict[str, str]:
        """Categories the reader says are computed from others (004's change column)."""
        return dict(self.table.meta.get("derived_categories", {}).get(self.dims[axis].name, {}))

    def selections(self, axis: int) -> set[int]:
        """Categories shown as a selection ("Of this (15 largest)", "Selected citizenship"): not parts."""
        out: set[int] = set()
        d = self.dims[axis]
        groups = dict(self.table.meta.get("groups", {}))
        groups.update({f"subset {k}": v for k, v in self.table.meta.get("subsets", {}).items() if k == d.name})
        for title, members in groups.items():
            if re.match(r"^(subset|of this|of which|herav|selected|utvalgte)", title.strip(), re.IGNORECASE):
                out |= {i for m in members if (i := self.find(axis, str(m))) is not None}
        return out

    def totals(self, axis: int) -> list[int]:
        """Indices of the total categories (Total, The whole country, I alt, …) on `axis`."""
        cache = self.__dict__.setdefault("_totals", {})
        if axis not in cache:
            found = [i for i, lab in enumerate(self.dims[axis].labels) if is_total_label(lab)]
            if not found and self.dims[axis].role not in ("time", "measure"):
                # "Yhteensä", "Totalt", code SSS, PX ELIMINATION: the structure step's total
                total = self.structure.dimension(axis).total
                found = [total] if total is not None else []
            cache[axis] = found
        return cache[axis]

    # --- cell classes -------------------------------------------------------------------
    @cached_property
    def flags(self) -> np.ndarray | None:
        """ABSENT/UNKNOWN/BOUND bits per cell; None when every cell holds a number."""
        lut = np.zeros(len(sym.SYMBOLS), dtype=np.uint8)
        for i, s in enumerate(sym.SYMBOLS):
            lut[i] = {"absent": ABSENT, "unknown": UNKNOWN, "bound": BOUND}.get(s.arithmetic, 0)
        if not self.symbols.any():  # every cell a plain number: the common, fast case
            return None
        flags = lut[self.symbols]
        return flags if flags.any() else None

    def covers_country(self, axis: int) -> bool:
        """True when the regions on `axis` (besides any total) make up the whole country.

        Told by the reader (`meta["covers_country"]`), or seen from the codes: municipality
        codes of every county, or every county of a classification version.
        """
        if "covers_country" in self.table.meta:
            return bool(self.table.meta["covers_country"])
        d = self.dims[axis]
        leaves = [i for i in range(len(d)) if not is_total_label(d.labels[i])]
        codes = [d.codes[i] for i in leaves]
        if codes and all(len(c) == 4 and c.isdigit() for c in codes):
            return len({c[:2] for c in codes}) >= 18
        try:
            from migaudit.knowledge.classification import classifications_for
        except ImportError:
            return False
        labels = [d.labels[i] for i in leaves]
        for cls in classifications_for("region", self.year):
            resolved = {cls.resolve(lab, self.year) for lab in labels}
            country = cls.resolve("Hele landet", self.year)
            if None in resolved or country is None:
                continue
            for g in cls.hierarchy(self.year, present=[country, *resolved]):
                if g.parent == country and set(g.children) == resolved and g.complete:
                    return True
        return False

    def where(self, index: tuple[int, ...]) -> tuple[dict[str, str], dict[str, str]]:
        """Labels (as published, footnote markers stripped) and codes of the cell at `index`.

        An index of -1 stands for a sum over the whole axis.
        """
        labels, codes = {}, {}
        for d, i in zip(self.dims, index, strict=True):
            if i < 0:
                labels[d.name], codes[d.name] = "sum over all", "*"
                continue
            labels[d.name] = _MARKER.sub("", d.labels[i]).strip()
            codes[d.name] = d.codes[i]
        return labels, codes
