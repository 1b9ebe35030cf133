"""migaudit.backends.testing: generated tables satisfy the rules, corruptions are found where they were made,
and generated tables survive the tidy and PX writers."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migaudit.backends.testing import (
    corrupt,
    corrupted,
    hierarchy_tables,
    involves,
    population_changes_tables,
)
from migaudit.readers import read_table, tidy
from migaudit.rules.ruleset import load_rules
from migaudit.runner import audit

RULES = load_rules()
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _findings(table):
    return audit([table], RULES, cross_table=False)


@FAST
@given(population_changes_tables())
def test_population_tables_pass_every_rule(table):
    result = _findings(table)
    assert not [v for v in result.violation_list if v.severity != "info"], result.violations
    hidden = table.meta["hidden_adjustments"]
    for v in result.violation_list:  # info only for an unpublished Q4 adjustment, and exactly it
        assert v.rule.startswith("growth_q4_year")
        assert hidden[f"{v.codes['region']}|{v.codes['time']}"] == v.imbalance
    checked = {o.rule.id for o in result.outcomes if o.checked}
    assert {"excess_of_births", "net_migration_components", "counts_non_negative"} <= checked


@settings(max_examples=5, deadline=None)
@given(population_changes_tables(min_regions=3, max_regions=3, min_periods=4, adjustment="published",
                                 whole_country=True, start_population=False))
def test_population_tables_exercise_conservation_and_links(table):
    ids = {o.rule.id for o in _findings(table).outcomes if o.checked}
    assert {"domestic_moves_conserved", "end_follows_growth", "growth_q1_q3", "growth_q4_year",
            "regions_sum_to_total"} <= ids


@FAST
@given(hierarchy_tables())
def test_hierarchy_tables_pass_every_rule(table):
    result = _findings(table)
    assert not result.violation_list, result.violations
    checked = {o.rule.id for o in result.outcomes if o.checked}
    assert {"citizenship_hierarchy", "regions_sum_to_total"} <= checked


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corrupted(st.one_of(population_changes_tables(), hierarchy_tables())))
def test_every_corruption_is_reported_where_it_was_made(case):
    clean, bad, where = case
    hidden = clean.meta.get("hidden_adjustments", {})
    result = _findings(bad)
    new = [v for v in result.violation_list
           if v.severity != "info" or hidden.get(f"{v.codes.get('region')}|{v.codes.get('time')}") != v.imbalance]
    assert new, f"corruption at {where} (delta {bad.meta['delta']}) not reported"
    assert all(involves(v, where, bad, RULES.get(v.rule)) for v in new), [(v.rule, v.codes) for v in new]


@settings(max_examples=5, deadline=None)
@given(hierarchy_tables())
def test_corrupt_accepts_seeded_generators(table):
    a, where_a = corrupt(table, random.Random(3))
    b, where_b = corrupt(table, random.Random(3))
    c, _ = corrupt(table, np.random.default_rng(3), delta=7)
    assert where_a == where_b and a.equals(b) and not a.equals(table)
    assert np.nansum(c.values) == np.nansum(table.values) + 7


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=st.one_of(population_changes_tables(max_periods=4), hierarchy_tables()))
def test_tidy_round_trip(tmp_path, fmt, table):
    path = tmp_path / f"t.{fmt}"
    tidy.write(table, path, fmt)
    back = read_table(path)
    assert back.equals(table)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=st.one_of(population_changes_tables(max_periods=4), hierarchy_tables()))
def test_px_round_trip(tmp_path, table):
    px = pytest.importorskip("migaudit.readers.px")
    if not hasattr(px, "write_px"):
        pytest.skip("no PX writer")
    path = tmp_path / "t.px"
    px.write_px(table, path)
    back = read_table(path)
    assert [d.codes for d in back.dimensions] == [d.codes for d in table.dimensions]
    assert np.array_equal(back.values, table.values, equal_nan=True)
    assert np.array_equal(back.symbols, table.symbols)
