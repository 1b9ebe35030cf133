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

import numpy as np

from migaudit.engine.dense import Outcome, Violation
from migaudit.model.cube import Cube, is_total_label, norm
from migaudit.model.periods import Period
from migaudit.resources import PACKAGE
from migaudit.rules.ruleset import Rule

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

#: keys combine in one int64 while the product of the role vocabularies stays below this
_RADIX_LIMIT = 2**62
_STOCKS = {"population_end": 1, "population_start": 0, "population": 0}


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
        from migaudit.knowledge.classification import classifications_for
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
    from migaudit.model.periods import parse_period

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

    text = (PACKAGE / "data" / "equivalences.yaml").read_text(encoding="utf-8")
    return [[frozenset((k, norm(str(v)) if k != "measure" else str(v)) for k, v in alt.items())
             for alt in e["keys"]] for e in yaml.safe_load(text)["equivalences"]]


@dataclass
class _Keyed:
    """The published cells of one cube (or its sums over regions) that carry a key."""

    cube: Cube
    flat: np.ndarray  # flat positions in `shape`
    shape: tuple[int, ...]
    keys: np.ndarray  # int64 combined key per cell (filled once every vocabulary is known)
    values: np.ndarray
    derived: bool


class _Vocab:
    """Integer ids of canonical (role, value) pairs; 0 is "absent" (a total)."""

    def __init__(self) -> None:
        self.ids: dict[str, dict[str, int]] = defaultdict(dict)

    def id(self, role: str, value: str) -> int:
        ids = self.ids[role]
        return ids.setdefault(value, len(ids) + 1)


def _groups(cube: Cube, keys: list[list]) -> list[list[int]]:
    """Axes whose categories are keyed together: measure with time (stocks are keyed by date),
    and any axes that give the same role (a citizenship folded into a measure)."""
    roles_of: list[set[str]] = []
    for ax, parts in enumerate(keys):
        roles = {r for p in parts if p is not None for r, _ in _unfold([p])}
        if cube.dims[ax].role in ("measure", "time"):
            roles |= {"measure", "time"}
        roles_of.append(roles)
    groups: list[list[int]] = [[ax] for ax in range(len(keys))]
    merged = True
    while merged:
        merged = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                ri = set().union(*(roles_of[a] for a in groups[i]))
                rj = set().union(*(roles_of[a] for a in groups[j]))
                if ri & rj:
                    groups[i] = sorted(groups[i] + groups.pop(j))
                    merged = True
                    break
            if merged:
                break
    return groups


def _group_slots(cube: Cube, keys: list[list], axes: list[int], vocab: _Vocab,
                 sums: bool) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per role, the value id of each combination of the group's categories (shape of the
    group's axes), and whether such a cell is compared at all."""
    from itertools import product

    shape = tuple(len(keys[a]) for a in axes)
    slots: dict[str, np.ndarray] = {}
    usable = np.zeros(shape, dtype=bool)
    has_measure = any(cube.dims[a].role == "measure" for a in axes)
    for idx in product(*(range(n) for n in shape)):
        raw = [k for a, i in zip(axes, idx, strict=True) if (k := keys[a][i]) is not None]
        measure = next((v for r, v in raw if r == "measure"), None)
        if has_measure:
            if measure is None:
                continue
            if sums and (measure.endswith("_domestic") or measure in ("in_migration", "out_migration")):
                continue  # domestic moves inside the country do not add up to the country's
        usable[idx] = True
        values: dict[str, set[str]] = defaultdict(set)
        for r, v in _stock_key(_unfold(raw), cube):
            values[r].add(v)
        for r, vs in values.items():
            arr = slots.setdefault(r, np.zeros(shape, dtype=np.int64))
            arr[idx] = vocab.id(r, "|".join(sorted(vs)))
    return slots, usable


def _broadcast(small: np.ndarray, axes: list[int], ndim: int) -> np.ndarray:
    """A group's array reshaped so it broadcasts against the whole cube."""
    shape = [1] * ndim
    for a, n in zip(axes, small.shape, strict=True):
        shape[a] = n
    return small.reshape(shape)


def _key_groups(cube: Cube, keys: list[list], vocab: _Vocab,
                sums: bool) -> tuple[list[list], list[tuple[list[int], dict[str, np.ndarray], np.ndarray]]] | None:
    """The key parts of a cube (or of its sums over regions) per axis group, from its categories
    alone: (the axis keys, [(axes, per-role slots, usable)]); None when it carries no keys."""
    if sums:
        r_ax = cube.axis("region")
        if r_ax is None or cube.totals(r_ax) or len(cube.dims[r_ax]) < 2:
            return None
        if not cube.table.meta.get("covers_country", _covers_country(cube, r_ax)):
            return None
        keys = [[None] if a == r_ax else k for a, k in enumerate(keys)]
    if not any(d.role == "measure" for d in cube.dims):
        return None  # a cell with no measure names no figure
    return keys, [(axes, *_group_slots(cube, keys, axes, vocab, sums)) for axes in _groups(cube, keys)]


def _keyed(cube: Cube, keys: list[list], vocab: _Vocab,
           sums: bool) -> tuple[_Keyed, list[tuple[list[int], dict[str, np.ndarray]]]] | None:
    """The cells (or regional sums) of a cube with their per-role slots, keys filled later."""
    got = _key_groups(cube, keys, vocab, sums)
    if got is None:
        return None
    values = cube.values
    if sums:
        r_ax = cube.axis("region")
        with np.errstate(invalid="ignore"):
            flags = cube.flags
            vals = cube.values if flags is None else np.where(flags & 1, 0.0, cube.values)
            values = vals.sum(axis=r_ax, keepdims=True)
    ndim = values.ndim
    groups = []
    mask = ~np.isnan(values)
    for axes, slots, usable in got[1]:
        if not usable.all():
            mask &= _broadcast(usable, axes, ndim)
        groups.append((axes, slots))
    flat = np.flatnonzero(mask)
    kept = _Keyed(cube, flat, values.shape, np.empty(0, dtype=np.int64), values.ravel()[flat], sums)
    return kept, groups


def _combine(items: list[tuple[_Keyed, list]], vocab: _Vocab) -> None:
    """Fill every cell's key: the role ids combined in one integer (mixed radix)."""
    roles = sorted(vocab.ids)
    bases: dict[str, int] = {}
    base = 1
    for r in roles:
        bases[r] = base
        base *= len(vocab.ids[r]) + 1
    if base >= _RADIX_LIMIT:  # more distinct keys than an int64 holds: factorise role by role
        _combine_wide(items, roles)
        return
    for kept, groups in items:
        full = np.zeros(kept.shape, dtype=np.int64)
        for axes, slots in groups:
            for r, small in slots.items():
                full += _broadcast(small * bases[r], axes, full.ndim)
        kept.keys = full.ravel()[kept.flat]
        del full
        _equivalents(kept, groups, bases, vocab)


def _combine_wide(items: list[tuple[_Keyed, list]], roles: list[str]) -> None:
    """Keys for releases with too many distinct (role, value) pairs for one int64."""
    cols = []
    for kept, groups in items:
        m = np.zeros((kept.flat.size, len(roles)), dtype=np.int64)
        for axes, slots in groups:
            for r, small in slots.items():
                full = np.broadcast_to(_broadcast(small, axes, len(kept.shape)), kept.shape)
                m[:, roles.index(r)] += full.ravel()[kept.flat]
        cols.append(m)
    _, inverse = np.unique(np.concatenate(cols), axis=0, return_inverse=True)
    start = 0
    for kept, _ in items:
        kept.keys = inverse.ravel()[start:start + kept.flat.size].astype(np.int64)
        start += kept.flat.size


def _equivalents(kept: _Keyed, groups: list, bases: dict[str, int], vocab: _Vocab) -> None:
    """Cells keyed by an alternative name of a figure take the first name's key."""
    for conds, delta in _equivalence_fixes(kept.derived, groups, bases, vocab):
        full = np.ones(kept.shape, dtype=bool)
        for axes, small in conds:
            full &= _broadcast(small, axes, full.ndim)
        match = full.ravel()[kept.flat]
        if match.any():
            kept.keys[match] += delta


def _equivalence_fixes(derived: bool, groups: list, bases: dict[str, int],
                       vocab: _Vocab) -> list[tuple[list[tuple[list[int], np.ndarray]], int]]:
    """Per alternative name of a figure that may occur: the cells it names (a condition per
    axis group, all to hold) and what to add to their key to make it the first name's."""
    if derived:
        return []
    out = []
    present = {r for _, slots in groups for r in slots}
    for alts in _equivalences():
        first = dict(alts[0])
        for alt in alts[1:]:
            want = dict(alt)
            if not set(want) <= present or any(vocab.ids[r].get(v) is None for r, v in want.items()):
                continue
            conds = []
            for axes, slots in groups:
                ok = None
                for r, small in slots.items():
                    if r == "time":
                        continue
                    target = vocab.ids[r][want[r]] if r in want else 0
                    ok = (small == target) if ok is None else ok & (small == target)
                if ok is not None:
                    conds.append((axes, ok))
            delta = 0
            for r in set(want) | set(first):
                old = vocab.ids[r].get(want[r], 0) if r in want else 0
                new = vocab.id(r, first[r]) if r in first else 0
                if r not in bases:
                    continue  # a role no table has: the alternative cannot be met (ids stay valid)
                delta += (new - old) * bases[r]
            out.append((conds, delta))
    return out


@dataclass
class KeyFactors:
    """The canonical key of every cell of one table (or of its sums over regions), factored by
    axis groups, for an engine that does not hold the cells (Spark): the key of the cell at
    category indices x is the sum over `groups` of `contribution[x[axes]]` (-1: the cell is
    not compared), plus the `delta` of every fix whose conditions all hold at x[axes]."""

    cube: Cube
    derived: bool  # sums over the region axis (its index is 0 in the key's shape)
    shape: tuple[int, ...]
    groups: list[tuple[list[int], np.ndarray]]
    fixes: list[tuple[list[tuple[list[int], np.ndarray]], int]]


def key_factors(cubes: list[Cube]) -> list[KeyFactors] | None:
    """The keys of every cube (own cells, then regional sums) as `KeyFactors`, built from the
    categories alone with the same mapping as `cross_table_outcomes`; None when the release
    has more distinct keys than an int64 holds."""
    vocab = _Vocab()
    found = []
    for cube in cubes:
        keys = _axis_keys(cube)
        for sums in (False, True):
            got = _key_groups(cube, keys, vocab, sums)
            if got is not None:
                found.append((cube, sums, got[1]))
    for alts in _equivalences():
        for r, v in alts[0]:
            vocab.id(r, v)
    bases: dict[str, int] = {}
    base = 1
    for r in sorted(vocab.ids):
        bases[r] = base
        base *= len(vocab.ids[r]) + 1
    if base >= _RADIX_LIMIT:
        return None
    out = []
    for cube, sums, groups in found:
        shape = list(cube.values.shape)
        if sums:
            shape[cube.axis("region")] = 1
        factored = []
        for axes, slots, usable in groups:
            contribution = np.zeros(usable.shape, dtype=np.int64)
            for r, small in slots.items():
                contribution += small * bases[r]
            factored.append((axes, np.where(usable, contribution, -1)))
        fixes = _equivalence_fixes(sums, [(a, s) for a, s, _ in groups], bases, vocab)
        out.append(KeyFactors(cube, sums, tuple(shape), factored, fixes))
    return out


def _covers_country(cube: Cube, r_ax: int) -> bool:
    """True when the regions are municipalities (4-digit codes) of every county of their time."""
    codes = cube.dims[r_ax].codes
    if not all(len(c) == 4 and c.isdigit() for c in codes):
        return False
    counties = {c[:2] for c in codes}
    return len(counties) >= 18


def cross_table_outcomes(cubes: list[Cube], max_itemised: int | None = None) -> list[Outcome]:
    """One outcome per pair of tables that share figures, with a violation per mismatch.

    Keys are built per category and combined as integer arrays; cells are matched by one
    sort, so tables of any size take part. At most `max_itemised` mismatches per pair are
    itemised (default: the engine's limit); all are counted.
    """
    from migaudit.engine.dense import MAX_VIOLATIONS

    limit = MAX_VIOLATIONS if max_itemised is None else max_itemised
    if len({c.table.id for c in cubes}) < 2:
        return []  # one table has nothing to be compared with
    vocab = _Vocab()
    items = []
    for cube in cubes:
        keys = _axis_keys(cube)
        for sums in (False, True):
            got = _keyed(cube, keys, vocab, sums)
            if got is not None:
                items.append(got)
    # equivalences may name a measure no table uses: give it an id before bases are fixed
    for alts in _equivalences():
        for r, v in alts[0]:
            vocab.id(r, v)
    _combine(items, vocab)
    kept = [k for k, _ in items if k.flat.size]
    if not kept:
        return []
    ids = sorted({k.cube.table.id for k in kept})
    rank = {t: i for i, t in enumerate(ids)}
    sizes = np.array([k.flat.size for k in kept], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    part_tab = np.array([rank[k.cube.table.id] for k in kept], dtype=np.int64)
    part_derived = np.array([k.derived for k in kept])
    key, seq = _sorted_keys([k.keys for k in kept], int(offsets[-1]))
    for k in kept:
        k.keys = np.zeros(0, dtype=np.int64)  # no longer needed: free the memory
    part = np.searchsorted(offsets, seq, side="right") - 1
    tab = part_tab[part]
    # the first cell of each table per key (its own cells come before its regional sums)
    first = np.ones(key.size, dtype=bool)
    first[1:] = (key[1:] != key[:-1]) | (tab[1:] != tab[:-1])
    key, seq, part, tab = key[first], seq[first], part[first], tab[first]
    start = np.ones(key.size, dtype=bool)
    start[1:] = key[1:] != key[:-1]
    group = np.cumsum(start) - 1
    del key
    gsize = np.bincount(group)[group]
    gfirst = np.flatnonzero(start)[group]
    rank_in = np.arange(seq.size) - gfirst
    pa_list, pb_list = [], []
    for d in range(1, int(gsize.max(initial=1))):
        i = np.flatnonzero(rank_in + d < gsize)
        pa_list.append(i)
        pb_list.append(i + d)
    if not pa_list or not sum(x.size for x in pa_list):
        return []
    ia, ib = np.concatenate(pa_list), np.concatenate(pb_list)
    # within a pair, published figures before sums, then by table id
    da, db = part_derived[part[ia]], part_derived[part[ib]]
    swap = (da > db) | ((da == db) & (tab[ia] > tab[ib]))
    ia, ib = np.where(swap, ib, ia), np.where(swap, ia, ib)
    da, db = part_derived[part[ia]], part_derived[part[ib]]
    keep = ~(da & db)
    ia, ib, da, db = ia[keep], ib[keep], da[keep], db[keep]
    n_ids = len(ids)
    pair_key = ((da | db).astype(np.int64) * n_ids + tab[ia]) * n_ids + tab[ib]
    value_of = np.concatenate([k.values for k in kept])
    va, vb = value_of[seq[ia]], value_of[seq[ib]]
    fails = va != vb
    checked = np.bincount(pair_key, minlength=2 * n_ids * n_ids)
    failed = np.bincount(pair_key[fails], minlength=2 * n_ids * n_ids)
    fail_at = np.flatnonzero(fails)
    fail_at = fail_at[np.argsort(seq[ia[fail_at]], kind="stable")]  # as published
    outcomes: list[Outcome] = []
    for pk in np.flatnonzero(checked):
        kind, a_id, b_id = int(pk) // n_ids**2, ids[int(pk) // n_ids % n_ids], ids[int(pk) % n_ids]
        rule = SUMS_MATCH if kind else SAME_FIGURE
        out = Outcome(rule, f"{a_id} = {b_id}")
        out.checked, out.failed = int(checked[pk]), int(failed[pk])
        out.passed = out.checked - out.failed
        for j in fail_at[pair_key[fail_at] == pk][:limit]:
            out.violations.append(_violation(rule, kept, offsets, int(seq[ia[j]]), int(seq[ib[j]]), value_of))
        outcomes.append(out)
    return outcomes


def _sorted_keys(keys: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """(keys sorted, position of each in the concatenation); equal keys keep their order.

    Key and position are packed into one int64 and sorted by value (much faster than an
    argsort) when they fit; otherwise a stable argsort.
    """
    top = max((int(k.max()) for k in keys if k.size), default=0)
    bits = max(int(n).bit_length(), 1)
    if top.bit_length() + bits <= 62:
        packed = np.concatenate(keys) << bits
        packed |= np.arange(n, dtype=np.int64)
        packed.sort()
        mask = np.int64((1 << bits) - 1)
        return packed >> bits, packed & mask
    allk = np.concatenate(keys)
    order = np.argsort(allk, kind="stable")
    return allk[order], order


def _violation(rule: Rule, kept: list[_Keyed], offsets: np.ndarray, i: int, j: int, value: np.ndarray) -> Violation:
    """The mismatch of cell `i` and cell `j` (positions in the concatenation of `kept`)."""
    pi = int(np.searchsorted(offsets, i, side="right")) - 1
    pj = int(np.searchsorted(offsets, j, side="right")) - 1
    a, b = kept[pi], kept[pj]
    ia = tuple(int(x) for x in np.unravel_index(a.flat[i - offsets[pi]], a.shape))
    ib = tuple(int(x) for x in np.unravel_index(b.flat[j - offsets[pj]], b.shape))
    return mismatch(rule, a.cube, a.derived, ia, float(value[i]), b.cube, b.derived, ib, float(value[j]))


def mismatch(rule: Rule, a: Cube, a_derived: bool, ia: tuple[int, ...], va: float,
             b: Cube, b_derived: bool, ib: tuple[int, ...], vb: float) -> Violation:
    """The violation of cell `ia` of `a` (or of its regional sums) against cell `ib` of `b`."""
    ka = _Keyed(a, np.empty(0, dtype=np.int64), (), np.empty(0, dtype=np.int64), np.empty(0), a_derived)
    kb = _Keyed(b, np.empty(0, dtype=np.int64), (), np.empty(0, dtype=np.int64), np.empty(0), b_derived)
    where_a, codes_a = _where(ka, ia)
    where_b, _ = _where(kb, ib)
    return Violation(
        rule.id, rule.severity, a.table.id, where_a, codes_a, vb, va, va - vb, 0.0,
        f"published {va:g} here but {vb:g} in {b.table.id}" + (" (sum over its regions)" if b_derived else ""),
        other={"table": b.table.id, "where": where_b, **({"derived": "sum over regions"} if b_derived else {})},
        cells=[(a.table.id, ia, 1.0), (b.table.id, ib, -1.0)],
    )


def _where(cell: _Keyed, index: tuple[int, ...]) -> tuple[dict[str, str], dict[str, str]]:
    where, codes = cell.cube.where(index)
    if cell.derived:
        r_ax = cell.cube.axis("region")
        assert r_ax is not None
        name = cell.cube.dims[r_ax].name
        where[name] = "sum of all regions"
        codes[name] = "sum"
    return where, codes
