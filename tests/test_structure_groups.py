"""Groups of countries beside their members: EU, EEA (EØS), EFTA, the euro area (issue 11).

Developed against Eurostat's tps00001 (population on 1 January 2006-2017: EU28, EU27, EA19 and
EA18 beside every member state, tests/data/structure). Held out: SSB's 2018 and 2024 tables of
migration by citizenship group ("EU28/EØS-land (inkludert Norge)", "EU27/EFTA" beside Norway
and selected member countries), read as they are shipped in the example release.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import numpy as np
import pytest

from migaudit.model import symbols as sym
from migaudit.model.cube import Cube
from migaudit.model.table import Dimension, Table
from migaudit.readers import read
from migaudit.runner import audit
from migaudit.structure.groups import country_of, group_of

DATA = Path(__file__).parent / "data" / "structure"
RELEASE = Path(__file__).resolve().parents[1] / "src" / "migaudit" / "data" / "example_release"
TPS = DATA / "eurostat_tps00001_population_2006-2017.tsv"


def _tps00001() -> Table:
    """Eurostat's TSV as published: `indic_de,geo\\time` rows, flags after the figures (b break,
    e estimate, p provisional: the figure stands), ':' not available."""
    lines = TPS.read_text(encoding="utf-8").splitlines()
    years = tuple(h.strip() for h in lines[0].split("\t")[1:])
    geos, values, symbols = [], [], []
    for line in lines[1:]:
        key, *cells = line.split("\t")
        geos.append(key.split(",")[1])
        found = [re.fullmatch(r"(\d+) ?([bep]*)", c.strip()) for c in cells]
        values.append([float(m.group(1)) if m else np.nan for m in found])
        symbols.append([sym.NUMBER if m else sym.CODE[".."] for m in found])
    return Table([Dimension("geo", tuple(geos)), Dimension("time", years, role="time")], np.array(values),
                 np.array(symbols, dtype=np.uint8), id="tps00001", title="Population on 1 January",
                 source=str(TPS), meta={"measure": "population"})


def _checks(result, rule: str) -> tuple[int, int]:
    rows = [o for o in result.outcomes if o.rule.id == rule]
    return sum(o.checked for o in rows), sum(o.failed for o in rows)


@pytest.fixture(scope="module")
def tps() -> Table:
    return _tps00001()


def test_eu_and_euro_area_beside_their_members(tps: Table) -> None:
    cube = Cube.of(tps)
    d = cube.structure.dimension("geo")
    groups = {d.categories[g.parent].label: (len(g.children), g.op) for g in d.groups}
    # "EU27" in a 2006-2017 table is the EU of 2007-2013 (with the UK, without Croatia)
    assert groups == {"EA18": (18, "=="), "EA19": (19, "=="), "EU27": (27, "=="), "EU28": (28, "==")}
    eu27 = next(g for g in d.groups if d.categories[g.parent].label == "EU27")
    assert "HR" not in {d.categories[i].label for i in eu27.children}
    roles = {c.label: c.role for c in d.categories}
    assert roles["EU28"] == roles["EA19"] == "aggregate" and roles["NO"] == roles["FX"] == "part"
    assert any("never summed with them as a part" in e for e in d.categories[d.categories.index(
        next(c for c in d.categories if c.label == "EU28"))].evidence)


def test_published_tps00001_has_no_error(tps: Table) -> None:
    result = audit([tps], cross_table=False)
    assert _checks(result, "inferred_total_geo") == (4 * 12, 0)
    assert not result.violation_list


@pytest.mark.parametrize(("geo", "failing"), [
    ("LT", {"EA19", "EU27", "EU28"}),  # in the euro area of 19, not of 18
    ("HR", {"EU28"}),                   # in the EU of 28 only
])
def test_injected_error_found_at_its_cell(tps: Table, geo: str, failing: set[str]) -> None:
    result = audit([_with_error(tps, geo)], cross_table=False)
    assert {v.where["geo"] for v in result.violation_list} == failing
    assert all((geo, "2010") in _suspects(v) for v in result.violation_list)


def test_injected_error_is_the_only_suspect(tps: Table) -> None:
    """HR (in EU28, not in EU27 or the euro area in 2010) or the EU28 figure itself: a tie of two.

    Any other member would also close the EU28 row, but breaks EU27, EA18 and EA19, which pass:
    localization must see those rows too (the structure's inferred rules, as the audit does).
    """
    result = audit([_with_error(tps, "HR")], cross_table=False)
    assert {s for v in result.violation_list for s in _suspects(v)} == {("HR", "2010"), ("EU28", "2010")}
    # AT is in all four groups: the tie is every country that is in all four (the euro area of
    # 2010), never a parent (each is in one row only) nor a member of EU28 alone
    at = audit([_with_error(tps, "AT")], cross_table=False)
    d = Cube.of(tps).structure.dimension("geo")
    codes = tps.dimensions[0].codes
    failing = {v.where["geo"] for v in at.violation_list}
    assert failing == {"EU28", "EU27", "EA19", "EA18"}
    in_all = set.intersection(*({codes[i] for i in g.children} for g in d.groups if codes[g.parent] in failing))
    assert "AT" in in_all and "HR" not in in_all and len(in_all) < 28
    assert {s for v in at.violation_list for s in _suspects(v)} == {(c, "2010") for c in in_all}


def _with_error(tps: Table, geo: str) -> Table:
    bad = copy.deepcopy(tps)
    bad.values[bad.dimensions[0].codes.index(geo), bad.dimensions[1].codes.index("2010")] += 1000
    return bad


def _suspects(v) -> set[tuple[str, str]]:  # noqa: ANN001
    return {(s["where"]["geo"], s["where"]["time"]) for s in v.suspects}


# --- held out: SSB's citizenship groups ---------------------------------------------------------
def test_held_out_ssb_2018_eu28_eea_includes_norway() -> None:
    table = read(RELEASE / "immigration_emigration_by_citizenship_group_2018.csv")[0]
    cube = Cube.of(table)
    d = cube.structure.dimension("citizenship")
    label = {c.index: c.label for c in d.categories}
    (eu,) = [g for g in d.groups if label[g.parent] == "EU28/EØS-land (inkludert Norge)"]
    assert eu.op == ">=" and "Norge" in {label[i] for i in eu.children} and len(eu.children) == 9
    assert "9 of its 31 members" in eu.reason
    total_groups = [g for g in d.groups if label[g.parent] == "I alt"]
    # never a part beside its members: the total's own groups are the classification's two splits
    assert all(eu.parent not in g.children or "classification" in g.evidence for g in total_groups)
    result = audit([table], cross_table=False)
    assert not result.violation_list
    bad = copy.deepcopy(table)
    bad.values[bad.dimensions[0].labels.index("Polen"), 0, :] += 40000  # more Poles than EU28/EØS
    failed = {(v.rule, v.where["citizenship"]) for v in audit([bad], cross_table=False).violation_list}
    assert ("citizenship_hierarchy", "EU28/EØS-land (inkludert Norge)") in failed


def test_held_out_ssb_2024_eu27_efta_bound_over_selected_members() -> None:
    table = read(RELEASE / "002-1_migration_by_citizenship_group_2024.json")[0]
    d = Cube.of(table).structure.dimension("citizenship")
    label = {c.index: c.label for c in d.categories}
    (eu,) = [g for g in d.groups if label[g.parent] == "EU27/EFTA"]
    assert eu.op == ">=" and {label[i] for i in eu.children} == {"Norway", "Poland", "Romania", "Sweden"}
    assert not audit([table], cross_table=False).violation_list


# --- the labels -----------------------------------------------------------------------------
@pytest.mark.parametrize(("label", "year", "n", "exact"), [
    ("EU28/EØS-land (inkludert Norge)", 2018, 31, True),
    ("EU28/EEA countries (including Norway)", None, 31, True),
    ("EU27/EFTA", 2024, 31, True),
    ("EU27_2020", None, 27, True),
    ("European Union - 27 countries (from 2020)", None, 27, True),
    ("European Union - 28 countries (2013-2020)", None, 28, True),
    ("EU27", 2010, 27, True),
    ("EU27", None, 26, False),       # with the UK before 2020, with Croatia from 2020: the 26 in both
    ("EU/EØS", 2009, 30, True),
    ("EU/EØS", 2013, 30, False),     # Croatia joined in July 2013
    ("EØS", 2016, 31, True),
    ("EU", None, 14, False),
    ("EFTA", None, 4, True),
    ("EA19", None, 19, True),
    ("Euro area - 19 countries (2015-2022)", None, 19, True),
])
def test_group_labels(label: str, year: int | None, n: int, exact: bool) -> None:
    g = group_of(label, year)
    assert g is not None and (len(g.members), g.exact) == (n, exact)


@pytest.mark.parametrize("label", [
    "Europeiske land utenom EU28/EØS-land", "EU-land i Øst-Europa", "Europa i alt", "Euro area",
    "EU28/EØS, USA, Canada, Australia og New Zealand", "Europa", "Eurasia", "EUR",
])
def test_not_a_group_of_countries(label: str) -> None:
    assert group_of(label, 2018) is None


def test_countries_by_code_and_name() -> None:
    assert country_of("NO", "NO") == country_of("000", "Norge") == country_of("x", "Norway") == "NO"
    assert country_of("GR", "GR") == country_of("EL", "Greece") == country_of("119", "Hellas") == "EL"
    assert country_of("x", "Storbritannia") == "UK" and country_of("131", "Polen") == "PL"
    assert country_of("AD", "AD") is None and country_of("x", "Somalia") is None
