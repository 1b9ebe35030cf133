"""Which cells are wrong: the minimal change that makes every rule hold (Fellegi–Holt).

In a two-way table a wrong interior cell breaks both its row sum and its column sum; the
cell to name is the one at the crossing, not the whole row. Greedy guessing cannot tell a
tie from a winner, nor find swaps, so this module solves the problem exactly:

1. *Rows.* Every rule instance that touches a cell of a failing instance (shipped rules,
   the table's derived rules, cross-table identities) becomes a linear row
   `Σ a·x (op) 0` with its tolerance. The rows are found by the engine itself: the cells in
   question get large random integers, every other cell 0, and whatever fails is a row
   touching them (run once with + and once with − signs: an equality fails in both runs, a
   bound in one). So localization reads exactly the instances `audit()` checks.
2. *Components, lazily.* Only cells of failing instances may change (a cell in no failing
   instance needs no change). The problem starts from the failing rows; cells linked by
   rows form components, solved one by one; every cell a solution changes is then probed
   for all its rows and the components are solved again, until no solution touches an
   unprobed cell (an optimum of a relaxation that satisfies every row is optimal).
3. *Minimal change.* One cell that fixes every failing row of a component is found directly
   (all such cells are a tie, however many). Otherwise a MILP (HiGHS through
   `scipy.optimize.milp`): binary change indicators with big-M from the data scale, weights
   from `LocalizeOptions`, and every optimal solution up to `max_solutions` by no-good cuts
   (independent errors of one component are enumerated one at a time, with the others'
   corrections held). Swaps come out as two-cell solutions.
4. *Values.* A changed cell's value is suggested only when the equalities pin it; bounds and
   signs only narrow it (then `lower`/`upper`, never a made-up value).

Suppressed cells (`:`) are unknowns ≥ 0 in the same rows; `intervals()` gives each one the
range its value must lie in given every published cell (an LP per cell): a single value is a
disclosure risk (warning), an empty range means the published cells leave no room (error).
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from migaudit.engine.dense import Outcome, Violation, evaluate, sign_parts
from migaudit.model import symbols as sym
from migaudit.model.cube import Cube
from migaudit.result import AuditResult
from migaudit.rules.ruleset import Rule, RuleSet

Key = tuple[str, tuple[int, ...]]  # (table id, cell index)


@dataclass(frozen=True)
class LocalizeOptions:
    """How localization weighs and searches. Passed explicitly; there are no module switches."""

    #: cost of changing a cell on a total category (Total, The whole country, …)
    total_weight: float = 1.0
    #: cost of changing any other cell
    interior_weight: float = 1.0
    #: optimal solutions enumerated per component before a tie is reported as incomplete
    max_solutions: int = 10
    #: suppressed cells get LP intervals
    intervals: bool = True
    #: seconds per MILP solve
    time_limit: float = 20.0
    #: seed of the random probe values (reproducible rows)
    seed: int = 12345


@dataclass
class Row:
    """One rule instance as `lo ≤ Σ coef·x ≤ hi` (hi = inf for a bound)."""

    rule: str
    cells: dict[Key, float]
    lo: float
    hi: float

    @property
    def equality(self) -> bool:
        return np.isfinite(self.hi)


@dataclass
class _Problem:
    """Everything known about the cells localization looks at."""

    cubes: dict[str, Cube]
    rows: list[Row] = field(default_factory=list)
    seen: set[tuple] = field(default_factory=set)
    #: cells that must stay ≥ 0 (a sign rule covers them)
    nonneg: set[Key] = field(default_factory=set)
    #: cells whose every row is known
    probed: set[Key] = field(default_factory=set)
    #: tables that share figures with a table (from the audit's cross-table outcomes)
    partners: dict[str, set[str]] = field(default_factory=dict)

    def value(self, key: Key) -> float:
        """Published value; a cell with no cell (`.`) counts 0; suppressed cells are NaN."""
        cube = self.cubes[key[0]]
        v = float(cube.values[key[1]])
        if np.isnan(v) and not self.suppressed(key):
            return 0.0
        return v

    def suppressed(self, key: Key) -> bool:
        cube = self.cubes[key[0]]
        return int(cube.symbols[key[1]]) == sym.CONFIDENTIAL


# --- finding the rows ------------------------------------------------------------------
def _cleared(cube: Cube) -> Cube:
    """The cube with suppressed cells as ordinary (unknown) numbers, so rows keep them."""
    if not (cube.symbols == sym.CONFIDENTIAL).any():
        return cube
    symbols = np.where(cube.symbols == sym.CONFIDENTIAL, sym.NUMBER, cube.symbols).astype(cube.symbols.dtype)
    return _keep_structure(replace(cube, symbols=symbols), cube)


def _keep_structure(new: Cube, old: Cube) -> Cube:
    """`new` (other values or symbols, same categories) with `old`'s inferred structure.

    The structure comes from labels and metadata only; inferring it again for every probe
    cost ~0.5 s per probe at 10M cells (issue 14).
    """
    if "structure" in old.__dict__:
        new.__dict__["structure"] = old.__dict__["structure"]
    return new


def _probe(cube: Cube, seeds: list[tuple[int, ...]], sign: float, rng: np.random.Generator) -> Cube:
    values = np.where(np.isnan(cube.values) & (cube.symbols != sym.CONFIDENTIAL), np.nan, 0.0)
    if seeds:
        idx = tuple(np.asarray(seeds).T)
        values[idx] = sign * rng.integers(1 << 30, 1 << 40, size=len(seeds)).astype(float)
    return _keep_structure(replace(cube, values=values), cube)


def _sign_rows(problem: _Problem, cube: Cube, rule: Rule, seeds: list[tuple[int, ...]]) -> None:
    """The seeds a sign rule covers must stay ≥ 0: read from the rule's cells, not from a probe
    (a negative probe would evaluate the rule on every cell of the cube to find a few)."""
    parts = sign_parts(rule, cube)
    if parts is None or not seeds:
        return
    at = np.asarray(seeds, dtype=np.intp)
    covered = np.ones(len(seeds), dtype=bool)
    for ax, p in enumerate(parts):
        if p is not None:
            covered &= np.isin(at[:, ax], np.atleast_1d(np.asarray(p)))
    problem.nonneg.update((cube.table.id, seeds[i]) for i in np.flatnonzero(covered))


def _table_rows(problem: _Problem, cube: Cube, rules: list[Rule], seeds: list[tuple[int, ...]],
                rng: np.random.Generator) -> None:
    """Rows of `rules` on `cube` that touch `seeds` (split when the engine's itemising caps)."""
    signs = [r for r in rules if r.kind == "sign"]
    for rule in signs:
        _sign_rows(problem, cube, rule, seeds)
    rules = [r for r in rules if r.kind != "sign"]
    base = _cleared(cube)
    found: dict[tuple, list] = {}
    for sign in (1.0, -1.0):
        if sign < 0 and not any(r.kind in ("hierarchy", "period_sum") for r in rules):
            break
        probe = _probe(base, seeds, sign, rng)
        for rule in rules:
            if sign < 0 and rule.kind not in ("hierarchy", "period_sum", "sign"):
                continue  # identities are equalities: the + run found them all
            if sign > 0 and rule.kind == "sign":
                continue  # positive whole numbers never break a sign rule
            out = evaluate(rule, probe)
            if out is None:
                continue
            if len(out.violations) < out.failed and len(seeds) > 1:
                half = len(seeds) // 2
                _table_rows(problem, cube, [rule], seeds[:half], rng)
                _table_rows(problem, cube, [rule], seeds[half:], rng)
                continue
            for v in out.violations:
                if v.severity == "info":
                    continue  # implied unpublished members (adjustments): no constraint
                if any(min(idx) < 0 for _, idx, _ in v.cells):
                    cells = _conservation_cells(cube, rule, v)
                    if cells:
                        _add_row(problem, rule.id, cells, v.tolerance, equality=True)
                    continue
                if rule.kind == "sign":
                    problem.nonneg.add((cube.table.id, v.cells[0][1]))
                    continue
                key = (rule.id, v.cells[0][1])
                if key not in found:
                    found[key] = v
    for (rid, _), v in found.items():
        cells: dict[Key, float] = defaultdict(float)
        for _, idx, c in v.cells:
            cells[(cube.table.id, idx)] += c
        _add_row(problem, rid, dict(cells), v.tolerance, equality=not v.bound)


def _add_row(problem: _Problem, rule: str, cells: dict[Key, float], tol: float, equality: bool) -> None:
    cells = {k: c for k, c in cells.items() if c}
    key = (rule, tuple(sorted(cells.items())))
    if not cells or key in problem.seen:
        return
    problem.seen.add(key)
    problem.rows.append(Row(rule, cells, -tol, tol if equality else np.inf))


def _cross_rows(problem: _Problem, cubes: list[Cube], seeds: set[Key], rng: np.random.Generator) -> None:
    """Same-figure rows touching `seeds`: cross-table checks on probe cubes."""
    from migaudit.engine.crosstable import cross_table_outcomes

    by_table: dict[str, list[tuple[int, ...]]] = defaultdict(list)
    for t, idx in seeds:
        by_table[t].append(idx)
    near = set(by_table) | {p for t in by_table for p in problem.partners.get(t, ())}
    probes = [_probe(_cleared(c), by_table.get(c.table.id, []), 1.0, rng) for c in cubes if c.table.id in near]
    if len(probes) < 2:
        return
    for out in cross_table_outcomes(probes):
        for v in out.violations:
            cells = _cross_cells(problem, v)
            if cells is not None:
                _add_row(problem, v.rule, cells, v.tolerance, equality=True)


def _cross_cells(problem: _Problem, v: Violation) -> dict[Key, float] | None:
    """The cells of a cross-table instance; a sum over regions is spelled out."""
    cells: dict[Key, float] = defaultdict(float)
    derived = bool(v.other and v.other.get("derived"))
    for i, (t, idx, c) in enumerate(v.cells):
        cube = problem.cubes.get(t)
        if cube is None:
            return None
        if derived and i == 1:
            r_ax = cube.axis("region")
            if r_ax is None:
                return None
            for r in range(len(cube.dims[r_ax])):
                full = list(idx)
                full[r_ax] = r
                cells[(t, tuple(full))] += c
        else:
            cells[(t, idx)] += c
    return dict(cells)


def _conservation_cells(cube: Cube, rule: Rule, v: Violation) -> dict[Key, float] | None:
    """A conservation instance spelled out: every term's member over every leaf of `sum_over`."""
    if rule.kind != "conservation" or rule.sum_over is None or any(t.lag for t in (*rule.lhs, *rule.rhs)):
        return None
    ax, sum_ax = cube.axis(rule.along), cube.axis(rule.sum_over)
    if ax is None or sum_ax is None:
        return None
    idx = list(v.cells[0][1])
    totals = set(cube.totals(sum_ax))
    cells: dict[Key, float] = defaultdict(float)
    for side, terms in ((1.0, rule.lhs), (-1.0, rule.rhs)):
        for t in terms:
            m = cube.find(ax, t.member)
            if m is None:
                continue
            for leaf in range(len(cube.dims[sum_ax])):
                if leaf in totals:
                    continue
                full = list(idx)
                full[ax], full[sum_ax] = m, leaf
                cells[(cube.table.id, tuple(full))] += side * t.coef
    return dict(cells) or None


def _violation_cells(problem: _Problem, v: Violation) -> list[Key]:
    if v.other is not None:
        cells = _cross_cells(problem, v)
        return list(cells) if cells else []
    return [(t, idx) for t, idx, _ in v.cells if min(idx) >= 0 and t in problem.cubes]


def _rules_for(cube: Cube, rules: RuleSet) -> list[Rule]:
    from migaudit.runner import own_rules

    return [*rules, *own_rules(cube)]


def _collect_rows(problem: _Problem, cubes: list[Cube], rules: RuleSet, seeds: set[Key], cross: bool,
                  rng: np.random.Generator) -> set[Key]:
    """Rows touching `seeds`, then rows touching the suppressed cells those rows hold, until none is new."""
    done: set[Key] = set()
    todo = set(seeds)
    while todo:
        by_table: dict[str, list[tuple[int, ...]]] = defaultdict(list)
        for t, idx in sorted(todo):
            by_table[t].append(idx)
        before = len(problem.rows)
        for t, idxs in by_table.items():
            cube = problem.cubes[t]
            _table_rows(problem, cube, _rules_for(cube, rules), idxs, rng)
        if cross and len(cubes) > 1:
            _cross_rows(problem, cubes, todo, rng)
        done |= todo
        problem.probed |= todo
        todo = {k for r in problem.rows[before:] for k in r.cells if problem.suppressed(k)} - done - problem.probed
    return done


# --- components ------------------------------------------------------------------------
def _residual(problem: _Problem, row: Row, override: dict[Key, float] | None = None) -> float:
    if override:
        return sum(c * override.get(k, problem.value(k)) for k, c in row.cells.items())
    return sum(c * problem.value(k) for k, c in row.cells.items())


def _fails(row: Row, r: float) -> bool:
    return bool(r < row.lo - 1e-9 or r > row.hi + 1e-9)


def _components(problem: _Problem, free: set[Key]) -> list[tuple[list[Key], list[Row]]]:
    """Groups of changeable cells (and unknowns) linked by the rows known so far."""
    free = set(free) | {k for r in problem.rows for k in r.cells if problem.suppressed(k)}
    parent: dict[Key, Key] = {k: k for k in free}

    def find(k: Key) -> Key:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for r in problem.rows:
        ks = [k for k in r.cells if k in free]
        for k in ks[1:]:
            a, b = find(ks[0]), find(k)
            if a != b:
                parent[b] = a
    groups: dict[Key, list[Key]] = defaultdict(list)
    for k in free:
        groups[find(k)].append(k)
    comp_rows: dict[Key, list[Row]] = defaultdict(list)
    for r in problem.rows:
        ks = [k for k in r.cells if k in free]
        if ks:
            comp_rows[find(ks[0])].append(r)
    # a negative count that no other rule links to anything is a component of its own
    return [(sorted(cells), comp_rows[root]) for root, cells in groups.items()
            if comp_rows[root] or any(_negative_count(problem, k) for k in cells)]


def _negative_count(problem: _Problem, key: Key) -> bool:
    return not problem.suppressed(key) and problem.value(key) < 0 and _nonneg_unknown(problem, key)


# --- solving ---------------------------------------------------------------------------
@dataclass
class Solution:
    """One minimal change: the cells changed and, per cell, its value or the range left."""

    cells: list[Key]
    cost: float
    #: per cell: lowest and highest value, and the value closing its failing equality (or None)
    values: dict[Key, tuple[float, float, float | None]] = field(default_factory=dict)


@dataclass
class Group:
    """The equally good ways to fix one error: one solution is a named cell, several a tie."""

    solutions: list[Solution]
    #: False when more optimal solutions exist than `max_solutions`
    complete: bool = True


def _weight(problem: _Problem, key: Key, options: LocalizeOptions) -> float:
    cube = problem.cubes[key[0]]
    on_total = any(i in cube.totals(ax) for ax, i in enumerate(key[1]))
    return options.total_weight if on_total else options.interior_weight


def _linear(problem: _Problem, cells: list[Key], rows: list[Row], changeable: set[Key]):  # noqa: ANN202
    """Rows over the variables Δ of `changeable` cells and the suppressed unknowns s, as (A, lo, hi)."""
    from scipy.sparse import coo_matrix

    col = {k: i for i, k in enumerate(cells)}
    r_i, c_i, data, lo, hi = [], [], [], [], []
    for n, r in enumerate(rows):
        const = 0.0
        for k, c in r.cells.items():
            if problem.suppressed(k) and k in col:
                r_i.append(n), c_i.append(col[k]), data.append(c)
            elif k in changeable and k in col:
                r_i.append(n), c_i.append(col[k]), data.append(c)
                const += c * problem.value(k)
            else:
                const += c * problem.value(k)
        lo.append(r.lo - const)
        hi.append(r.hi - const)
    a = coo_matrix((data, (r_i, c_i)), shape=(len(rows), len(cells))).tocsr()
    return a, np.asarray(lo), np.asarray(hi)


def _bounds(problem: _Problem, cells: list[Key], changeable: set[Key], big_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of Δ (changeable cells, 0 for fixed ones) and of s (suppressed unknowns)."""
    lb, ub = [], []
    for k in cells:
        if problem.suppressed(k):
            lb.append(0.0 if _nonneg_unknown(problem, k) else -np.inf)
            ub.append(np.inf)
        elif k in changeable:
            v = problem.value(k)
            lb.append(-v if _nonneg_unknown(problem, k) else -big_m)
            ub.append(big_m)
        else:
            lb.append(0.0)
            ub.append(0.0)
    return np.asarray(lb), np.asarray(ub)


def _nonneg_unknown(problem: _Problem, key: Key) -> bool:
    """A count cannot be negative: the sign rule says so, or the measure, or (no known measure)
    a table whose published figures are practically all ≥ 0. Net figures may be negative."""
    if key in problem.nonneg:
        return True
    cube = problem.cubes[key[0]]
    if _on_derived(cube, key[1]):
        return False  # a change column (2021K2 − 2020K2) of a count may be negative
    m_ax = cube.axis("measure")
    if m_ax is not None:
        from migaudit.knowledge.measures import measure_info

        try:
            return not measure_info(cube.canon[m_ax][key[1][m_ax]].split("{")[0]).may_be_negative
        except KeyError:
            pass
    cache = problem.__dict__.setdefault("_counts", {})
    if key[0] not in cache:
        # counted in place: a copy of the numbers is 80 MB at 10M cells (NaN counts as nonzero)
        nan = int(np.count_nonzero(np.isnan(cube.values)))
        numbers, nonzero = cube.values.size - nan, int(np.count_nonzero(cube.values)) - nan
        cache[key[0]] = bool(numbers) and np.count_nonzero(cube.values < 0) <= 0.01 * max(nonzero, 1)
    return cache[key[0]]


def _on_derived(cube: Cube, idx: tuple[int, ...]) -> bool:
    """The cell lies on a category the table computes from others (a difference of periods)."""
    for ax, i in enumerate(idx):
        derived = cube.derived(ax)
        if derived and cube.dims[ax].codes[i] in derived:
            return True
    return False


def _single_cell(problem: _Problem, cells: list[Key], rows: list[Row],
                 override: dict[Key, float] | None = None) -> list[tuple[Key, float, float, float | None]]:
    """Every cell whose change alone satisfies all rows: (cell, lowest Δ, highest Δ, Δ closing
    a failing equality exactly — within tolerance the range is not a single value).

    `override` holds values other changes already gave some cells (the other errors).
    """
    res = [_residual(problem, r, override) for r in rows]
    failing = [i for i, r in enumerate(rows) if _fails(r, res[i])]
    if not failing:
        return []  # (a negative count alone in no failing row is left to the MILP)
    common = set(rows[failing[0]].cells)
    for i in failing[1:]:
        common &= set(rows[i].cells)
    override = override or {}
    negative = {k for k in cells if override.get(k, problem.value(k)) < 0 and _nonneg_unknown(problem, k)}
    if negative:  # a negative count must change itself
        common &= negative if len(negative) == 1 else set()
    out = []
    for k in sorted(common & set(cells) - set(override)):
        lo, hi, point = -np.inf, np.inf, None
        if _nonneg_unknown(problem, k):
            lo = -problem.value(k)
        for i, r in enumerate(rows):
            a = r.cells.get(k)
            if not a:
                continue
            a_lo, a_hi = (r.lo - res[i]) / a, (r.hi - res[i]) / a
            if a < 0:
                a_lo, a_hi = a_hi, a_lo
            lo, hi = max(lo, a_lo), min(hi, a_hi)
            if point is None and r.equality and _fails(r, res[i]):
                point = -res[i] / a  # the change that closes a failing equality exactly
        if lo <= hi + 1e-9:
            out.append((k, lo, hi, min(max(point, lo), hi) if point is not None else None))
    return out


class _Milp:
    """The minimal-change MILP of one component: Δ and s columns, then one binary z per changeable cell."""

    def __init__(self, problem: _Problem, cells: list[Key], rows: list[Row], options: LocalizeOptions) -> None:
        from scipy.optimize import LinearConstraint
        from scipy.sparse import bmat, csr_matrix, diags, hstack

        self.cells, self.options = cells, options
        self.changeable = [k for k in cells if not problem.suppressed(k)]
        n, m = len(cells), len(self.changeable)
        self.n, self.m = n, m
        scale = max([abs(problem.value(k)) for k in self.changeable] + [1.0])
        imbalance = sum(abs(_residual(problem, r)) for r in rows if not any(problem.suppressed(k) for k in r.cells))
        big_m = 2 * scale + imbalance + 1  # no change needs more than the data's scale and the imbalances
        a, lo, hi = _linear(problem, cells, rows, set(self.changeable))
        lb, ub = _bounds(problem, cells, set(self.changeable), big_m)
        pos = {k: i for i, k in enumerate(cells)}
        self.zpos = {k: i for i, k in enumerate(self.changeable)}
        sel = csr_matrix((np.ones(m), (list(range(m)), [pos[k] for k in self.changeable])), shape=(m, n))
        self.weights = np.asarray([_weight(problem, k, options) for k in self.changeable])
        m_up = np.asarray([ub[pos[k]] for k in self.changeable])
        m_down = np.asarray([max(-lb[pos[k]], 0.0) for k in self.changeable])
        self.blocks = [
            LinearConstraint(hstack([a, csr_matrix((a.shape[0], m))]), lo, hi),
            LinearConstraint(bmat([[sel, -diags(m_up)]]), -np.inf, 0.0),  # Δ ≤ M⁺·z
            LinearConstraint(bmat([[-sel, -diags(m_down)]]), -np.inf, 0.0),  # −Δ ≤ M⁻·z
        ]
        self.c = np.concatenate([np.zeros(n), self.weights])
        self.integrality = np.concatenate([np.zeros(n), np.ones(m)])
        self.lb = np.concatenate([lb, np.zeros(m)])
        self.ub = np.concatenate([ub, np.ones(m)])
        self.dpos = np.asarray([pos[k] for k in self.changeable], dtype=int)

    def solve(self, cuts: list[list[Key]], forced: set[Key]) -> tuple[list[Key], float] | None:
        """An optimal support (changed cells) avoiding `cuts` (no-good) with `forced` cells changed."""
        from scipy.optimize import Bounds, LinearConstraint, milp

        cons = list(self.blocks)
        if cuts:
            cut = np.zeros((len(cuts), self.n + self.m))
            for i, support in enumerate(cuts):
                cut[i, [self.n + self.zpos[k] for k in support]] = 1.0
            cons.append(LinearConstraint(cut, -np.inf, np.asarray([len(c) - 1 for c in cuts], dtype=float)))
        lb = self.lb.copy()
        for k in forced:
            lb[self.n + self.zpos[k]] = 1.0
        with warnings.catch_warnings(), _c_stdout_silenced():
            warnings.simplefilter("ignore", RuntimeWarning)  # the tolerance goes to HiGHS verbatim
            res = milp(self.c, integrality=self.integrality, bounds=Bounds(lb, self.ub), constraints=cons,
                       options={"time_limit": self.options.time_limit, "mip_feasibility_tolerance": 1e-9,
                                "mip_rel_gap": 0.0})
        if res.x is None:
            return None
        z, delta = res.x[self.n:], res.x[:self.n][self.dpos]
        support = np.flatnonzero((z > 0.5) | (np.abs(delta) > 0.5))
        self.last = {self.changeable[i]: float(delta[i]) for i in support}
        return [self.changeable[i] for i in support], float(self.weights[support].sum())


@contextlib.contextmanager
def _c_stdout_silenced() -> Iterator[None]:
    """HiGHS (as bundled with SciPy) prints debug lines such as
    "HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();" with C printf,
    whatever `disp` says (ERGO-Code/HiGHS#2783): into a report written to stdout, or a JSON
    one. The process's file descriptor 1 goes to /dev/null while the solver runs; C's
    buffers are flushed before it comes back, so nothing printed inside leaks out later."""
    try:
        fd = sys.__stdout__.fileno() if sys.__stdout__ is not None else 1
        saved = os.dup(fd)
    except (OSError, ValueError, AttributeError):  # no real stdout (embedded, pytest capture): nothing to guard
        yield
        return
    libc = None
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL(None)
    sys.stdout.flush()
    if libc is not None:
        libc.fflush(None)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
        yield
    finally:
        if libc is not None:
            libc.fflush(None)
        os.dup2(saved, fd)
        os.close(saved)
        os.close(null)


def _clusters(support: list[Key], rows: list[Row]) -> list[list[Key]]:
    """Changed cells that share a row belong together (a swap); the rest are separate errors."""
    parent = {k: k for k in support}

    def find(k: Key) -> Key:
        while parent[k] != k:
            k = parent[k]
        return k

    for r in rows:
        ks = [k for k in support if k in r.cells]
        for k in ks[1:]:
            parent[find(k)] = find(ks[0])
    groups: dict[Key, list[Key]] = defaultdict(list)
    for k in support:
        groups[find(k)].append(k)
    return list(groups.values())


def _milp_groups(problem: _Problem, cells: list[Key], rows: list[Row], options: LocalizeOptions) -> list[Group]:
    """Every optimal solution, per independent error of the component (no-good cuts, up to the limit).

    The first optimum splits into clusters of changed cells that share no row; each cluster's
    alternatives are enumerated with the other clusters' cells left changed, so two
    independent ties of 3 are two ties of 3, not one of 9.
    """
    model = _Milp(problem, cells, rows, options)
    first = model.solve([], set())
    if first is None:
        return []
    support, best = first
    deltas = dict(model.last)
    clusters = _clusters(support, rows)
    groups = []
    for cluster in clusters:
        others = {k for c in clusters if c is not cluster for k in c}
        w = _weight(problem, cluster[0], options)
        if len(clusters) > 1 and len(cluster) == 1 and w <= 2 * min(model.weights):
            # one cell: its alternatives are the single cells that fix what the others leave
            held = {k: problem.value(k) + deltas[k] for k in others}
            v = problem.value
            alts = [Solution([k], best, {k: _range(v(k), lo, hi, pt)})
                    for k, lo, hi, pt in _single_cell(problem, cells, rows, held) if _weight(problem, k, options) == w]
            if any(a.cells == cluster for a in alts):
                groups.append(Group(alts, True))
                continue
        sols = [Solution(sorted(cluster), best)]
        cuts = [sorted(cluster)]
        complete = True
        while True:
            found = model.solve(cuts, others)
            if found is None or found[1] > best + 1e-6:
                break
            alt = sorted(k for k in found[0] if k not in others)
            if not alt or alt in cuts:
                break
            if len(sols) == options.max_solutions:
                complete = False
                break
            sols.append(Solution(alt, best))
            cuts.append(alt)
        groups.append(Group(sols, complete))
    return groups


class _RangeLP:
    """min and max of single variables over `lo ≤ A·x ≤ hi`, `lb ≤ x ≤ ub`: one HiGHS model, many objectives.

    Uses the HiGHS that SciPy ships (one model, warm-started re-solves: ~0.1 ms each) and falls
    back to `scipy.optimize.linprog` (a new model per solve) when that binding is not there.
    """

    def __init__(self, a, lo: np.ndarray, hi: np.ndarray, lb: np.ndarray, ub: np.ndarray) -> None:  # noqa: ANN001
        from scipy.sparse import csc_matrix

        self.a, self.lo, self.hi, self.lb, self.ub = csc_matrix(a), lo, hi, lb, ub
        self.n = self.a.shape[1]
        self.h = None
        try:
            from scipy.optimize._highspy import _core as hc
        except ImportError:  # pragma: no cover - older or newer SciPy layouts
            return
        try:
            h = hc._Highs()
            h.setOptionValue("output_flag", False)
            lp = hc.HighsLp()
            lp.num_col_, lp.num_row_ = self.n, self.a.shape[0]
            lp.col_cost_ = np.zeros(self.n)
            lp.col_lower_ = np.where(np.isfinite(lb), lb, -hc.kHighsInf)
            lp.col_upper_ = np.where(np.isfinite(ub), ub, hc.kHighsInf)
            lp.row_lower_ = np.where(np.isfinite(lo), lo, -hc.kHighsInf)
            lp.row_upper_ = np.where(np.isfinite(hi), hi, hc.kHighsInf)
            m = lp.a_matrix_
            m.format_ = hc.MatrixFormat.kColwise
            m.start_, m.index_, m.value_ = self.a.indptr, self.a.indices, self.a.data
            m.num_col_, m.num_row_ = self.n, self.a.shape[0]
            lp.a_matrix_ = m
            h.passModel(lp)
            self.h, self.hc = h, hc
        except Exception:  # noqa: BLE001 - a private binding that moved: use linprog
            self.h = None

    def extreme(self, j: int, maximize: bool) -> float | None:
        """The min (max) of x_j; ±inf when unbounded; None when there is no feasible x."""
        c = np.zeros(self.n)
        c[j] = 1.0
        if self.h is not None:
            hc = self.hc
            self.h.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), c)
            self.h.changeObjectiveSense(hc.ObjSense.kMaximize if maximize else hc.ObjSense.kMinimize)
            self.h.run()
            status = self.h.getModelStatus()
            if status == hc.HighsModelStatus.kOptimal:
                return float(self.h.getSolution().col_value[j])
            if status == hc.HighsModelStatus.kInfeasible:
                return None
            if status == hc.HighsModelStatus.kUnbounded:
                return np.inf if maximize else -np.inf
        from scipy.optimize import linprog

        finite = np.isfinite(self.hi)
        dense = self.a.toarray()
        res = linprog(-c if maximize else c, A_ub=np.vstack([dense[finite], -dense]),
                      b_ub=np.concatenate([self.hi[finite], -self.lo]),
                      bounds=list(zip(self.lb, self.ub, strict=True)), method="highs")
        if res.status == 2:
            return None
        if res.status == 3:
            return np.inf if maximize else -np.inf
        return float(res.x[j])


def _values(problem: _Problem, cells: list[Key], rows: list[Row], sol: Solution, others: set[Key] = frozenset()) -> None:
    """Each changed cell's value range when only the solution's cells (the other errors' cells
    and the unknowns) may move."""
    changed = set(sol.cells) | set(others)
    keep = [k for k in cells if k in changed or problem.suppressed(k)]
    a, lo, hi = _linear(problem, keep, rows, changed)
    lb, ub = _bounds(problem, keep, changed, np.inf)
    lp = _RangeLP(a, lo, hi, lb, ub)
    for k in sol.cells:
        j = keep.index(k)
        low, high = lp.extreme(j, False), lp.extreme(j, True)
        v = problem.value(k)
        if low is None or high is None:
            sol.values[k] = (np.nan, np.nan, None)
        else:
            sol.values[k] = (v + low, v + high, None)


def _range(v: float, lo: float, hi: float, point: float | None) -> tuple[float, float, float | None]:
    return v + lo, v + hi, (v + point if point is not None else None)


def solve_component(problem: _Problem, cells: list[Key], rows: list[Row], options: LocalizeOptions) -> list[Group]:
    """All minimal changes of one component, as one group of alternatives per independent error."""
    if not rows:  # negative counts alone: each must change itself, to some value ≥ 0
        return [Group([Solution([k], _weight(problem, k, options), {k: (0.0, np.inf, None)})], True)
                for k in cells if _negative_count(problem, k)]
    if not any(problem.suppressed(k) for k in cells):
        singles = _single_cell(problem, cells, rows)
        if singles:
            w = {k: _weight(problem, k, options) for k in cells}
            best = min(w[k] for k, *_ in singles)
            if best < 2 * min(w.values()):  # no pair of changes can be cheaper than one
                v = problem.value
                return [Group([Solution([k], best, {k: _range(v(k), lo, hi, pt)})
                               for k, lo, hi, pt in singles if w[k] == best], True)]
    groups = _milp_groups(problem, cells, rows, options)
    for g in groups:
        others = {k for h in groups if h is not g for k in h.solutions[0].cells}
        for s in g.solutions:
            if not s.values:
                _values(problem, cells, rows, s, others)
    return groups


# --- reporting -------------------------------------------------------------------------
def _suspect(problem: _Problem, key: Key, lo: float, hi: float, point: float | None = None) -> dict[str, Any]:
    cube = problem.cubes[key[0]]
    where, codes = cube.where(key[1])
    actual = problem.value(key)
    out: dict[str, Any] = {"table": key[0], "where": where, "codes": codes, "actual": _num(actual)}
    if hi - lo <= 1e-6:
        out["suggested"] = _num(round((lo + hi) / 2, 6))
    elif point is not None:  # an equality pins it; the tolerance widens the range around it
        out["suggested"] = _num(round(point, 6))
        out["lower"], out["upper"] = _num(lo), _num(hi)
    else:  # only bounds and signs speak about this cell: a range, no made-up value
        out["suggested"] = None
        if np.isfinite(lo):
            out["lower"] = _num(lo)
        if np.isfinite(hi):
            out["upper"] = _num(hi)
    return out


def _num(x: float) -> float | int:
    x = float(x)
    r = round(x)
    return int(r) if abs(x - r) < 1e-6 else x


def localize(result: AuditResult, cubes: list[Cube], rules: RuleSet, options: LocalizeOptions | None = None) -> None:
    """Fill `suspects` on the failing violations of `result` and `result.intervals`.

    Each violation's suspects are the cells of the minimal change of its component; when
    several changes are equally small every one is listed, each suspect carrying
    `tie_size` and `alternative` (which solution it belongs to).

    Rows are added lazily: the problem starts from the failing instances; every cell a
    solution changes is then probed for all rule instances touching it, and the components
    are solved again until every cell of every solution has been probed. A relaxation whose
    optimum satisfies all rows is optimal, so this is exact, and it never builds the rows of
    the thousands of cells no solution touches.
    """
    options = options or LocalizeOptions()
    problem = _Problem({c.table.id: c for c in cubes})
    rng = np.random.default_rng(options.seed)
    kinds = {o.rule.id: o.rule.kind for o in result.outcomes}
    by_id = {r.id: r for r in rules}
    # only findings on the cubes given (a Spark audit localizes its large tables elsewhere)
    failing = [v for v in result.violation_list if v.severity in ("error", "warning")
               and all(t in problem.cubes for t, _, _ in v.cells)]
    cross = any(k == "cross_table" for k in kinds.values())
    for o in result.outcomes:
        if o.rule.kind == "cross_table" and " = " in o.table:
            a, b = o.table.split(" = ", 1)
            problem.partners.setdefault(a, set()).add(b)
            problem.partners.setdefault(b, set()).add(a)
    if failing:
        seeds: set[Key] = set()
        vcells: dict[int, set[Key]] = {}
        for v in failing:
            cells = _violation_cells(problem, v)
            vcells[id(v)] = set(cells)
            seeds.update(cells)
            if kinds.get(v.rule) == "sign":
                problem.nonneg.update(cells)
            elif kinds.get(v.rule) == "conservation" and v.rule in by_id and v.table in problem.cubes:
                row = _conservation_cells(problem.cubes[v.table], by_id[v.rule], v)
                if row:
                    seeds.update(row)
                    vcells[id(v)] = set(row)
                    _add_row(problem, v.rule, row, v.tolerance, equality=True)
            elif v.other is not None:
                row = _cross_cells(problem, v)
                if row:
                    _add_row(problem, v.rule, row, v.tolerance, equality=True)
            else:
                row: dict[Key, float] = defaultdict(float)
                for t, idx, c in v.cells:
                    row[(t, idx)] += c
                _add_row(problem, v.rule, dict(row), v.tolerance, equality=not v.bound)
        free = {k for k in seeds if not np.isnan(problem.value(k)) or problem.suppressed(k)}
        cache: dict[tuple, list] = {}
        for _ in range(50):
            components = _components(problem, free)
            solved = []
            for comp_cells, comp_rows in components:
                key = (tuple(comp_cells), frozenset(map(id, comp_rows)))
                if key not in cache:
                    cache[key] = _suspects_of(problem, comp_cells, comp_rows, options)
                solved.append(cache[key])
            touched = {k for groups in solved for group_cells, _ in groups for k in group_cells}
            touched |= {k for cells, _ in components for k in cells if problem.suppressed(k)}
            new = touched - problem.probed
            if not new:
                break
            _collect_rows(problem, cubes, rules, new, cross, rng)
        where_comp = {k: n for n, (cells, _) in enumerate(components) for k in cells}
        for v in failing:
            mine = vcells[id(v)]
            for n in sorted({where_comp[k] for k in mine if k in where_comp}):
                for group_cells, entries in solved[n]:
                    if group_cells & mine or len(solved[n]) == 1:
                        v.suspects.extend(entries)
    if options.intervals:
        result.intervals.extend(intervals(cubes, rules, options, problem, cross))
        _interval_outcomes(result)


def _suspects_of(problem: _Problem, cells: list[Key], rows: list[Row],
                 options: LocalizeOptions) -> list[tuple[set[Key], list[dict[str, Any]]]]:
    """Per independent error: the cells it may be, and their suspect entries."""
    out = []
    for g in solve_component(problem, cells, rows, options):
        entries = []
        tie = len(g.solutions) > 1 or not g.complete
        for n, s in enumerate(g.solutions):
            for k in s.cells:
                entry = _suspect(problem, k, *s.values.get(k, (np.nan, np.nan, None)))
                if tie:
                    entry["tie_size"] = len(g.solutions)
                    entry["alternative"] = n
                    if not g.complete:
                        entry["tie_complete"] = False
                entries.append(entry)
        out.append(({k for s in g.solutions for k in s.cells}, entries))
    return out


# --- suppressed cells ------------------------------------------------------------------
def intervals(cubes: list[Cube], rules: RuleSet, options: LocalizeOptions | None = None,
              problem: _Problem | None = None, cross: bool = False) -> list[dict[str, Any]]:
    """For each suppressed cell: the range [lower, upper] its value must lie in.

    Given every published cell and every rule touching the hidden ones (one LP per end).
    """

    options = options or LocalizeOptions()
    problem = problem or _Problem({c.table.id: c for c in cubes})
    rng = np.random.default_rng(options.seed + 1)
    hidden = {(c.table.id, tuple(int(i) for i in idx)) for c in cubes
              for idx in zip(*np.nonzero(c.symbols == sym.CONFIDENTIAL), strict=True)}
    if not hidden:
        return []
    pending = hidden - problem.probed
    if pending:  # the tables' own rules (cross-table twins of hidden cells are not searched)
        _collect_rows(problem, cubes, rules, pending, False, rng)
    rows = [r for r in problem.rows if any(k in hidden for k in r.cells)]
    parent = {k: k for k in hidden}

    def find(k: Key) -> Key:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for r in rows:
        ks = [k for k in r.cells if k in hidden]
        for k in ks[1:]:
            parent[find(k)] = find(ks[0])
    groups: dict[Key, list[Key]] = defaultdict(list)
    for k in hidden:
        groups[find(k)].append(k)
    out = []
    for cells in groups.values():
        cells = sorted(cells)
        mine = [r for r in rows if any(k in parent and find(k) == find(cells[0]) for k in r.cells if k in hidden)]
        a, lo, hi = _linear(problem, cells, mine, set())
        lb, ub = _bounds(problem, cells, set(), np.inf)
        lp = _RangeLP(a, lo, hi, lb, ub)
        for j, k in enumerate(cells):
            low = lp.extreme(j, False)
            high = lp.extreme(j, True) if low is not None else None
            where, codes = problem.cubes[k[0]].where(k[1])
            entry: dict[str, Any] = {"table": k[0], "where": where, "codes": codes, "symbol": ":"}
            if low is None:
                entry.update(lower=None, upper=None, empty=True)
            else:
                entry.update(lower=_num(low) if np.isfinite(low) else None,
                             upper=_num(high) if high is not None and np.isfinite(high) else None)
            out.append(entry)
    out.sort(key=lambda e: (e["table"], tuple(e["codes"].values())))
    return out


INTERVAL_RULE = Rule(
    id="suppressed_cell_interval",
    kind="interval",
    description="A suppressed cell (:) must keep room for its value, and more than one value.",
    severity="warning",
    family="release",
)


def _interval_outcomes(result: AuditResult) -> None:
    """Warnings for suppressed cells the published ones give away, errors for ones with no room."""
    per_table: dict[str, Outcome] = {}
    for e in result.intervals:
        out = per_table.setdefault(e["table"], Outcome(INTERVAL_RULE, e["table"]))
        out.checked += 1
        if e.get("empty"):
            sev, msg = "error", "the published cells leave no room for this suppressed cell"
        elif e["lower"] is not None and e["lower"] == e["upper"] and e["lower"] != 0:
            # a hidden 0 under a published 0 (no county has any) hides nothing
            sev, msg = "warning", f"the suppressed cell is given away by the published cells: it is {e['lower']:g}"
        else:
            out.passed += 1
            continue
        out.failed += 1
        lower = e["lower"] if e["lower"] is not None else float("nan")
        out.violations.append(Violation(INTERVAL_RULE.id, sev, e["table"], e["where"], e["codes"], lower,
                                        float("nan"), float("nan"), 0.0, msg))
    result.outcomes.extend(per_table.values())
