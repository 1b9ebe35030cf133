"""Rules as data: the invariants SSB tables must satisfy, read from `expectations/*.yaml`.

A rule says *what* must hold, in SSB's vocabulary (canonical measures, classification
groups, periods); the engine decides *how* to evaluate it on a cube, and the pandera and
Great Expectations exporters translate the same rules for other pipelines.

Kinds:
  identity      lhs = rhs, a linear combination of members of one dimension (measures by
                default); `x[t-1]` refers to the previous period (time links).
  hierarchy     parent = Σ children along a dimension; groups from a classification, from
                inline YAML, or "total = all other members" from the labels alone.
  conservation  an identity between sums over all leaves of a dimension
                (Σ domestic in-migration = Σ domestic out-migration over regions).
  sign          counts are non-negative integers (net figures may be negative).
  period_sum    a year's flow = the sum of its quarters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from migaudit.errors import RuleError
from migaudit.model.table import _ROLE_WORDS as ROLE_WORDS
from migaudit.rules.yamlload import Place, closest, read_yaml

SEVERITIES = ("error", "warning", "info")
KINDS = ("identity", "hierarchy", "conservation", "sign", "period_sum")


@dataclass(frozen=True)
class Term:
    """`coef × member`, at period t (lag 0) or t-1 (lag 1)."""

    coef: float
    member: str
    lag: int = 0

    def __str__(self) -> str:
        c = "" if abs(self.coef) == 1 else f"{abs(self.coef):g}*"
        lag = "[t-1]" if self.lag else ""
        name = self.member if re.fullmatch(r"[A-Za-z_\d][\w.]*", self.member) else f"'{self.member}'"
        return f"{c}{name}{lag}"


@dataclass(frozen=True)
class Group:
    """parent = Σ children (complete) or parent ≥ Σ children (only some children shown)."""

    parent: str
    children: tuple[str, ...]
    complete: bool = True


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    description: str = ""
    severity: str = "error"
    family: str = ""
    source: str = ""
    #: False for rules of a file that applies to every kind of table (`names_tables: false`):
    #: they check a table but do not say what it is, so they never name its family
    names_table: bool = True
    #: the dimension (role or name) whose members the rule names
    along: str = "measure"
    tolerance: float = 0.0
    #: conditions on other dimensions, e.g. {"time": ("Q1", "Q2", "Q3")}
    when: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: apply only to / never to these members of other dimensions, e.g. {"measure": (...)}
    only: dict[str, tuple[str, ...]] = field(default_factory=dict)
    exclude: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # identity / conservation
    lhs: tuple[Term, ...] = ()
    rhs: tuple[Term, ...] = ()
    #: the rule applies only to tables that lack these members
    when_absent: tuple[str, ...] = ()
    #: a member that may be unpublished: treat as 0 and report at this severity instead
    if_missing: dict[str, str] = field(default_factory=dict)
    #: conservation: the dimension summed over (its leaves: every member but totals)
    sum_over: str | None = None
    # hierarchy
    classification: str | None = None
    groups: tuple[Group, ...] = ()
    from_labels: bool = False
    #: "==" (parent = Σ children) or ">=" (the table shows only some children)
    op: str = "=="
    # sign
    integer: bool = True

    @property
    def members(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.member for t in (*self.lhs, *self.rhs)))

    @property
    def expression(self) -> str:
        if self.kind not in ("identity", "conservation"):
            return ""

        def side(terms: tuple[Term, ...]) -> str:
            out = ""
            for i, t in enumerate(terms):
                sign = "-" if t.coef < 0 else "+"
                out += (f" {sign} " if i else ("-" if t.coef < 0 else "")) + str(t)
            return out

        return f"{side(self.lhs)} = {side(self.rhs)}"


@dataclass
class RuleSet:
    """Rules from one or more YAML files; a later rule with the same id replaces the earlier."""

    rules: list[Rule] = field(default_factory=list)
    families: dict[str, str] = field(default_factory=dict)

    def add(self, other: RuleSet) -> RuleSet:
        by_id = {r.id: r for r in self.rules}
        for r in other.rules:
            by_id[r.id] = r
        return RuleSet(list(by_id.values()), {**self.families, **other.families})

    def __iter__(self):
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def get(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)


# --- expressions ------------------------------------------------------------------------
_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?)\s*\*\s*)?(?P<name>[A-Za-z_\d][\w.]*|'[^']+'|\"[^\"]+\")(?P<lag>\[t-1\]|\[t\])?\s*"
)


def parse_side(text: str, where: str, source: str) -> tuple[Term, ...]:
    """`a - 2*b + c[t-1]` → terms; RuleError naming the place on anything else."""
    terms: list[Term] = []
    pos, sign = 0, 1.0
    text = text.replace("\u2212", "-")
    s = text.strip()
    if s.startswith("-"):
        sign, pos = -1.0, text.index("-") + 1
    while True:
        m = _TOKEN.match(text, pos)
        if not m or not m.group("name"):
            raise RuleError(f"cannot read {text[pos:].strip()!r} in {text!r}", source=source, where=where,
                            expected="names joined by + and -, e.g. 'births - deaths'")
        name = m.group("name").strip("'\"")
        coef = float(m.group("num")) if m.group("num") else 1.0
        terms.append(Term(sign * coef, name, 1 if m.group("lag") == "[t-1]" else 0))
        pos = m.end()
        if pos >= len(text):
            return tuple(terms)
        op = text[pos]
        if op not in "+-":
            raise RuleError(f"unexpected {text[pos:].strip()!r} in {text!r}", source=source, where=where,
                            expected="+ or -")
        sign = 1.0 if op == "+" else -1.0
        pos += 1


def parse_expression(text: str, where: str, source: str) -> tuple[tuple[Term, ...], tuple[Term, ...]]:
    bare = re.sub(r"'[^']*'|\"[^\"]*\"", lambda m: "_" * len(m.group()), text) if isinstance(text, str) else ""
    if bare.count("=") != 1:
        raise RuleError(f"expression {text!r} needs exactly one '='", source=source, where=where,
                        expected="'lhs = rhs', e.g. 'excess_of_births = births - deaths'")
    cut = bare.index("=")
    left, right = text[:cut], text[cut + 1:]
    return parse_side(left, where, source), parse_side(right, where, source)


# --- YAML ----------------------------------------------------------------------------
def load_yaml(path: Path) -> tuple[Any, dict[str, int]]:
    """Parsed YAML and a map of paths to lines; RuleError on malformed YAML, aliases or deep nesting."""
    return read_yaml(path, "rule file")


_COMMON = {"id", "kind", "description", "severity", "tolerance", "when", "only", "exclude", "along"}
_ALLOWED = {
    "identity": _COMMON | {"expr", "when_absent", "if_missing"},
    "conservation": _COMMON | {"expr", "sum_over"},
    "hierarchy": _COMMON | {"classification", "groups", "from_labels", "complete", "op"},
    "sign": _COMMON | {"integer", "measures"},
    "period_sum": _COMMON,
}
_FILE_KEYS = ("family", "description", "names_tables", "rules")
_GROUP_KEYS = ("parent", "children", "complete")

#: dimension names and roles rules may name; others are a table's own dimensions, unless they
#: are a near-miss of one of these (`regoin`), which is a typo that would never apply
KNOWN_DIMENSIONS = frozenset({
    "measure", "time", "region", "citizenship", "sex", "age", "contents", "year", "quarter", "month",
    "period", "row", "column", "label", "county", "municipality", "country", "nationality",
    *(w for words in ROLE_WORDS.values() for w in words),  # SSB's own names: ContentsCode, Tid, Kjonn
})
#: words a `when` condition on time may test (see `Period.tags`)
TIME_TAGS = frozenset({"year", "quarter", "month", *(f"Q{i}" for i in range(1, 5)),
                       *(f"M{i:02d}" for i in range(1, 13))})


def _measure_names() -> tuple[set[str], Any]:
    from migaudit.knowledge.measures import canonical_measure, measures

    return set(measures()), canonical_measure


def _check_measure(name: str, place: Place) -> None:
    """RuleError for a near-miss of a known measure (`net_migraton`): such a rule would never apply.

    A name far from every known measure is a table's own measure code (`suggest` writes those
    for tables it has no names for); a rule that then applies to no table at all is a warning
    in the audit result (`runner.run_audit`).
    """
    if name == "@total":
        return
    known, canonical = _measure_names()
    base = name.split("{", 1)[0].strip()
    if base in known or canonical(base) is not None or canonical(name) is not None:
        return
    import difflib

    near = difflib.get_close_matches(base, known, n=1, cutoff=0.75)
    if near:
        raise place.error(f"unknown measure {name!r} (did you mean {near[0]!r}?)",
                          "a canonical measure of src/migaudit/data/measures.yaml or one of its aliases")


def _check_dimension(value: Any, place: Place, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise place.error(f"{what} must be a dimension name or role, got {value!r}",
                          "e.g. " + ", ".join(sorted(KNOWN_DIMENSIONS)[:6]))
    if value.lower() not in KNOWN_DIMENSIONS:
        import difflib

        near = difflib.get_close_matches(value.lower(), KNOWN_DIMENSIONS, n=1, cutoff=0.75)
        if near and near[0] != value.lower():
            raise place.error(f"unknown dimension {value!r} (did you mean {near[0]!r}?)",
                              "a dimension role or name: " + ", ".join(sorted(KNOWN_DIMENSIONS)))
    return value


def _cond(value: Any, place: Place, key: str) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise place.error(f"{key} must map a dimension to members, got {value!r}", "e.g. {time: [Q1, Q2, Q3]}")
    out: dict[str, tuple[str, ...]] = {}
    for dim, members in value.items():
        sub = place / str(dim)
        name = _check_dimension(dim, sub, f"a {key} key")
        names = sub.names(members, f"{key}.{name}")
        if not names:
            raise sub.error(f"{key}.{name} lists no members", "one or more members")
        if name in ("measure", "contents"):
            for i, m in enumerate(names):
                _check_measure(m, sub / i if isinstance(members, list) else sub)
        if name == "time" and key == "when":
            for i, m in enumerate(names):
                if m not in TIME_TAGS and not re.fullmatch(r"(?:18|19|20)\d\d", m):
                    spot = sub / i if isinstance(members, list) else sub
                    raise spot.error(f"unknown period condition {m!r}{closest(m, TIME_TAGS)}",
                                     "Q1-Q4, M01-M12, year, quarter, month or a year like 2011")
        out[name] = names
    return out


def _check_cycles(groups: list[Group], place: Place) -> None:
    """A hierarchy whose groups form a cycle (A ⊃ B ⊃ A) can never hold: a rule error, not data errors."""
    children = {}
    for g in groups:
        children.setdefault(g.parent, set()).update(g.children)
    for i, g in enumerate(groups):
        if g.parent in g.children:
            raise (place / i).error(f"group {g.parent!r} lists itself as a child", "a parent and its parts")
    state: dict[str, int] = {}
    for root in children:
        stack = [(root, iter(sorted(children.get(root, ()))))]
        path = [root]
        if state.get(root):
            continue
        state[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                path.pop()
                continue
            if state.get(nxt) == 1:
                cycle = " > ".join([*path[path.index(nxt):], nxt])
                raise place.error(f"the groups form a cycle: {cycle}", "a hierarchy without cycles")
            if not state.get(nxt):
                state[nxt] = 1
                stack.append((nxt, iter(sorted(children.get(nxt, ())))))
                path.append(nxt)


def parse_rule(d: Any, family: str, source: str, path: str, lines: dict[str, int]) -> Rule:
    """One rule mapping, every key known and every type checked; RuleError with file, line and path."""
    place = Place(source, lines, path)
    if not isinstance(d, dict):
        raise place.error("a rule must be a mapping", "id, kind, description, severity, …")
    for key in ("id", "kind"):
        if key not in d:
            raise place.error(f"rule has no {key!r}", "id, kind, description, severity, …")
    kind = d["kind"]
    if kind not in KINDS:
        raise (place / "kind").error(f"unknown rule kind {kind!r}{closest(kind, KINDS)}", " | ".join(KINDS))
    place.keys(d, _ALLOWED[kind], f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} rule")
    severity = d.get("severity", "error")
    if severity not in SEVERITIES:
        raise (place / "severity").error(f"unknown severity {severity!r}{closest(severity, SEVERITIES)}",
                                         " | ".join(SEVERITIES))
    description = d.get("description", "")
    if description is not None and not isinstance(description, str):
        raise (place / "description").error(f"description must be text, got {description!r}", "text")
    kw: dict[str, Any] = dict(
        id=(place / "id").string(d["id"], "id"), kind=kind, description=description or "", severity=severity,
        family=family, source=source, tolerance=(place / "tolerance").number(d.get("tolerance", 0), "tolerance"),
        when=_cond(d.get("when"), place / "when", "when"),
        only=_cond(d.get("only"), place / "only", "only"),
        exclude=_cond(d.get("exclude"), place / "exclude", "exclude"),
    )
    if "along" in d:
        kw["along"] = _check_dimension(d["along"], place / "along", "along")
    along_measure = kw.get("along", "measure") in ("measure", "contents")
    if kind in ("identity", "conservation"):
        if "expr" not in d:
            raise place.error(f"a {kind} rule needs 'expr'", "'lhs = rhs'")
        expr = place / "expr"
        if not isinstance(d["expr"], str):
            raise expr.error(f"expr must be text, got {d['expr']!r}", "'lhs = rhs', e.g. 'excess_of_births = births - deaths'")
        kw["lhs"], kw["rhs"] = parse_expression(d["expr"], expr.where, source)
        if along_measure:
            for t in (*kw["lhs"], *kw["rhs"]):
                _check_measure(t.member, expr)
    if kind == "identity":
        kw["when_absent"] = (place / "when_absent").names(d.get("when_absent") or [], "when_absent")
        im = d.get("if_missing") or {}
        if not isinstance(im, dict):
            raise (place / "if_missing").error("if_missing maps a member to a severity", "{adjustment: info}")
        for k, v in im.items():
            if v not in SEVERITIES:
                raise (place / "if_missing" / str(k)).error(f"if_missing.{k} is {v!r}, not a severity",
                                                             " | ".join(SEVERITIES))
        kw["if_missing"] = {str(k): str(v) for k, v in im.items()}
        if along_measure:
            for i, m in enumerate(kw["when_absent"]):
                _check_measure(m, place / "when_absent" / i)
            for m in kw["if_missing"]:
                _check_measure(m, place / "if_missing" / m)
            members = {t.member for t in (*kw["lhs"], *kw["rhs"])}
            for m in kw["if_missing"]:
                if m not in members:
                    raise (place / "if_missing" / m).error(f"if_missing names {m!r}, which is not in expr",
                                                           "a member of the expression")
    if kind == "conservation":
        if "sum_over" not in d:
            raise place.error("a conservation rule needs 'sum_over'", "a dimension, e.g. region")
        kw["sum_over"] = _check_dimension(d["sum_over"], place / "sum_over", "sum_over")
    if kind == "hierarchy":
        if "along" not in d:
            raise place.error("a hierarchy rule needs 'along'", "a dimension, e.g. citizenship or region")
        present = [k for k in ("classification", "groups", "from_labels") if k in d]
        if len(present) != 1:
            raise place.error("a hierarchy rule needs exactly one of classification, groups, from_labels"
                              + (f" (it has {', '.join(present)})" if present else ""))
        if "from_labels" in d and not (place / "from_labels").boolean(d["from_labels"], "from_labels"):
            raise (place / "from_labels").error("from_labels: false leaves the hierarchy without groups",
                                                "from_labels: true, or classification or groups")
        kw["from_labels"] = bool(d.get("from_labels"))
        if "classification" in d:
            kw["classification"] = _check_classification(d["classification"], place / "classification")
        op = d.get("op", "==")
        if op not in ("==", ">="):
            raise (place / "op").error(f"unknown op {op!r}", "== or >=")
        complete_all = (place / "complete").boolean(d.get("complete", True), "complete")
        groups = []
        raw = d.get("groups")
        if "groups" in d and (not isinstance(raw, list) or not raw):
            raise (place / "groups").error("groups must be a non-empty list", "[{parent: Total, children: [A, B]}]")
        for i, g in enumerate(raw or []):
            gp = place / "groups" / i
            if not isinstance(g, dict) or "parent" not in g or not isinstance(g.get("children"), list) or not g["children"]:
                raise gp.error("a group needs a parent and a list of children", "{parent: Total, children: [A, B]}")
            gp.keys(g, _GROUP_KEYS, "a group")
            complete = (gp / "complete").boolean(g.get("complete", complete_all), "complete") and op == "=="
            children = (gp / "children").names(g["children"], "children")
            if len(set(children)) != len(children):
                dup = next(c for c in children if children.count(c) > 1)
                raise (gp / "children").error(f"child {dup!r} listed twice", "each child once")
            parent = (gp / "parent").string(g["parent"], "parent")
            if along_measure:
                for m in (parent, *children):
                    _check_measure(m, gp)
            groups.append(Group(parent, children, complete))
        _check_cycles(groups, place / "groups")
        kw["groups"] = tuple(groups)
        kw["op"] = op
    if kind == "sign":
        kw["integer"] = (place / "integer").boolean(d.get("integer", True), "integer")
        if "measures" in d:
            ms = (place / "measures").names(d["measures"], "measures")
            for i, m in enumerate(ms):
                _check_measure(m, place / "measures" / i)
            kw["only"] = {**kw["only"], "measure": ms}
    return Rule(**kw)


def _check_classification(value: Any, place: Place) -> str:
    """`auto`, a shipped classification, or a YAML file; RuleError naming the closest otherwise."""
    from migaudit.knowledge.classification import classification_names

    name = place.string(value, "classification")
    if name == "auto" or name in classification_names():
        return name
    if Path(name).suffix in (".yaml", ".yml") and Path(name).is_file():
        return name
    raise place.error(f"unknown classification {name!r}{closest(name, ['auto', *classification_names()])}",
                      "auto, " + ", ".join(classification_names()) + " or a path to a classification YAML file")


def load_rule_file(path: str | Path) -> RuleSet:
    """One rule file: `family`, `description`, `rules: [...]`."""
    p = Path(path)
    doc, lines = load_yaml(p)
    place = Place(str(p), lines)
    if not isinstance(doc, dict) or "rules" not in doc:
        raise RuleError("a rule file is a mapping with 'family' and 'rules'", source=str(p), where="line 1",
                        expected="family: NAME and rules: [...]")
    place.keys(doc, _FILE_KEYS, "a rule file")
    family = (place / "family").string(doc["family"], "family") if doc.get("family") is not None else p.stem
    description = doc.get("description") or ""
    if not isinstance(description, str):
        raise (place / "description").error(f"description must be text, got {description!r}", "text")
    rules = doc["rules"]
    if not isinstance(rules, list):
        raise (place / "rules").error("'rules' must be a list", "rules: [- id: ..., kind: ...]")
    parsed = [parse_rule(r, family, str(p), f"rules[{i}]", lines) for i, r in enumerate(rules)]
    names_tables = doc.get("names_tables", True)
    if not isinstance(names_tables, bool):
        raise RuleError("'names_tables' must be true or false", source=str(p),
                        where=f"line {lines.get('names_tables', 1)}: names_tables", expected="true or false")
    if not names_tables:
        parsed = [replace(r, names_table=False) for r in parsed]
    seen: set[str] = set()
    for i, r in enumerate(parsed):
        if r.id in seen:
            raise (place / "rules" / i / "id").error(f"duplicate rule id {r.id!r}", "each id once in a file")
        seen.add(r.id)
    return RuleSet(parsed, {family: description})


def default_rules_dir() -> Path:
    """The rule files shipped with migaudit (see `resources.rules_dir`)."""
    from migaudit.resources import rules_dir

    return rules_dir()


def load_rules(*paths: str | Path, defaults: bool = True) -> RuleSet:
    """The default rules, then each extra file or folder of YAML files, later ids overriding."""
    out = _load_dir(str(default_rules_dir())) if defaults else RuleSet()
    for path in paths:
        p = Path(path)
        if p.is_dir():
            out = out.add(_load_dir(str(p)))
        elif p.is_file():
            out = out.add(load_rule_file(p))
        else:
            raise RuleError("no such rule file or folder", source=str(p))
    return out


def rule_files(folder: Path) -> list[Path]:
    """The rule files of a folder: `*.yaml` and `*.yml`, sorted; RuleError when there are none."""
    files = sorted(f for f in folder.iterdir() if f.suffix.lower() in (".yaml", ".yml") and f.is_file()
                   and not f.name.startswith(".") and f.name != "migaudit.yaml")  # a release's config
    if not files:
        raise RuleError("no rule file (*.yaml, *.yml) in this folder", source=str(folder),
                        expected="rule files with family and rules")
    return files


@lru_cache(maxsize=8)
def _load_dir(path: str) -> RuleSet:
    out = RuleSet()
    for f in rule_files(Path(path)):
        out = out.add(load_rule_file(f))
    return out
