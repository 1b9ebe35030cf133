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

import yaml

from .errors import RuleError

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


# --- YAML -------------------------------------------------------------------------------
def _lines(node: yaml.Node, path: str = "") -> dict[str, int]:
    """YAML path → line number, so rule errors can point into the file."""
    out = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            out.update(_lines(v, f"{path}.{k.value}" if path else str(k.value)))
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            out.update(_lines(v, f"{path}[{i}]"))
    return out


def load_yaml(path: Path) -> tuple[Any, dict[str, int]]:
    """Parsed YAML and a map of paths to lines; RuleError on malformed YAML."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise RuleError(f"cannot read rule file: {e}", source=str(path)) from None
    try:
        node = yaml.compose(text)
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else None
        raise RuleError(f"malformed YAML: {getattr(e, 'problem', e)}", source=str(path), where=where) from None
    return doc, (_lines(node) if node is not None else {})


_COMMON = {"id", "kind", "description", "severity", "tolerance", "when", "only", "exclude", "along"}
_ALLOWED = {
    "identity": _COMMON | {"expr", "when_absent", "if_missing"},
    "conservation": _COMMON | {"expr", "sum_over"},
    "hierarchy": _COMMON | {"classification", "groups", "from_labels", "complete", "op"},
    "sign": _COMMON | {"integer", "measures"},
    "period_sum": _COMMON,
}


def _str_tuple(value: Any, where: str, source: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
        return tuple(str(v) for v in value)
    raise RuleError(f"expected a name or a list of names, got {value!r}", source=source, where=where)


def _cond(value: Any, where: str, source: str) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RuleError("expected a mapping of dimension to members", source=source, where=where,
                        expected="e.g. {time: [Q1, Q2, Q3]}")
    return {str(k): _str_tuple(v, f"{where}.{k}", source) for k, v in value.items()}


def parse_rule(d: Any, family: str, source: str, path: str, lines: dict[str, int]) -> Rule:
    def err(msg: str, key: str = "", expected: str | None = None) -> RuleError:
        p = f"{path}.{key}" if key else path
        line = lines.get(p) or lines.get(path)
        return RuleError(msg, source=source, where=f"line {line}: {p}" if line else p, expected=expected)

    if not isinstance(d, dict):
        raise err("a rule must be a mapping", expected="id, kind, description, severity, …")
    for key in ("id", "kind"):
        if key not in d:
            raise err(f"rule has no {key!r}", expected="id, kind, description, severity, …")
    kind = d["kind"]
    if kind not in KINDS:
        raise err(f"unknown rule kind {kind!r}", "kind", expected=" | ".join(KINDS))
    extra = set(d) - _ALLOWED[kind]
    if extra:
        raise err(f"unknown key(s) {sorted(extra)} for a {kind} rule", sorted(extra)[0],
                  expected=", ".join(sorted(_ALLOWED[kind])))
    severity = d.get("severity", "error")
    if severity not in SEVERITIES:
        raise err(f"unknown severity {severity!r}", "severity", expected=" | ".join(SEVERITIES))
    tol = d.get("tolerance", 0)
    if not isinstance(tol, (int, float)) or tol < 0:
        raise err(f"tolerance {tol!r} is not a non-negative number", "tolerance")
    kw: dict[str, Any] = dict(
        id=str(d["id"]), kind=kind, description=str(d.get("description", "")), severity=severity,
        family=family, source=source, tolerance=float(tol),
        when=_cond(d.get("when"), f"{path}.when", source),
        only=_cond(d.get("only"), f"{path}.only", source),
        exclude=_cond(d.get("exclude"), f"{path}.exclude", source),
    )
    if "along" in d:
        kw["along"] = str(d["along"])
    if kind in ("identity", "conservation"):
        if "expr" not in d:
            raise err(f"a {kind} rule needs 'expr'", expected="'lhs = rhs'")
        line = lines.get(f"{path}.expr")
        kw["lhs"], kw["rhs"] = parse_expression(d["expr"], f"line {line}: {path}.expr" if line else f"{path}.expr", source)
    if kind == "identity":
        kw["when_absent"] = _str_tuple(d.get("when_absent", []), f"{path}.when_absent", source)
        im = d.get("if_missing") or {}
        if not isinstance(im, dict) or any(v not in SEVERITIES for v in im.values()):
            raise err("if_missing maps a member to a severity", "if_missing", expected="{adjustment: info}")
        kw["if_missing"] = {str(k): str(v) for k, v in im.items()}
    if kind == "conservation":
        if "sum_over" not in d:
            raise err("a conservation rule needs 'sum_over'", expected="a dimension, e.g. region")
        kw["sum_over"] = str(d["sum_over"])
    if kind == "hierarchy":
        kw["along"] = str(d.get("along", "")) or None
        if not kw["along"]:
            raise err("a hierarchy rule needs 'along'", expected="a dimension, e.g. citizenship or region")
        sources = [k for k in ("classification", "groups", "from_labels") if d.get(k)]
        if len(sources) != 1:
            raise err("a hierarchy rule needs exactly one of classification, groups, from_labels")
        kw["classification"] = d.get("classification")
        kw["from_labels"] = bool(d.get("from_labels"))
        op = d.get("op", "==")
        if op not in ("==", ">="):
            raise err(f"unknown op {op!r}", "op", expected="== or >=")
        groups = []
        for i, g in enumerate(d.get("groups") or []):
            gp = f"groups[{i}]"
            if not isinstance(g, dict) or "parent" not in g or not isinstance(g.get("children"), list):
                raise err("a group needs a parent and a list of children", gp,
                          expected="{parent: Total, children: [A, B]}")
            complete = bool(g.get("complete", d.get("complete", True))) and op == "=="
            groups.append(Group(str(g["parent"]), _str_tuple(g["children"], f"{path}.{gp}.children", source), complete))
        kw["groups"] = tuple(groups)
        kw["op"] = op
    if kind == "sign":
        kw["integer"] = bool(d.get("integer", True))
        if "measures" in d:
            kw["only"] = {**kw["only"], "measure": _str_tuple(d["measures"], f"{path}.measures", source)}
    return Rule(**kw)


def load_rule_file(path: str | Path) -> RuleSet:
    """One rule file: `family`, `description`, `rules: [...]`."""
    p = Path(path)
    doc, lines = load_yaml(p)
    if not isinstance(doc, dict) or "rules" not in doc:
        raise RuleError("a rule file is a mapping with 'family' and 'rules'", source=str(p), where="line 1",
                        expected="family: NAME\\nrules: [...]")
    family = str(doc.get("family") or p.stem)
    rules = doc["rules"]
    if not isinstance(rules, list):
        raise RuleError("'rules' must be a list", source=str(p), where=f"line {lines.get('rules', 1)}: rules")
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
            raise RuleError(f"duplicate rule id {r.id!r}", source=str(p), where=f"line {lines.get(f'rules[{i}]')}: rules[{i}].id")
        seen.add(r.id)
    return RuleSet(parsed, {family: str(doc.get("description", ""))})


def default_rules_dir() -> Path:
    """The rule files shipped with migaudit (see `resources.rules_dir`)."""
    from .resources import rules_dir

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


@lru_cache(maxsize=8)
def _load_dir(path: str) -> RuleSet:
    out = RuleSet()
    for f in sorted(Path(path).glob("*.yaml")):
        out = out.add(load_rule_file(f))
    return out
