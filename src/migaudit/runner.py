"""The audit runner: confronting a release with a rule set, `audit(tables_or_paths, rules)`.

Collects the tables (files, folders, or `Table`s), views each as a `Cube`, evaluates every
rule that applies to it, and names each table's family after the rule file that applies
most. Cross-table checks and localization run on the same cubes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from .cube import Cube
from .engine import Outcome, evaluate
from .errors import ReadError
from .result import AuditResult
from .rules import Rule, RuleSet, load_rules
from .table import Table

#: files in a release folder that are documentation, not tables
_NOT_TABLES = {".md", ".yaml", ".yml", ".py", ".html", ".png", ".jpg", ".pdf"}


def collect(items: Iterable[Table | str | Path]) -> tuple[list[Table], list[tuple[str, str]]]:
    """Tables from Tables, files and folders; files in folders that hold no table are listed."""
    from .readers import read

    tables: list[Table] = []
    ignored: list[tuple[str, str]] = []
    for item in items:
        if isinstance(item, Table):
            tables.append(item)
            continue
        p = Path(item)
        if p.is_dir():
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


def release_config(folder: Path) -> dict:
    """`migaudit.yaml` of a release folder: files, extra rules, families; {} when absent."""
    import yaml

    from .errors import RuleError

    f = folder / "migaudit.yaml"
    if not f.is_file():
        return {}
    try:
        doc = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise RuleError(f"malformed YAML: {getattr(e, 'problem', e)}", source=str(f),
                        where=f"line {mark.line + 1}" if mark else None) from None
    if not isinstance(doc, dict) or set(doc) - {"files", "rules", "families", "accept"}:
        raise RuleError("migaudit.yaml takes files, rules, families and accept", source=str(f),
                        expected="files: [...], rules: [...], families: {table: family}, accept: [...]")
    for i, a in enumerate(doc.get("accept") or []):
        if not isinstance(a, dict) or not {"rule", "table", "reason"} <= set(a) or not isinstance(a.get("where", {}), dict):
            raise RuleError("an accepted finding needs rule, table, where and reason", source=str(f),
                            where=f"accept[{i}]", expected="{rule: ID, table: ID, where: {dim: label}, reason: TEXT}")
    return doc


def apply_accepted(result: AuditResult, accepted: list[dict]) -> None:
    """Known findings, acknowledged with a reason, are reported as info instead of failing CI."""
    for v in result.violation_list:
        for a in accepted:
            if (v.rule == a["rule"] and v.table == str(a["table"])
                    and all(v.where.get(k) == str(val) for k, val in (a.get("where") or {}).items())):
                v.message = f"accepted: {a['reason']} ({v.message})"
                v.severity = "info"


def run_audit(paths: list[Path], rule_paths: list[Path], backend: str = "native",
              cross_table: bool = True, progress: bool = False, engine: str = "dense",
              spark_master: str | None = None) -> AuditResult:
    """What `migaudit audit` does: release configs, extra rules, the chosen backend or engine."""
    extra = list(rule_paths)
    items: list[Path | str] = []
    families: dict[str, str] = {}
    accepted: list[dict] = []
    for p in paths:
        cfg = release_config(p) if p.is_dir() else {}
        extra += [p / r for r in cfg.get("rules", [])]
        accepted += cfg.get("accept") or []
        families.update(cfg.get("families", {}))
        if cfg.get("files"):
            items += [p / f for f in cfg["files"]]
        else:
            items.append(p)
    ruleset = load_rules(*extra)
    if engine == "spark":
        from .spark_engine import audit_with as spark_audit

        result = spark_audit(items, ruleset, cross_table=cross_table, master=spark_master)
    elif backend == "native":
        result = audit(items, ruleset, cross_table=cross_table, progress=progress)
    else:
        from importlib import import_module

        module = import_module(f"migaudit.{backend}")
        result = module.audit_with(items, ruleset, cross_table=cross_table)
    result.families.update(families)
    apply_accepted(result, accepted)
    return result


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
    from .rules import parse_side

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


def _progress(cubes: list[Cube], show: bool) -> Iterable[Cube]:
    if not show or sum(c.values.size for c in cubes) < 1_000_000:
        return cubes
    from rich.progress import track

    return track(cubes, description="auditing", transient=True)


def audit(
    tables_or_paths: Iterable[Table | str | Path] | Table | str | Path,
    rules: RuleSet | str | Path | None = None,
    cross_table: bool = True,
    progress: bool = False,
) -> AuditResult:
    """Check every rule on every table it applies to (and across tables); never raises on findings."""
    if isinstance(tables_or_paths, (Table, str, Path)):
        tables_or_paths = [tables_or_paths]
    tables, ignored = collect(tables_or_paths)
    if rules is None:
        ruleset = load_rules()
    elif isinstance(rules, RuleSet):
        ruleset = rules
    else:
        ruleset = load_rules(rules)
    cubes = [Cube.of(t) for t in tables]
    outcomes: list[Outcome] = []
    families: dict[str, str] = {}
    for cube in _progress(cubes, progress):
        outs = [out for rule in [*ruleset, *derived_rules(cube)] if (out := evaluate(rule, cube)) is not None]
        outcomes += outs
        if family := family_of(outs):
            families[cube.table.id] = family
    return assemble(tables, cubes, outcomes, families, ignored, ruleset, cross_table)


def family_of(outcomes: list[Outcome], skip: tuple[str, ...] = ()) -> str | None:
    """The rule family that checked most of a table (the rule file that fits it best)."""
    per_family: Counter[str] = Counter()
    for out in outcomes:
        if out.rule.family not in skip:
            per_family[out.rule.family] += out.checked + out.skipped
    return per_family.most_common(1)[0][0] if per_family else None


def assemble(tables: list[Table], cubes: list[Cube], outcomes: list[Outcome], families: dict[str, str],
             ignored: list[tuple[str, str]], ruleset: RuleSet, cross_table: bool = True) -> AuditResult:
    """The checks every backend shares: across tables, then suspects by localization."""
    from .crosstable import cross_table_outcomes
    from .localization import localize

    if cross_table:
        outcomes = outcomes + cross_table_outcomes(cubes)
    result = AuditResult(tables, outcomes, families, ignored)
    localize(result, cubes, ruleset)
    return result
