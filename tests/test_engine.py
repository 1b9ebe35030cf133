"""The rules and engine on the real SSB tables: no false alarms, every injected error found.

Real tables hold SSB's conventions: Q4 and whole-year growth differ from its components by
an unpublished statistical adjustment (info, not error); the 2011 county excerpt shows only
14 counties (a bound, not an equality); `.` cells are no cells.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import migaudit
from migaudit.engine.dense import evaluate
from migaudit.model.cube import Cube
from migaudit.model.table import Dimension, Table
from migaudit.rules.ruleset import load_rules

F01222 = "01222_municipalities_2014K3-2016K3.jsonstat1.json"
NATIONAL = "national_quarterly_changes_2012K4-2021K1.csv"
COUNTY = "county_annual_changes_2011_partial.csv"


@pytest.fixture(scope="module")
def rules():
    return load_rules()


@pytest.fixture(scope="module")
def t01222(ssb):
    return migaudit.read(ssb / F01222)[0]


def _copy(t: Table) -> Table:
    return t.with_meta(values=t.values.copy(), symbols=t.symbols.copy())


def test_real_ssb_files_have_no_errors(ssb, seeds, rules):
    r = migaudit.audit([ssb, seeds / "000_bde9bdc2cd03acc2.txt", seeds / "001_9afe6c9cbe8ed332.txt"], rules)
    errors = [v for v in r.violation_list if v.severity != "info"]
    assert errors == []
    s = r.summary()
    # every family of rule found something to check on the real tables
    for rule in ("excess_of_births", "net_migration_components", "growth_q1_q3", "growth_q4_year",
                 "end_follows_growth", "start_is_previous_end", "domestic_moves_conserved",
                 "citizenship_hierarchy", "regions_sum_to_total", "counts_non_negative", "same_figure",
                 "parts_match_whole"):
        assert s[s.rule == rule].checked.sum() > 0, rule
    assert r.ok


def test_q4_residuals_are_the_statistical_adjustment(ssb, rules):
    """SSB: nationally −164 (2012K4), +175 (2017K4), +283 (2018K4); published from 2019K4 and closing."""
    r = migaudit.audit([ssb / NATIONAL], rules)
    infos = {v.where["quarter"]: v.imbalance for v in r.violation_list if v.rule == "growth_q4_year"}
    assert infos == {"2012K4": -164, "2017K4": 175, "2018K4": 283}
    s = r.summary().set_index("rule")
    assert s.loc["growth_q4_year", "checked"] == 5  # 2019K4 and 2020K4 close with the published row
    assert s.loc["growth_q1_q3", "failed"] == 0


def test_municipal_q4_residuals_sum_to_national(t01222, rules):
    """Summed over municipalities, the implied adjustments are −75 (2014K4) and +122 (2015K4)."""
    out = evaluate(rules.get("growth_q4_year"), Cube.of(t01222))
    by_quarter: dict[str, float] = {}
    for v in out.violations:
        assert v.severity == "info"
        by_quarter[v.where["Tid"]] = by_quarter.get(v.where["Tid"], 0) + v.imbalance
    assert by_quarter == {"2014K4": -75, "2015K4": 122}


def test_county_2011_whole_year_residual_and_partial_counties(ssb, rules):
    r = migaudit.audit([ssb / COUNTY], rules, cross_table=False)
    national = [v for v in r.violation_list if v.rule == "growth_q4_year" and v.where["region"] == "Hele landet"]
    assert [v.imbalance for v in national] == [-294]
    s = r.summary().set_index("rule")
    assert s.loc["regions_sum_to_total", "failed"] == 0  # 14 of 19 counties: a bound only


def test_dot_cells_are_no_cells(t01222, rules):
    """The two discontinued municipalities are all `.`: no instances, neither checked nor skipped."""
    out = evaluate(rules.get("excess_of_births"), Cube.of(t01222))
    assert out.checked == 428 * 9 and out.skipped == 0


def test_unknown_cells_are_skipped_never_passed(t01222, rules):
    t = _copy(t01222)
    t.values[10, 0, 4] = np.nan
    t.symbols[10, 0, 4] = migaudit.model.symbols.CODE[".."] if hasattr(migaudit, "symbols") else 3
    out = evaluate(rules.get("excess_of_births"), Cube.of(t))
    assert out.skipped == 1 and out.checked == 428 * 9 - 1 and out.failed == 0


def test_suppressed_children_give_a_bound(ssb, rules):
    """The May 2018 export: three counties are `:` while the country is published."""
    t = migaudit.read(ssb / "statbank_export_nationality_by_county_2018-05.csv")[0]
    out = evaluate(rules.get("regions_sum_to_total"), Cube.of(t))
    assert out.failed == 0 and out.checked > 0
    bad = _copy(t)
    total = bad.dim("region").codes.index(next(c for c, lab in zip(bad.dim("region").codes, bad.dim("region").labels, strict=True) if "whole" in lab.lower()))
    bad.values[total, 0] = 100  # far below what the published counties already sum to
    out = evaluate(rules.get("regions_sum_to_total"), Cube.of(bad))
    assert out.failed == 1


def _violations_at(result, table_id):
    return [v for v in result.violation_list if v.table == table_id and v.severity != "info"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_injected_error_in_01222_is_found_at_its_cell(t01222, rules, data):
    t = _copy(t01222)
    region = data.draw(st.sampled_from([i for i in range(430) if t.symbols[i, 0, 0] == 0]))
    measure = data.draw(st.integers(0, 9))
    quarter = data.draw(st.integers(0, 8))
    delta = data.draw(st.sampled_from([-1000, -7, -1, 1, 3, 250]))
    t.values[region, measure, quarter] += delta
    r = migaudit.audit([t], rules, cross_table=False)
    found = _violations_at(r, t.id)
    assert found, "an error in any published cell must break a rule"
    cell = (region, measure, quarter)
    assert any(any(idx == cell for _, idx, _ in v.cells) for v in found)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_injected_error_in_printed_two_way_table_is_named(seeds, rules, data):
    """A wrong interior cell breaks its row sum and its column sum: name that cell."""
    t = migaudit.read(seeds / "001_9afe6c9cbe8ed332.txt")[0]
    rows = [i for i, lab in enumerate(t.dim("citizenship").labels)
            if lab in ("Poland", "Sweden", "Eritrea", "India", "USA", "Brazil", "Australia")]
    row = data.draw(st.sampled_from(rows))
    col = data.draw(st.integers(1, 7))
    delta = data.draw(st.sampled_from([-9, 1, 2, 100]))
    t.values[row, col] += delta
    r = migaudit.audit([t], rules, cross_table=False)
    found = _violations_at(r, t.id)
    expected = {"regions_sum_to_total", "citizenship_hierarchy"}
    if t.values[row, col] < 0:
        expected.add("counts_non_negative")  # the injected error made a negative count
    assert {v.rule for v in found} == expected
    for v in found:
        assert v.suspects, v
        s = v.suspects[0]
        assert s["where"]["citizenship"] == t.dim("citizenship").labels[row]
        assert s["where"]["region"] == t.dim("region").labels[col]
        assert s["suggested"] == s["actual"] - delta


def test_growth_error_is_localized_not_its_neighbours(t01222, rules):
    t = _copy(t01222)
    t.values[12, 8, 2] += 5  # growth, 2015K1 (Q1: growth = excess + net)
    r = migaudit.audit([t], rules, cross_table=False)
    found = _violations_at(r, t.id)
    assert {v.rule for v in found} == {"growth_q1_q3", "end_follows_growth"}
    suspect = found[0].suspects[0]
    assert suspect["where"]["ContentsCode"] == "Population growth" and suspect["suggested"] == suspect["actual"] - 5


def test_cross_table_figures_must_agree(ssb, seeds, rules):
    """Immigration 2011 is in table 11 (79 498) and in the 2011 county table; break one."""
    t11 = migaudit.read(seeds / "001_9afe6c9cbe8ed332.txt")[0]
    county = migaudit.read(ssb / COUNTY)[0]
    ok = migaudit.audit([t11, county], rules)
    s = ok.summary()
    assert s[s.rule == "same_figure"].passed.sum() >= 1
    bad = _copy(county)
    bad.values[0, bad.dim("contents").codes.index("in_migration_from_abroad")] += 1
    r = migaudit.audit([t11, bad], rules)
    cross = [v for v in r.violation_list if v.rule == "same_figure"]
    assert len(cross) == 1 and abs(cross[0].imbalance) == 1 and cross[0].other is not None


def test_municipalities_add_up_to_national_pages(ssb, t01222, rules):
    national = migaudit.read(ssb / NATIONAL)[0]
    r = migaudit.audit([t01222, national], rules)
    s = r.summary()
    parts = s[s.rule == "parts_match_whole"]
    assert parts.checked.sum() >= 50 and parts.failed.sum() == 0
    bad = _copy(t01222)
    bad.values[40, 0, 2] += 3  # Oslo births 2015K1: national births no longer match
    r = migaudit.audit([bad, national], rules)
    cross = [v for v in r.violation_list if v.rule == "parts_match_whole"]
    assert any(abs(v.imbalance) == 3 for v in cross)


def test_user_written_hierarchy_for_unknown_grouping(tmp_path):
    """A 2007-style table grouping Europe into Western and Eastern Europe: a few lines of YAML."""
    labels = ["Total", "Western Europe", "Sweden", "Denmark", "Eastern Europe", "Poland", "Latvia"]
    total = [100, 60, 40, 20, 40, 30, 10]
    oslo = [50, 30, 20, 10, 20, 15, 5]
    vals = np.array([total, oslo, [a - b for a, b in zip(total, oslo, strict=True)]], dtype=float).T
    t = Table([Dimension("citizenship", tuple(labels), role="citizenship"),
               Dimension("region", ("Total", "Oslo", "Rest of the country"), role="region")],
              vals, np.zeros(vals.shape), id="eu2007", meta={"measure": "Immigration", "reference_period": "2007"})
    rules_file = tmp_path / "europe2007.yaml"
    rules_file.write_text(
        "family: europe_2007\nrules:\n"
        "  - id: europe_2007\n    kind: hierarchy\n    along: citizenship\n    groups:\n"
        "      - {parent: Total, children: [Western Europe, Eastern Europe]}\n"
        "      - {parent: Western Europe, children: [Sweden, Denmark]}\n"
        "      - {parent: Eastern Europe, children: [Poland, Latvia]}\n", encoding="utf-8")
    rs = load_rules(rules_file)
    r = migaudit.audit([t], rs)
    s = r.summary().set_index("rule")
    assert s.loc["europe_2007", "checked"] == 9 and r.ok
    t.values[5, 1] += 1  # Poland in Oslo
    r = migaudit.audit([t], rs)
    # the shipped continent classification also sees Total < Sweden + Denmark + Poland + Latvia
    assert {v.rule for v in r.violation_list} == {"europe_2007", "regions_sum_to_total", "citizenship_hierarchy"}
    assert all(s["where"] == {"citizenship": "Poland", "region": "Oslo", "contents": "Immigration", "time": "2007"}
               for v in r.violation_list for s in v.suspects[:1])


@pytest.mark.parametrize("text, fragment", [
    ("family: x\nrules:\n  - id: a\n    kind: idenity\n    expr: a = b\n", "unknown rule kind"),
    ("family: x\nrules:\n  - id: a\n    kind: identity\n    expr: a = b = c\n", "exactly one '='"),
    ("family: x\nrules:\n  - id: a\n    kind: identity\n    expr: a = b * \n", "unexpected"),
    ("family: x\nrules:\n  - id: a\n    kind: identity\n    expr: a = + \n", "cannot read"),
    ("family: x\nrules:\n  - id: a\n    kind: identity\n", "needs 'expr'"),
    ("family: x\nrules:\n  - id: a\n    kind: identity\n    expr: a = b\n    severity: fatal\n", "unknown severity"),
    ("family: x\nrules:\n  - id: a\n    kind: hierarchy\n    along: region\n", "exactly one of"),
    ("family: x\nrules: [\n", "malformed YAML"),
    ("family: x\nrules:\n  - id: a\n    kind: sign\n  - id: a\n    kind: sign\n", "duplicate rule id"),
])
def test_bad_rule_files_name_file_and_place(tmp_path, text, fragment):
    f = tmp_path / "bad.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(migaudit.RuleError) as e:
        load_rules(f)
    assert fragment in str(e.value) and "bad.yaml" in str(e.value)
    assert "line" in str(e.value)


def test_quarters_sum_to_the_year_for_flows(rules):
    periods = ("2015K1", "2015K2", "2015K3", "2015K4", "2015")
    births = [14074.0, 15807.0, 15962.0, 13000.0]
    deaths = [11526.0, 9655.0, 9371.0, 10000.0]
    vals = np.array([[*births, sum(births)], [*deaths, sum(deaths)]]).T
    t = Table([Dimension("time", periods, role="time"), Dimension("contents", ("Births", "Deaths"), role="measure")],
              vals, np.zeros(vals.shape), id="q")
    out = evaluate(rules.get("quarters_sum_to_year"), Cube.of(t))
    assert out.checked == 2 and out.failed == 0
    t.values[1, 1] += 4  # deaths 2015K2
    out = evaluate(rules.get("quarters_sum_to_year"), Cube.of(t))
    assert out.failed == 1 and out.violations[0].where == {"time": "2015", "contents": "Deaths"}
    assert out.violations[0].imbalance == -4


def test_end_of_a_quarter_is_the_start_of_the_next(ssb, rules):
    t = migaudit.read(ssb / NATIONAL)[0]
    start = t.dim("contents").codes.index("pop_start")
    q = t.dim("quarter").codes.index("2015K2")
    t.values[q, start] += 10
    r = migaudit.audit([t], rules, cross_table=False)
    rules_hit = {v.rule for v in r.violation_list if v.severity == "error"}
    assert rules_hit == {"start_is_previous_end", "end_is_start_plus_growth"}
    suspects = {(s["where"]["quarter"], s["where"]["contents"]) for v in r.violation_list for s in v.suspects}
    assert suspects == {("2015K2", "pop_start")}
