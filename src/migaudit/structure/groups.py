"""Groups of countries printed beside their members: EU, EEA (EØS), EFTA, the euro area.

A citizenship or country dimension often lists "EU28/EØS-land (inkludert Norge)", "EU27/EFTA"
or "EU27_2020" next to member countries and continent totals. Summed as a part, such a group
counts its members twice; ignored, it is never checked. Its label names its composition (the
number of countries, a vintage, "/EØS", "/EFTA") or, for a bare "EU", the table's year does;
`data/country_groups.yaml` holds the members. Where the composition cannot be known (a bare
"EU" in a year it changed, or no year) only the countries that were members throughout are
counted, as a bound.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from migaudit.knowledge.classification import label_key

_SOURCE = Path(__file__).resolve().parent.parent / "data" / "country_groups.yaml"

_EU = re.compile(
    r"^(?:eu|european union|den europeiske union|europeiska unionen|den europæiske union|euroopan unioni)"
    r"(?:\s*[-_ ]?(?P<n>\d{2}))?(?:_(?P<v>\d{4}))?(?:\s*-\s*(?P<n2>\d{2}) countries)?"
    r"(?:\s*\((?:(?:from|fra)\s+)?(?P<v2>\d{4})(?:\s*-\s*\d{4})?\))?$")
_EA = re.compile(r"^(?:ea|euro area|euroområdet)\s*(?:[-_ ]?(?P<n>\d{2}))?(?:\s*-\s*(?P<n2>\d{2}) countries)?"
                 r"(?:\s*\(.*\))?$")
#: words around a group's name that do not change it
_NOISE = re.compile(r"\s*\((?:inkludert|including|incl\.?|inkl\.?|med)\s+(?:norge|norway)\)|"
                    r"[- ]?land(?:ene)?$|\s+countries$|\s+member states$|\s+land$")


@dataclass(frozen=True)
class CountryGroup:
    """A group's members (country codes) and whether they are all of it."""

    name: str
    members: frozenset[str]
    exact: bool
    why: str = ""


@dataclass(frozen=True)
class _Data:
    countries: dict[str, str]  # normalised name or code → country code
    groups: dict[str, frozenset[str]]
    eu_by_year: tuple[tuple[int, int | None, str], ...]
    eu27_from: int


def _build(name: str, spec: dict[str, Any], raw: dict[str, Any], out: dict[str, frozenset[str]]) -> frozenset[str]:
    if name in out:
        return out[name]
    members = set(spec.get("members", []))
    if "base" in spec:
        members |= _build(spec["base"], raw[spec["base"]], raw, out)
    members |= set(spec.get("add", []))
    members -= set(spec.get("drop", []))
    out[name] = frozenset(str(m) for m in members)
    return out[name]


@lru_cache(maxsize=1)
def _data() -> _Data:
    doc = yaml.safe_load(_SOURCE.read_text(encoding="utf-8"))
    countries: dict[str, str] = {}
    for code, spec in doc["countries"].items():
        code = str(code)
        for key in (code, *spec.get("codes", [])):
            countries[str(key).upper()] = code
        for name in (spec.get("en"), spec.get("nb"), *spec.get("aliases", [])):
            if name:
                countries[label_key(str(name))] = code
    groups: dict[str, frozenset[str]] = {}
    for name, spec in doc["groups"].items():
        _build(str(name), spec, doc["groups"], groups)
    known = set(countries.values())
    for name, members in groups.items():
        if unknown := members - known:
            raise ValueError(f"{_SOURCE.name}: group {name} has members that are not countries: {sorted(unknown)}")
    by_year = tuple((int(e["from"]), int(e["to"]) if "to" in e else None, str(e["group"]))
                    for e in doc["eu_by_year"])
    return _Data(countries, groups, by_year, int(doc["eu27_from_2020"]))


def country_of(code: str, label: str) -> str | None:
    """The country a category is (its code when that is a country code, else its name)."""
    d = _data()
    if re.fullmatch(r"[A-Z]{2}", str(code).strip()) and (c := d.countries.get(str(code).strip())):
        return c
    return d.countries.get(label_key(label))


def _eu_in(year: int | None) -> tuple[frozenset[str], bool, str]:
    """The EU's members in `year`, exact; else those members throughout, as a bound."""
    d = _data()
    for lo, hi, name in d.eu_by_year:
        if year is not None and lo <= year and (hi is None or year <= hi):
            return d.groups[name], True, f"the EU of {year}: {name}"
    if year is None:
        common = frozenset.intersection(*(d.groups[n] for _, _, n in d.eu_by_year))
        return common, False, "the EU with no year: the countries that were members throughout"
    near = [n for lo, hi, n in d.eu_by_year if hi == year - 1 or lo == year + 1]
    common = frozenset.intersection(*(d.groups[n] for n in near)) if near else frozenset()
    return common, False, f"the EU changed in {year}: the countries that were members all year"


def group_of(label: str, year: int | None = None) -> CountryGroup | None:
    """The group of countries a label names, or None."""
    d = _data()
    key = label_key(label)
    extra: frozenset[str] = frozenset()
    extra_name = ""
    core = key
    if "/" in key:
        core, tail = key.split("/", 1)
        for _ in range(2):
            tail = _NOISE.sub("", tail.strip()).strip()
        if tail in ("eøs", "eea"):
            extra, extra_name = d.groups["EEA_EXTRA"], "EEA"
        elif tail == "efta":
            extra, extra_name = d.groups["EFTA"], "EFTA"
        else:
            return None
    core = core.strip()
    for _ in range(2):
        core = _NOISE.sub("", core).strip()
    if core in ("eøs", "eea") and not extra:
        members, exact, why = _eu_in(year)
        return CountryGroup(label, members | d.groups["EEA_EXTRA"], exact, f"{why}, with Iceland, Liechtenstein "
                            "and Norway (EEA)")
    if core == "efta" and not extra:
        return CountryGroup(label, d.groups["EFTA"], True, "EFTA")
    if (m := _EA.match(core)) and not extra:
        n = m.group("n") or m.group("n2")
        name = f"EA{n}" if n else ""
        if name in d.groups:
            return CountryGroup(label, d.groups[name], True, f"euro area {name}")
        return None
    m = _EU.match(core)
    if m is None:
        return None
    n = m.group("n") or m.group("n2")
    vintage = m.group("v") or m.group("v2")
    if n is None:
        members, exact, why = _eu_in(year)
    elif n == "27":
        if vintage is not None:
            name = "EU27_2020" if int(vintage) >= d.eu27_from else "EU27_2007"
        elif year is not None:
            name = "EU27_2020" if year >= d.eu27_from else "EU27_2007"
        else:
            name = ""
        if name:
            members, exact, why = d.groups[name], True, name
        else:
            members = d.groups["EU27_2007"] & d.groups["EU27_2020"]
            exact, why = False, "EU27 with no year: before 2020 with the UK, from 2020 with Croatia"
    elif f"EU{n}" in d.groups:
        members, exact, why = d.groups[f"EU{n}"], True, f"EU{n}"
    else:
        return None
    if extra:
        why += f" and {extra_name} ({', '.join(sorted(extra - members))})"
    return CountryGroup(label, members | extra, exact, why)


def country_groups(codes: tuple[str, ...], labels: tuple[str, ...], year: int | None,
                   candidates: list[int] | None = None) -> list[tuple[int, CountryGroup, list[int], int]]:
    """(index of the group, the group, indices of its members shown, how many are not shown)."""
    idx = range(len(labels)) if candidates is None else candidates
    countries = {i: c for i in idx if (c := country_of(codes[i], labels[i])) is not None}
    out = []
    for i in idx:
        if i in countries:
            continue
        g = group_of(labels[i], year) or (group_of(codes[i], year) if codes[i] != labels[i] else None)
        if g is None:
            continue
        kids = [j for j, c in countries.items() if c in g.members]
        missing = len(g.members) - len({countries[j] for j in kids})
        out.append((i, g, kids, missing))
    return out
