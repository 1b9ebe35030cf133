"""Classifications against the real SSB tables: labels resolve, and the hierarchies add up."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from migaudit.errors import RuleError
from migaudit.knowledge.classification import (
    Group,
    best_classification,
    classification_names,
    classifications_for,
    load_classification,
    normalize_label,
    parse_classification,
)

# --- reading the printed tables simply ------------------------------------------------------


def printed_table(path: Path) -> tuple[list[str], dict[str, list[float]]]:
    """(column labels, {row label: numbers}) of a tab-separated printed SSB table.

    Header lines are those whose first cell is empty or "Citizenship"; `-` (nil) counts 0
    and `.` (not available) is NaN.
    """
    columns: list[str] = []
    rows: dict[str, list[float]] = {}
    header: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = line.split("\t")
        if len(cells) < 3:
            continue
        if cells[0] == "Citizenship":
            header = [c for c in cells[1:] if c and not c.startswith(("To ", "From "))]
            continue
        if cells[0] == "":
            columns = header + [c for c in cells[1:] if c]
            continue
        rows[cells[0]] = [_number(c) for c in cells[1:]]
    return columns, rows


def _number(cell: str) -> float:
    cell = cell.strip()
    if cell == "-":
        return 0.0
    if cell in (".", ".."):
        return float("nan")
    return float(cell.replace(" ", "").replace("\u2212", "-"))


def _seed(seeds: Path, prefix: str) -> Path:
    return next(seeds.glob(f"{prefix}_*.txt"))


@pytest.fixture(scope="module")
def continents():
    return load_classification("citizenship_continents")


@pytest.fixture(scope="module")
def regions():
    return load_classification("regions")


# --- the shipped files ----------------------------------------------------------------------


def test_shipped_classifications_load():
    names = classification_names()
    assert {"regions", "citizenship_countries", "citizenship_continents",
            "citizenship_world_regions_2018", "citizenship_eu27_efta"} <= set(names)
    for n in names:
        c = load_classification(n)
        assert c.name == n and c.role in ("region", "citizenship")
    assert load_classification("regions") is load_classification("regions")  # cached


def test_classifications_for():
    assert [c.name for c in classifications_for("region", 2011)] == ["regions"]
    cit2011 = {c.name for c in classifications_for("citizenship", 2011)}
    assert cit2011 == {"citizenship_continents", "citizenship_countries"}
    cit2018 = {c.name for c in classifications_for("citizenship", 2018)}
    assert "citizenship_world_regions_2018" in cit2018 and "citizenship_eu27_efta" not in cit2018
    assert "citizenship_eu27_efta" in {c.name for c in classifications_for("citizenship", "2024")}
    assert classifications_for("age", 2011) == []


# --- 000 and 001: labels ----------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["000", "001"])
def test_printed_row_labels_resolve_in_2011(seeds, continents, prefix):
    columns, rows = printed_table(_seed(seeds, prefix))
    assert len(rows) == {"000": 42, "001": 72}[prefix]
    m = continents.match(list(rows), 2011)
    assert m.ok, m.unresolved
    assert len(set(m.resolved.values())) == len(rows)  # no two rows on one code
    assert best_classification(list(rows), "citizenship", 2011).classification == "citizenship_continents"


@pytest.mark.parametrize("prefix", ["000", "001"])
def test_printed_column_labels_resolve_in_2011_regions(seeds, regions, prefix):
    columns, _ = printed_table(_seed(seeds, prefix))
    assert len(columns) == 8
    m = regions.match(columns, 2011)
    assert m.ok, m.unresolved
    assert m.resolved["Total"] == "0" and m.resolved["Trøndelag"] == "trondelag"
    assert regions.children("trondelag", 2011) == ("16", "17")


def test_label_variants(continents):
    assert continents.resolve("North America, total", 2011) == continents.resolve("North America total", 2011)
    assert continents.resolve("Bosnia- Herzegovina", 2011) == "155"
    assert continents.resolve("Serbia ¹", 2011) == "159"
    assert continents.resolve("Asia, Turkey included ¹", 2011) == "asia"
    assert continents.resolve("The rest of South America", 2011) == "rest_south_central_america"
    assert continents.parent("rest_south_central_america", 2011) == "south_central_america"
    assert continents.label("131") == "Poland" and continents.label("131", "no") == "Polen"


# --- 000 and 001: arithmetic --------------------------------------------------------------


def _check_groups(cls, rows: dict[str, list[float]], year: int) -> list[tuple[Group, float]]:
    """Assert every projected group on every column; return (group, largest gap)."""
    code_of = {cls.resolve(label, year): label for label in rows}
    groups = cls.hierarchy(year, present=code_of)
    checked = []
    for g in groups:
        parent = rows[code_of[g.parent]]
        kids = [rows[code_of[c]] for c in g.children]
        gap = 0.0
        for j, p in enumerate(parent):
            s = sum(0.0 if k[j] != k[j] else k[j] for k in kids)  # "." counts 0
            if g.complete:
                assert s == p, (g.parent, j, p, s)
            else:
                assert s <= p, (g.parent, j, p, s)
            gap = max(gap, p - s)
        checked.append((g, gap))
    return checked


def test_000_hierarchy_sums(seeds, continents):
    _, rows = printed_table(_seed(seeds, "000"))
    checked = {g.parent: (g, gap) for g, gap in _check_groups(continents, rows, 2011)}
    # Total = Norway + Europe + Africa + Asia + America + Oceania + Stateless + Unknown
    assert checked["total"][0].children == ("000", "europe_ex_norway", "africa", "asia", "america",
                                            "oceania", "980", "990")
    assert checked["total"][0].complete
    assert checked["america"][0].children == ("north_america", "south_central_america")
    for parent in ("europe_ex_norway", "africa", "asia"):
        assert checked[parent][0].complete and checked[parent][0].residual
    # 000 lists no "rest of North America": only a bound, although USA + Canada is exact here
    assert not checked["north_america"][0].complete and checked["north_america"][1] == 0
    # South and Central America and Oceania have no children listed in 000
    assert "south_central_america" not in checked and "oceania" not in checked


def test_001_hierarchy_sums(seeds, continents):
    _, rows = printed_table(_seed(seeds, "001"))
    checked = {g.parent: g for g, _ in _check_groups(continents, rows, 2011)}
    assert set(checked) == {"total", "america", "europe_ex_norway", "africa", "asia",
                            "north_america", "south_central_america", "oceania"}
    assert all(g.complete for g in checked.values())
    assert "rest_south_central_america" in checked["south_central_america"].children
    assert len(checked["europe_ex_norway"].children) == 28


def test_2018_world_regions_fall_short(ssb):
    cls = load_classification("citizenship_world_regions_2018")
    with (ssb / "immigration_emigration_by_citizenship_group_2018.csv").open(encoding="utf-8") as f:
        data = list(csv.DictReader(f))
    m = best_classification([r["label"] for r in data], "citizenship", 2018)
    assert m.classification == cls.name and m.ok
    by_code = {m.resolved[r["label"]]: r for r in data}
    groups = cls.hierarchy(2018, present=by_code)
    split = next(g for g in groups if g.parent == "total" and g.complete)
    regions = next(g for g in groups if g.parent == "total" and not g.complete)
    assert split.children == ("000", "foreign")
    assert len(regions.children) == 7
    gaps = {}
    for col in ("immigration_2018", "emigration_2018"):
        total = int(by_code["total"][col])
        assert total == sum(int(by_code[c][col]) for c in split.children)
        gaps[col] = total - sum(int(by_code[c][col]) for c in regions.children)
    assert gaps == {"immigration_2018": 201, "emigration_2018": 32}


def test_2024_eu27_efta_groups_include_norway(seeds):
    # 002: the six groups exceed "Foreign" (EU27/EFTA includes Norway) and fall short of Total
    cls = load_classification("citizenship_eu27_efta")
    numbers = {"Total": (66077, 31968), "Norway": (7263, 9159), "Foreign": (58814, 22809),
               "EU27/EFTA": (27809, 19396), "European countries outside EU27/EFTA": (22236, 6360),
               "Africa": (2864, 749), "Asia": (10510, 3606), "North America": (1019, 851),
               "Latin America and the Caribbean": (1256, 829)}
    text = _seed(seeds, "002").read_text(encoding="utf-8")
    for label, (imm, emi) in numbers.items():
        assert f"\n    {label}{imm:,}{emi:,}".replace(",", " ") in text, label
    by_code = {cls.resolve(k, 2024): v for k, v in numbers.items()}
    groups = cls.hierarchy(2024, present=by_code)
    split = next(g for g in groups if g.parent == "total" and g.complete)
    six = next(g for g in groups if g.parent == "total" and not g.complete)
    for i in (0, 1):
        assert by_code["total"][i] == sum(by_code[c][i] for c in split.children)
        s = sum(by_code[c][i] for c in six.children)
        assert by_code["foreign"][i] < s < by_code["total"][i]
    assert [by_code["total"][i] - sum(by_code[c][i] for c in six.children) for i in (0, 1)] == [383, 177]


# --- regions ----------------------------------------------------------------------------------

COUNTIES_002 = {
    "The whole country": "0", "Østfold": "31", "Akershus": "32", "Oslo": "03", "Innlandet": "34",
    "Buskerud": "33", "Vestfold": "39", "Telemark": "40", "Agder": "42", "Rogaland": "11",
    "Vestland": "46", "Møre og Romsdal": "15", "Trøndelag - Trööndelage": "50",
    "Nordland - Nordlánnda": "18", "Troms - Romsa - Tromssa": "55",
    "Finnmark - Finnmárku - Finmarkku": "56",
}


def test_002_county_labels_2024(seeds, regions):
    text = _seed(seeds, "002").read_text(encoding="utf-8")
    for label, code in COUNTIES_002.items():
        assert f"\n    {label}" in text, label
        assert regions.resolve(label, 2024) == code, label
    groups = regions.hierarchy(2024, present=COUNTIES_002.values())
    assert groups == [Group("0", tuple(sorted(groups[0].children, key=groups[0].children.index)), True)]
    assert set(groups[0].children) == set(COUNTIES_002.values()) - {"0"}


def test_2011_county_csv_pre_2018(ssb, regions):
    with (ssb / "county_annual_changes_2011_partial.csv").open(encoding="utf-8") as f:
        data = list(csv.DictReader(f))
    for r in data:
        assert regions.resolve(r["region"], 2011) == r["region_code"], r["region"]
        assert regions.resolve(r["region_code"], 2011) == r["region_code"]
    # the excerpt stops at Møre og Romsdal: the counties only bound the whole country
    (g,) = regions.hierarchy(2011, present=[r["region_code"] for r in data])
    assert g.parent == "0" and not g.complete and len(g.children) == 14
    for col in ("births", "deaths", "in_migration_from_abroad"):
        whole = int(data[0][col])
        assert sum(int(r[col]) for r in data[1:]) <= whole


def test_county_versions(regions):
    assert regions.resolve("Sør-Trøndelag", 2017) == "16"
    assert regions.resolve("Sør-Trøndelag", 2018) is None
    assert regions.resolve("Trøndelag", 2018) == "50"
    assert regions.resolve("Trøndelag", 2011) == "trondelag"  # the landsdel, 16 + 17
    assert regions.resolve("Viken", 2021) == "30" and regions.resolve("Viken", 2024) is None
    assert regions.resolve("Østfold", 2011) == "01" and regions.resolve("Østfold", 2024) == "31"
    assert regions.resolve("13", 2011) is None  # there is no county 13
    assert regions.resolve("Norway", 2011) is None  # a citizenship, not a region
    assert regions.resolve("Hele landet") == "0"
    assert regions.label("0", "no") == "Hele landet"
    for year in (2011, 2018, 2021, 2024):
        (whole,) = [g for g in regions.hierarchy(year) if g.parent == "0"]
        assert whole.complete


@pytest.mark.parametrize("name", ["01222_municipalities_2014K3-2016K3.jsonstat1.json",
                                  "01222_five_regions_DERIVED.jsonstat2.json"])
def test_01222_municipalities_map_to_2016_counties(ssb, regions, name):
    doc = json.loads((ssb / name).read_text(encoding="utf-8"))
    ds = doc.get("dataset", doc)
    cat = ds["dimension"]["Region"]["category"]
    codes = list(cat["index"]) if isinstance(cat["index"], dict) else cat["index"]
    counties_2016 = set(regions.codes(2016))
    for code in codes:
        assert regions.resolve(code, 2016) == code, code
        county = regions.parent(code, 2016)
        assert county == code[:2] and county in counties_2016 and county != "0", code
    if len(codes) == 430:
        assert {regions.parent(c, 2016) for c in codes} == counties_2016 - {"0"} - {
            c for c in counties_2016 if not c.isdigit()}
    assert regions.label("1901", year=2016) == "Harstad (-2012)"
    assert regions.resolve("1901", 2020) is None  # county 19 ended in 2019


# --- hand-written YAML ------------------------------------------------------------------------

HAND_WRITTEN = """\
name: citizenship_europe_2007
role: citizenship
valid: {from: 2007, to: 2007}
groups:
  - parent: Total
    children: [Norway, Western Europe, Eastern Europe, Stateless]
  - parent: Western Europe
    children: [Sweden, Denmark, The rest of Western Europe]
    complete: true
"""


def test_hand_written_classification(tmp_path):
    path = tmp_path / "citizenship_europe_2007.yaml"
    path.write_text(HAND_WRITTEN, encoding="utf-8")
    cls = load_classification(str(path))
    assert cls.name == "citizenship_europe_2007" and cls.role == "citizenship"
    assert cls.covers(2007) and not cls.covers(2008)
    assert cls.hierarchy(2007) == [
        Group("Total", ("Norway", "Western Europe", "Eastern Europe", "Stateless")),
        Group("Western Europe", ("Sweden", "Denmark", "The rest of Western Europe")),
    ]
    assert cls.resolve("western  europe", 2007) == "Western Europe"
    assert cls.resolve("Sweden", 2008) is None
    assert cls.parent("Denmark", 2007) == "Western Europe"
    m = cls.match(["Total", "Norway", "Poland"], 2007)
    assert m.resolved == {"Total": "Total", "Norway": "Norway"} and m.unresolved == ("Poland",)


def test_hand_written_with_shipped_countries():
    cls = parse_classification(
        {"name": "nordic", "role": "citizenship", "include": ["citizenship_countries"], "strict": True,
         "groups": [{"parent": "Nordic", "children": ["Sweden", "Denmark", "Finland"]}],
         "items": ["Nordic"]},
        include=load_classification,
    )
    assert cls.hierarchy() == [Group("Nordic", ("106", "101", "103"))]


# --- malformed YAML -----------------------------------------------------------------------


def _bad(tmp_path: Path, text: str) -> RuleError:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    load_classification.cache_clear()
    with pytest.raises(RuleError) as e:
        load_classification(str(path))
    assert str(path) in str(e.value)
    return e.value


GROUPS = """\
name: x
role: citizenship
groups:
  - {parent: Total, children: [A, B]}
  - {parent: A, children: [A1, A2]}
  - {parent: B, children: [B1]}
"""


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (GROUPS + "  - {parent: C, children: B2}\n", "groups[3].children"),
        (GROUPS + "  - {parent: C, children: []}\n", "groups[3].children"),
        (GROUPS + "  - {parent: C, children: [B1]}\n", "groups[3].children[0]"),
        (GROUPS + "  - {parent: C}\n", "groups[3].children"),
        (GROUPS + "  - {children: [C1]}\n", "groups[3].parent"),
        (GROUPS + "  - {parent: C, children: [C1], complete: maybe}\n", "groups[3].complete"),
        (GROUPS + "  - {parent: C, children: [C1], residual: C2}\n", "groups[3].residual"),
        (GROUPS + "  - {parent: B1, children: [Total]}\n", "groups[0].children[0]"),
        (GROUPS + "  - {parent: C, children: [C]}\n", "groups[3].children[0]"),
        (GROUPS.replace("role: citizenship", "role: colour"), "role"),
        (GROUPS.replace("name: x\n", "name: x\nvalid: {from: 2020, to: 2010}\n"), "valid"),
        (GROUPS.replace("name: x\n", "name: x\nvalid: {from: next year}\n"), "valid.from"),
        (GROUPS + "versions: []\n", "versions"),
        (GROUPS + "colour: red\n", None),
        ("name: x\nrole: region\nitems: [{code: '1', en: A}, {code: '2', en: a}]\n", "items"),
        ("name: x\nrole: region\nstrict: true\ngroups: [{parent: A, children: [B]}]\n", "groups[0].parent"),
        ("name: x\nrole: region\nversions:\n  - {valid: {from: 2000}}\n  - {valid: {from: 2010}}\n",
         "versions[1].valid"),
        ("name: x\nrole: region\nversions:\n  - valid: {from: 2000}\n    groups: [{parent: A, children: 7}]\n",
         "versions[0].groups[0].children"),
        ("name: x\nrole: [region\n", "line 3"),
        ("- just\n- a list\n", None),
    ],
)
def test_malformed_yaml(tmp_path, text, where):
    err = _bad(tmp_path, text)
    assert err.where == where, str(err)
    assert err.expected or where and where.startswith("line")


def test_cycle_is_an_error(tmp_path):
    err = _bad(tmp_path, "name: x\nrole: region\ngroups:\n  - {parent: A, children: [B]}\n"
                         "  - {parent: B, children: [C]}\n  - {parent: C, children: [A]}\n")
    assert "cycle" in err.message or "already a child" in err.message


# --- normalize_label ------------------------------------------------------------------------


def test_normalize_label_examples():
    assert normalize_label("North America, total") == normalize_label("North America total")
    assert normalize_label("Bosnia- Herzegovina") == "Bosnia-Herzegovina"
    assert normalize_label("Serbia ¹") == "Serbia"
    assert normalize_label("Oslo – Akershus") == "Oslo - Akershus"
    assert normalize_label("  Sør-  og Mellom-Amerika ") == "Sør- og Mellom-Amerika"
    known = {"serbia"}
    assert normalize_label("Serbia 1", known) == "Serbia"
    assert normalize_label("Serbia 1") == "Serbia 1"  # no marker stripping without knowing


LABELS = ["Total", "Norway", "Serbia", "Asia, Turkey included", "North America total",
          "The rest of South America", "Bosnia-Herzegovina", "Poland", "Montenegro",
          "Europe total, except Norway", "South and Central America total"]
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@given(texts)
def test_normalize_is_idempotent(text):
    once = normalize_label(text)
    assert normalize_label(once) == once


@given(st.sampled_from(LABELS), st.sampled_from(["¹", " ¹", "²", " 1", " 2", "\u00b9\u00b2"]),
       st.integers(0, 3), st.integers(0, 3), st.booleans())
def test_markers_and_spaces_do_not_change_resolution(label, marker, lead, trail, upper):
    cls = load_classification("citizenship_continents")
    code = cls.resolve(label, 2011)
    assert code is not None
    variant = " " * lead + label.replace(" ", "  ") + marker + " " * trail
    if upper:
        variant = variant.upper()
    assert cls.resolve(variant, 2011) == code


@given(texts)
def test_resolution_never_raises(text):
    load_classification("regions").resolve(text, 2011)
