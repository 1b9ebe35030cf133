"""migaudit's rules as pandera schemas: one rule definition, the same verdicts as the engine.

Pipelines that already validate their frames with pandera get migaudit's invariants as
ordinary DataFrame-level checks. Each rule becomes `Check.migaudit_rule(rule=…, rules=…)`,
a check method registered with `pandera.extensions`, so a schema written with
`schema.to_yaml()` comes back from `DataFrameSchema.from_yaml()` with its checks intact (the
statistics name the rule and its YAML file, not a Python function).

The check rebuilds a `Table` from the frame (tidy long form or wide form), evaluates the rule
with migaudit's engine and answers with a boolean frame that is False exactly at the cells of
the violating instances (the key columns and the value of each instance's `actual` cell), so
`schema.validate(df, lazy=True)` raises `SchemaErrors` with one failure case per violated
rule instance: `check` names the rule, `failure_case` holds the cell's keys and value, and
`index` the row. Column checks cover what pandera expresses itself: dimension columns are
strings, values floats, symbols SSB's, counts non-negative (wide form).

`audit_with(items, ruleset)` runs a whole audit through pandera and translates the failure
cases back into migaudit violations, for `migaudit audit --backend pandera`.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pandas as pd

from migaudit.extras import missing

try:
    import pandera.pandas as pa
    from pandera import extensions
    from pandera.errors import SchemaErrors
    from pandera.typing import Series
except ModuleNotFoundError as e:  # the optional extra is not installed
    raise missing("pandera") from e

from migaudit.engine.dense import Outcome, Violation, evaluate
from migaudit.model import symbols as sym
from migaudit.model.cube import Cube
from migaudit.model.table import Table
from migaudit.result import SEVERITY_RANK, AuditResult
from migaudit.rules.ruleset import Rule, RuleSet, load_rule_file, load_rules

FORMS = ("long", "wide")
#: table metadata the engine reads (singleton measure/period, coverage, partial groups)
_SPEC_META = ("measure", "reference_period", "covers_country", "subsets", "groups", "derived_categories")
#: `rules` statistic of the rules a table brings with it (runner.own_rules)
DERIVED = "table:derived"
_LABEL = "_label"
_SYMBOL = "_symbol"


# --- the frame <-> table contract -----------------------------------------------------
def table_spec(table: Table) -> dict[str, Any]:
    """What a check needs besides the frame to rebuild the table: YAML-safe, so it serialises."""
    m_ax = table.axis("measure") if table.has("measure") else None
    spec: dict[str, Any] = {
        "id": table.id,
        "title": table.title,
        "dims": [d.name for d in table.dimensions],
        "roles": {d.name: d.role for d in table.dimensions if d.role},
        "decimals": int(table.decimals),
        "meta": {k: table.meta[k] for k in _SPEC_META if k in table.meta},
    }
    if m_ax is not None:
        spec["measure_dim"] = table.dimensions[m_ax].name
        spec["measures"] = wide_columns(table)
    return spec


def wide_columns(table: Table) -> list[str]:
    """Column name of each measure in the wide form: its canonical name (births, deaths, …)."""
    m_ax = table.axis("measure")
    canon = Cube.of(table).canon[m_ax]
    names = [c if c.isidentifier() else code for c, code in zip(canon, table.dimensions[m_ax].codes, strict=True)]
    if len(set(names)) != len(names):
        return list(table.dimensions[m_ax].codes)
    return names


def wide_frame(table: Table, role_names: bool = False) -> pd.DataFrame:
    """Measures as columns, one row per combination of the other dimensions.

    Missing cells keep their symbol in a `<measure>_symbol` column (only for measures that
    have any); `role_names=True` names the key columns by role (region, time) as the
    `DataFrameModel`s expect.
    """
    m_ax = table.axis("measure")
    names = wide_columns(table)
    others = [d for i, d in enumerate(table.dimensions) if i != m_ax]
    values = np.moveaxis(table.values, m_ax, -1).reshape(-1, len(names))
    symbols = np.moveaxis(table.symbols, m_ax, -1).reshape(-1, len(names))
    shape = tuple(len(d) for d in others)
    grids = np.indices(shape).reshape(len(shape), -1)
    cols: dict[str, Any] = {}
    for i, d in enumerate(others):
        key = (d.role or d.name) if role_names else d.name
        cols[key] = np.asarray(d.codes, dtype=object)[grids[i]]
        if d.has_labels:
            cols[key + _LABEL] = np.asarray(d.labels, dtype=object)[grids[i]]
    for j, name in enumerate(names):
        cols[name] = values[:, j]
    for j, name in enumerate(names):
        if (symbols[:, j] != sym.NUMBER).any():
            cols[name + _SYMBOL] = np.asarray(sym.TEXT, dtype=object)[symbols[:, j]]
    return pd.DataFrame(cols)


def _frame_dims(df: pd.DataFrame, spec: dict[str, Any] | None, form: str) -> list[str]:
    if spec and spec.get("dims"):
        dims = list(spec["dims"])
        if form == "wide":
            dims = [d for d in dims if d != spec.get("measure_dim")]
        return [d for d in dims if d in df.columns] if form == "wide" else dims
    skip = {"value", "symbol"}
    return [c for c in df.columns if c not in skip and not str(c).endswith((_LABEL, _SYMBOL))
            and (form == "long" or not pd.api.types.is_numeric_dtype(df[c]))]


def _melt(df: pd.DataFrame, dims: list[str], spec: dict[str, Any] | None) -> tuple[pd.DataFrame, list[str]]:
    """Wide → long (measure column `contents`), keeping row positions for the way back."""
    measures = [c for c in df.columns if c not in dims and not str(c).endswith((_LABEL, _SYMBOL))
                and pd.api.types.is_numeric_dtype(df[c])]
    m_name = (spec or {}).get("measure_dim", "contents")
    parts = []
    for j, m in enumerate(measures):
        part = df[[*dims, *[f"{d}{_LABEL}" for d in dims if f"{d}{_LABEL}" in df.columns]]].copy()
        part[m_name] = m
        part["value"] = pd.to_numeric(df[m], errors="coerce").astype(float)
        if f"{m}{_SYMBOL}" in df.columns:
            part["symbol"] = df[f"{m}{_SYMBOL}"].fillna("").astype(str)
        else:
            part["symbol"] = np.where(part["value"].isna(), "..", "")
        part["_row"] = np.arange(len(df))
        part["_col"] = j
        parts.append(part)
    long = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[*dims, m_name, "value"])
    return long, [*dims, m_name]


class _Rebuilt:
    """A table rebuilt from a frame, and where each cell of it sits in the frame."""

    def __init__(self, df: pd.DataFrame, spec: dict[str, Any] | None, form: str) -> None:
        dims = _frame_dims(df, spec, form)
        roles = dict((spec or {}).get("roles") or {})
        if form == "wide":
            long, order = _melt(df, dims, spec)
            m_name = order[-1]
            roles.setdefault(m_name, "measure")
            full = [d for d in (spec or {}).get("dims", order) if d in order] if spec else order
            src = long
        else:
            full, src = dims, df
        self.table = Table.from_frame(src, dims=full, roles=roles or None, source="<frame>")
        if spec:
            self.table.id = spec.get("id", "")
            self.table.title = spec.get("title", "")
            self.table.decimals = int(spec.get("decimals", 0))
            self.table.meta = dict(spec.get("meta") or {})
        # flat cube index -> (frame row position, measure column or -1)
        positions = []
        for d in self.table.dimensions:
            lookup = {c: i for i, c in enumerate(d.codes)}
            positions.append(src[d.name].astype(str).map(lookup).to_numpy(dtype=np.int64))
        flat = np.ravel_multi_index(positions, self.table.shape) if positions else np.zeros(len(src), np.int64)
        self.row = np.full(self.table.size, -1, dtype=np.int64)
        self.col = np.full(self.table.size, -1, dtype=np.int64)
        if form == "wide":
            self.row[flat] = src["_row"].to_numpy()
            self.col[flat] = src["_col"].to_numpy()
            self.measures = [c for c in df.columns if c not in dims and not str(c).endswith((_LABEL, _SYMBOL))
                             and pd.api.types.is_numeric_dtype(df[c])]
        else:
            self.row[flat] = np.arange(len(src))
            self.measures = []
        self.key_columns = dims
        self.cube = Cube.of(self.table)
        self.form = form

    def locate(self, codes: dict[str, str]) -> tuple[int, str]:
        """Frame row and value column of the cell with these codes ("*", summed over → first)."""
        idx = []
        for d in self.table.dimensions:
            c = codes.get(d.name, "*")
            idx.append(d.codes.index(c) if c in d.codes else 0)
        flat = int(np.ravel_multi_index(idx, self.table.shape))
        row = int(self.row[flat])
        if self.form == "wide":
            return row, self.measures[int(self.col[flat])]
        return row, "value"


_CACHE: dict[str, Any] = {"ref": None, "key": None, "rebuilt": None}
_LOCK = threading.Lock()


def _rebuild(df: pd.DataFrame, spec: dict[str, Any] | None, form: str) -> _Rebuilt:
    """Rebuild once per frame and validation, not once per rule."""
    key = (df.shape, form, repr(spec))
    with _LOCK:
        ref = _CACHE["ref"]
        if ref is not None and ref() is df and _CACHE["key"] == key:
            return _CACHE["rebuilt"]
    rebuilt = _Rebuilt(df, spec, form)
    with _LOCK:
        try:
            _CACHE.update(ref=weakref.ref(df), key=key, rebuilt=rebuilt)
        except TypeError:
            pass
    return rebuilt


def own_rules(cube: Cube) -> list[Rule]:
    """The rules a table brings with it (`runner.own_rules`: stated by the table, inferred from its structure)."""
    from migaudit.runner import own_rules as rules_of

    return rules_of(cube)


@lru_cache(maxsize=32)
def _rules_at(path: str, mtime: float) -> RuleSet:
    return load_rule_file(path) if path else load_rules()


def load_rule(rule_id: str, rules: str | None) -> Rule:
    """The rule called `rule_id` in the YAML file `rules` (or in the default rules)."""
    path = str(rules or "")
    mtime = Path(path).stat().st_mtime if path else 0.0
    return _rules_at(path, mtime).get(rule_id)


# --- recording what the checks found, for audit_with ---------------------------------
_RECORD = threading.local()


def _record(rule_id: str, outcome: Outcome, located: dict[int, Violation]) -> None:
    rec = getattr(_RECORD, "current", None)
    if rec is not None:
        rec[rule_id] = (outcome, located)


# --- the registered check ---------------------------------------------------------------
def _mask(df: pd.DataFrame, rebuilt: _Rebuilt, outcomes: Iterable[Outcome], fail_on: str) -> tuple[pd.DataFrame, dict]:
    mask = np.ones(df.shape, dtype=bool)
    colpos = {c: i for i, c in enumerate(df.columns)}
    keys = [colpos[c] for c in rebuilt.key_columns if c in colpos]
    located: dict[int, Violation] = {}
    floor = SEVERITY_RANK.get(fail_on, 1)
    for out in outcomes:
        for v in out.violations:
            if SEVERITY_RANK[v.severity] < floor:
                continue
            row, col = rebuilt.locate(v.codes)
            if row < 0:
                continue
            mask[row, keys] = False
            mask[row, colpos[col]] = False
            located.setdefault(row, v)
    frame = pd.DataFrame(mask, index=df.index, columns=df.columns)
    frame.attrs["migaudit"] = _Found(
        (df.index[row], {"rule": v.rule, "severity": v.severity, "where": v.where, "actual": v.actual,
                         "expected": v.expected, "imbalance": v.imbalance, "tolerance": v.tolerance})
        for row, v in located.items()
    )
    return frame, located


class _Found(dict):
    """The violations behind a check's failure cases, riding on `check_output.attrs`.

    pandas deep-copies `attrs` on every operation; this read-only record is shared instead.
    """

    def __deepcopy__(self, memo: dict) -> _Found:
        return self


@extensions.register_check_method(
    statistics=["rule", "rules", "table", "form", "fail_on"], supported_types=pd.DataFrame,
)
def migaudit_rule(df: pd.DataFrame, *, rule: str, rules: str | None = None, table: dict | None = None,
                  form: str = "long", fail_on: str = "info") -> pd.DataFrame | bool:
    """False at the cells of every instance of migaudit rule `rule` that fails (at or above `fail_on`)."""
    rebuilt = _rebuild(df, table, form)
    if rules == DERIVED:
        found = [d for d in own_rules(rebuilt.cube) if d.id == rule]
        if not found:
            return True
        r = found[0]
    else:
        r = load_rule(rule, rules)
    out = evaluate(r, rebuilt.cube)
    mask, located = _mask(df, rebuilt, [out] if out else [], fail_on)
    if out is not None:
        _record(rule, out, located)
    return mask if located else True  # a plain True spares pandera a masked copy of the frame


def family_check(df: pd.DataFrame, families: tuple[str, ...], form: str) -> pd.DataFrame:
    """All default rules of `families` at once: the check behind the `DataFrameModel`s."""
    rebuilt = _rebuild(df, None, form)
    outs = [o for r in load_rules() if r.family in families if (o := evaluate(r, rebuilt.cube)) is not None]
    return _mask(df, rebuilt, outs, "warning")[0]


# --- schemas ----------------------------------------------------------------------------
def _is_count(name: str) -> bool:
    try:
        from migaudit.knowledge.measures import measure_info

        info = measure_info(name)
    except (ImportError, KeyError):
        return False
    return not info.may_be_negative and info.kind != "ratio"


def schema_for(rules: RuleSet | None = None, table: Table | None = None, form: str = "long",
               fail_on: str = "info") -> pa.DataFrameSchema:
    """A pandera schema for `table`'s tidy frame (`form="long"`) or wide frame (`"wide"`).

    Without a table the dimension columns are found from the frame itself (every column but
    value, symbol and labels) and roles are guessed from their names. `fail_on` sets the
    lowest severity that fails a check (default info: every finding is a failure case).
    """
    if form not in FORMS:
        raise ValueError(f"form must be one of {FORMS}, not {form!r}")
    ruleset = load_rules() if rules is None else rules
    spec = table_spec(table) if table is not None else None
    own = own_rules(Cube.of(table)) if table is not None else []
    symbol_check = pa.Check.isin(list(sym.TEXT))
    columns: dict[str, pa.Column] = {}
    if table is not None:
        for d in table.dimensions:
            if form == "wide" and d.role == "measure":
                continue
            columns[d.name] = pa.Column(str, nullable=False, description=f"codes of {d.label or d.name}")
            if d.has_labels:
                columns[d.name + _LABEL] = pa.Column(str, nullable=True, required=False)
    if form == "long":
        columns["value"] = pa.Column(float, nullable=True, description="the published number (NaN: no number)")
        columns["symbol"] = pa.Column(str, checks=symbol_check, required=False,
                                      description="SSB symbol ('' for a plain number)")
    elif spec is not None and "measures" in spec:
        # a derived row (004's change column: 2021K2 − 2020K2) of a count may be negative; then
        # the sign is left to the structure-aware counts_non_negative rule check
        derived = table is not None and bool(table.meta.get("derived_categories"))
        for m in spec["measures"]:
            checks = [pa.Check.ge(0)] if _is_count(m) and not derived else []
            columns[m] = pa.Column(float, checks=checks, nullable=True)
            columns[m + _SYMBOL] = pa.Column(str, checks=symbol_check, required=False)
    checks = [
        pa.Check.migaudit_rule(rule=r.id, rules=r.source or None, table=spec, form=form, fail_on=fail_on,
                               ignore_na=False, title=r.id, error=f"migaudit rule {r.id}",
                               description=" ".join(r.description.split()) or None)
        for r in ruleset
    ] + [
        pa.Check.migaudit_rule(rule=r.id, rules=DERIVED, table=spec, form=form, fail_on=fail_on, ignore_na=False,
                               title=r.id, error=f"migaudit rule {r.id}", description=r.description or None)
        for r in own
    ]
    name = f"migaudit {table.id}" if table is not None and table.id else "migaudit"
    return pa.DataFrameSchema(columns, checks=checks, strict=False, coerce=False, name=name)


def failure_report(err: SchemaErrors) -> pd.DataFrame:
    """The migaudit failure cases of `err`, one row per violated rule instance, with the imbalance.

    Columns: rule, severity, keys (the failing cell's key columns and value, as pandera
    reports it), index (the frame row), actual, expected, imbalance, tolerance, where (labels).
    """
    found: dict[tuple[int, Any], dict] = {}
    for se in err.schema_errors:
        attrs = getattr(se.check_output, "attrs", None) or {}
        for idx, info in (attrs.get("migaudit") or {}).items():
            found[(se.check_index, idx)] = info
    rows = []
    fc = err.failure_cases
    for rec in fc.itertuples(index=False):
        if rec.check_number is None or pd.isna(rec.check_number):
            continue
        info = found.get((int(rec.check_number), rec.index))
        if info is None:
            continue
        rows.append({"rule": info["rule"], "severity": info["severity"], "keys": rec.failure_case,
                     "index": rec.index, "actual": info["actual"], "expected": info["expected"],
                     "imbalance": info["imbalance"], "tolerance": info["tolerance"], "where": info["where"]})
    cols = ["rule", "severity", "keys", "index", "actual", "expected", "imbalance", "tolerance", "where"]
    return pd.DataFrame(rows, columns=cols)


# --- class-based models for the known families ------------------------------------------
class PopulationChangesWide(pa.DataFrameModel):
    """Population and changes during the quarter (StatBank 01222) in wide form: `wide_frame(t, role_names=True)`."""

    region: Series[str]
    time: Series[str]
    births: Series[float] = pa.Field(ge=0, nullable=True)
    deaths: Series[float] = pa.Field(ge=0, nullable=True)
    excess_of_births: Series[float] = pa.Field(nullable=True)
    immigration: Series[float] = pa.Field(ge=0, nullable=True)
    emigration: Series[float] = pa.Field(ge=0, nullable=True)
    in_migration_domestic: Optional[Series[float]] = pa.Field(ge=0, nullable=True)  # noqa: UP045
    out_migration_domestic: Optional[Series[float]] = pa.Field(ge=0, nullable=True)  # noqa: UP045
    net_migration: Series[float] = pa.Field(nullable=True)
    adjustment: Optional[Series[float]] = pa.Field(nullable=True)  # noqa: UP045
    growth: Series[float] = pa.Field(nullable=True)
    population_start: Optional[Series[float]] = pa.Field(ge=0, nullable=True)  # noqa: UP045
    population_end: Series[float] = pa.Field(ge=0, nullable=True)

    class Config:
        strict = False
        coerce = False

    @pa.dataframe_check(ignore_na=False)
    def population_identities(cls, df: pd.DataFrame) -> pd.DataFrame:
        """Every population_changes rule (warnings and errors fail; info findings pass)."""
        return family_check(df, ("population_changes",), "wide")


class MigrationByCitizenshipLong(pa.DataFrameModel):
    """Migration by citizenship × region, tidy long form (printed tables 11 and 12)."""

    citizenship: Series[str]
    region: Series[str]
    value: Series[float] = pa.Field(ge=0, nullable=True)
    symbol: Optional[Series[str]] = pa.Field(isin=list(sym.TEXT))  # noqa: UP045

    class Config:
        strict = False
        coerce = False

    @pa.dataframe_check(ignore_na=False)
    def citizenship_and_region_sums(cls, df: pd.DataFrame) -> pd.DataFrame:
        """Citizenship hierarchy and regions summing to the total."""
        return family_check(df, ("migration_by_citizenship", "regions"), "long")


# --- auditing through pandera -----------------------------------------------------------
def _translate(err: SchemaErrors, schema: pa.DataFrameSchema, table: Table,
               found: dict[str, tuple[Outcome, dict[int, Violation]]]) -> list[Violation]:
    """pandera failure cases → migaudit violations (rule from the check, cell from the row)."""
    out: list[Violation] = []
    fc = err.failure_cases
    rule_checks = {i: c.statistics.get("rule") for i, c in enumerate(schema.checks) if c.name == "migaudit_rule"}
    for rec in fc.itertuples(index=False):
        n = rec.check_number
        if rec.schema_context == "DataFrameSchema" and n is not None and not pd.isna(n) and int(n) in rule_checks:
            rule_id = rule_checks[int(n)]
            v = found.get(rule_id, (None, {}))[1].get(int(rec.index))
            if v is not None:
                out.append(v)
            continue
        out.append(Violation(
            f"pandera:{rec.check}", "error", table.id, {"column": str(rec.column)}, {"column": str(rec.column)},
            float("nan"), float("nan"), float("nan"), 0.0, f"{rec.column}: {rec.check} failed on {rec.failure_case!r}",
        ))
    return out


def validate_table(table: Table, ruleset: RuleSet) -> tuple[list[Outcome], list[Violation]]:
    """Validate one table's tidy frame with its pandera schema; the outcomes and translated violations."""
    schema = schema_for(ruleset, table, "long")
    frame = table.frame()
    found: dict[str, tuple[Outcome, dict[int, Violation]]] = {}
    _RECORD.current = found
    try:
        schema.validate(frame, lazy=True)
        violations: list[Violation] = []
    except SchemaErrors as e:
        violations = _translate(e, schema, table, found)
    finally:
        _RECORD.current = None
    outcomes = []
    by_rule: dict[str, list[Violation]] = {}
    for v in violations:
        by_rule.setdefault(v.rule, []).append(v)
    for r in [*ruleset, *own_rules(Cube.of(table))]:
        if r.id not in found:
            continue
        out = found[r.id][0]
        order = {id(v): i for i, v in enumerate(out.violations)}
        kept = sorted(by_rule.pop(r.id, []), key=lambda v: order.get(id(v), 0))
        out.violations = kept
        outcomes.append(out)
    for rule_id, vs in by_rule.items():  # column checks pandera failed on its own
        outcomes.append(Outcome(Rule(rule_id, "sign", family="pandera"), table.id, len(vs), 0, len(vs), 0, vs))
    return outcomes, violations


def audit_with(items: Iterable[Table | str | Path], ruleset: RuleSet | None = None,
               cross_table: bool = True) -> AuditResult:
    """`audit()` with every rule evaluated inside pandera schema validation (`--backend pandera`).

    Cross-table checks are not a per-frame schema and run with the engine, as in `audit()`.
    """
    from migaudit.runner import assemble, collect, family_of

    tables, ignored = collect(items)
    ruleset = load_rules() if ruleset is None else ruleset
    outcomes: list[Outcome] = []
    families: dict[str, str] = {}
    for t in tables:
        outs, _ = validate_table(t, ruleset)
        outcomes.extend(outs)
        if family := family_of(outs, skip=("pandera",)):
            families[t.id] = family
    return assemble(tables, [Cube.of(t) for t in tables], outcomes, families, ignored, ruleset, cross_table)


