"""The same rules on Apache Spark, for tidy cubes that outgrow one machine's dense arrays.

The dense engine holds a table as one numpy array per value and symbol; a register cube of
municipality × age × sex × citizenship × quarter over decades does not fit. Here a table is
a Spark DataFrame of tidy cells (dimension columns, `value`, `symbol`: what `Table.frame()`
gives and `migaudit read --to parquet` writes), and every rule becomes a distributed query:

- the *plan* is made on the driver from the categories alone: a "skeleton" `Cube` whose
  arrays are zero-stride views (no memory), so the dense engine's own resolution of members,
  classification groups, `when`/`only`/`exclude` conditions, periods and tolerances is reused
  unchanged, and the same rules apply to the same tables;
- cells are mapped to integer category indices (one map lookup per dimension) and to the
  symbol flags of the dense engine (`.` absent, `..` unknown, `:` bound);
- identities explode each cell into the terms it plays in (a time link maps the cell at
  t−1 onto the instance at t) and group by the instance: a join of measure slices on the
  other dimensions; hierarchies map each category to the groups it is parent or child of and
  group by (instance, group): grouped sums of children beside their parent; conservation
  collapses the summed dimension; sign checks are a filter; period sums are hierarchies along
  time. All rules of a table run as one Spark job (a union of per-rule branches).

Findings come out as a Spark DataFrame (`SparkAudit.findings`) and as the usual
`AuditResult` (`SparkAudit.result`), so every report works. Cross-table checks and
localization run on the driver, on dense copies of the tables small enough to collect
(`max_driver_cells`); a larger table's suspects come from the sub-cube of its failing
cells, and a table too large for that is named in `result.ignored` with the reason — never
skipped silently. pyspark is imported only here (the `migaudit[spark]` extra).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from migaudit.engine.dense import (
    _EPS,
    MAX_VIOLATIONS,
    Outcome,
    Violation,
    _tolerance,
    hierarchy_plan,
    identity_plan,
    lagged_pairs,
    sign_parts,
)
from migaudit.errors import ReadError, UsageError
from migaudit.model import symbols as sym
from migaudit.model.cube import ABSENT, BOUND, UNKNOWN, Cube
from migaudit.model.table import Dimension, Table, guess_role
from migaudit.result import AuditResult
from migaudit.rules.ruleset import Group, Rule, RuleSet, load_rules

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import Column, DataFrame, SparkSession

#: tables up to this many cells are collected to the driver for cross-table checks and
#: localization (dense, exactly as the dense engine does them)
MAX_DRIVER_CELLS = 2_000_000
#: tables up to this many cells are evaluated in one partition (no shuffle per rule)
SMALL_CELLS = 200_000
_NOT_DIMS = ("value", "symbol")
#: dimensions with more categories are indexed by a broadcast join, not a literal map
_MAP_LOOKUP = 32
_ST_PASSED, _ST_FAILED, _ST_SKIPPED, _ST_NA = 0, 1, 2, 3
_FLAG_OF = {"absent": ABSENT, "unknown": UNKNOWN, "bound": BOUND}


def _pyspark() -> Any:
    try:
        from pyspark.sql import functions as F  # noqa: N812
    except ImportError:
        raise UsageError("the Spark engine needs pyspark: pip install 'migaudit[spark]'") from None
    return F


# --- sessions -------------------------------------------------------------------------------
def session(master: str | None = None, app: str = "migaudit", partitions: int | None = None) -> SparkSession:
    """A SparkSession: Spark Connect at `SPARK_REMOTE` when set, else `master` (default local[*]).

    Partition columns of a Parquet dataset stay strings (region `0301` is not the number 301).
    """
    _pyspark()
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app)
    remote = os.environ.get("SPARK_REMOTE")
    if remote and master is None:
        builder = builder.remote(remote)
    else:
        builder = (builder.master(master or "local[*]")
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false")
                   .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                   .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false"))
        if partitions:
            builder = builder.config("spark.sql.shuffle.partitions", str(partitions))
    spark = builder.getOrCreate()
    if not remote or master is not None:
        spark.sparkContext.setLogLevel("ERROR")
    return spark


# --- reading --------------------------------------------------------------------------------
def parquet_meta(path: str | Path) -> dict[str, Any]:
    """The `migaudit_table` metadata of a tidy Parquet file or dataset folder ({} when none)."""
    import pyarrow.parquet as pq

    p = Path(path)
    files = [p] if p.is_file() else sorted(f for f in p.rglob("*.parquet") if not f.name.startswith((".", "_")))
    if not files:
        raise ReadError("no Parquet files", source=str(p))
    raw = (pq.read_schema(files[0]).metadata or {}).get(b"migaudit_table")
    return json.loads(raw) if raw else {}


def read_parquet(spark: SparkSession, path: str | Path) -> tuple[DataFrame, dict[str, Any]]:
    """A tidy Parquet file or (partitioned) dataset as a DataFrame, with its migaudit metadata."""
    meta = parquet_meta(path)
    spark.conf.set("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
    # a local path is made absolute here: the JVM resolves relative paths against its own working
    # folder, which is where the session started, not where Python is now
    df = spark.read.parquet(str(path) if "://" in str(path) else str(Path(path).resolve()))
    meta.setdefault("id", Path(path).stem)
    meta.setdefault("source", str(path))
    return df, meta


def is_parquet_dataset(path: Path) -> bool:
    """A folder Spark reads as one table: Parquet parts only (`part-*`, `key=value/` folders)."""
    if not path.is_dir():
        return False
    files = [f for f in path.rglob("*") if f.is_file() and not f.name.startswith((".", "_"))]
    return bool(files) and all(f.suffix == ".parquet" for f in files) and (
        any(f.name.startswith("part-") for f in files) or any("=" in d.name for d in path.rglob("*") if d.is_dir()))


# --- the skeleton: categories without cells ----------------------------------------------------
@dataclass
class _Prepared:
    """One table on Spark: its skeleton cube (categories only) and the indexed cells."""

    table: Table
    cube: Cube
    cells: DataFrame  # _x0.._xn (category index per cube axis), _v value, _f flags, _s symbol code
    has_symbols: bool


def _skeleton(dims: list[Dimension], meta: dict[str, Any]) -> Table:
    """A Table with the categories and metadata of the cube but zero-stride (free) arrays."""
    shape = tuple(len(d) for d in dims)
    t = Table(dims, np.broadcast_to(np.float64(np.nan), shape), np.broadcast_to(np.uint8(sym.NUMBER), shape))
    for k in ("id", "title", "source", "unit", "decimals", "footnotes", "notes"):
        if meta.get(k) is not None:
            setattr(t, k, meta[k])
    t.meta = dict(meta.get("meta") or {})
    return t


def prepare(df: DataFrame, meta: dict[str, Any] | None = None, table_id: str | None = None) -> _Prepared:
    """Categories of every dimension (first appearance order), symbols checked, cells indexed."""
    F = _pyspark()  # noqa: N806
    meta = dict(meta or {})
    if table_id:
        meta["id"] = table_id
    dim_meta = {d["name"]: d for d in meta.get("dimensions") or []}
    cols = list(df.columns)
    if "value" not in cols:
        raise ReadError("no column 'value'", source=meta.get("source", "<spark>"),
                        expected="dimension columns, value, symbol")
    names = [d for d in dim_meta if d in cols] or [c for c in cols if c not in _NOT_DIMS and not c.endswith("_label")]
    has_symbol = "symbol" in cols
    order = F.monotonically_increasing_id()
    items = []
    for i, n in enumerate(names):
        label = F.col(f"{n}_label").cast("string") if f"{n}_label" in cols else F.col(n).cast("string")
        items.append(F.struct(F.lit(i).alias("d"), F.col(n).cast("string").alias("c"), label.alias("l")))
    if has_symbol:
        items.append(F.struct(F.lit(-1).alias("d"), F.trim(F.coalesce(F.col("symbol").cast("string"), F.lit(""))).alias("c"),
                              F.lit("").alias("l")))
    rows = (df.select(order.alias("_o"), F.explode(F.array(*items)).alias("x"))
            .groupBy("x.d", "x.c").agg(F.min("_o").alias("o"), F.first("x.l").alias("l"))
            .collect())
    cats: dict[int, list[tuple[int, str, str]]] = {}
    for r in rows:
        cats.setdefault(int(r["d"]), []).append((int(r["o"]), r["c"], r["l"]))
    source = meta.get("source", "<spark>")
    symbols_seen = {c for _, c, _ in cats.get(-1, [])}
    unknown = sorted(s for s in symbols_seen if s not in sym.CODE)
    if unknown:
        raise ReadError(f"unknown symbol {unknown[0]!r}", source=source,
                        expected="one of " + " ".join(repr(t) for t in sym.TEXT))
    dims = []
    for i, n in enumerate(names):
        found = sorted(cats.get(i, []))
        if any(c is None for _, c, _ in found):
            raise ReadError(f"empty key in column {n!r}", source=source)
        dm = dim_meta.get(n, {})
        role = dm.get("role") if n in dim_meta else guess_role(n)
        dims.append(Dimension(n, tuple(c for _, c, _ in found), tuple(lab or c for _, c, lab in found), role=role,
                              label=dm.get("label"), footnotes={k: tuple(v) for k, v in (dm.get("footnotes") or {}).items()}))
    table = _skeleton(dims, meta)
    cube = Cube.of(table)
    cube.__dict__["flags"] = None  # the skeleton has no cells; flags live in the column _f
    exprs = []
    for ax, d in enumerate(cube.dims):
        if d.name in names and len(d.codes) > _MAP_LOOKUP:
            # many categories: a broadcast hash join (a literal map is scanned linearly per row)
            # built in the JVM from a literal (a Python list would go through a Python worker)
            lut_df = df.sparkSession.range(len(d.codes)).selectExpr(
                f"element_at({_sql(list(d.codes))}, CAST(id AS INT) + 1) AS _code{ax}", f"CAST(id AS INT) AS _x{ax}")
            df = df.join(F.broadcast(lut_df), F.col(d.name).cast("string") == F.col(f"_code{ax}"), "left")
            exprs.append(F.col(f"_x{ax}"))
        elif d.name in names:
            lut = _map({c: i for i, c in enumerate(d.codes)})
            exprs.append(F.element_at(lut, F.col(d.name).cast("string")).cast("int").alias(f"_x{ax}"))
        else:
            exprs.append(F.lit(0).alias(f"_x{ax}"))  # a singleton axis from the title
    v = F.col("value").cast("double")
    v = F.when(v.isNull(), F.lit(float("nan"))).otherwise(v)
    if has_symbol:
        code = F.element_at(_map(dict(sym.CODE)),
                            F.trim(F.coalesce(F.col("symbol").cast("string"), F.lit(""))))
    else:
        code = F.when(F.isnan(v), F.lit(sym.CODE[".."])).otherwise(F.lit(sym.NUMBER))
    flag_lut = _map({i: _FLAG_OF.get(s.arithmetic, 0) for i, s in enumerate(sym.SYMBOLS)})
    cells = df.select(*exprs, v.alias("_v"), code.cast("int").alias("_s"))
    cells = cells.withColumn("_f", F.element_at(flag_lut, F.col("_s")).cast("int"))
    has_symbols = bool(symbols_seen - {""}) if has_symbol else True
    if table.size <= SMALL_CELLS:
        cells = cells.coalesce(1)  # a small table: no shuffle per rule (one partition is clustered by any key)
    else:  # every rule branch reads the indexed cells: read and index the Parquet once
        cells = cells.persist()
    return _Prepared(table, cube, cells, has_symbols)


def prepare_table(spark: SparkSession, table: Table) -> _Prepared:
    """A dense Table's cells as a Spark DataFrame: its categories are known, no scan needed."""
    import pandas as pd

    cube = Cube.of(table)
    idx = np.indices(cube.values.shape).reshape(len(cube.dims), -1)
    cols: dict[str, Any] = {f"_x{ax}": idx[ax].astype(np.int32) for ax in range(len(cube.dims))}
    cols["_v"] = cube.values.ravel()
    cols["_s"] = cube.symbols.ravel().astype(np.int32)
    lut = np.asarray([_FLAG_OF.get(s.arithmetic, 0) for s in sym.SYMBOLS], dtype=np.int32)
    cols["_f"] = lut[cols["_s"]]
    frame = pd.DataFrame(cols)  # `.` cells kept, as Table.frame() writes them
    # one partition: small tables are aggregated without a shuffle per rule
    cells = spark.createDataFrame(frame).selectExpr(  # Arrow may carry NaN as null: NaN it is
        *[f"_x{ax}" for ax in range(len(cube.dims))], "coalesce(_v, CAST('NaN' AS DOUBLE)) AS _v", "_s", "_f")
    return _Prepared(table, cube, cells.coalesce(1), cube.flags is not None)


# --- plans: one Spark branch per rule -----------------------------------------------------------
@dataclass
class _Branch:
    rule: Rule
    kind: str  # identity | hierarchy | sign
    frame: DataFrame  # _k (array<int>), _aux, _a, _e, _st, _low, _ge, _o (array<int>)
    tol: float
    info: dict[str, Any] = field(default_factory=dict)


def _sql(x: Any) -> str:
    """A Python literal as Spark SQL (literals go to the JVM as one expression, not one call each)."""
    if isinstance(x, str):
        return "'" + x.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(x, (bool, np.bool_)):
        return "true" if x else "false"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        return f"CAST({float(x)!r} AS DOUBLE)"
    if isinstance(x, dict):  # a struct
        return "named_struct(" + ", ".join(f"'{k}', {_sql(v)}" for k, v in x.items()) + ")"
    if isinstance(x, (list, tuple)):
        return "array(" + ", ".join(_sql(v) for v in x) + ")"
    raise TypeError(f"no SQL literal for {x!r}")


def _sql_map(d: dict[Any, Any]) -> str:
    return "map(" + ", ".join(f"{_sql(k)}, {_sql(v)}" for k, v in d.items()) + ")"


def _index_array(d: dict[int, Any], size: int, typ: str) -> str:
    """SQL: a literal array whose element k+1 is `d[k]` (NULL where absent), to index by position.

    Spark looks keys up in a literal map by a linear scan (per row: 10M cells × 2 000
    municipalities); an array is indexed in constant time.
    """
    return "array(" + ", ".join(_sql(d[k]) if k in d else f"CAST(NULL AS {typ})" for k in range(size)) + ")"


def _map(d: dict[Any, Any]) -> Column:
    """A literal map column, built in one expression."""
    return _pyspark().expr("map(" + ", ".join(f"{_sql(k)}, {_sql(v)}" for k, v in d.items()) + ")")


def _array(values: list[Any]) -> Column:
    return _pyspark().expr(_sql(list(values)))


def _isin(col: str, idx: Any) -> Column:
    return _pyspark().expr(f"{col} IN ({', '.join(str(int(i)) for i in idx)})") if len(idx) else _pyspark().lit(False)


def _order(cube: Cube, parts: list[Any], key: list[str], along: int | None = None) -> str:
    """Sort key of an instance (SQL): its position in the dense engine's slab (the listing order)."""
    out = []
    for ax, p in enumerate(parts):
        if ax == along:
            out.append("_aux")
        elif isinstance(p, (int, np.integer)) or p is None or bool(np.all(np.diff(np.asarray(p)) > 0)):
            out.append(key[ax])  # ascending indices: the index is the position's order
        else:
            pos = [-1] * len(cube.dims[ax])
            for k, i in enumerate(p):
                pos[int(i)] = k
            out.append(f"element_at({_sql(pos)}, ({key[ax]}) + 1)")
    return "array(" + ", ".join(out) + ")"


def _status(bad: str, fail: str) -> str:
    """SQL: not applicable (3), skipped (2), failed (1) or passed (0), from the flag bits and the test."""
    return (f"CASE WHEN (({bad}) & {ABSENT}) != 0 THEN {_ST_NA} WHEN (({bad}) & {UNKNOWN | BOUND}) != 0 "
            f"THEN {_ST_SKIPPED} WHEN {fail} THEN {_ST_FAILED} ELSE {_ST_PASSED} END")


def _where(parts: list[Any], skip: tuple[int | None, ...]) -> str | None:
    conds = [f"_x{b} IN ({', '.join(str(int(i)) for i in part)})" for b, part in enumerate(parts)
             if b not in skip and part is not None and not isinstance(part, (int, np.integer))]
    return " AND ".join(conds) if conds else None


def _identity_branch(rule: Rule, p: _Prepared) -> _Branch | None:
    """Mirror of `engine.evaluate_identity`: terms joined on the other dimensions (and t−1)."""
    F = _pyspark()  # noqa: N806
    cube = p.cube
    plan = identity_plan(rule, cube)
    if plan is None:
        return None
    ax, index, sum_ax, parts = plan
    lagged = any(t.lag for t in (*rule.lhs, *rule.rhs))
    t_ax = cube.axis("time")
    if t_ax == ax and not lagged:
        t_ax = None  # an identity between periods (a change column): time is the rule's own axis
    n_t = len(cube.dims[t_ax]) if t_ax is not None else 1
    if lagged:
        pairs = lagged_pairs(cube, parts, t_ax)
        if pairs is None:
            return None
        cur, prev = pairs
        times = list(zip(cur.tolist(), prev.tolist(), strict=True))
    else:
        allowed = parts[t_ax] if t_ax is not None and parts[t_ax] is not None else range(n_t)
        times = [(int(t), int(t)) for t in allowed]
    if sum_ax is not None:
        totals = set(cube.totals(sum_ax))
        parts[sum_ax] = np.asarray([i for i in range(len(cube.dims[sum_ax])) if i not in totals], dtype=np.intp)
    # terms in the dense engine's order: (j, member index, lag, coefficient into actual/expected, side)
    terms = []
    for side, ts in ((0, rule.lhs), (1, rule.rhs)):
        for t in ts:
            if index[t.member] is not None:
                terms.append((len(terms), int(index[t.member]), t.lag, t.coef, side, t.member))
    first_lhs = next((j for j, *_, side, _m in terms if side == 0), None)
    if not terms or first_lhs is None:
        return None
    flip = rule.lhs[0].coef < 0
    # cell (member, time) → [(term, instance time)]
    mapping: dict[int, list[tuple[int, int]]] = {}
    for j, member, lag, *_ in terms:
        for cur_t, prev_t in times:
            cell_t = prev_t if lag else cur_t
            mapping.setdefault(member * n_t + cell_t, []).append((j, cur_t))
    t_col = f"_x{t_ax}" if t_ax is not None else "0"
    cells = p.cells
    if (cond := _where(parts, (ax, t_ax))) is not None:
        cells = cells.filter(cond)
    lut = _index_array({k: [{"j": j, "it": it} for j, it in lst] for k, lst in mapping.items()},
                       len(cube.dims[ax]) * n_t, "array<struct<j:int,it:int>>")
    group = [f"_x{b}" for b in range(len(cube.dims)) if b not in (ax, sum_ax, t_ax)]
    x = cells.selectExpr(*group, "_v", "_f", f"explode(element_at({lut}, _x{ax} * {n_t} + {t_col} + 1)) AS m")
    x = x.selectExpr(*group, "_v", "_f", "m.it AS _it" if t_ax is not None else "0 AS _it", "m.j AS _j")
    val = "_v" if sum_ax is None else f"CASE WHEN (_f & {ABSENT}) != 0 THEN 0D ELSE _v END"
    aggs = []
    for j, *_ in terms:
        aggs += [f"sum(CASE WHEN _j = {j} THEN {val} END) AS v{j}", f"bit_or(CASE WHEN _j = {j} THEN _f END) AS f{j}",
                 f"count(CASE WHEN _j = {j} THEN 1 END) AS n{j}"]
    g = x.groupBy(*group, "_it").agg(*[F.expr(e) for e in aggs])
    bad, low = [], ["true" if any(i is None for i in index.values()) else "false"]
    actual = ""
    expected: list[str] = []
    for j, _member, _lag, coef, side, name in terms:
        if sum_ax is None:
            f, v = f"(CASE WHEN n{j} = 0 THEN {ABSENT} ELSE f{j} END)", f"v{j}"
        else:
            f, v = f"(coalesce(f{j}, 0) & {0xFF ^ ABSENT})", f"coalesce(v{j}, 0D)"
        if name in rule.if_missing:
            miss = f"(({f}) & {UNKNOWN | ABSENT}) != 0"
            v = f"(CASE WHEN {miss} THEN 0D ELSE {v} END)"
            low.append(f"({miss})")
            f = f"(CASE WHEN {miss} THEN 0 ELSE {f} END)"
        bad.append(f)
        c = f"({_sql(float(coef))} * {v})"
        if side == 0 and j == first_lhs:
            actual = c
        elif side == 0:
            expected.append(f"- {c}")
        else:
            expected.append(f"+ {c}")
    exp = "(0D " + " ".join(expected) + ")"
    if flip:
        actual, exp = f"(-{actual})", f"(-{exp})"
    tol = _tolerance(rule, cube, len(rule.lhs) + len(rule.rhs))
    fail = f"({actual} != {exp})" if tol == 0 else f"(abs({actual} - {exp}) > {_sql(tol + _EPS)})"
    first = terms[0]
    prev_of = {c: q for c, q in times}
    key = []
    for b in range(len(cube.dims)):
        if b == ax:
            key.append(str(first[1]))
        elif b == sum_ax:
            key.append("-1")
        elif b == t_ax:
            key.append(f"element_at({_index_array(prev_of, n_t, 'int')}, _it + 1)" if first[2] else "_it")
        else:
            key.append(f"_x{b}")
    order_parts = list(parts)
    order_parts[ax] = first[1]
    if sum_ax is not None:
        order_parts[sum_ax] = -1
    if t_ax is not None:
        order_parts[t_ax] = np.asarray([c for c, _ in times], dtype=np.intp)
    okey = ["_it" if b == t_ax else k for b, k in enumerate(key)]
    out = g.selectExpr(f"array({', '.join(key)}) AS _k", "_it AS _aux", f"{actual} AS _a", f"{exp} AS _e",
                       f"{_status(' | '.join(bad), fail)} AS _st", f"({' OR '.join(low)}) AS _low", "false AS _ge",
                       f"{_order(cube, order_parts, okey)} AS _o")
    members = [((-coef if flip else coef) * (1.0 if side == 0 else -1.0), member, lag)
               for j, member, lag, coef, side, _n in terms]
    return _Branch(rule, "identity", out, tol, {"ax": ax, "t_ax": t_ax, "sum_ax": sum_ax, "members": members,
                                                 "prev": prev_of})


def _hierarchy_branch(rule: Rule, p: _Prepared) -> _Branch | None:
    """Mirror of `engine.evaluate_hierarchy`: children summed per group, beside their parent."""
    F = _pyspark()  # noqa: N806
    cube = p.cube
    plan = hierarchy_plan(rule, cube)
    if plan is None:
        return None
    ax, groups, parts = plan
    mapping: dict[int, list[tuple[int, int]]] = {}
    for g, (parent, kids, _op) in enumerate(groups):
        mapping.setdefault(int(parent), []).append((g, 0))
        for k in kids:
            mapping.setdefault(int(k), []).append((g, 1))
    lut = _index_array({k: [{"g": g, "r": r} for g, r in lst] for k, lst in mapping.items()},
                       len(cube.dims[ax]), "array<struct<g:int,r:int>>")
    cells = p.cells
    if (cond := _where(parts, (ax,))) is not None:
        cells = cells.filter(cond)
    group = [f"_x{b}" for b in range(len(cube.dims)) if b != ax]
    x = cells.selectExpr(*group, "_v", "_f", f"explode(element_at({lut}, _x{ax} + 1)) AS m")
    x = x.selectExpr(*group, "_v", "_f", "m.g AS _aux", "m.r AS _role")
    g = x.groupBy(*group, "_aux").agg(*[F.expr(e) for e in (
        "sum(CASE WHEN _role = 0 THEN _v END) AS pv", "bit_or(CASE WHEN _role = 0 THEN _f END) AS pf",
        "count(CASE WHEN _role = 0 THEN 1 END) AS pn",
        f"sum(CASE WHEN _role = 1 AND (_f & {ABSENT | BOUND}) = 0 THEN _v END) AS cv",
        f"count(CASE WHEN _role = 1 AND (_f & {ABSENT}) = 0 THEN 1 END) AS present",
        f"bit_or(CASE WHEN _role = 1 THEN _f & {0xFF ^ ABSENT} END) AS cbits")])
    cbits = "coalesce(cbits, 0)"
    bad = f"((CASE WHEN pn = 0 THEN {ABSENT} ELSE pf END) | ({cbits} & {UNKNOWN}))"
    bad = f"(CASE WHEN present = 0 THEN {bad} | {ABSENT} ELSE {bad} END)"
    ge_groups = [g for g, (_p, _k, op) in enumerate(groups) if op == ">="]
    ge = f"(({'_aux IN (' + ', '.join(map(str, ge_groups)) + ')' if ge_groups else 'false'}) OR ({cbits} & {BOUND}) != 0)"
    signed = _signed(cube, parts, ax)
    if signed is not None and signed[1]:
        m_ax, idx = signed
        m_col = f"element_at({_sql([int(pg) for pg, _, _ in groups])}, _aux + 1)" if m_ax == ax else f"_x{m_ax}"
        bad = f"(CASE WHEN {ge} AND {m_col} IN ({', '.join(map(str, idx))}) THEN {bad} | {ABSENT} ELSE {bad} END)"
    actual, expected = "pv", "coalesce(cv, 0D)"
    tol = _tolerance(rule, cube, 1 + int(max(len(k) for _, k, _ in groups)))
    residual = f"({actual} - {expected})"
    fail = f"(({residual} < {_sql(-tol - _EPS)}) OR (NOT {ge} AND abs({residual}) > {_sql(tol + _EPS)}))"
    parents = _sql([int(pg) for pg, _, _ in groups])
    key = [f"element_at({parents}, _aux + 1)" if b == ax else f"_x{b}" for b in range(len(cube.dims))]
    out = g.selectExpr(f"array({', '.join(key)}) AS _k", "_aux", f"{actual} AS _a", f"{expected} AS _e",
                       f"{_status(bad, fail)} AS _st", "false AS _low", f"{ge} AS _ge",
                       f"{_order(cube, parts, key, along=ax)} AS _o")
    return _Branch(rule, "hierarchy", out, tol, {"ax": ax, "kids": [list(map(int, k)) for _, k, _ in groups]})


def _signed(cube: Cube, parts: list[Any], ax: int) -> tuple[int, list[int]] | None:
    """(measure axis, indices of measures that may be negative): bounds do not hold for them."""
    m_ax = cube.axis("measure")
    if m_ax is None or isinstance(parts[m_ax], (int, np.integer)):
        return None
    from migaudit.knowledge.measures import measure_info

    idx = []
    for i, name in enumerate(cube.canon[m_ax]):
        try:
            neg = measure_info(name).may_be_negative
        except KeyError:
            neg = True
        if neg:
            idx.append(i)
    return m_ax, idx


def _sign_branch(rule: Rule, p: _Prepared) -> _Branch | None:
    """Mirror of `engine.evaluate_sign`: counts are non-negative (whole) numbers."""
    cube = p.cube
    parts = sign_parts(rule, cube)
    if parts is None:
        return None
    cells = p.cells
    if (cond := _where(parts, ())) is not None:
        cells = cells.filter(cond)
    # rint: round half to even like numpy, on the double (bround goes through a BigDecimal per cell)
    expected = "greatest(rint(_v), 0D)" if rule.integer else "greatest(_v, 0D)"
    bad = f"(CASE WHEN _v IS NULL OR isnan(_v) THEN {ABSENT} ELSE 0 END)"
    key = [f"_x{b}" for b in range(len(cube.dims))]
    out = cells.selectExpr(f"array({', '.join(key)}) AS _k", "-1 AS _aux", "_v AS _a", f"{expected} AS _e",
                           f"{_status(bad, f'(_v != {expected})')} AS _st", "false AS _low", "false AS _ge",
                           f"{_order(cube, parts, key)} AS _o")
    return _Branch(rule, "sign", out, 0.0)


def _period_sum_branch(rule: Rule, p: _Prepared) -> _Branch | None:
    """Mirror of `engine.evaluate_period_sum`: a year = its four quarters, as a hierarchy along time."""
    cube = p.cube
    if cube.axis("time") is None:
        return None
    by_code = {q.code: i for i, q in enumerate(cube.periods) if q}
    groups = []
    for q in cube.periods:
        if q and q.freq == "year" and all(f"{q.year}K{k}" in by_code for k in range(1, 5)):
            groups.append(Group(q.code, tuple(f"{q.year}K{k}" for k in range(1, 5))))
    if not groups:
        return None
    b = _hierarchy_branch(replace(rule, kind="hierarchy", along="time", groups=tuple(groups)), p)
    if b is not None:
        b.rule = rule
    return b


BRANCHES = {
    "identity": _identity_branch,
    "conservation": _identity_branch,
    "hierarchy": _hierarchy_branch,
    "sign": _sign_branch,
    "period_sum": _period_sum_branch,
}


# --- running ------------------------------------------------------------------------------------
@dataclass
class SparkAudit:
    """What the Spark engine found: the usual `AuditResult` and the findings as a DataFrame."""

    result: AuditResult
    _work: list[tuple[_Prepared, list[_Branch]]] = field(default_factory=list, repr=False)
    _spark: Any = field(default=None, repr=False)

    @property
    def findings(self) -> DataFrame:
        """One row per failing rule instance: rule, severity, table, where (dimension → code),
        expected, actual, imbalance, tolerance. Built on first use; each action re-runs the rules
        on Spark (cache it when it is used more than once)."""
        frames = [f for p, branches in self._work if (f := _findings(p, branches)) is not None]
        if not frames:
            return _empty_findings(self._spark or session())
        out = frames[0]
        for f in frames[1:]:
            out = out.unionByName(f)
        return out

    def unpersist(self) -> None:
        """Free the cached cells of large tables (kept so that `findings` does not re-read them)."""
        for p, _ in self._work:
            if p.table.size > SMALL_CELLS:
                p.cells.unpersist()


def _branches(p: _Prepared, rules: list[Rule]) -> list[_Branch]:
    out = []
    for rule in rules:
        if rule.kind not in BRANCHES:
            raise UsageError(f"the Spark engine cannot evaluate rule {rule.id!r} of kind {rule.kind!r}",
                             expected=" | ".join(BRANCHES))
        b = BRANCHES[rule.kind](rule, p)
        if b is not None:
            out.append(b)
    return out


def _outcomes(work: list[tuple[_Prepared, list[_Branch]]]) -> list[list[Outcome]]:
    """Counts and itemised violations of every branch of every table, in one Spark job."""
    F = _pyspark()  # noqa: N806
    cols = ["_k", "_aux", "_a", "_e", "_st", "_low", "_ge", "_o"]
    frames = [b.frame.selectExpr(f"{t} AS _t", f"{i} AS _r", *cols).filter(f"_st != {_ST_NA}")
              for t, (_p, branches) in enumerate(work) for i, b in enumerate(branches)]
    by_slot = {}
    if frames:
        union = frames[0]
        for f in frames[1:]:
            union = union.union(f)  # same columns in the same order: no resolution by name
        failing = F.when(F.col("_st") == _ST_FAILED, F.struct("_o", "_k", "_aux", "_a", "_e", "_low", "_ge"))
        rows = union.groupBy("_t", "_r").agg(
            F.sum((F.col("_st") == _ST_PASSED).cast("long")).alias("passed"),
            F.sum((F.col("_st") == _ST_FAILED).cast("long")).alias("failed"),
            F.sum((F.col("_st") == _ST_SKIPPED).cast("long")).alias("skipped"),
            F.slice(F.array_sort(F.collect_list(failing)), 1, MAX_VIOLATIONS).alias("fails"),
        ).collect()
        by_slot = {(int(r["_t"]), int(r["_r"])): r for r in rows}
    result = []
    for t, (p, branches) in enumerate(work):
        outcomes = []
        for i, b in enumerate(branches):
            out = Outcome(b.rule, p.table.id)
            r = by_slot.get((t, i))
            if r is not None:
                out.failed, out.skipped = int(r["failed"]), int(r["skipped"])
                out.passed = int(r["passed"])
                out.checked = out.passed + out.failed
                out.violations = [_violation(p.cube, b, f) for f in r["fails"]]
            outcomes.append(out)
        result.append(outcomes)
    return result


def _violation(cube: Cube, b: _Branch, f: Any) -> Violation:
    rule = b.rule
    full = tuple(int(i) for i in f["_k"])
    where, codes = cube.where(full)
    low = next(iter(rule.if_missing.values()), rule.severity)
    severity = low if f["_low"] else rule.severity
    a, e = float(f["_a"]), float(f["_e"])
    tid = cube.table.id
    if b.kind == "identity":
        info = b.info
        if info["sum_ax"] is not None:
            cells = [(tid, full, 1.0)]
        else:
            cells = []
            for coef, member, lag in info["members"]:
                idx = list(full)
                idx[info["ax"]] = member
                if info["t_ax"] is not None:
                    idx[info["t_ax"]] = info["prev"][int(f["_aux"])] if lag else int(f["_aux"])
                cells.append((tid, tuple(idx), coef))
    elif b.kind == "hierarchy":
        cells = [(tid, full, 1.0)]
        for k in b.info["kids"][int(f["_aux"])]:
            idx = list(full)
            idx[b.info["ax"]] = k
            cells.append((tid, tuple(idx), -1.0))
    else:
        cells = [(tid, full, 1.0)]
    v = Violation(rule.id, severity, tid, where, codes, e, a, a - e, b.tol, ">=" if f["_ge"] else "", cells=cells)
    if b.kind == "identity":
        if v.severity != rule.severity and rule.if_missing:
            names = ", ".join(rule.if_missing)
            v.message = f"{names} not published: the implied {names} is {v.imbalance:+g} ({rule.expression})"
        else:
            v.message = f"{rule.expression}: published {v.actual:g}, components give {v.expected:g}"
    elif b.kind == "hierarchy":
        rel = "at least" if v.message == ">=" else "the sum of its"
        v.message = (f"{v.where.get(cube.dims[b.info['ax']].name, '?')} should be {rel} {len(v.cells) - 1} "
                     f"parts along {cube.dims[b.info['ax']].name}: published {v.actual:g}, parts sum to {v.expected:g}")
    else:
        v.message = "a count cannot be negative" if v.actual < 0 else "a count must be a whole number"
    return v


def _findings(p: _Prepared, branches: list[_Branch]) -> DataFrame | None:
    F = _pyspark()  # noqa: N806
    frames = []
    names = [d.name for d in p.cube.dims]
    for b in branches:
        low = next(iter(b.rule.if_missing.values()), b.rule.severity)
        where = F.create_map(*[x for ax, n in enumerate(names) for x in (
            F.lit(n), F.when(F.col("_k")[ax] < 0, F.lit("*")).otherwise(
                F.element_at(_array(list(p.cube.dims[ax].codes)), F.col("_k")[ax] + 1)))])
        frames.append(b.frame.filter(F.col("_st") == _ST_FAILED).select(
            F.lit(b.rule.id).alias("rule"), F.when(F.col("_low"), F.lit(low)).otherwise(F.lit(b.rule.severity)).alias("severity"),
            F.lit(p.table.id).alias("table"), where.alias("where"), F.col("_e").alias("expected"),
            F.col("_a").alias("actual"), (F.col("_a") - F.col("_e")).alias("imbalance"), F.lit(b.tol).alias("tolerance")))
    if not frames:
        return None
    out = frames[0]
    for f in frames[1:]:
        out = out.unionByName(f)
    return out


def to_dense(p: _Prepared, max_cells: int | None = MAX_DRIVER_CELLS) -> Table:
    """The whole table collected into a dense `Table` on the driver; refuses above `max_cells`.

    The dense path's guard: a cube whose dense arrays (9 bytes a cell) would exceed the cap is
    refused with a `UsageError` that names the size and points to the Spark engine.
    """
    return _collect(p, [None] * len(p.table.dimensions), max_cells)


def _collect(p: _Prepared, keep: list[list[int] | None], max_cells: int | None) -> Table:
    """The sub-cube of the categories in `keep` (None = all) as a dense Table."""
    dims = p.table.dimensions
    sel = [list(range(len(d))) if k is None else sorted(set(k)) for d, k in zip(dims, keep, strict=True)]
    shape = tuple(len(s) for s in sel)
    cells = int(np.prod(shape, dtype=np.float64))
    if max_cells is not None and cells > max_cells:
        raise UsageError(f"table {p.table.id} has {cells:,} cells ({cells * 9 / 2**20:,.0f} MiB dense), over the cap of "
                         f"{max_cells:,}: audit it with --engine spark")
    q = p.cells
    for ax, k in enumerate(keep):
        if k is not None:
            q = q.filter(_isin(f"_x{ax}", sel[ax]))
    n = len(dims)
    got = q.select(*[f"_x{i}" for i in range(n)], "_v", "_s").toArrow()
    values = np.full(shape, np.nan)
    symbols = np.full(shape, sym.NOT_APPLICABLE, dtype=np.uint8)
    if got.num_rows:
        idx = []
        for a in range(n):
            lut = np.full(len(dims[a]), -1, dtype=np.intp)
            lut[sel[a]] = np.arange(len(sel[a]))
            idx.append(lut[got.column(f"_x{a}").to_numpy().astype(np.intp)])
        values[tuple(idx)] = got.column("_v").to_numpy(zero_copy_only=False)
        symbols[tuple(idx)] = got.column("_s").to_numpy().astype(np.uint8)
    sub = [replace(d, codes=tuple(d.codes[i] for i in s), labels=tuple(d.labels[i] for i in s),
                   footnotes=d.footnotes) for d, s in zip(dims, sel, strict=True)]
    t = p.table
    return Table(sub, values, symbols, id=t.id, title=t.title, source=t.source, unit=t.unit, decimals=t.decimals,
                 footnotes=list(t.footnotes), notes=list(t.notes), meta=dict(t.meta))


def _localize_large(p: _Prepared, outcomes: list[Outcome], rules: RuleSet, max_cells: int) -> str | None:
    """Suspects of a table too large to collect, from the sub-cube of its failing cells.

    Axes with at most 64 categories are kept whole (hierarchies along them stay complete);
    the others keep the categories that failing instances touch. The sub-cube is audited by
    the dense engine and localized exactly; suspects name cells by labels and codes, so they
    carry over to the whole table's findings. Returns why it could not.
    """
    from migaudit.runner import audit as dense_audit

    failing = [v for o in outcomes for v in o.violations if v.severity in ("error", "warning")]
    if not failing:
        return None
    n_table = len(p.table.dimensions)
    touched: list[set[int]] = [set() for _ in range(n_table)]
    for v in failing:
        for _, idx, _ in v.cells:
            for ax in range(n_table):
                if idx[ax] >= 0:
                    touched[ax].add(idx[ax])
    keep: list[list[int] | None] = [None if len(d) <= 64 else sorted(touched[ax])
                                    for ax, d in enumerate(p.table.dimensions)]
    try:
        sub = _collect(p, keep, max_cells)
    except UsageError:
        return _rank_suspects(p, failing)
    found = dense_audit([sub], rules, cross_table=False)
    by_finding = {(v.rule, tuple(sorted(v.where.items()))): v.suspects for v in found.violation_list}
    for v in failing:
        v.suspects.extend(by_finding.get((v.rule, tuple(sorted(v.where.items()))), []))
    return None


def _explaining_cells(failures: list[Violation]) -> list[tuple[tuple[int, ...], float, int]]:
    """(cell, change, failures explained), most first: each failing instance proposes, for
    each of its cells, the change that would close it."""
    from collections import Counter, defaultdict

    proposals: dict[tuple[int, ...], Counter[float]] = defaultdict(Counter)
    for v in failures:
        for _, idx, coef in v.cells:
            if coef:
                proposals[idx][round(-v.imbalance / coef, 9)] += 1
    ranked = [(idx, *deltas.most_common(1)[0]) for idx, deltas in proposals.items()]
    ranked.sort(key=lambda c: -c[2])
    return ranked


def _rank_suspects(p: _Prepared, failing: list[Violation]) -> str | None:
    """Suspects without re-checking: the cells whose one change explains the most failures (≥ 2).

    For failures spread over a sub-cube too large to collect; weaker than the re-check (a
    change that would break a passing check is not seen), so only clear winners are named.
    """
    ranked = [c for c in _explaining_cells(failing) if min(c[0]) >= 0]
    if not ranked or ranked[0][2] < 2:
        return "failing cells span a sub-cube too large to collect, and no cell explains two failures"
    best = ranked[0][2]
    top = [c for c in ranked if c[2] == best][:10]
    cond = " OR ".join("(" + " AND ".join(f"_x{ax} = {i}" for ax, i in enumerate(idx)) + ")" for idx, _, _ in top)
    n = len(p.cube.dims)
    values = {tuple(int(r[f"_x{ax}"]) for ax in range(n)): float(r["_v"])
              for r in p.cells.filter(cond).select(*[f"_x{ax}" for ax in range(n)], "_v").collect()}
    for idx, delta, _ in top:
        if idx not in values:
            continue
        where, _ = p.cube.where(idx)
        entry = {"table": p.table.id, "where": where, "actual": values[idx], "suggested": values[idx] + delta}
        if len(top) > 1:
            entry["tie_size"] = len(top)
        for v in failing:
            if any(c == idx for _, c, _ in v.cells):
                v.suspects.append(entry)
    return None


def _local(axes: list[int], shape: tuple[int, ...], wide: bool = False) -> str:
    """SQL: the C-order position of a cell's categories on `axes` in an array of their shape
    (an int to index a lookup array; a bigint when `wide`, for a position in the whole cube)."""
    terms, stride = [], 1
    for a in reversed(axes):
        x = f"CAST(_x{a} AS BIGINT)" if wide else f"_x{a}"
        terms.append(f"{x} * {stride}" if stride != 1 else x)
        stride *= shape[a]
    return " + ".join(reversed(terms)) if terms else "0"


def _keyed_cells(p: _Prepared, f: Any, part: int, rank: int) -> DataFrame:
    """The cells (or regional sums) of one table with their canonical key, as `KeyFactors` say."""
    F = _pyspark()  # noqa: N806
    cells = p.cells
    n = len(f.shape)
    if f.derived:  # absent cells count 0, an unknown one makes the sum unknown (NaN), as the dense engine
        r = f.cube.axis("region")
        cells = (cells.groupBy(*[f"_x{a}" for a in range(n) if a != r])
                 .agg(F.expr(f"sum(CASE WHEN (_f & {ABSENT}) != 0 THEN 0D ELSE _v END) AS _v"))
                 .withColumn(f"_x{r}", F.lit(0)))
    contrib, cond = [], []
    for i, (_axes, c) in enumerate(f.groups):
        flat = [int(x) for x in c.ravel()]
        if min(flat) == max(flat):
            if flat[0] < 0:
                return cells.sparkSession.createDataFrame(
                    [], "_key bigint, _tab int, _der boolean, _part int, _flat bigint, _val double")
            if flat[0]:
                contrib.append(str(flat[0]))
            continue
        contrib.append(f"_c{i}")
        cond.append(f"_c{i} >= 0")
    fixes = []
    for conds, delta in f.fixes:
        tests = [f"element_at({_sql([bool(x) for x in ok.ravel()])}, {_local(axes, f.shape)} + 1)" for axes, ok in conds]
        if delta and tests:
            fixes.append(f"CASE WHEN {' AND '.join(tests)} THEN {int(delta)} ELSE 0 END")
    cells = cells.filter("_v IS NOT NULL AND NOT isnan(_v)").selectExpr(
        "*", *[f"element_at({_sql([int(x) for x in c.ravel()])}, {_local(axes, f.shape)} + 1) AS _c{i}"
               for i, (axes, c) in enumerate(f.groups) if f"_c{i}" in contrib])
    if cond:
        cells = cells.filter(" AND ".join(cond))
    key = " + ".join(["CAST(0 AS BIGINT)", *contrib, *fixes])
    return cells.selectExpr(f"{key} AS _key", f"{rank} AS _tab", f"{_sql(f.derived)} AS _der", f"{part} AS _part",
                            f"{_local(list(range(n)), f.shape, wide=True)} AS _flat", "_v AS _val")


def cross_table_spark(prepared: list[_Prepared], max_itemised: int | None = None) -> list[Outcome] | None:
    """Same-figure checks as a Spark join of the tables' canonical keys; None when the keys do
    not fit an int64 (then only the driver path can check them).

    The keys are those of `engine.crosstable` (`key_factors`: the same mapping of categories to
    canonical measures, periods, regions, equivalences and regional sums), computed per cell
    from its category indices; a key's first cell per table meets every other table's, and the
    outcomes, counts and itemised mismatches are the dense engine's, in its order.
    """
    from migaudit.engine.crosstable import SAME_FIGURE, SUMS_MATCH, key_factors, mismatch

    F = _pyspark()  # noqa: N806
    from pyspark.sql import Window

    limit = MAX_VIOLATIONS if max_itemised is None else max_itemised
    if len({p.table.id for p in prepared}) < 2:
        return []
    factors = key_factors([p.cube for p in prepared])
    if factors is None:
        return None
    if not factors:
        return []
    of_cube = {id(p.cube): p for p in prepared}
    ids = sorted({f.cube.table.id for f in factors})
    rank = {t: i for i, t in enumerate(ids)}
    frames = [_keyed_cells(of_cube[id(f.cube)], f, k, rank[f.cube.table.id]) for k, f in enumerate(factors)]
    keyed = frames[0]
    for fr in frames[1:]:
        keyed = keyed.union(fr)
    first = (keyed.groupBy("_key", "_tab").agg(F.min(F.struct("_part", "_flat", "_der", "_val")).alias("m"))
             .selectExpr("_key", "_tab", "m._part AS _part", "m._flat AS _flat", "m._der AS _der", "m._val AS _val"))
    a, b = first.alias("a"), first.alias("b")
    on = ((F.col("a._key") == F.col("b._key")) & ~(F.col("a._der") & F.col("b._der"))
          & ((~F.col("a._der") & F.col("b._der")) | ((F.col("a._der") == F.col("b._der")) & (F.col("a._tab") < F.col("b._tab")))))
    pairs = a.join(b, on).select(
        (F.col("a._der") | F.col("b._der")).alias("kind"), F.col("a._tab").alias("ta"), F.col("b._tab").alias("tb"),
        F.col("a._part").alias("pa"), F.col("a._flat").alias("fa"), F.col("a._val").alias("va"),
        F.col("b._part").alias("pb"), F.col("b._flat").alias("fb"), F.col("b._val").alias("vb"))
    fail = F.col("va") != F.col("vb")
    counts = pairs.groupBy("kind", "ta", "tb").agg(F.count(F.lit(1)).alias("checked"),
                                                    F.sum(fail.cast("long")).alias("failed"))
    counts = counts.select("kind", "ta", "tb", "checked", "failed", F.lit(None).cast(
        "struct<pa:int,fa:bigint,pb:int,fb:bigint,va:double,vb:double>").alias("item"))
    w = Window.partitionBy("kind", "ta", "tb").orderBy("pa", "fa")
    items = (pairs.filter(fail).withColumn("_n", F.row_number().over(w)).filter(F.col("_n") <= limit)
             .select("kind", "ta", "tb", F.lit(None).cast("long").alias("checked"), F.lit(None).cast("long").alias("failed"),
                     F.struct("pa", "fa", "pb", "fb", "va", "vb").alias("item")))
    rows = counts.union(items).collect()
    outcomes: dict[tuple[bool, int, int], Outcome] = {}
    listed: dict[tuple[bool, int, int], list[Any]] = {}
    for r in rows:
        slot = (bool(r["kind"]), int(r["ta"]), int(r["tb"]))
        if r["item"] is None:
            out = Outcome(SUMS_MATCH if slot[0] else SAME_FIGURE, f"{ids[slot[1]]} = {ids[slot[2]]}")
            out.checked, out.failed = int(r["checked"]), int(r["failed"] or 0)
            out.passed = out.checked - out.failed
            outcomes[slot] = out
        else:
            listed.setdefault(slot, []).append(r["item"])
    for slot, out in outcomes.items():
        for it in sorted(listed.get(slot, []), key=lambda x: (x["pa"], x["fa"])):
            fa, fb = factors[it["pa"]], factors[it["pb"]]
            ia = tuple(int(x) for x in np.unravel_index(int(it["fa"]), fa.shape))
            ib = tuple(int(x) for x in np.unravel_index(int(it["fb"]), fb.shape))
            out.violations.append(mismatch(out.rule, fa.cube, fa.derived, ia, float(it["va"]),
                                           fb.cube, fb.derived, ib, float(it["vb"])))
    return [outcomes[k] for k in sorted(outcomes)]


def audit_spark(
    df: DataFrame,
    rules: RuleSet | str | Path | None = None,
    spark: SparkSession | None = None,
    meta: dict[str, Any] | None = None,
    table_id: str | None = None,
    cross_table: bool = True,
    max_driver_cells: int = MAX_DRIVER_CELLS,
) -> SparkAudit:
    """Audit one tidy table held as a Spark DataFrame (dimension columns, value, symbol).

    `meta` is the `migaudit_table` metadata of tidy Parquet (dimension roles, labels, title,
    reader notes); without it roles are guessed from column names. `spark` is accepted for
    symmetry with `audit_tables`; the DataFrame's own session runs the queries.
    """
    return audit_frames([(df, meta or {}, table_id)], rules, cross_table=cross_table, max_driver_cells=max_driver_cells,
                        spark=spark or df.sparkSession)


def audit_frames(
    frames: list[tuple[DataFrame, dict[str, Any], str | None] | Table],
    rules: RuleSet | str | Path | None = None,
    cross_table: bool = True,
    max_driver_cells: int = MAX_DRIVER_CELLS,
    ignored: list[tuple[str, str]] | None = None,
    spark: SparkSession | None = None,
    cross_table_on: str = "auto",
) -> SparkAudit:
    """Audit several tables as one release: tidy DataFrames (with metadata and id) or dense Tables.

    Every rule of every table is evaluated in a single Spark job. Cross-table checks run as a
    Spark join of canonical keys when a table is over `max_driver_cells` (or `cross_table_on`
    is "spark"), else on the driver's dense copies ("driver"); both give the same outcomes.
    """
    if cross_table_on not in ("auto", "spark", "driver"):
        raise UsageError(f"cross_table_on must be auto, spark or driver, not {cross_table_on!r}")
    from migaudit.engine.assumption import mark_assumed
    from migaudit.engine.crosstable import cross_table_outcomes
    from migaudit.engine.localization import localize
    from migaudit.runner import _structure_notes, _unique_ids, family_of, own_rules

    ruleset = rules if isinstance(rules, RuleSet) else load_rules(rules) if rules is not None else load_rules()
    prepared = []
    for item in frames:
        if isinstance(item, Table):
            prepared.append(prepare_table(spark or session(), item))
        else:
            prepared.append(prepare(*item))
    _unique_ids([p.table for p in prepared])
    ignored = list(ignored or [])
    work = [(p, _branches(p, [*ruleset, *own_rules(p.cube)])) for p in prepared]
    per_table = _outcomes(work)
    outcomes: list[Outcome] = []
    families: dict[str, str] = {}
    tables: list[Table] = []
    dense: list[Cube] = []
    for (p, _), outs in zip(work, per_table, strict=True):
        outcomes += outs
        if (f := family_of(outs)) is not None:
            families[p.table.id] = f
        _structure_notes(p.cube, outs)  # before the dense copy below, which copies the notes
        if not isinstance(p.table.values, np.ndarray) or p.table.values.strides == (0,) * p.table.values.ndim:
            small = p.table.size <= max_driver_cells
            t = to_dense(p, None) if small else p.table
        else:
            small, t = True, p.table  # a dense Table given: it is on the driver already
        tables.append(t)
        if small:
            dense.append(Cube.of(t))
            mark_assumed(dense[-1], outs)
    large = [p.table.id for p in prepared if p.table.id not in {c.table.id for c in dense}]
    if cross_table:
        joined = None
        if cross_table_on == "spark" or (cross_table_on == "auto" and large):
            joined = cross_table_spark(prepared)
            if joined is None:
                for tid in large:
                    ignored.append((tid, "cross-table checks not run for this table: the release has more distinct "
                                         "figure keys than 64 bits hold, and the table is over the driver cap of "
                                         f"{max_driver_cells:,} cells"))
        outcomes += joined if joined is not None else cross_table_outcomes(dense)
    from migaudit.rules.applicability import not_applied

    result = AuditResult(tables, outcomes, families, ignored)
    result.not_applied = not_applied(ruleset, outcomes, [p.cube for p in prepared])
    localize(result, dense, ruleset)
    dense_ids = {c.table.id for c in dense}
    for tid in large:
        if any(v.severity in ("error", "warning") and v.other is not None and tid in (v.table, v.other["table"])
               for v in result.violation_list):
            result.ignored.append((tid, "no suspects for the cross-table mismatches of this table: it is over the "
                                        f"driver cap of {max_driver_cells:,} cells"))
    for (p, _b), outs in zip(work, per_table, strict=True):
        if p.table.id not in dense_ids:
            why = _localize_large(p, outs, ruleset, max_driver_cells)
            if why:
                result.ignored.append((p.table.id, f"no suspects: {why}"))
    return SparkAudit(result, work, spark)


def _empty_findings(spark: SparkSession) -> DataFrame:
    schema = ("rule string, severity string, table string, where map<string,string>, expected double, "
              "actual double, imbalance double, tolerance double")
    return spark.createDataFrame([], schema)


def audit_with(items: list[Path | str], ruleset: RuleSet, cross_table: bool = True, master: str | None = None,
               spark: SparkSession | None = None, cross_table_on: str = "auto") -> AuditResult:
    """What `migaudit audit --engine spark` runs: tidy Parquet read by Spark, other forms by migaudit's readers."""
    from migaudit.runner import _NOT_TABLES, collect

    spark = spark or session(master)
    frames: list[tuple[DataFrame, dict[str, Any], str | None]] = []
    others: list[Path | str | Table] = []
    ignored: list[tuple[str, str]] = []
    for item in items:
        path = Path(item)
        if is_parquet_dataset(path) or (path.is_file() and path.suffix == ".parquet"):
            frames.append((*read_parquet(spark, path), None))
        elif path.is_dir() and any(path.rglob("*.parquet")):
            for f in sorted(x for x in path.rglob("*") if x.is_file()):
                if f.suffix == ".parquet":
                    frames.append((*read_parquet(spark, f), None))
                elif f.suffix.lower() in _NOT_TABLES or f.name.startswith("."):
                    ignored.append((str(f), "not a table file"))
                else:
                    others.append(f)
        else:
            others.append(item)
    tables, more = collect(others) if others else ([], [])
    items_: list[Any] = [*frames, *tables]
    found = audit_frames(items_, ruleset, cross_table=cross_table, ignored=ignored + more, spark=spark,
                         cross_table_on=cross_table_on)
    found.unpersist()
    return found.result
