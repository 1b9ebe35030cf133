"""The measure vocabulary against every measure code and label in the real SSB files."""

from __future__ import annotations

import csv
import json

import pytest
import yaml

from migaudit.errors import RuleError
from migaudit.knowledge.measures import (
    canonical_measure,
    measure_info,
    measures,
    parse_measures,
    resolve_measure,
)

CONTENTS_01222 = {
    "Fodte2": "births",
    "Dode3": "deaths",
    "Fodselsoverskudd4": "excess_of_births",
    "Innvandring5": "immigration",
    "Utvandring6": "emigration",
    "Tilflytting7": "in_migration_domestic",
    "Fraflytting8": "out_migration_domestic",
    "Nettoinnflytting9": "net_migration",
    "Folketilvekst10": "growth",
    "Folketallet11": "population_end",
}


@pytest.mark.parametrize("name", ["01222_municipalities_2014K3-2016K3.jsonstat1.json",
                                  "01222_five_regions_DERIVED.jsonstat2.json"])
def test_01222_contents_codes_and_labels(ssb, name):
    doc = json.loads((ssb / name).read_text(encoding="utf-8"))
    ds = doc.get("dataset", doc)
    labels = ds["dimension"]["ContentsCode"]["category"]["label"]
    assert set(labels) == set(CONTENTS_01222)
    for code, label in labels.items():
        assert canonical_measure(code) == CONTENTS_01222[code], code
        assert canonical_measure(label) == CONTENTS_01222[code], label


def test_ssb_label_emigration_domestic_is_out_migration():
    # SSB's own English label on Fraflytting8: not emigration abroad
    assert canonical_measure("Emigration, domestic") == "out_migration_domestic"
    assert canonical_measure("Emigration") == "emigration"


PAGE_002 = {
    # citizenship table
    "Immigration": "immigration", "Emigration": "emigration", "Net immigration": "net_immigration",
    # county table
    "In-migration": "in_migration", "Out-migration": "out_migration",
    "Net migration, total": "net_migration", "In-migration, domestic": "in_migration_domestic",
    "Out-migration, domestic": "out_migration_domestic",
    "Net migration, domestic": "net_migration_domestic", "Emmigration": "emigration",
    "Net migration (not domestic)": "net_immigration",
    # 1972-2024 table
    "Immigration, total": "immigration", "Emigration, total": "emigration",
    # internal migration tables
    "Per 1000 mean population": "migration_rate", "Migrations": None,
    "Migration per 1000 mean population": "migration_rate",
    "Between municipalities": "internal_migration", "Within counties": "internal_migration_within_county",
    "Between six regions (2020-)": "internal_migration_between_regions",
}


@pytest.mark.parametrize(("label", "name"), [(k, v) for k, v in PAGE_002.items() if v])
def test_002_labels(seeds, label, name):
    text = next(seeds.glob("002_*.txt")).read_text(encoding="utf-8")
    assert label in text
    assert canonical_measure(label) == name


@pytest.mark.parametrize(
    ("label", "name", "extra"),
    [
        ("Norwegian citizens, immigration", "immigration", {"citizenship": "000"}),
        ("Norwegian citizens, emigration", "emigration", {"citizenship": "000"}),
        ("Foreign citizens, immigration", "immigration", {"citizenship": "foreign"}),
        ("Foreign citizens, emigration", "emigration", {"citizenship": "foreign"}),
        ("Immigration, total", "immigration", {}),
    ],
)
def test_002_labels_with_a_citizenship_inside(seeds, label, name, extra):
    text = next(seeds.glob("002_*.txt")).read_text(encoding="utf-8")
    assert label in text
    assert resolve_measure(label) == (name, extra)


PAGE_004 = {
    "Population at the beginning of the quarter": "population_start",
    "Births": "births",
    "Deaths": "deaths",
    "Excess of births": "excess_of_births",
    "Immigration": "immigration",
    "Emigration": "emigration",
    "Net migration, immigration and emigration incl": "net_migration",
    "Statistical adjustments": "adjustment",
    "Population growth": "growth",
    "Population at the end of the quarter": "population_end",
    "Net migration": "net_migration",
    "Change in percent": "change_percent",
}


def test_004_rows(seeds):
    text = next(seeds.glob("004_*.txt")).read_text(encoding="utf-8")
    for label, name in PAGE_004.items():
        assert label in text, label
        assert canonical_measure(label) == name, label


CSV_COLUMNS = {
    "county_annual_changes_2011_partial.csv": {
        "pop_1_jan_2011": ("population_start", {"time": "2011-01-01"}),
        "births": ("births", {}), "deaths": ("deaths", {}),
        "excess_of_births": ("excess_of_births", {}),
        "in_migration_total": ("in_migration", {}),
        "in_migration_from_abroad": ("immigration", {}),
        "out_migration_total": ("out_migration", {}),
        "out_migration_to_abroad": ("emigration", {}),
        "net_migration": ("net_migration", {}),
        "population_growth_fn1": ("growth", {}),
        "pop_1_jan_2012": ("population_end", {"time": "2012-01-01"}),
    },
    "immigration_emigration_by_citizenship_group_2018.csv": {
        "immigration_2018": ("immigration", {"time": "2018"}),
        "emigration_2018": ("emigration", {"time": "2018"}),
        "net_immigration_2018": ("net_immigration", {"time": "2018"}),
        "net_immigration_2017": ("net_immigration", {"time": "2017"}),
    },
    "national_quarterly_changes_2012K4-2021K1.csv": {
        "pop_start": ("population_start", {}), "births": ("births", {}),
        "deaths": ("deaths", {}), "excess_of_births": ("excess_of_births", {}),
        "immigration": ("immigration", {}), "emigration": ("emigration", {}),
        "net_migration": ("net_migration", {}),
        "statistical_adjustment": ("adjustment", {}),
        "population_growth": ("growth", {}), "pop_end": ("population_end", {}),
    },
}
NOT_MEASURES = {"region_code", "region", "source_url", "label", "role", "quarter", "source_language"}


@pytest.mark.parametrize("name", sorted(CSV_COLUMNS))
def test_csv_columns(ssb, name):
    with (ssb / name).open(encoding="utf-8") as f:
        header = next(csv.reader(f))
    expected = CSV_COLUMNS[name]
    assert set(header) == set(expected) | (set(header) & NOT_MEASURES)
    for col in header:
        if col in NOT_MEASURES:
            assert resolve_measure(col) is None, col
        else:
            assert resolve_measure(col) == expected[col], col


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ("Levendefødte", "births"), ("Fødte", "births"), ("Live births", "births"),
        ("Døde", "deaths"), ("Fødselsoverskot", "excess_of_births"),
        ("Fødselsoverskudd", "excess_of_births"), ("Innvandring", "immigration"),
        ("Utvandring", "emigration"), ("Innflytting", "in_migration_domestic"),
        ("Utflytting", "out_migration_domestic"), ("Nettoinnflytting", "net_migration"),
        ("Nettoinnvandring", "net_immigration"), ("Statistiske justeringer", "adjustment"),
        ("Folketilvekst", "growth"), ("Folketallet ved utgangen av kvartalet", "population_end"),
        ("Folkemengde", "population"), ("Population", "population"),
        ("pop_start", "population_start"), ("pop_end", "population_end"),
        ("net_immigration_2018", "net_immigration"),
    ],
)
def test_norwegian_and_other_aliases(label, name):
    assert canonical_measure(label) == name


@pytest.mark.parametrize(
    "variant",
    ["  births ", "BIRTHS", "Births¹", "Births ¹", "Births 1", "fodte2", "Births\u00a0"],
)
def test_matching_is_case_space_and_marker_insensitive(variant):
    assert canonical_measure(variant) == "births"


def test_codes_are_not_stripped_of_their_digits():
    assert canonical_measure("Fodte") is None
    assert canonical_measure("Folketallet11") == "population_end"
    assert canonical_measure("Folketallet1") == "population_start"


def test_unknown_is_none():
    assert canonical_measure("Males") is None
    assert resolve_measure("source_url") is None


def test_measure_info():
    m = measure_info("out_migration_domestic")
    assert m.kind == "flow" and not m.may_be_negative
    assert "Fraflytting8" in [a.text for a in m.aliases]
    assert m.label_en == "Out-migration, domestic" and m.label_no == "Utflytting"
    assert measure_info("Fodte2").name == "births"
    with pytest.raises(KeyError):
        measure_info("nonsense")


def test_negativity_by_kind():
    cat = measures()
    may = {n for n, m in cat.items() if m.may_be_negative}
    assert {"net_migration", "net_migration_domestic", "net_immigration", "excess_of_births",
            "growth", "adjustment"} <= may
    for n in ("births", "deaths", "immigration", "emigration", "in_migration_domestic",
              "out_migration_domestic", "population", "population_start", "population_end"):
        assert n not in may
    assert all(cat[n].kind in ("net", "ratio") for n in may)
    assert all(cat[n].description_en and cat[n].description_no for n in cat)


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        ({"measure": []}, "measures"),
        ({"measures": [{"kind": "flow"}]}, "measures[0]"),
        ({"measures": [{"name": "x", "kind": "flux"}]}, "measures[0].kind"),
        ({"measures": [{"name": "x", "kind": "flow", "aliases": [{"extra": {}}]}]}, "measures[0].aliases[0]"),
        ({"measures": [{"name": "x", "kind": "flow", "may_be_negative": "no"}]}, "measures[0].may_be_negative"),
    ],
)
def test_malformed_measures_yaml(doc, where):
    with pytest.raises(RuleError) as e:
        parse_measures(yaml.safe_load(yaml.safe_dump(doc)), source="m.yaml")
    assert e.value.where == where
    assert "m.yaml" in str(e.value)
