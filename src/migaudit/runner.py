"""The audit runner: confronting a release with a rule set, `audit(tables_or_paths, rules)`.

Collects the tables (files, folders, or `Table`s), views each as a `Cube`, evaluates every
rule that applies to it, and names each table's family after the rule file that applies
most. Cross-table checks and localization run on the same cubes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from migaudit.engine.assumption import mark_assumed
from migaudit.engine.dense import Outcome, evaluate
from migaudit.errors import ReadError, RuleError
from migaudit.model.cube import Cube
from migaudit.model.table import Table
from migaudit.result import AuditResult
from migaudit.rules.ruleset import Rule, RuleSet, load_rules

if TYPE_CHECKING:
    from migaudit.engine.localization import LocalizeOptions

#: files in a release folder that are documentation, not tables
_NOT_TABLES = {".md", ".yaml", ".yml", ".py", ".html", ".png", ".jpg", ".pdf"}


def collect(items: Iterable[Table | str | Path]) -> tuple[list[Table], list[tuple[str, str]]]:
    """Tables from Tables, files and folders; files in folders that hold no table are listed."""
    from migaudit.readers import read

    tables: list[Table] = []
    ignored: list[tuple[str, str]] = []
    for item in items:
        if isinstance(item, Table):
            tables.append(item)
            continue
        p = Path(item)
        if p.is_dir() and (p / "_common_metadata").is_file():  # a partitioned tidy Parquet cube
            from migaudit.readers.tidy import read_dataset

            tables.append(read_dataset(p))
        elif p.is_dir():
            for f in sorted(x for x in p.rglob("*") if x.is_file()):
                if f.suffix.lower() in _NOT_TABLES or f.name.startswith("."):
                    ignored.append((str(f), "not a table file"))
                    continue
                try:
                    tables.extend(read(f))
                except ReadError as e:
                    if "not a table format" in e.message or "no table found" in e.message:
                        ignored.append((str(f), e.message))
                    else:
                        raise
        else:
            tables.extend(read(p))
    _unique_ids(tables)
    return tables, ignored


_CONFIG_KEYS = ("files", "rules", "families", "accept")
_ACCEPT_KEYS = ("rule", "table", "where", "reason")


def release_config(folder: Path) -> dict:
    """`migaudit.yaml` of a release folder: files, extra rules, families, accept; {} when absent.

    Every key and type is checked (a string where a list belongs is one item, never read
    letter by letter); RuleError names the file, the line and the key, with the closest
    known key for a misspelt one.
    """
    from migaudit.rules.yamlload import Place, read_yaml

    f = folder / "migaudit.yaml"
    if not f.is_file():
        return {}
    doc, lines = read_yaml(f, "release config")
    place = Place(str(f), lines)
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise place.error("migaudit.yaml must be a mapping",
                          "files: [...], rules: [...], families: {table: family}, accept: [...]")
    place.keys(doc, _CONFIG_KEYS, "migaudit.yaml")
    out: dict = {}
    for key in ("files", "rules"):
        if doc.get(key) is not None:
            value = doc[key]
            out[key] = list((place / key).names(value, f"{key} entry"))
    families = doc.get("families")
    if families is not None:
        if not isinstance(families, dict):
            raise (place / "families").error(f"families must map a table id to a family, got {type(families).__name__}",
                                             "families: {TABLE_ID: FAMILY}")
        out["families"] = {(place / "families").string(k, "a table id"): (place / "families" / str(k)).string(v, "a family")
                           for k, v in families.items()}
    accept = doc.get("accept")
    if accept is not None:
        if not isinstance(accept, list):
            raise (place / "accept").error("accept must be a list of findings",
                                           "accept: [{rule: ID, table: ID, where: {dim: label}, reason: TEXT}]")
        out["accept"] = []
        for i, a in enumerate(accept):
            ap = place / "accept" / i
            if not isinstance(a, dict) or not {"rule", "table", "reason"} <= set(a):
                raise RuleError("an accepted finding needs rule, table, where and reason", source=str(f),
                                where=ap.where, expected="{rule: ID, table: ID, where: {dim: label}, reason: TEXT}")
            ap.keys(a, _ACCEPT_KEYS, "an accepted finding")
            where = a.get("where") or {}
            if not isinstance(where, dict):
                raise (ap / "where").error("where must map a dimension to a label", "where: {year: '2015'}")
            out["accept"].append({
                "rule": (ap / "rule").string(a["rule"], "rule"), "table": (ap / "table").string(a["table"], "table"),
                "where": {(ap / "where").string(k, "a dimension"): (ap / "where" / str(k)).string(v, "a label")
                          for k, v in where.items()},
                "reason": (ap / "reason").string(a["reason"], "reason"),
                "source": f"{f}:{ap.where}",
            })
    return out


def apply_accepted(result: AuditResult, accepted: list[dict]) -> None:
    """Known findings, acknowledged with a reason, are reported as info instead of failing CI.

    An entry that matches no finding is a warning in the result: a typo in a rule id or a
    label would otherwise leave a real finding hidden-looking yet unaccounted for.
    """
    used = [False] * len(accepted)
    for v in result.violation_list:
        for i, a in enumerate(accepted):
            if (v.rule == a["rule"] and v.table == str(a["table"])
                    and all(v.where.get(k) == str(val) for k, val in (a.get("where") or {}).items())):
                v.message = f"accepted: {a['reason']} ({v.message})"
                v.accepted = str(a["reason"]).strip()
                v.severity = "info"
                used[i] = True
    rule_ids = {o.rule.id for o in result.outcomes}
    table_ids = {t.id for t in result.tables}
    for a, hit in zip(accepted, used, strict=True):
        if not hit:
            from migaudit.rules.yamlload import closest

            where = ", ".join(f"{k}={v}" for k, v in (a.get("where") or {}).items())
            why = ""
            if a["rule"] not in rule_ids:
                why = f"; no rule {a['rule']!r} was checked{closest(a['rule'], rule_ids)}"
            elif str(a["table"]) not in table_ids:
                why = f"; no table {a['table']!r}{closest(a['table'], table_ids)}"
            result.warnings.append(
                f"{a.get('source', 'migaudit.yaml')}: accepted finding (rule {a['rule']}, table {a['table']}"
                f"{', ' + where if where else ''}) matches no finding{why}")


@dataclass
class Release:
    """What to audit, once the folders' `migaudit.yaml` files are applied."""

    items: list[Table | Path]
    rule_paths: list[Path] = field(default_factory=list)
    families: dict[str, str] = field(default_factory=dict)
    accepted: list[dict] = field(default_factory=list)


def release_of(items: Iterable[Table | str | Path]) -> Release:
    """Tables, files and folders; a folder's `migaudit.yaml` adds its files, rules, families, accepts."""
    release = Release(items=[])
    for item in items:
        if isinstance(item, Table):
            release.items.append(item)
            continue
        p = Path(item)
        cfg = release_config(p) if p.is_dir() else {}
        release.rule_paths += [p / r for r in cfg.get("rules") or []]
        release.accepted += cfg.get("accept") or []
        release.families.update(cfg.get("families") or {})
        release.items += [p / f for f in cfg["files"]] if cfg.get("files") else [p]
    return release


BACKENDS = ("native", "pandera", "gx")


def run_audit(paths: list[Path], rule_paths: list[Path], backend: str = "native",
              cross_table: bool = True, progress: bool = False, engine: str = "dense",
              spark_master: str | None = None) -> AuditResult:
    """What `migaudit audit` does: the default rules plus `--rules`, then `audit()`."""
    return audit(paths, load_rules(*rule_paths), cross_table=cross_table, progress=progress, backend=backend,
                 engine=engine, spark_master=spark_master)


def _require_tables(tables: list[Table], items: list) -> None:
    """Auditing nothing is an error: a CI job pointed at a wrong or empty folder must not pass."""
    if not tables:
        names = ", ".join(str(i) for i in items if not isinstance(i, Table)) or "the input"
        raise ReadError("no table found to audit", source=names,
                        expected="files in a table format migaudit reads (see `migaudit read --help`)")


def _unique_ids(tables: list[Table]) -> None:
    """Give every table an id unique in the release (file stem when ids collide)."""
    counts = Counter(t.id for t in tables)
    seen: Counter[str] = Counter()
    for t in tables:
        if not t.id or counts[t.id] > 1:
            base = Path(t.source).stem if t.source else "table"
            tid = f"{base}:{t.id}" if t.id else base
            seen[tid] += 1
            t.id = tid if seen[tid] == 1 else f"{tid}#{seen[tid]}"


def derived_rules(cube: Cube) -> list[Rule]:
    """Rules a table states about itself: a change column is the difference of two periods."""
    from migaudit.rules.ruleset import parse_side

    out = []
    for ax, d in enumerate(cube.dims):
        for code, expr in cube.derived(ax).items():
            out.append(Rule(
                id=f"derived_{d.name}_{code}", kind="identity", along=d.name, family="table",
                description=f"{d.name} {code!r} = {expr}, as the table says",
                lhs=parse_side(code, "meta.derived_categories", cube.table.source),
                rhs=parse_side(expr.replace("\u2212", "-"), "meta.derived_categories", cube.table.source),
            ))
    return out


#: dimension roles the shipped rules check along; other dimensions get an inferred rule
_COVERED_ROLES = ("time", "measure", "sex", "age", "region", "citizenship")


def inferred_rules(cube: Cube) -> list[Rule]:
    """total = Σ parts along dimensions no shipped rule names (marital status, level, ...).

    The groups are the structure step's (migaudit.structure), so a table in any language with
    a total and its parts is checked even when its dimension has no role.
    """
    out = []
    for ax, d in enumerate(cube.dims):
        groups = cube.structure.dimension(ax).groups
        if not groups or (d.role in _COVERED_ROLES and not (d.role == "measure" and any(
                g.evidence.startswith("spanning header") for g in groups))):
            continue
        out.append(Rule(id=f"inferred_total_{d.name}", kind="hierarchy", along=d.name, from_labels=True,
                        family="table", description=f"{d.name}: the total and aggregates the table shows "
                        "are the sums of their parts (inferred structure)"))
    return out


def own_rules(cube: Cube) -> list[Rule]:
    """The rules a table brings with it: what it states about itself and what its structure shows.

    Every engine, backend and localization takes a table's rules from here, so all of them
    check (and localize over) the same instances.
    """
    return [*derived_rules(cube), *inferred_rules(cube)]


def _progress(cubes: list[Cube], show: bool) -> Iterable[Cube]:
    if not show or sum(c.values.size for c in cubes) < 1_000_000:
        return cubes
    from rich.progress import track

    return track(cubes, description="auditing", transient=True)


def audit(
    tables_or_paths: Iterable[Table | str | Path] | Table | str | Path | None = None,
    rules: RuleSet | str | Path | None = None,
    cross_table: bool = True,
    progress: bool = False,
    backend: str = "native",
    localize_options: LocalizeOptions | None = None,
    engine: str = "dense",
    spark_master: str | None = None,
) -> AuditResult:
    """Check every rule on every table it applies to (and across tables); never raises on findings.

    `tables_or_paths`: Tables, files or release folders (a folder's `migaudit.yaml` applies, as
    on the command line); None audits the example release bundled with migaudit. `rules`: a
    RuleSet (used as it is), a rule file or folder (added to the default rules), or None (the
    default rules). `backend`: "native" (migaudit's engine), "pandera" or "gx".
    `localize_options`: weights and limits of the search for the wrong cells. `engine`:
    "dense" (in memory) or "spark" (Apache Spark, `spark_master` or local; needs
    `migaudit[spark]`; see docs/spark.md).
    """
    if tables_or_paths is None:
        from migaudit.resources import example_release

        tables_or_paths = [example_release()]
    elif isinstance(tables_or_paths, (Table, str, Path)):
        tables_or_paths = [tables_or_paths]
    if backend not in BACKENDS:
        from migaudit.errors import UsageError

        raise UsageError(f"unknown backend {backend!r}", expected=" or ".join(BACKENDS))
    if engine not in ("dense", "spark") or (engine == "spark" and backend != "native"):
        from migaudit.errors import UsageError

        raise UsageError(f"engine {engine!r} with backend {backend!r}",
                         expected="engine dense with any backend, or engine spark with the native rules")
    release = release_of(tables_or_paths)
    if rules is None:
        ruleset = load_rules()
    elif isinstance(rules, RuleSet):
        ruleset = rules
    else:
        ruleset = load_rules(rules)
    if release.rule_paths:
        ruleset = ruleset.add(load_rules(*release.rule_paths, defaults=False))
    if engine == "spark":
        from migaudit.extras import require

        require("spark")
        from migaudit.engine.spark import audit_with as spark_audit

        result = spark_audit(release.items, ruleset, cross_table=cross_table, master=spark_master)
    elif backend == "native":
        result = _audit_native(release.items, ruleset, cross_table, progress, localize_options)
    else:
        from importlib import import_module

        from migaudit.extras import require

        require(backend)
        result = import_module(f"migaudit.backends.{backend}").audit_with(release.items, ruleset, cross_table=cross_table)
        _require_tables(result.tables, release.items)
    result.families.update(release.families)
    apply_accepted(result, release.accepted)
    return result


def _audit_native(items: list[Table | Path], ruleset: RuleSet, cross_table: bool, progress: bool,
                  localize_options: LocalizeOptions | None = None) -> AuditResult:
    with _step("reading", progress):
        tables, ignored = collect(items)
    _require_tables(tables, items)
    cubes = [Cube.of(t) for t in tables]
    with _step("inferring structure", progress):  # seconds at 10M cells: said on the terminal
        for cube in cubes:
            _ = cube.structure  # cached on the cube; the rule loop below uses it
    outcomes: list[Outcome] = []
    families: dict[str, str] = {}
    for cube in _progress(cubes, progress):
        rules = [*ruleset, *own_rules(cube)]
        outs = [out for rule in rules if (out := evaluate(rule, cube)) is not None]
        outcomes += outs
        if family := family_of(outs):
            families[cube.table.id] = family
    return assemble(tables, cubes, outcomes, families, ignored, ruleset, cross_table, localize_options,
                    progress=progress)


def _structure_notes(cube: Cube, outs: list[Outcome]) -> None:
    """What the structure step could not infer, or only as a bound, goes to the table's notes.

    So a table the audit cannot check says why in every report, never a silent 0 checks.
    """
    notes = cube.structure.notes()
    if not any(o.checked or o.skipped or o.assumed for o in outs):
        notes.append("structure: no rule found anything to check in this table (no total with its parts, "
                     "no known measures); `migaudit read` shows the inferred structure")
    for note in notes:
        if note not in cube.table.notes:
            cube.table.notes.append(note)


def family_of(outcomes: list[Outcome], skip: tuple[str, ...] = ()) -> str | None:
    """The rule family that checked most of a table (the rule file that fits it best).

    Families whose rules apply to every kind of table (`names_tables: false`: cell signs, region
    sums) name a table only when no family that describes a kind of table applies.
    """
    per_family: Counter[tuple[bool, str]] = Counter()
    for out in outcomes:
        if out.rule.family not in skip:
            per_family[(out.rule.names_table, out.rule.family)] += out.checked + out.skipped + out.assumed
    if not per_family:
        return None
    return max(per_family, key=lambda k: (k[0], per_family[k]))[1]


def assemble(tables: list[Table], cubes: list[Cube], outcomes: list[Outcome], families: dict[str, str],
             ignored: list[tuple[str, str]], ruleset: RuleSet, cross_table: bool = True,
             localize_options: LocalizeOptions | None = None, progress: bool = False) -> AuditResult:
    """What every backend shares: structure notes, assumed instances, checks across tables, then
    suspects by localization."""
    for cube in cubes:
        own = [o for o in outcomes if o.table == cube.table.id]
        _structure_notes(cube, own)
        mark_assumed(cube, own)
    from migaudit.engine.crosstable import cross_table_outcomes
    from migaudit.engine.localization import localize

    if cross_table:
        with _step("cross-table checks", progress):
            outcomes = outcomes + cross_table_outcomes(cubes)
    from migaudit.rules.applicability import not_applied

    result = AuditResult(tables, outcomes, families, ignored)
    result.not_applied = not_applied(ruleset, outcomes, cubes)
    with _step("localizing", progress):
        localize(result, cubes, ruleset, localize_options)
    attach_split_candidates(result)
    result.warnings += limit_warnings(result)
    return result


def attach_split_candidates(result: AuditResult) -> None:
    """A finding on a row a reader split by formatting evidence alone (web text whose cell
    borders were lost: `meta["split_candidates"]`) shows the other ways the row reads."""
    by_table = {t.id: t.meta.get("split_candidates") or [] for t in result.tables}
    for v in result.violation_list:
        for u in by_table.get(v.table, []):
            if u.get("label") in v.where.values():
                others = "; ".join(" | ".join(c) for c in u.get("candidates", [])[:4])
                v.message += (f" [line {u['line']}: the page's digits were read as "
                              f"{' | '.join(u['chosen'])}; other splits: {others or 'none'}]")


def limit_warnings(result: AuditResult) -> list[str]:
    """Every limit the audit met, in words, so that no report hides a skipped step.

    (Localization has no cap: it works per component; a tie larger than its enumeration
    limit says so on its suspects, `tie_complete: false`.)
    """
    return [f"{o.rule.id} on {o.table}: {o.failed} failures counted, {len(o.violations)} itemised"
            for o in result.outcomes if o.failed > len(o.violations)]


def _step(description: str, show: bool):  # noqa: ANN202 - a context manager
    """A spinner on stderr while a step runs (only when asked: the CLI asks on a terminal)."""
    from contextlib import nullcontext

    if not show:
        return nullcontext()
    from rich.console import Console

    return Console(stderr=True).status(f"{description}…", spinner="dots")
