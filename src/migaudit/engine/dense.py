"""Evaluates rules on cubes with dense numpy arithmetic.

Every SSB invariant is linear in the cells, so every rule instance is `actual − expected`
with `actual` one published cell and `expected` a signed sum of others. The engine builds
those as whole slabs at once: members of the rule's dimension are picked with `np.take`,
hierarchy children are summed with `np.add.reduceat` over a sorted child permutation,
periods are aligned with "previous period" index arrays, and failures come out of one
`np.nonzero`. Symbols only cost time on tables that have them: `.` (no cell) makes an
instance not applicable, `..`/`...` make it skipped, `:` turns it into a bound check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from migaudit.model.cube import ABSENT, BOUND, UNKNOWN, Cube, is_residual_label
from migaudit.rules.ruleset import Group, Rule

if TYPE_CHECKING:  # pandas is imported where a frame is made: `import migaudit` stays light
    import pandas as pd

_EPS = 1e-9
#: at most this many violations are itemised per rule and table (all are counted)
MAX_VIOLATIONS = 10_000


@dataclass(frozen=True)
class Evaluation:
    """How much of an evaluation to keep, passed down to every evaluator (never a global)."""

    #: keep every instance on the outcome (for `Outcome.residual_frame()`)
    residuals: bool = False
    #: itemise only error and warning violations (localization re-checks many times)
    errors_only: bool = False


PLAIN = Evaluation()


@dataclass
class Violation:
    rule: str
    severity: str
    table: str
    where: dict[str, str]
    codes: dict[str, str]
    expected: float
    actual: float
    imbalance: float
    tolerance: float
    message: str
    #: for cross-table checks: {"table": id, "where": {...}}
    other: dict[str, Any] | None = None
    #: the cells most likely wrong, from localization: [{"table", "where", "actual", "suggested"}]
    suspects: list[dict[str, Any]] = field(default_factory=list)
    #: the cells that entered the check, as (table, index, coefficient): for localization
    cells: list[tuple[str, tuple[int, ...], float]] = field(default_factory=list, repr=False)
    #: the reason from a release's `accept:` list when this finding is a known, explained one
    accepted: str | None = None
    #: ">=" when the instance is a bound (actual ≥ expected), "" for an equality
    bound: str = ""


@dataclass
class Outcome:
    """What one rule found on one table."""

    rule: Rule
    table: str
    checked: int = 0
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    #: instances the reader relied on to read the cells (web text): not checked, not passed
    assumed: int = 0
    violations: list[Violation] = field(default_factory=list)
    #: every instance (not just failures), kept when evaluated with residuals=True
    _instances: tuple | None = field(default=None, repr=False)

    def residual_frame(self) -> pd.DataFrame:
        """One row per rule instance: keys of its cell, actual, expected, imbalance, tolerance, status.

        The frame Great Expectations and other tools validate with plain expectations
        (|imbalance| <= tolerance) when they cannot express the rule itself.
        """
        import pandas as pd

        cols = ["rule", "table", "severity", "where", "actual", "expected", "imbalance", "tolerance", "status"]
        if self._instances is None:
            raise ValueError("evaluate(..., residuals=True) keeps the instances")
        cube, actual, expected, applicable, skipped, fail, parts, tol, severity = self._instances
        rows = []
        axes = _result_axes(parts)
        for flat in np.flatnonzero(np.broadcast_to(applicable, actual.shape)):
            idx = np.unravel_index(flat, actual.shape)
            where, _ = cube.where(_full_index(parts, axes, idx))
            status = "skipped" if skipped[idx] else "failed" if fail[idx] else "passed"
            a, e = float(actual[idx]), float(expected[idx])
            rows.append([self.rule.id, self.table, severity[idx] if severity is not None else self.rule.severity,
                         where, a, e, a - e, float(tol[idx]) if isinstance(tol, np.ndarray) else tol, status])
        return pd.DataFrame(rows, columns=cols)


# --- slab helpers -----------------------------------------------------------------------
Parts = list[Any]  # per axis: None (all), int (one category), ndarray (aligned categories)


def gather(arr: np.ndarray, parts: Parts) -> np.ndarray:
    """`arr` addressed axis by axis; int parts drop their axis, arrays keep it aligned.

    A run of consecutive categories becomes a slice, so the result is a view, not a copy.
    """
    index: list[object] = []
    fancy = []
    for ax, p in enumerate(parts):
        if p is None:
            index.append(slice(None))
        elif isinstance(p, (int, np.integer)):
            index.append(int(p))
        else:
            run = _as_slice(p)
            if run is None:
                index.append(slice(None))
                fancy.append((ax, p))
            else:
                index.append(run)
    out = arr[tuple(index)]
    if fancy:
        axes = _result_axes(parts)
        for ax, p in reversed(fancy):
            out = np.take(out, p, axis=axes.index(ax))
    return out


def _as_slice(p: np.ndarray) -> slice | None:
    """`p` as a slice when it is a run of consecutive indices."""
    n = len(p)
    if n == 0:
        return None
    first = int(p[0])
    if n == 1 or (int(p[-1]) - first == n - 1 and bool(np.all(np.diff(p) == 1))):
        return slice(first, first + n)
    return None


def _result_axes(parts: Parts) -> list[int]:
    """Original axis of each axis of a gathered slab."""
    return [ax for ax, p in enumerate(parts) if not isinstance(p, (int, np.integer))]


def _restrictions(rule: Rule, cube: Cube, skip_axes: set[int]) -> Parts | None:
    """Index arrays for `when`, `only` and `exclude` on the other axes; None if nothing is left."""
    parts: Parts = [None] * len(cube.dims)
    for key, members in {**rule.when, **rule.only}.items():
        ax = cube.axis(key)
        if ax is None:
            if members == ("@total",):
                continue  # a table without the dimension is its total
            return None  # a condition the table cannot show: the rule does not apply
        if ax in skip_axes:
            continue
        if cube.dims[ax].role == "time" and key in rule.when:
            idx = [i for i, p in enumerate(cube.periods) if p and p.tags() & set(members)]
        else:
            idx = sorted({i for m in members if (i := cube.find(ax, m)) is not None})
        parts[ax] = _intersect(parts[ax], idx)
    for key, members in rule.exclude.items():
        ax = cube.axis(key)
        if ax is None or ax in skip_axes:
            continue
        drop = {i for m in members if (i := cube.find(ax, m)) is not None}
        keep = [i for i in range(len(cube.dims[ax])) if i not in drop]
        parts[ax] = _intersect(parts[ax], keep)
    if any(p is not None and len(p) == 0 for p in parts):
        return None
    return parts


def _intersect(current: Any, idx: list[int]) -> np.ndarray:
    arr = np.asarray(idx, dtype=np.intp)
    if current is None:
        return arr
    return np.asarray([i for i in current if i in set(idx)], dtype=np.intp)


def _units(cube: Cube):  # noqa: ANN202 - migaudit.structure.units.Units
    """Decimals, multiplier and rounding base the table declares (see migaudit.structure.units)."""
    from migaudit.structure.units import units_of

    cache = cube.__dict__.setdefault("_units", {})
    if "u" not in cache:
        cache["u"] = units_of(cube.table)
    return cache["u"]


def _tolerance(rule: Rule, cube: Cube, n_terms: int) -> float:
    """The rule's own tolerance, or half a unit of the last published digit per rounded figure."""
    return max(rule.tolerance, n_terms * _units(cube).half_unit)


def _rounding_note(cube: Cube, v: Violation, n_figures: int) -> str:
    """"; tolerance ±0.3 from rounding (3 rounded figures × 0.05 (1 decimal))" when one applies."""
    why = _units(cube).describe(n_figures)
    return f"; tolerance ±{v.tolerance:g} from rounding ({why})" if v.tolerance and why else ""


# --- identity & conservation -----------------------------------------------------------
def _time_pairs(cube: Cube) -> tuple[np.ndarray, np.ndarray] | None:
    """(t, t-1) index pairs of consecutive periods published in the cube."""
    t_ax = cube.axis("time")
    if t_ax is None:
        return None
    pos = {p.code: i for i, p in enumerate(cube.periods) if p}
    cur, prev = [], []
    for i, p in enumerate(cube.periods):
        if p and p.previous().code in pos:
            cur.append(i)
            prev.append(pos[p.previous().code])
    if not cur:
        return None
    return np.asarray(cur, dtype=np.intp), np.asarray(prev, dtype=np.intp)


def identity_plan(rule: Rule, cube: Cube) -> tuple[int, dict[str, int | None], int | None, Parts] | None:
    """The axis, the member indices (None: unpublished, allowed by `if_missing`), the axis
    summed over and the cells an identity or conservation rule checks, or None when it does
    not apply. Shared by the dense and the Spark engine."""
    ax = cube.axis(rule.along)
    if ax is None:
        return None
    if any(cube.find(ax, m) is not None for m in rule.when_absent):
        return None
    index: dict[str, int | None] = {m: cube.find(ax, m) for m in rule.members}
    if any(i is None and m not in rule.if_missing for m, i in index.items()):
        return None
    sum_ax = cube.axis(rule.sum_over) if rule.sum_over else None
    if rule.kind == "conservation" and (sum_ax is None or not cube.covers_country(sum_ax)):
        return None
    parts = _restrictions(rule, cube, {ax})
    if parts is None:
        return None
    return ax, index, sum_ax, parts


def lagged_pairs(cube: Cube, parts: Parts, t_ax: int | None) -> tuple[np.ndarray, np.ndarray] | None:
    """(t, t−1) period indices of a rule with a lagged term, within the periods the rule keeps;
    None when there are none. Shared by the dense and the Spark engine."""
    pairs = _time_pairs(cube)
    if pairs is None or t_ax is None:
        return None
    cur, prev = pairs
    if parts[t_ax] is not None:
        keep = np.isin(cur, parts[t_ax])
        cur, prev = cur[keep], prev[keep]
    return (cur, prev) if len(cur) else None


def evaluate_identity(rule: Rule, cube: Cube, how: Evaluation = PLAIN) -> Outcome | None:
    plan = identity_plan(rule, cube)
    if plan is None:
        return None
    ax, index, sum_ax, parts = plan
    lagged = any(t.lag for t in (*rule.lhs, *rule.rhs))
    t_ax = cube.axis("time")
    pairs = None
    if lagged:
        pairs = lagged_pairs(cube, parts, t_ax)
        if pairs is None:
            return None
    if sum_ax is not None:
        totals = set(cube.totals(sum_ax))
        leaves = [i for i in range(len(cube.dims[sum_ax])) if i not in totals]
        parts[sum_ax] = np.asarray(leaves, dtype=np.intp)

    flags = cube.flags

    def term_parts(member_idx: int, lag: int) -> Parts:
        p = list(parts)
        p[ax] = member_idx
        if pairs is not None and t_ax is not None:
            p[t_ax] = pairs[1] if lag else pairs[0]
        return p

    def reduce(slab: np.ndarray, p: Parts, how: str = "sum") -> np.ndarray:
        if sum_ax is None:
            return slab
        pos = _result_axes(p).index(sum_ax)
        return slab.sum(axis=pos) if how == "sum" else np.bitwise_or.reduce(slab, axis=pos)

    actual = None
    expected = None
    bad = None  # UNKNOWN/ABSENT/BOUND bits per instance
    downgraded = None
    first_parts: Parts | None = None
    members: list[tuple[float, Parts]] = []  # (coefficient in actual − expected, parts)
    for side, terms in ((0, rule.lhs), (1, rule.rhs)):
        for t in terms:
            i = index[t.member]
            if i is None:
                continue  # an unpublished optional member: counts 0, instances downgraded
            p = term_parts(i, t.lag)
            if first_parts is None:
                first_parts = p
            if sum_ax is None:
                members.append(((1.0 if side == 0 else -1.0) * t.coef, p))
            slab = gather(cube.values, p)
            f = reduce(gather(flags, p), p, "or") if flags is not None else None
            if sum_ax is not None and f is not None:
                slab = np.where(gather(flags, p) & ABSENT, 0.0, gather(cube.values, p)).sum(
                    axis=_result_axes(p).index(sum_ax))
                f = f & ~np.uint8(ABSENT)
            else:
                slab = reduce(slab, p)
            if t.member in rule.if_missing and f is not None:
                miss = (f & (UNKNOWN | ABSENT)) != 0
                slab = np.where(miss, 0.0, slab)
                downgraded = miss if downgraded is None else downgraded | miss
                f = np.where(miss, 0, f).astype(np.uint8)
            if f is not None:
                bad = f if bad is None else bad | f
            contribution = t.coef * slab
            if side == 0 and actual is None:
                actual = contribution
            elif side == 0:
                expected = (-contribution) if expected is None else expected - contribution
            else:
                expected = contribution if expected is None else expected + contribution
    if first_parts is None or actual is None:
        return None
    if expected is None:
        expected = np.zeros_like(actual)
    if rule.lhs[0].coef < 0:
        actual, expected = -actual, -expected
    n_terms = len(rule.lhs) + len(rule.rhs)
    tol = _tolerance(rule, cube, n_terms)
    whole_missing = [m for m, i in index.items() if i is None]  # each allowed by if_missing
    if whole_missing:
        downgraded = np.ones(actual.shape, dtype=bool)
    if sum_ax is not None:
        first_parts = list(first_parts)
        first_parts[sum_ax] = -1  # summed over: no single category
    if rule.lhs[0].coef < 0:
        members = [(-c, p) for c, p in members]
    out = _finish(rule, cube, actual, expected, bad, tol, first_parts, downgraded, None, members, how=how)
    _describe(out, rule, whole_missing, cube)
    return out


def _describe(out: Outcome, rule: Rule, whole_missing: list[str], out_cube: Cube | None = None) -> None:
    for v in out.violations:
        if v.severity != rule.severity and rule.if_missing:
            names = ", ".join(rule.if_missing)
            v.message = (f"{names} not published: the implied {names} is {v.imbalance:+g} "
                         f"({rule.expression})")
        else:
            v.message = f"{rule.expression}: published {v.actual:g}, components give {v.expected:g}"
        v.message += _rounding_note(out_cube, v, len(rule.lhs) + len(rule.rhs)) if out_cube is not None else ""


# --- hierarchies ------------------------------------------------------------------------
def _label_groups(cube: Cube, ax: int) -> list[tuple[int, list[int], str]]:
    """The groups `migaudit.structure` inferred: the total over its parts, each aggregate over its own members."""
    return cube.structure.dimension(ax).checks()


def _groups(rule: Rule, cube: Cube, ax: int) -> list[tuple[int, list[int], str]]:
    if rule.from_labels:
        groups = _label_groups(cube, ax)
        return [(p, c, ">=" if rule.op == ">=" else op) for p, c, op in groups]
    if rule.groups:
        return _resolve_groups(rule.groups, cube, ax, lambda name: cube.find(ax, name), rule.op)
    if rule.classification:
        groups = _classification_groups(rule, cube, ax)
        if not groups and rule.classification == "auto":
            # no shipped classification fits: the structure the table shows (printed
            # subtotals closed by "ellers"/"the rest of", the file's hierarchy, age bands)
            groups = _label_groups(cube, ax)
        return groups
    return []


def _classification_groups(rule: Rule, cube: Cube, ax: int) -> list[tuple[int, list[int], str]]:
    """Groups of a classification projected onto the categories the table shows.

    `classification: auto` takes the shipped classification for the dimension's role that
    resolves most of the table's labels (continents for the printed 2011 tables, the 2018
    world-region groups, EU27/EFTA for 2024, ...).
    """
    from migaudit.knowledge.classification import best_classification, load_classification

    d = cube.dims[ax]
    if rule.classification == "auto":
        if d.role is None:
            return []
        match = best_classification(d.labels, d.role, cube.year)
        if match is None:
            return []
        cls = load_classification(match.classification)
    else:
        cls = load_classification(rule.classification)
    lookup: dict[str, int] = {}
    for i, lab in enumerate(d.labels):
        code = cls.resolve(lab, cube.year) or cls.resolve(d.codes[i], cube.year)
        if code is not None:
            lookup.setdefault(code, i)
    out = []
    for g in cls.hierarchy(cube.year, present=lookup):
        p = lookup.get(g.parent)
        kids = [lookup[c] for c in g.children if c in lookup and lookup[c] != p]
        if p is None or not kids:
            continue
        exact = g.complete and rule.op == "=="
        if not exact and len(kids) < 2:
            continue  # one child of many says nothing
        out.append((p, kids, "==" if exact else ">="))
    return out


def _resolve_groups(groups, cube: Cube, ax: int, find, op: str) -> list[tuple[int, list[int], str]]:  # noqa: ANN001
    out = []
    for g in groups:
        g: Group
        p = find(g.parent)
        if p is None:
            continue
        present = [i for c in g.children if (i := find(c)) is not None and i != p]
        present = list(dict.fromkeys(present))
        if not present:
            continue
        all_there = len(present) == len(g.children)
        residual = any(is_residual_label(cube.dims[ax].labels[i]) for i in present)
        exact = g.complete and op == "==" and (all_there or residual)
        if not exact and len(present) < 2 and not all_there:
            continue  # one child of many says nothing
        out.append((p, present, "==" if exact else ">="))
    return out


def hierarchy_plan(rule: Rule, cube: Cube) -> tuple[int, list, Parts] | None:
    """The axis, the (parent, children, op) groups and the cells a hierarchy rule checks, or
    None when it does not apply. Shared by the dense and the Spark engine."""
    ax = cube.axis(rule.along) if rule.along else None
    if ax is None:
        return None
    groups = _groups(rule, cube, ax)
    if not groups:
        return None
    parts = _restrictions(rule, cube, {ax})
    if parts is None:
        return None
    parts = _without_ratios(cube, parts)
    if parts is None:
        return None
    return ax, groups, parts


def evaluate_hierarchy(rule: Rule, cube: Cube, how: Evaluation = PLAIN) -> Outcome | None:
    plan = hierarchy_plan(rule, cube)
    if plan is None:
        return None
    ax, groups, parts = plan
    parents = np.asarray([g[0] for g in groups], dtype=np.intp)
    children = np.concatenate([np.asarray(g[1], dtype=np.intp) for g in groups])
    offsets = np.cumsum([0] + [len(g[1]) for g in groups[:-1]]).astype(np.intp)
    ge = np.asarray([g[2] == ">=" for g in groups])
    pp = list(parts)
    pp[ax] = parents
    cp = list(parts)
    cp[ax] = children
    pos = _result_axes(pp).index(ax)
    actual = gather(cube.values, pp)
    flags = cube.flags
    if flags is None:
        children_slab = gather(cube.values, cp)
        if len(groups) == 1:
            expected = np.expand_dims(children_slab.sum(axis=pos), pos)
        else:
            expected = np.add.reduceat(children_slab, offsets, axis=pos)
        bad = None
    else:
        # no cell (.) counts 0; a suppressed child (:) is unknown but >= 0, so the known
        # children give a lower bound for the parent; a suppressed parent is skipped
        cf = gather(flags, cp)
        cv = gather(cube.values, cp)
        if np.may_share_memory(cv, cube.values):
            cv = cv.copy()  # a view of the cube: never change the published numbers
        np.putmask(cv, (cf & (ABSENT | BOUND)) != 0, 0.0)  # in place: no second slab of children
        expected = np.add.reduceat(cv, offsets, axis=pos)
        del cv  # the children's slab is the largest array here: gone before the checks
        # uint8 reductions throughout (a sum over bools would cast the children's slab to int64)
        none_present = np.bitwise_and.reduceat(cf, offsets, axis=pos) & np.uint8(ABSENT)
        child_bits = np.bitwise_or.reduceat(cf & ~np.uint8(ABSENT), offsets, axis=pos)
        del cf
        bad = gather(flags, pp) | (child_bits & UNKNOWN) | none_present
        child_bound = (child_bits & BOUND) != 0
    shape = [1] * actual.ndim
    shape[pos] = len(groups)
    ge_b = np.broadcast_to(ge.reshape(shape), actual.shape)
    if flags is not None and child_bound.any():
        ge_b = ge_b | child_bound
    ge_b = np.asarray(ge_b)
    signed = _signed_measures(cube, pp)
    if signed is not None and ge_b.any():
        # "parent ≥ Σ shown children" only bounds counts; a net figure can be negative
        no_bound = ge_b & signed
        if no_bound.any():
            base = np.zeros(actual.shape, dtype=np.uint8) if bad is None else bad
            bad = np.where(no_bound, base | ABSENT, base).astype(np.uint8)
    tol: float | np.ndarray = _tolerance(rule, cube, 1 + int(np.max([len(g[1]) for g in groups])))
    if tol and len(groups) > 1 and _units(cube).half_unit:
        # each group's own rounding: n + 1 figures, not the largest group's
        sizes = np.asarray([1 + len(g[1]) for g in groups], dtype=float) * _units(cube).half_unit
        tol = np.broadcast_to(np.maximum(rule.tolerance, sizes).reshape(shape), actual.shape)
    out = _finish(rule, cube, actual, expected, bad, tol, pp, None, ge_b, [(1.0, pp)],
                  (ax, pos, [g[1] for g in groups]), how=how)
    for v in out.violations:
        rel = "at least" if v.message == ">=" else "the sum of its"
        v.message = (f"{v.where.get(cube.dims[ax].name, '?')} should be {rel} {len(v.cells) - 1} "
                     f"{'parts' if rel.startswith('at') else 'parts'} along {cube.dims[ax].name}: "
                     f"published {v.actual:g}, parts sum to {v.expected:g}") + _rounding_note(cube, v, len(v.cells))
    return out


def _without_ratios(cube: Cube, parts: Parts) -> Parts | None:
    """Rates, percentages, averages and indices do not add up over categories: leave them out.

    Which measures those are is the structure step's call (measure kind, declared unit,
    label vocabulary in many languages).
    """
    if _units(cube).non_additive:
        return None  # the declared unit is an index, a rate, a share: nothing adds up
    for ax in range(len(cube.dims)):
        cats = cube.structure.dimension(ax).categories
        if cats and all(c.role == "non_additive" for c in cats):
            return None  # a dimension of units only ("Euro per inhabitant"): every figure is a ratio
    m_ax = cube.axis("measure")
    if m_ax is None or isinstance(parts[m_ax], (int, np.integer)):
        return parts
    roles = cube.structure.dimension(m_ax).categories
    keep = [i for i, c in enumerate(roles) if c.role != "non_additive"]
    if len(keep) == len(cube.canon[m_ax]):
        return parts
    out = list(parts)
    out[m_ax] = _intersect(parts[m_ax], keep)
    return out if len(out[m_ax]) else None


def _signed_measures(cube: Cube, parts: Parts) -> np.ndarray | None:
    """Broadcastable mask over a gathered slab: True where the measure may be negative."""
    m_ax = cube.axis("measure")
    if m_ax is None or isinstance(parts[m_ax], (int, np.integer)):
        return None
    try:
        from migaudit.knowledge.measures import measure_info
    except ImportError:
        return None
    flags = []
    for name in cube.canon[m_ax]:
        try:
            flags.append(measure_info(name).may_be_negative)
        except KeyError:
            flags.append(True)
    mask = np.asarray(flags)
    if parts[m_ax] is not None:
        mask = mask[parts[m_ax]]
    axes = _result_axes(parts)
    shape = [1] * len(axes)
    shape[axes.index(m_ax)] = len(mask)
    return mask.reshape(shape)


# --- sign -------------------------------------------------------------------------------
def sign_parts(rule: Rule, cube: Cube) -> Parts | None:
    """The cells a sign rule checks: counts (measures that cannot be negative), without the
    categories a table derives from others (a change column may be negative). Shared by
    the dense and the Spark engine."""
    m_ax = cube.axis("measure")
    parts = _restrictions(rule, cube, set())
    if parts is None or m_ax is None:
        return None
    from migaudit.knowledge.measures import measure_info

    counts = []
    for i, name in enumerate(cube.canon[m_ax]):
        try:
            info = measure_info(name)
        except KeyError:
            continue
        if not info.may_be_negative and info.kind != "ratio":
            counts.append(i)
    if parts[m_ax] is not None:
        counts = [i for i in counts if i in set(parts[m_ax].tolist())]
    if not counts:
        return None
    parts[m_ax] = np.asarray(counts, dtype=np.intp)
    for ax in range(len(cube.dims)):
        derived = {cube.find(ax, code) for code in cube.derived(ax)}
        if derived and ax != m_ax:
            keep = [i for i in range(len(cube.dims[ax])) if i not in derived]
            parts[ax] = _intersect(parts[ax], keep) if parts[ax] is not None else np.asarray(keep, dtype=np.intp)
    return parts


def evaluate_sign(rule: Rule, cube: Cube, how: Evaluation = PLAIN) -> Outcome | None:
    parts = sign_parts(rule, cube)
    if parts is None:
        return None
    actual = gather(cube.values, parts)
    # thousands with a decimal, millions, figures rounded to 5: not whole numbers
    # (one array of the cube's size, changed in place: the sign rule sees every cell)
    expected = np.round(actual) if rule.integer and _units(cube).whole_numbers else actual.copy()
    np.maximum(expected, 0.0, out=expected)
    bad = None if cube.flags is None else np.isnan(actual).view(np.uint8) * np.uint8(ABSENT)
    out = _finish(rule, cube, actual, expected, bad, 0.0, parts, None, None, how=how)
    for v in out.violations:
        v.message = ("a count cannot be negative" if v.actual < 0 else "a count must be a whole number")
    return out


# --- period sums ------------------------------------------------------------------------
def evaluate_period_sum(rule: Rule, cube: Cube, how: Evaluation = PLAIN) -> Outcome | None:
    t_ax = cube.axis("time")
    if t_ax is None:
        return None
    by_code = {p.code: i for i, p in enumerate(cube.periods) if p}
    groups = []
    for p in cube.periods:
        if p and p.freq == "year":
            qs = [by_code.get(f"{p.year}K{q}") for q in range(1, 5)]
            if all(q is not None for q in qs):
                groups.append(Group(p.code, tuple(f"{p.year}K{q}" for q in range(1, 5))))
    if not groups:
        return None
    from dataclasses import replace

    return evaluate_hierarchy(replace(rule, kind="hierarchy", along="time", groups=tuple(groups)), cube, how)


# --- shared ending ----------------------------------------------------------------------
def _full_index(parts: Parts, axes: list[int], idx: tuple) -> tuple[int, ...]:
    """The cube index of the cell behind one position of a gathered slab."""
    full = []
    for ax, p in enumerate(parts):
        if isinstance(p, (int, np.integer)):
            full.append(int(p))
        else:
            k = idx[axes.index(ax)]
            full.append(int(p[k]) if p is not None else int(k))
    return tuple(full)


def _finish(
    rule: Rule,
    cube: Cube,
    actual: np.ndarray,
    expected: np.ndarray,
    bad: np.ndarray | None,
    tol: float | np.ndarray,
    parts: Parts,
    downgraded: np.ndarray | None,
    ge: np.ndarray | None,
    members: list[tuple[float, Parts]] | None = None,
    children: tuple[int, int, list[list[int]]] | None = None,
    how: Evaluation = PLAIN,
) -> Outcome:
    """Counts and violations from the actual and expected slabs of one rule on one cube."""
    out = Outcome(rule, cube.table.id)
    if not isinstance(tol, np.ndarray) and tol == 0 and ge is None:
        fail = actual != expected  # exact counts: no subtraction, no abs
    else:
        residual = actual - expected
        if ge is not None:
            fail = residual < -tol - _EPS
            fail |= ~ge & (np.abs(residual) > tol + _EPS)
        else:
            fail = np.abs(residual) > tol + _EPS
    if bad is None:
        applicable = skipped = None
        out.checked, out.skipped = int(actual.size), 0
    else:
        applicable = (bad & ABSENT) == 0
        skipped = applicable & ((bad & (UNKNOWN | BOUND)) != 0)
        checked = applicable & ~skipped
        fail &= checked
        out.checked = int(checked.sum())
        out.skipped = int(skipped.sum())
    out.failed = int(np.count_nonzero(fail))
    out.passed = out.checked - out.failed
    low = next(iter(rule.if_missing.values()), rule.severity)
    severities = None
    if downgraded is not None:
        severities = np.where(np.broadcast_to(downgraded, actual.shape), low, rule.severity)
    if how.residuals:
        if applicable is None:
            applicable = np.ones(actual.shape, dtype=bool)
            skipped = np.zeros(actual.shape, dtype=bool)
        out._instances = (cube, actual, expected, applicable, skipped, fail, parts, tol, severities)
    listed = fail
    if how.errors_only:
        listed = fail & (severities != "info") if severities is not None else (fail if rule.severity != "info" else fail & False)
    if out.failed:
        axes = _result_axes(parts)
        for flat in np.flatnonzero(listed)[:MAX_VIOLATIONS]:
            idx = np.unravel_index(flat, actual.shape)
            full = _full_index(parts, axes, idx)
            where, codes = cube.where(full)
            severity = str(severities[idx]) if severities is not None else rule.severity
            a, e = float(actual[idx]), float(expected[idx])
            cells = [(cube.table.id, _full_index(mp, axes, idx), c) for c, mp in (members or [(1.0, parts)])]
            if children is not None:
                ax, pos, kids = children
                for k in kids[idx[pos]]:
                    cell = list(full)
                    cell[ax] = k
                    cells.append((cube.table.id, tuple(cell), -1.0))
            out.violations.append(Violation(
                rule.id, severity, cube.table.id, where, codes, e, a, a - e,
                float(tol[idx]) if isinstance(tol, np.ndarray) else tol,
                ">=" if ge is not None and bool(ge[idx]) else "", cells=cells,
                bound=">=" if ge is not None and bool(ge[idx]) else "",
            ))
    return out


EVALUATORS = {
    "identity": evaluate_identity,
    "conservation": evaluate_identity,
    "hierarchy": evaluate_hierarchy,
    "sign": evaluate_sign,
    "period_sum": evaluate_period_sum,
}


def evaluate(rule: Rule, cube: Cube, residuals: bool = False, errors_only: bool = False) -> Outcome | None:
    """The outcome of `rule` on `cube`, or None when the rule does not apply to it.

    With `residuals=True` the outcome keeps every instance for `Outcome.residual_frame()`;
    with `errors_only=True` only error and warning violations are itemised (all are counted).
    """
    how = Evaluation(residuals, errors_only) if residuals or errors_only else PLAIN
    return EVALUATORS[rule.kind](rule, cube, how)
