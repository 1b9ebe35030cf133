"""Hypothesis strategies for tables that satisfy migaudit's rules, and known corruptions of them.

For people who test their own pipelines (see docs/testing-your-pipeline.md): generate tables
that are consistent by construction, push them through your code, and check that migaudit
still finds nothing (no error or warning; info only where the generator put an unpublished
statistical adjustment); then `corrupt()` one cell and check that the audit names it.

Tables are built the way SSB's arithmetic runs: leaves (births, deaths, moves between
regions, cells of citizenship × region) are drawn at random, every dependent figure is
derived by solving the identities (excess of births, net migration, growth, population at
the end chained from period to period, continent subtotals, totals), and SSB symbols are
sprinkled where the rules allow them (`-` for zeros, `.` for whole rows of a region that
did not exist yet, `..` for an unpublished statistical adjustment).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from migaudit.extras import missing

try:
    from hypothesis import strategies as st
except ModuleNotFoundError as e:  # the optional extra is not installed
    raise missing("testing") from e

from migaudit.model import symbols as sym
from migaudit.model.table import Dimension, Table

#: 2016 municipalities (code, label), as in StatBank table 01222
MUNICIPALITIES = (
    ("0101", "Halden"), ("0301", "Oslo municipality"), ("1103", "Stavanger"), ("1201", "Bergen"),
    ("1601", "Trondheim"), ("1902", "Tromsø"), ("0219", "Bærum"), ("1001", "Kristiansand"),
)
WHOLE_COUNTRY = ("0", "The whole country")

#: 01222's ContentsCodes (and canonical names for the two it lacks)
MEASURES = {
    "births": ("Fodte2", "Births"),
    "deaths": ("Dode3", "Deaths"),
    "excess_of_births": ("Fodselsoverskudd4", "Excess of births"),
    "immigration": ("Innvandring5", "Immigration"),
    "emigration": ("Utvandring6", "Emigration"),
    "in_migration_domestic": ("Tilflytting7", "In-migration, domestic"),
    "out_migration_domestic": ("Fraflytting8", "Emigration, domestic"),
    "net_migration": ("Nettoinnflytting9", "Net migration"),
    "adjustment": ("statistical_adjustment", "Statistical adjustments"),
    "growth": ("Folketilvekst10", "Population growth"),
    "population_start": ("Folketallet1", "Population at the beginning of the quarter"),
    "population_end": ("Folketallet11", "Population at the end of the quarter"),
}
ADJUSTMENT_MODES = ("unpublished", "published", "partly")

#: the printed migration tables' citizenship structure: continent → countries shown
CONTINENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Europe total, except Norway": ("The rest of Europe", (
        "Denmark", "Sweden", "Finland", "Iceland", "Estonia", "France", "Italy", "Latvia", "Lithuania",
        "Netherlands", "Poland", "Russia", "Slovakia", "Spain", "United Kingdom", "Germany")),
    "Africa total": ("The rest of Africa", ("Ethiopia", "Eritrea", "Somalia", "Nigeria", "Kenya")),
    "Asia, Turkey included": ("The rest of Asia", (
        "Iraq", "Iran", "China", "Sri Lanka", "Philippines", "Thailand", "Vietnam", "Turkey")),
    "Oceania total": ("The rest of Oceania", ("Australia",)),
}
AMERICA = ("America, total", "North America total", ("USA", "Canada"), "South and Central America total",
           ("Brazil", "Chile", "Colombia"))
PRINTED_REGIONS = ("Oslo and Akershus", "Hedmark and Oppland", "South Eastern Norway", "Agder and Rogaland",
                   "Western Norway", "Trøndelag", "Northern Norway")

DrawFn = Callable[[st.SearchStrategy], Any]


def write_parquet_dataset(table_or_cells: Table | int, path: Any, errors: int = 0, seed: int = 1,
                          rows_per_file: int = 1_000_000) -> Any:
    """Write a drawn Table, or a consistent register-shaped cube of about N cells generated
    while it is written (any size, memory bounded by one chunk), as partitioned tidy Parquet.

    Returns where errors were injected (`synthetic.Injected`, for the generated cube) or None.
    """
    if isinstance(table_or_cells, Table):
        from migaudit.readers.tidy import write_table_dataset

        write_table_dataset(table_or_cells, path, rows_per_file)
        return None
    from migaudit.backends.synthetic import write_dataset

    return write_dataset(path, table_or_cells, seed=seed, errors=errors, rows_per_file=rows_per_file)


def _period(year: int, quarter: int) -> str:
    return f"{year}K{quarter}"


# --- population and changes during the quarter ------------------------------------------
@st.composite
def population_changes_tables(
    draw: DrawFn,
    min_regions: int = 1,
    max_regions: int = 5,
    min_periods: int = 2,
    max_periods: int = 8,
    adjustment: str | None = None,
    whole_country: bool | None = None,
    start_population: bool | None = None,
    symbols: bool = True,
) -> Table:
    """Region × contents × quarter tables (01222-like) that satisfy every population_changes rule.

    Leaves are random; excess of births, domestic in/out (from a matrix of moves between
    regions, so moves are conserved), net migration, growth and the population chain are
    derived. In Q4 a statistical adjustment closes growth: published as a measure
    (`adjustment="published"`), not published (`"unpublished"`: the engine reports the
    implied adjustment as info), or published only for later years (`"partly"`, `..`
    before). `table.meta["hidden_adjustments"]` maps "region|period" to every adjustment
    the table does not show: the only info findings a correct table may give.
    """
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_r = draw(st.integers(min_regions, max_regions))
    n_t = draw(st.integers(min_periods, max_periods))
    year = draw(st.integers(2008, 2024))
    q0 = draw(st.integers(1, 3))  # never start in Q4: its growth would only be checked as info
    mode = adjustment or draw(st.sampled_from(ADJUSTMENT_MODES))
    total = draw(st.booleans()) if whole_country is None else whole_country
    with_start = draw(st.booleans()) if start_population is None else start_population
    regions = list(MUNICIPALITIES[:n_r]) if not symbols else draw(st.permutations(MUNICIPALITIES))[:n_r]
    periods, quarters = [], []
    y, q = year, q0
    for _ in range(n_t):
        periods.append(_period(y, q))
        quarters.append(q)
        y, q = (y + 1, 1) if q == 4 else (y, q + 1)
    # a region that did not exist at first: `.` rows until its start (a Q1-Q3, not the last two);
    # not with a whole-country row, whose population would jump when the region appears
    start = np.zeros(n_r, dtype=int)
    if symbols and not total and n_t >= 3 and n_r >= 2 and draw(st.booleans()):
        r = draw(st.integers(0, n_r - 1))
        choices = [t for t in range(1, n_t - 1) if quarters[t] != 4]
        if choices:
            start[r] = draw(st.sampled_from(choices))
    alive = np.arange(n_t)[None, :] >= start[:, None]  # (regions, periods)

    def counts(high: int) -> np.ndarray:
        out = rng.integers(0, high + 1, size=(n_r, n_t)).astype(float)
        out[rng.random((n_r, n_t)) < 0.08] = 0.0  # some nils
        return np.where(alive, out, 0.0)

    births, deaths = counts(400), counts(300)
    immigration, emigration = counts(300), counts(200)
    moves = rng.integers(0, 120, size=(n_t, n_r, n_r)).astype(float)
    for t in range(n_t):
        np.fill_diagonal(moves[t], 0.0)
        dead = ~alive[:, t]
        moves[t][dead, :] = 0.0
        moves[t][:, dead] = 0.0
    out_dom = moves.sum(axis=2).T  # (regions, periods): moves out of region i
    in_dom = moves.sum(axis=1).T
    excess = births - deaths
    net = immigration - emigration + in_dom - out_dom
    q4 = np.asarray(quarters) == 4
    adj = np.where(q4[None, :] & alive, rng.integers(-60, 61, size=(n_r, n_t)), 0).astype(float)
    growth = excess + net + adj
    end = np.zeros((n_r, n_t))
    start_pop = np.zeros((n_r, n_t))
    for i in range(n_r):
        level = float(rng.integers(5_000, 700_000))
        for t in range(n_t):
            if not alive[i, t]:
                continue
            start_pop[i, t] = level
            level += growth[i, t]
            end[i, t] = level
    cols = {"births": births, "deaths": deaths, "excess_of_births": excess, "immigration": immigration,
            "emigration": emigration, "in_migration_domestic": in_dom, "out_migration_domestic": out_dom,
            "net_migration": net, "growth": growth, "population_end": end}
    if with_start:
        cols["population_start"] = start_pop
    published_adj = np.zeros(n_t, dtype=bool)
    if mode == "published":
        published_adj[:] = True
    elif mode == "partly":
        cut = draw(st.integers(0, n_t))
        published_adj[cut:] = True
    if mode != "unpublished":
        cols["adjustment"] = adj
    names = [m for m in MEASURES if m in cols]
    values = np.stack([cols[m] for m in names], axis=1)  # (regions, measures, periods)
    symbols_ = np.zeros(values.shape, dtype=np.uint8)
    region_dims = [*regions]
    if total:
        values = np.concatenate([values.sum(axis=0, keepdims=True), values], axis=0)
        symbols_ = np.concatenate([symbols_[:1], symbols_], axis=0)
        alive = np.concatenate([np.ones((1, n_t), dtype=bool), alive], axis=0)
        region_dims = [WHOLE_COUNTRY, *regions]
    hidden: dict[str, float] = {}
    if "adjustment" in cols:
        a = names.index("adjustment")
        for t in range(n_t):
            if not q4[t]:
                values[:, a, t] = 0.0
                symbols_[:, a, t] = sym.NIL
            elif not published_adj[t]:
                values[:, a, t] = np.nan
                symbols_[:, a, t] = sym.CODE[".."]
    for i, (code, _) in enumerate(region_dims):
        for t in range(n_t):
            if q4[t] and alive[i, t] and ("adjustment" not in cols or not published_adj[t]):
                a_val = values[i, names.index("growth"), t] - values[i, names.index("excess_of_births"), t] \
                    - values[i, names.index("net_migration"), t]
                hidden[f"{code}|{periods[t]}"] = float(a_val)
    dead = ~alive[:, None, :].repeat(len(names), axis=1)
    values[dead] = np.nan
    symbols_[dead] = sym.NOT_APPLICABLE
    if symbols and draw(st.booleans()):
        nil = (values == 0) & (symbols_ == sym.NUMBER)
        symbols_[nil] = sym.NIL
    dims = [
        Dimension("region", tuple(c for c, _ in region_dims), tuple(lab for _, lab in region_dims), role="region",
                  label="region"),
        Dimension("contents", tuple(MEASURES[m][0] for m in names), tuple(MEASURES[m][1] for m in names),
                  role="measure", label="contents"),
        Dimension("time", tuple(periods), role="time", label="time"),
    ]
    return Table(dims, values, symbols_, id="generated_01222", title="Population and changes during the quarter",
                 source="<hypothesis>", unit="persons",
                 meta={"covers_country": True, "hidden_adjustments": hidden, "adjustment": mode})


# --- migration by citizenship × region ----------------------------------------------------
@st.composite
def hierarchy_tables(draw: DrawFn, measure: str | None = None, symbols: bool = True) -> Table:
    """Citizenship × region tables (printed tables 11 and 12) with every sum derived from random leaves.

    Rows: Total, Norway, continent subtotals with a random choice of their countries and a
    "The rest of …" row, America = North + South and Central America, Stateless, Unknown.
    Columns: Total and 1–7 regions. A whole country row may be `.` (no cell), zeros `-`.
    """
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_reg = draw(st.integers(1, len(PRINTED_REGIONS)))
    regions = list(PRINTED_REGIONS[:n_reg])
    rows: list[str] = []
    leaves: list[str] = []
    groups: list[tuple[str, list[str]]] = []

    def pick(countries: tuple[str, ...]) -> list[str]:
        k = draw(st.integers(0, len(countries)))
        return [c for c in countries if c in set(draw(st.permutations(countries))[:k])]

    rows += ["Total", "Norway"]
    leaves.append("Norway")
    continent_rows: list[str] = []
    for cont, (rest, countries) in CONTINENTS.items():
        kids = [*pick(countries), rest]
        rows += [cont, *kids]
        leaves += kids
        groups.append((cont, kids))
        continent_rows.append(cont)
    america, north, n_countries, south, s_countries = AMERICA
    n_kids = [*pick(n_countries), "The rest of North America"]
    s_kids = [*pick(s_countries), "The rest of South America"]
    rows += [america, north, *n_kids, south, *s_kids]
    leaves += n_kids + s_kids
    groups += [(north, n_kids), (south, s_kids), (america, [north, south])]
    continent_rows.append(america)
    rows += ["Stateless", "Unknown"]
    leaves += ["Stateless", "Unknown"]
    groups.append(("Total", ["Norway", *continent_rows, "Stateless", "Unknown"]))

    n_c = len(regions)
    vals: dict[str, np.ndarray] = {}
    absent: set[str] = set()
    for leaf in leaves:
        v = rng.integers(0, 3000 if leaf == "Norway" else 400, size=n_c).astype(float)
        v[rng.random(n_c) < 0.1] = 0.0
        vals[leaf] = v
    if symbols and draw(st.booleans()):
        # a country nobody moved from: the whole row is `.`
        choices = [c for c in leaves if not c.startswith("The rest") and c not in ("Norway", "Stateless", "Unknown")]
        if choices:
            gone = draw(st.sampled_from(choices))
            vals[gone] = np.zeros(n_c)
            absent.add(gone)
    for parent, kids in groups:  # children before parents: groups are listed bottom-up
        vals[parent] = np.sum([vals[k] for k in kids], axis=0)
    values = np.asarray([[vals[r].sum(), *vals[r]] for r in rows])
    symbols_ = np.zeros(values.shape, dtype=np.uint8)
    for i, r in enumerate(rows):
        if r in absent:
            values[i, :] = np.nan
            symbols_[i, :] = sym.NOT_APPLICABLE
    if symbols and draw(st.booleans()):
        symbols_[(values == 0) & (symbols_ == sym.NUMBER)] = sym.NIL
    what = measure or draw(st.sampled_from(["Immigration", "Emigration"]))
    dims = [Dimension("citizenship", tuple(rows), role="citizenship", label="citizenship"),
            Dimension("region", ("Total", *regions), role="region", label="region")]
    number = "11" if what == "Immigration" else "12"
    return Table(dims, values, symbols_, id=f"generated_{number}",
                 title=f"{number} {what}, by citizenship and region. 2011", source="<hypothesis>",
                 meta={"measure": what, "reference_period": "2011"})


# --- corruption ----------------------------------------------------------------------------
def _rng_pick(rng: Any, n: int) -> int:
    if callable(rng) and not isinstance(rng, (random.Random, np.random.Generator)):
        return rng(st.integers(0, n - 1))
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(0, n))
    return rng.randrange(n)


def corrupt(table: Table, rng: Any, delta: float | None = None) -> tuple[Table, dict[str, str]]:
    """A copy of `table` with one published number changed, and where: {dimension: code}.

    `rng` is a hypothesis `draw`, a `random.Random` or a numpy `Generator`. The change is a
    whole number between 1 and 50 either way unless `delta` is given; only cells that hold a
    number are changed (never `-`, `.` or other symbols).
    """
    cells = np.flatnonzero((table.symbols.ravel() == sym.NUMBER) & ~np.isnan(table.values.ravel()))
    if len(cells) == 0:
        raise ValueError(f"table {table.id} has no published number to corrupt")
    flat = int(cells[_rng_pick(rng, len(cells))])
    if delta is None:
        magnitude = _rng_pick(rng, 50) + 1
        delta = float(magnitude if _rng_pick(rng, 2) else -magnitude)
    values = table.values.copy()
    values.flat[flat] += delta
    idx = np.unravel_index(flat, table.shape)
    where = {d.name: d.codes[int(i)] for d, i in zip(table.dimensions, idx, strict=True)}
    out = replace(table, values=values, symbols=table.symbols.copy(), meta={**table.meta, "corrupted": where,
                                                                            "delta": delta})
    return out, where


@st.composite
def corrupted(draw: DrawFn, tables: st.SearchStrategy[Table]) -> tuple[Table, Table, dict[str, str]]:
    """(clean table, corrupted table, where) from any strategy of consistent tables."""
    clean = draw(tables)
    bad, where = corrupt(clean, draw)
    return clean, bad, where


def involves(violation: Any, where: dict[str, str], table: Table, rule: Any = None) -> bool:
    """True when a violation's rule instance contains the cell at `where`.

    The instance is named by its `actual` cell; the other cells of the instance differ from
    it only along the rule's own dimension (the measures of an identity, the children of a
    hierarchy), in time by one period (`x[t-1]` terms), or on an axis summed over (`*`).
    """
    along = getattr(rule, "along", None) if rule is not None else None
    for d in table.dimensions:
        code = violation.codes.get(d.name)
        if code is None or code == "*" or code == where[d.name]:
            continue
        if along and along in (d.name, d.role):
            continue
        if d.role == "time" and rule is not None and rule.kind in ("identity", "period_sum"):
            if rule.kind == "period_sum" or _follows(code, where[d.name]):
                continue
        return False
    return True


def _follows(code: str, before: str) -> bool:
    """True when period `code` comes right after period `before`."""
    from migaudit.model.periods import parse_period

    p, q = parse_period(code), parse_period(before)
    return p is not None and q is not None and p.previous().code == q.code
