"""SSB classifications (regions, citizenship) as dated data, and label normalisation.

SSB's hierarchies (whole country → counties → municipalities; total → Norway + foreign →
continents → countries) change over time and are printed under many labels. They live as
YAML in ``data/classifications/`` so that a user can add one in a few lines; this module
loads them, resolves published labels to codes and projects the groups onto what a table
actually shows. `normalize_label` is shared with `migaudit.knowledge.measures`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from migaudit.errors import RuleError

_SUPERSCRIPTS = "\u00b9\u00b2\u00b3\u2070\u2071\u2074\u2075\u2076\u2077\u2078\u2079\u207a\u207b\u207c\u207d\u207e"
_MARKERS = re.compile(f"[{_SUPERSCRIPTS}]")
_DASHES = re.compile("[\u2010\u2011\u2012\u2013\u2014\u2015\u2212]")
_SPACES = re.compile(r"\s+")
_HYPHEN_GAP = re.compile(r"(?<=\w)- +(?=[A-ZÆØÅÄÖÜ])")
_COMMA_TOTAL = re.compile(r",\s*(total|i alt)$", re.IGNORECASE)
_TRAILING_MARKER = re.compile(r"^(.*\D)\s+\d{1,2}(?:\s*,?\s*\d{1,2})*$")


def _basic(text: str) -> str:
    t = unicodedata.normalize("NFC", str(text))
    t = _MARKERS.sub(" ", t)
    t = _DASHES.sub("-", t)
    t = _SPACES.sub(" ", t).strip()
    t = _HYPHEN_GAP.sub("-", t)
    t = _COMMA_TOTAL.sub(r" \1", t)
    return t


def normalize_label(text: str, known: Container[str] | None = None) -> str:
    """A published label in the form used for matching, so that SSB's variants meet.

    Strips footnote markers (superscripts such as ``¹``), collapses whitespace, unifies
    dashes, joins ``Bosnia- Herzegovina`` and treats ``North America, total`` as
    ``North America total``. A trailing plain-digit marker (``Serbia 1``) is stripped only
    when ``known`` (casefolded normalised labels) holds the bare label but not the full one,
    so that real labels ending in digits survive. Case is kept; compare with ``casefold()``.
    """
    t = _basic(text)
    if known is not None and t.casefold() not in known:
        m = _TRAILING_MARKER.match(t)
        if m:
            bare = m.group(1).strip()
            if bare.casefold() in known:
                return bare
    return t


def label_key(text: str, known: Container[str] | None = None) -> str:
    """The case-insensitive lookup key of a label (`normalize_label`, casefolded)."""
    return normalize_label(text, known).casefold()


# --- classifications ------------------------------------------------------------------------

ROLES = ("region", "citizenship", "age", "sex")
_OPEN_FROM = -(10**9)
_OPEN_TO = 10**9


@dataclass(frozen=True)
class Item:
    """One category: a code, its labels and the other names SSB publishes it under."""

    code: str
    label_en: str
    label_no: str = ""
    aliases: tuple[str, ...] = ()
    level: int | None = None
    valid_from: int | None = None
    valid_to: int | None = None

    def covers(self, lo: int, hi: int) -> bool:
        return (self.valid_from or _OPEN_FROM) <= hi and (self.valid_to or _OPEN_TO) >= lo


@dataclass(frozen=True)
class Group:
    """parent = Σ children (complete) or parent ≥ Σ children (complete=False).

    ``residual`` names the "The rest of …" child that absorbs unlisted members, so a table
    that shows it is complete even when it lists fewer countries than the classification.
    """

    parent: str
    children: tuple[str, ...]
    complete: bool = True
    residual: str | None = None


@dataclass(frozen=True)
class MunicipalityRule:
    """Municipality codes by rule: a code of `digits` digits lies in its prefix county."""

    digits: int = 4
    county_digits: int = 2
    discontinued: dict[str, str] = field(default_factory=dict)
    klass: int | None = None


@dataclass(frozen=True)
class Version:
    """The categories and groups of a classification during [valid_from, valid_to]."""

    valid_from: int | None
    valid_to: int | None
    items: dict[str, Item]
    groups: tuple[Group, ...]
    index: dict[str, str]
    parents: dict[str, str]
    municipalities: MunicipalityRule | None = None

    def covers(self, year: int) -> bool:
        return (self.valid_from or _OPEN_FROM) <= year <= (self.valid_to or _OPEN_TO)


@dataclass(frozen=True)
class MatchResult:
    """How well a classification fits a table's labels: resolved codes and the leftovers."""

    classification: str
    year: int | None
    resolved: dict[str, str]
    unresolved: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.resolved)

    @property
    def share(self) -> float:
        n = len(self.resolved) + len(self.unresolved)
        return len(self.resolved) / n if n else 0.0

    @property
    def ok(self) -> bool:
        return not self.unresolved


def _year(year: int | str | None) -> int | None:
    """Years as ints; a period such as ``2016K3`` or ``2016M05`` counts as its year."""
    if year is None or isinstance(year, int):
        return year
    m = re.match(r"\s*(\d{4})", str(year))
    if not m:
        raise ValueError(f"not a year or period: {year!r}")
    return int(m.group(1))


@dataclass(frozen=True)
class Classification:
    """A dated SSB classification for one dimension role, loaded from YAML."""

    name: str
    role: str
    versions: tuple[Version, ...]
    description: str = ""
    source: str = ""
    klass: Any = None

    # --- versions ---------------------------------------------------------------------------
    @property
    def valid_from(self) -> int | None:
        starts = [v.valid_from for v in self.versions]
        return None if None in starts else min(s for s in starts if s is not None)

    @property
    def valid_to(self) -> int | None:
        ends = [v.valid_to for v in self.versions]
        return None if None in ends else max(e for e in ends if e is not None)

    def covers(self, year: int | str | None) -> bool:
        """Whether some version is valid in `year` (always, for year None)."""
        y = _year(year)
        return y is None or any(v.covers(y) for v in self.versions)

    def version(self, year: int | str | None = None) -> Version | None:
        """The version valid in `year`; the newest one for year None."""
        y = _year(year)
        if y is None:
            return max(self.versions, key=lambda v: v.valid_from or _OPEN_FROM)
        return next((v for v in self.versions if v.covers(y)), None)

    def _candidates(self, year: int | str | None) -> list[Version]:
        if _year(year) is None:
            return sorted(self.versions, key=lambda v: -(v.valid_from or _OPEN_FROM))
        v = self.version(year)
        return [v] if v else []

    # --- lookup ---------------------------------------------------------------------------
    def resolve(self, label_or_code: str, year: int | str | None = None) -> str | None:
        """The canonical code of a published label or code, None when it is not in here.

        Aliases, case, whitespace and footnote markers do not matter. Without a year the
        newest version that knows the label wins.
        """
        for v in self._candidates(year):
            code = v.index.get(label_key(label_or_code, v.index))
            if code is not None:
                return code
            muni = _municipality(v, str(label_or_code).strip())
            if muni is not None:
                return muni
        return None

    def item(self, code: str, year: int | str | None = None) -> Item | None:
        """The item of a code (municipalities get a synthetic item)."""
        for v in self._candidates(year):
            if code in v.items:
                return v.items[code]
            if _municipality(v, code) is not None:
                rule = v.municipalities
                assert rule is not None
                return Item(code, rule.discontinued.get(code, code), level=3)
        return None

    def label(self, code: str, lang: str = "en", year: int | str | None = None) -> str:
        """The label of a code in English (`en`) or Norwegian (`no`); the code if unknown."""
        it = self.item(code, year)
        if it is None:
            return code
        return (it.label_no or it.label_en) if lang in ("no", "nb", "nn") else it.label_en

    def codes(self, year: int | str | None = None) -> tuple[str, ...]:
        """All item codes of the version valid in `year` (municipalities not listed)."""
        v = self.version(year)
        return tuple(v.items) if v else ()

    def parent(self, code: str, year: int | str | None = None) -> str | None:
        """The parent code (a municipality's county by rule), None for a root."""
        for v in self._candidates(year):
            if code in v.parents:
                return v.parents[code]
            if _municipality(v, code) is not None:
                assert v.municipalities is not None
                return code[: v.municipalities.county_digits]
        return None

    def children(self, code: str, year: int | str | None = None) -> tuple[str, ...]:
        """Direct children of a code over all its groups in the version valid in `year`."""
        v = self.version(year)
        if v is None:
            return ()
        out: list[str] = []
        for g in v.groups:
            if g.parent == code:
                out.extend(c for c in g.children if c not in out)
        return tuple(out)

    def level(self, code: str, year: int | str | None = None) -> int | None:
        """Declared level of a code, else its depth below the root."""
        it = self.item(code, year)
        if it is None:
            return None
        if it.level is not None:
            return it.level
        depth, seen = 0, {code}
        p = self.parent(code, year)
        while p is not None and p not in seen:
            depth, seen = depth + 1, seen | {p}
            p = self.parent(p, year)
        return depth

    # --- structure ------------------------------------------------------------------------
    def hierarchy(self, year: int | str | None = None, present: Iterable[str] | None = None) -> list[Group]:
        """The groups valid in `year`: parent = Σ children, or ≥ when not complete.

        With ``present`` (the codes a table shows), the tree is projected onto them: absent
        intermediate levels are replaced by their present descendants, and a group stays
        complete only if nothing it needs is missing (or its "The rest of …" row is shown).
        Municipality codes in ``present`` add county ⊇ municipalities groups.
        """
        v = self.version(year)
        if v is None:
            return []
        groups = list(v.groups)
        if present is None:
            return groups
        shown = set(present)
        rule = v.municipalities
        if rule is not None:
            by_county: dict[str, list[str]] = {}
            for c in sorted(shown):
                if _municipality(v, c) is not None:
                    by_county.setdefault(c[: rule.county_digits], []).append(c)
            groups += [Group(k, tuple(m), False) for k, m in by_county.items()]
        by_parent: dict[str, list[Group]] = {}
        for g in groups:
            by_parent.setdefault(g.parent, []).append(g)

        def expand_group(g: Group, seen: frozenset[str]) -> tuple[list[str], bool]:
            kids: list[str] = []
            missing = False
            for c in g.children:
                if c in shown:
                    kids.append(c)
                    continue
                sub, ok = expand_code(c, seen)
                kids.extend(k for k in sub if k not in kids)
                missing = missing or not ok
            residual_shown = g.residual is not None and g.residual in shown
            return kids, g.complete and (not missing or residual_shown)

        def expand_code(code: str, seen: frozenset[str]) -> tuple[list[str], bool]:
            if code in seen or code not in by_parent:
                return [], False
            options = [expand_group(g, seen | {code}) for g in by_parent[code]]
            return max(options, key=lambda o: (o[1], len(o[0])))

        out: list[Group] = []
        for g in groups:
            if g.parent not in shown:
                continue
            kids, ok = expand_group(g, frozenset({g.parent}))
            if kids:
                residual = g.residual if g.residual in shown else None
                out.append(Group(g.parent, tuple(kids), ok, residual))
        return out

    def match(self, labels: Iterable[str], year: int | str | None = None) -> MatchResult:
        """Which table labels resolve here: used to pick the classification that fits."""
        resolved: dict[str, str] = {}
        unresolved: list[str] = []
        for lab in labels:
            code = self.resolve(lab, year)
            if code is None:
                unresolved.append(lab)
            else:
                resolved[lab] = code
        return MatchResult(self.name, _year(year), resolved, tuple(unresolved))


def _municipality(v: Version, code: str) -> str | None:
    rule = v.municipalities
    if rule is None or len(code) != rule.digits or not code.isdigit():
        return None
    county = code[: rule.county_digits]
    if county in v.items and (v.items[county].level in (None, 2)) and county != "0":
        return code
    return None


# --- YAML ------------------------------------------------------------------------------------


def _err(msg: str, source: str, where: str, expected: str | None = None) -> RuleError:
    return RuleError(msg, source=source, where=where or None, expected=expected)


def _opt_year(value: Any, source: str, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _err(f"not a year: {value!r}", source, where, "a year such as 2018, or nothing")
    return value


def _valid(value: Any, source: str, where: str) -> tuple[int | None, int | None]:
    if value is None:
        return None, None
    if not isinstance(value, dict) or set(value) - {"from", "to"}:
        raise _err("bad validity", source, where, "{from: YEAR, to: YEAR}")
    lo = _opt_year(value.get("from"), source, f"{where}.from")
    hi = _opt_year(value.get("to"), source, f"{where}.to")
    if lo is not None and hi is not None and lo > hi:
        raise _err(f"valid from {lo} after valid to {hi}", source, where, "from <= to")
    return lo, hi


def _text(value: Any, source: str, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _err(f"not a label or code: {value!r}", source, where, "text")
    return str(value)


def _text_list(value: Any, source: str, where: str, empty_ok: bool = True) -> list[str]:
    if value is None and empty_ok:
        return []
    if not isinstance(value, list) or (not value and not empty_ok):
        raise _err("not a list" if not isinstance(value, list) else "empty list", source, where,
                   "a list of labels or codes")
    return [_text(v, source, f"{where}[{i}]") for i, v in enumerate(value)]


def _parse_item(raw: Any, source: str, where: str) -> Item:
    if isinstance(raw, str | int) and not isinstance(raw, bool):
        return Item(str(raw), str(raw))
    if not isinstance(raw, dict):
        raise _err("not an item", source, where, "a label, or {code:, en:, no:, aliases:, level:, valid:}")
    unknown = set(raw) - {"code", "en", "no", "label", "aliases", "level", "valid"}
    if unknown:
        raise _err(f"unknown keys {sorted(unknown)}", source, where, "code, en, no, aliases, level, valid")
    en = raw.get("en", raw.get("label"))
    code = raw.get("code", en)
    if code is None:
        raise _err("item without code or label", source, where, "code: or en:")
    code = _text(code, source, f"{where}.code")
    en_s = _text(en, source, f"{where}.en") if en is not None else code
    no_s = _text(raw["no"], source, f"{where}.no") if raw.get("no") is not None else ""
    level = raw.get("level")
    if level is not None and (isinstance(level, bool) or not isinstance(level, int)):
        raise _err("level is not an integer", source, f"{where}.level", "0, 1, 2, ...")
    lo, hi = _valid(raw.get("valid"), source, f"{where}.valid")
    aliases = tuple(_text_list(raw.get("aliases"), source, f"{where}.aliases"))
    return Item(code, en_s, no_s, aliases, level, lo, hi)


def _parse_items(raw: Any, source: str, where: str) -> list[Item]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _err("not a list", source, where, "a list of items")
    return [_parse_item(x, source, f"{where}[{i}]") for i, x in enumerate(raw)]


def _index(items: dict[str, Item], source: str, where: str) -> dict[str, str]:
    index: dict[str, str] = {}
    for it in items.values():
        for name in (it.code, it.label_en, it.label_no, *it.aliases):
            if not name:
                continue
            key = label_key(name)
            if index.get(key, it.code) != it.code:
                raise _err(f"label {name!r} names both {index[key]!r} and {it.code!r}", source, where,
                           "each label to name one category per version")
            index[key] = it.code
    return index


def _build_version(
    raw: dict[str, Any], base_items: list[Item], source: str, where: str, strict: bool,
    municipalities: MunicipalityRule | None,
) -> Version:
    prefix = f"{where}." if where else ""
    lo, hi = _valid(raw.get("valid"), source, f"{prefix}valid")
    lo_c, hi_c = lo if lo is not None else _OPEN_FROM, hi if hi is not None else _OPEN_TO
    items: dict[str, Item] = {}
    for it in [*base_items, *_parse_items(raw.get("items"), source, f"{prefix}items")]:
        if it.covers(lo_c, hi_c):
            items[it.code] = it
    index = _index(items, source, f"{prefix}items")

    raw_groups = raw.get("groups")
    if raw_groups is None:
        raw_groups = []
    if not isinstance(raw_groups, list):
        raise _err("not a list", source, f"{prefix}groups", "a list of {parent:, children:}")

    def ref(name: str, at: str) -> str:
        code = index.get(label_key(name, index))
        if code is not None:
            return code
        if strict:
            raise _err(f"unknown category {name!r}", source, at, "a code or label listed under items")
        items[name] = Item(name, name)
        index[label_key(name)] = name
        return name

    groups: list[Group] = []
    parents: dict[str, str] = {}
    placed: dict[str, str] = {}
    for i, g in enumerate(raw_groups):
        gw = f"{prefix}groups[{i}]"
        if not isinstance(g, dict):
            raise _err("not a group", source, gw, "{parent:, children: [...], complete: true}")
        unknown = set(g) - {"parent", "children", "complete", "residual"}
        if unknown:
            raise _err(f"unknown keys {sorted(unknown)}", source, gw, "parent, children, complete, residual")
        if "parent" not in g:
            raise _err("group without parent", source, f"{gw}.parent", "a code or label")
        parent = ref(_text(g["parent"], source, f"{gw}.parent"), f"{gw}.parent")
        names = _text_list(g.get("children"), source, f"{gw}.children", empty_ok=False)
        children: list[str] = []
        for j, n in enumerate(names):
            at = f"{gw}.children[{j}]"
            c = ref(n, at)
            if c == parent:
                raise _err(f"{n!r} is its own child", source, at, "a tree")
            if c in children:
                raise _err(f"{n!r} listed twice", source, at, "each child once")
            if c in placed:
                raise _err(f"{n!r} is already a child of {parents[c]!r} ({placed[c]})", source, at,
                           "each category under one parent per version")
            children.append(c)
        complete = g.get("complete", True)
        if not isinstance(complete, bool):
            raise _err("not true/false", source, f"{gw}.complete", "a boolean")
        residual = None
        if g.get("residual") is not None:
            residual = ref(_text(g["residual"], source, f"{gw}.residual"), f"{gw}.residual")
            if residual not in children:
                raise _err(f"residual {g['residual']!r} is not among the children", source,
                           f"{gw}.residual", "one of the children")
        for j, c in enumerate(children):
            parents[c] = parent
            placed[c] = f"{gw}.children[{j}]"
        groups.append(Group(parent, tuple(children), complete, residual))
    # cycles: walk up from every child
    for start in parents:
        seen = [start]
        p = parents.get(start)
        while p is not None:
            if p in seen:
                raise _err(f"cycle in parent links: {' -> '.join([*seen, p])} (child -> parent)",
                           source, placed[start], "a tree")
            seen.append(p)
            p = parents.get(p)
    return Version(lo, hi, items, tuple(groups), index, parents, municipalities)


def parse_classification(
    doc: Any, source: str = "<yaml>", name: str | None = None,
    include: Callable[[str], Classification] | None = None,
) -> Classification:
    """A `Classification` from a parsed YAML document; anything malformed is a `RuleError`.

    Either ``versions: [{valid:, items:, groups:}, ...]`` or, for a hand-written file, one
    version at the top level (``valid:``, ``items:``, ``groups:``). Categories named in
    groups but not under items are implied (code = label) unless ``strict: true``.
    """
    if not isinstance(doc, dict):
        raise _err("not a mapping", source, "", "name:, role:, groups: or versions:")
    known = {"name", "role", "description", "klass", "strict", "include", "items", "valid",
             "groups", "versions", "municipalities"}
    unknown = set(doc) - known
    if unknown:
        raise _err(f"unknown keys {sorted(unknown)}", source, "", ", ".join(sorted(known)))
    cname = doc.get("name", name)
    if not isinstance(cname, str) or not cname:
        raise _err("no name", source, "name", "name: <text>")
    role = doc.get("role")
    if role not in ROLES:
        raise _err(f"unknown role {role!r}", source, "role", " / ".join(ROLES))
    strict = doc.get("strict", False)
    if not isinstance(strict, bool):
        raise _err("not true/false", source, "strict", "a boolean")
    base: list[Item] = []
    for i, inc in enumerate(_text_list(doc.get("include"), source, "include")):
        if include is None:
            raise _err(f"cannot include {inc!r} here", source, f"include[{i}]")
        try:
            other = include(inc)
        except FileNotFoundError as e:
            raise _err(f"no classification {inc!r}", source, f"include[{i}]",
                       "the name of a file in migaudit/data/classifications") from e
        base.extend(it for v in other.versions for it in v.items.values())
    base.extend(_parse_items(doc.get("items"), source, "items"))
    muni = None
    if doc.get("municipalities") is not None:
        m = doc["municipalities"]
        if not isinstance(m, dict) or not isinstance(m.get("discontinued", {}), dict):
            raise _err("bad municipality rule", source, "municipalities",
                       "{digits: 4, county_digits: 2, discontinued: {code: label}}")
        klass = doc.get("klass")
        muni = MunicipalityRule(
            int(m.get("digits", 4)), int(m.get("county_digits", 2)),
            {str(k): str(v) for k, v in (m.get("discontinued") or {}).items()},
            klass.get("municipality") if isinstance(klass, dict) else None,
        )
    if "versions" in doc:
        if "groups" in doc or "valid" in doc:
            raise _err("both versions: and top-level groups:/valid:", source, "versions",
                       "either versions: [...] or one version at the top level")
        raw_versions = doc["versions"]
        if not isinstance(raw_versions, list) or not raw_versions:
            raise _err("not a list of versions", source, "versions", "[{valid:, items:, groups:}, ...]")
        versions = []
        for i, rv in enumerate(raw_versions):
            if not isinstance(rv, dict):
                raise _err("not a version", source, f"versions[{i}]", "{valid:, items:, groups:}")
            extra = set(rv) - {"valid", "items", "groups"}
            if extra:
                raise _err(f"unknown keys {sorted(extra)}", source, f"versions[{i}]", "valid, items, groups")
            versions.append(_build_version(rv, base, source, f"versions[{i}]", strict, muni))
        for a in range(len(versions)):
            for b in range(a + 1, len(versions)):
                va, vb = versions[a], versions[b]
                if (va.valid_from or _OPEN_FROM) <= (vb.valid_to or _OPEN_TO) and (
                    vb.valid_from or _OPEN_FROM) <= (va.valid_to or _OPEN_TO):
                    raise _err(f"versions {a} and {b} overlap", source, f"versions[{b}].valid",
                               "disjoint validity periods")
    else:
        versions = [_build_version({"valid": doc.get("valid"), "groups": doc.get("groups")}, base,
                                   source, "", strict, muni)]
    return Classification(cname, role, tuple(versions), str(doc.get("description", "")), source,
                          doc.get("klass"))


_DATA = resources.files("migaudit").joinpath("data/classifications")


def _load_text(text: str, source: str, name: str | None) -> Classification:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        raise RuleError(f"not valid YAML: {getattr(e, 'problem', e)}", source=source, where=where) from e
    return parse_classification(doc, source, name, include=load_classification)


@lru_cache(maxsize=256)
def load_classification(name: str) -> Classification:
    """A classification by name (``data/classifications/<name>.yaml``) or by file path.

    Cached: each file is read once per process.
    """
    path = Path(name)
    if path.suffix in (".yaml", ".yml") and path.exists():
        return _load_text(path.read_text(encoding="utf-8"), str(path), path.stem)
    res = _DATA.joinpath(f"{name}.yaml")
    if not res.is_file():
        raise FileNotFoundError(f"no classification {name!r}; known: {', '.join(classification_names())}")
    return _load_text(res.read_text(encoding="utf-8"), f"migaudit/data/classifications/{name}.yaml", name)


def classification_names() -> list[str]:
    """Names of the classifications shipped with migaudit."""
    return sorted(p.name[:-5] for p in _DATA.iterdir() if p.name.endswith(".yaml"))


def classifications_for(role: str, year: int | str | None = None) -> list[Classification]:
    """The shipped classifications for a dimension role valid in `year` (all for None)."""
    out = []
    for n in classification_names():
        c = load_classification(n)
        if c.role == role and c.covers(year):
            out.append(c)
    return out


def best_classification(labels: Iterable[str], role: str, year: int | str | None = None) -> MatchResult | None:
    """The shipped classification that resolves most of a table's labels (None if none do)."""
    labels = list(labels)
    results = [c.match(labels, year) for c in classifications_for(role, year)]
    results = [r for r in results if r.count]
    if not results:
        return None
    # most labels resolved; on a tie prefer the one with groups over a bare code list
    return max(results, key=lambda r: (r.count, bool(load_classification(r.classification).hierarchy(year))))
