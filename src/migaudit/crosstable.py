"""The same figure published in two tables must be the same number.

No hand-written pairing: every published cell gets a canonical key (measure, period,
region, citizenship, sex, age, after mapping labels and codes to SSB's classifications;
a dimension a table does not have is its total), and cells of different tables with the
same key are compared. Stocks are keyed by date, so "population at the end of 2020K4"
meets "population 1 January 2021" and "population at the start of 2021K1". A table of all
municipalities (or all counties) with no total row also contributes its sums, so the
municipalities of 01222 are checked against the national quarterly figures.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .cube import Cube, is_total_label, norm
from .engine import Outcome, Violation
from .periods import Period
from .rules import Rule

SAME_FIGURE = Rule(
    id="same_figure",
    kind="cross_table",
    description="A figure published in two tables of a release is the same number in both.",
    severity="error",
    family="release",
)
SUMS_MATCH = Rule(
    id="parts_match_whole",
    kind="cross_table",
    description="Summed over all its regions, a regional table gives the whole country's figure in another table.",
    severity="error",
    family="release",
)

#: above this many cells a table takes no part in cross-table keys (synthetic cubes)
MAX_CELLS = 2_000_000
_STOCKS = {"population_end": 1, "population_start": 0, "population": 0}


@dataclass
class _Cell:
    cube: Cube
    index: tuple[int, ...]
    value: float
    derived: bool = False


def _date(p: Period, after: bool) -> str:
    """First day of `p` (after=False) or of the period after it (after=True)."""
    if p.freq == "year":
        return f"{p.year + after}-01-01"
    if p.freq == "quarter":
        q = p.sub + after
        y = p.year + (q > 4)
        q = (q - 1) % 4 + 1
        return f"{y}-{3 * (q - 1) + 1:02d}-01"
    m = p.sub + after
    y = p.year + (m > 12)
    return f"{y}-{(m - 1) % 12 + 1:02d}-01"


def _resolver(cube: Cube, axis: int):  # noqa: ANN202
    """Canonical code for each category of a region/citizenship axis (classification first)."""
    d = cube.dims[axis]
    try:
        from .classification import classifications_for
    except ImportError:
        classes = []
    else:
        try:
            classes = classifications_for(d.role, cube.year) if d.role else []
        except Exception:  # noqa: BLE001 - a missing classification just means labels are used
            classes = []
    out = []
    for code, label in zip(d.codes, d.labels, strict=True):
        if is_total_label(label):
            out.append("total")
            continue
        found = None
        for cls in classes:
            found = cls.resolve(label, cube.year) or cls.resolve(code, cube.year)
            if found:
                found = f"{cls.name}:{found}" if d.role == "region" else found
                break
        out.append(found or norm(label))
    return out


def _axis_keys(cube: Cube) -> list[list[tuple[str, str] | None]]:
    """Per axis, per category: the (role, canonical value) part of a key; None = total."""
    keys: list[list[tuple[str, str] | None]] = []
    for ax, d in enumerate(cube.dims):
        role = d.role or d.name
        if d.role == "measure":
            parts = [("measure", c) for c in cube.canon[ax]]  # may carry {citizenship=000}
        elif d.role == "time":
            parts = [("time", c) for c in cube.canon[ax]]
        elif d.role in ("region", "citizenship"):
            parts = [None if c == "total" else (role, c) for c in _resolver(cube, ax)]
        else:
            parts = [None if is_total_label(lab) else (role, norm(lab)) for lab in d.labels]
        keys.append(parts)
    return keys


def _stock_key(parts: list[tuple[str, str]], cube: Cube) -> list[tuple[str, str]]:
    """Stocks keyed by the date they refer to, so end(t) meets start(t+1)."""
    measure = next((v for r, v in parts if r == "measure"), None)
    if measure not in _STOCKS:
        return parts
    time = next((v for r, v in parts if r == "time"), None)
    from .periods import parse_period

    p = parse_period(time) if time else None
    if p is None:
        return parts
    date = _date(p, bool(_STOCKS[measure]))
    return [(r, v) for r, v in parts if r not in ("measure", "time")] + [("measure", "population"), ("time", date)]


def _unfold(parts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """`immigration{citizenship=000}` → measure immigration, citizenship 000."""
    out = []
    for role, value in parts:
        if role == "measure" and value.endswith("}") and "{" in value:
            name, extra = value[:-1].split("{", 1)
            out.append(("measure", name))
            for item in extra.split(","):
                k, _, v = item.partition("=")
                out.append((k, v))
        else:
            out.append((role, value))
    return out


@lru_cache(maxsize=1)
def _equivalences() -> list[list[frozenset]]:
    """Alternative keys of the same figure, from data/equivalences.yaml."""
    import yaml

    text = (Path(__file__).parent / "data" / "equivalences.yaml").read_text(encoding="utf-8")
    return [[frozenset((k, norm(str(v)) if k != "measure" else str(v)) for k, v in alt.items())
             for alt in e["keys"]] for e in yaml.safe_load(text)["equivalences"]]


def _equivalent(key: frozenset) -> frozenset:
    """The first alternative's key for a cell keyed by any alternative (period kept)."""
    time = frozenset(p for p in key if p[0] == "time")
    rest = key - time
    for alts in _equivalences():
        if rest in alts[1:]:
            return alts[0] | time
    return key


def _cells(cube: Cube) -> dict[frozenset, list[_Cell]]:
    out: dict[frozenset, list[_Cell]] = defaultdict(list)
    if cube.values.size > MAX_CELLS:
        return out
    keys = _axis_keys(cube)
    published = ~np.isnan(cube.values)
    for idx in zip(*np.nonzero(published), strict=True):
        parts = _unfold([k for ax, i in enumerate(idx) if (k := keys[ax][i]) is not None])
        if not any(r == "measure" for r, _ in parts):
            continue
        key = _equivalent(frozenset(_stock_key(parts, cube)))
        out[key].append(_Cell(cube, tuple(int(i) for i in idx), float(cube.values[idx])))
    return out


def _regional_sums(cube: Cube) -> dict[frozenset, list[_Cell]]:
    """Sums over the region axis of a table of regions with no whole-country row."""
    out: dict[frozenset, list[_Cell]] = defaultdict(list)
    r_ax = cube.axis("region")
    if r_ax is None or cube.totals(r_ax) or len(cube.dims[r_ax]) < 2 or cube.values.size > MAX_CELLS:
        return out
    if not cube.table.meta.get("covers_country", _covers_country(cube, r_ax)):
        return out
    keys = _axis_keys(cube)
    with np.errstate(invalid="ignore"):
        flags = cube.flags
        vals = cube.values if flags is None else np.where(flags & 1, 0.0, cube.values)
        sums = vals.sum(axis=r_ax)
    other_axes = [a for a in range(len(cube.dims)) if a != r_ax]
    for idx in zip(*np.nonzero(~np.isnan(sums)), strict=True):
        parts = [k for a, i in zip(other_axes, idx, strict=True) if (k := keys[a][i]) is not None]
        measure = next((v for r, v in parts if r == "measure"), None)
        if measure is None or measure.endswith("_domestic") or measure in ("in_migration", "out_migration"):
            continue  # domestic moves inside the country do not add up to the country's
        full = list(idx)
        full.insert(r_ax, 0)
        out[frozenset(_stock_key(parts, cube))].append(_Cell(cube, tuple(int(i) for i in full), float(sums[idx]), True))
    return out


def _covers_country(cube: Cube, r_ax: int) -> bool:
    """True when the regions are municipalities (4-digit codes) of every county of their time."""
    codes = cube.dims[r_ax].codes
    if not all(len(c) == 4 and c.isdigit() for c in codes):
        return False
    counties = {c[:2] for c in codes}
    return len(counties) >= 18


def cross_table_outcomes(cubes: list[Cube]) -> list[Outcome]:
    """One outcome per pair of tables that share figures, with a violation per mismatch."""
    index: dict[frozenset, list[_Cell]] = defaultdict(list)
    for cube in cubes:
        for k, cells in _cells(cube).items():
            index[k].extend(cells)
        for k, cells in _regional_sums(cube).items():
            index[k].extend(cells)
    outcomes: dict[tuple[str, str, str], Outcome] = {}
    for key, cells in index.items():
        tables = {c.cube.table.id for c in cells}
        if len(tables) < 2:
            continue
        first: dict[str, _Cell] = {}
        for c in cells:
            first.setdefault(c.cube.table.id, c)
        ordered = sorted(first.values(), key=lambda c: (c.derived, c.cube.table.id))
        for a, b in ((a, b) for i, a in enumerate(ordered) for b in ordered[i + 1:]):
            if a.derived and b.derived:
                continue
            rule = SUMS_MATCH if (a.derived or b.derived) else SAME_FIGURE
            pair = (rule.id, a.cube.table.id, b.cube.table.id)
            out = outcomes.setdefault(pair, Outcome(rule, f"{pair[1]} = {pair[2]}"))
            out.checked += 1
            if a.value == b.value:
                out.passed += 1
                continue
            out.failed += 1
            where_a, codes_a = _where(a, key)
            where_b, _ = _where(b, key)
            out.violations.append(Violation(
                rule.id, rule.severity, a.cube.table.id, where_a, codes_a, b.value, a.value,
                a.value - b.value, 0.0,
                f"published {a.value:g} here but {b.value:g} in {b.cube.table.id}"
                + (" (sum over its regions)" if b.derived else ""),
                other={"table": b.cube.table.id, "where": where_b, **({"derived": "sum over regions"} if b.derived else {})},
                cells=[(a.cube.table.id, a.index, 1.0), (b.cube.table.id, b.index, -1.0)],
            ))
    return list(outcomes.values())


def _where(cell: _Cell, key: frozenset) -> tuple[dict[str, str], dict[str, str]]:
    where, codes = cell.cube.where(cell.index)
    if cell.derived:
        r_ax = cell.cube.axis("region")
        assert r_ax is not None
        name = cell.cube.dims[r_ax].name
        where[name] = "sum of all regions"
        codes[name] = "sum"
    return where, codes
