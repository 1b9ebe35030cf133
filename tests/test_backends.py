"""The engine, pandera and Great Expectations backends give the same verdicts from one rule definition.

Same violations (rule, table, cell keys, imbalance, severity) on the real SSB tables with
injected errors and on hypothesis-generated ones; pandera schemas survive YAML; the GX
suites in expectations/gx/ are current and run in an ephemeral context. GX tests share one
context (module-scoped fixture) and keep their examples few: GX is slow.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import migaudit
from migaudit.backends import pandera as mpa
from migaudit.backends.testing import corrupted, hierarchy_tables, population_changes_tables
from migaudit.model.table import Table
from migaudit.rules.ruleset import load_rules
from migaudit.runner import audit, run_audit

ROOT = Path(__file__).resolve().parents[1]
RULES = load_rules()
J01222 = "01222_five_regions_DERIVED.jsonstat2.json"
PRINTED = ("000_bde9bdc2cd03acc2.txt", "001_9afe6c9cbe8ed332.txt")


def verdicts(result) -> list[tuple]:
    """What must agree across backends: rule, table, cell keys, imbalance, severity."""
    return sorted((v.rule, v.table, tuple(sorted(v.codes.items())), round(v.imbalance, 9), v.severity)
                  for v in result.violation_list)


def inject(table: Table, delta: float = 7.0, **keys: str) -> Table:
    """A copy of `table` with `delta` added to the cell at these codes or labels."""
    values = table.values.copy()
    idx = tuple(d.codes.index(keys[d.name]) if keys[d.name] in d.codes else d.labels.index(keys[d.name])
                for d in table.dimensions)
    values[idx] += delta
    return Table(table.dimensions, values, table.symbols.copy(), id=table.id, title=table.title,
                 source=table.source, unit=table.unit, decimals=table.decimals, meta=dict(table.meta))


@pytest.fixture(scope="module")
def t01222(ssb: Path) -> Table:
    return migaudit.read(ssb / J01222)[0]


@pytest.fixture(scope="module")
def printed(seeds: Path) -> list[Table]:
    return [migaudit.read(seeds / name)[0] for name in PRINTED]


def _cases(t01222: Table, printed: list[Table]) -> list[Table]:
    emig, immig = printed
    return [
        inject(t01222, Region="0301", ContentsCode="Fodte2", Tid="2015K2"),           # births → excess
        inject(t01222, -3, Region="1103", ContentsCode="Folketallet11", Tid="2015K1"),  # end → chain
        inject(t01222, 11, Region="0101", ContentsCode="Tilflytting7", Tid="2014K4"),  # domestic in
        inject(emig, 5, citizenship="Sweden", region="Western Norway"),                # leaf: row and column
        inject(immig, -2, citizenship="Total", region="Trøndelag"),                    # a total
    ]


# --- pandera -------------------------------------------------------------------------------
def test_pandera_same_verdicts_on_real_tables(t01222, printed):
    for table in [t01222, *printed, *_cases(t01222, printed)]:
        native = audit([table], RULES)
        via = mpa.audit_with([table], RULES)
        assert verdicts(via) == verdicts(native), table.id
        assert via.to_dict() == native.to_dict()
    assert [v.severity for v in audit([t01222], RULES).violation_list] == ["info"] * 8


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corrupted(st.one_of(population_changes_tables(max_periods=5), hierarchy_tables())))
def test_pandera_same_verdicts_on_generated_tables(case):
    clean, bad, _ = case
    for table in (clean, bad):
        assert verdicts(mpa.audit_with([table], RULES, cross_table=False)) == \
            verdicts(audit([table], RULES, cross_table=False))


def test_pandera_failure_cases_name_rule_cell_and_imbalance(t01222):
    bad = inject(t01222, Region="0301", ContentsCode="Fodte2", Tid="2015K2")
    schema = mpa.schema_for(RULES, bad, fail_on="warning")
    schema.validate(t01222.frame(), lazy=True)  # info findings (Q4 adjustments) do not fail
    with pytest.raises(mpa.SchemaErrors) as err:
        schema.validate(bad.frame(), lazy=True)
    fc = err.value.failure_cases
    assert list(fc["check"]) == ["migaudit rule excess_of_births"]
    assert fc["failure_case"].iloc[0] == {"Region": "0301", "ContentsCode": "Fodselsoverskudd4", "Tid": "2015K2",
                                          "value": 1728.0}
    report = mpa.failure_report(err.value)
    assert report[["rule", "imbalance", "expected"]].values.tolist() == [["excess_of_births", -7.0, 1735.0]]


def test_pandera_schema_survives_yaml(t01222, printed):
    for clean in (t01222, printed[0]):
        schema = mpa.schema_for(RULES, clean, fail_on="warning")
        again = mpa.pa.DataFrameSchema.from_yaml(schema.to_yaml())
        assert [c.statistics for c in again.checks] == [c.statistics for c in schema.checks]
        assert [c.error for c in again.checks] == [c.error for c in schema.checks]
        again.validate(clean.frame(), lazy=True)
    bad = inject(printed[0], 5, citizenship="Sweden", region="Western Norway")
    with pytest.raises(mpa.SchemaErrors) as err:
        again.validate(bad.frame(), lazy=True)
    report = mpa.failure_report(err.value)
    assert sorted(report["rule"]) == ["citizenship_hierarchy", "regions_sum_to_total"]
    assert set(report["imbalance"]) == {-5.0}  # the parents now fall short of their parts


def test_pandera_wide_form_and_models(t01222, printed):
    wide = mpa.wide_frame(t01222)
    mpa.schema_for(RULES, t01222, form="wide", fail_on="warning").validate(wide, lazy=True)
    bad = mpa.wide_frame(inject(t01222, Region="0301", ContentsCode="Fodte2", Tid="2015K2"))
    with pytest.raises(mpa.SchemaErrors) as err:
        mpa.schema_for(RULES, t01222, form="wide", fail_on="warning").validate(bad, lazy=True)
    assert mpa.failure_report(err.value)["keys"].tolist() == [
        {"Region": "0301", "Tid": "2015K2", "excess_of_births": 1728.0}]
    model_frame = mpa.wide_frame(t01222, role_names=True)
    mpa.PopulationChangesWide.validate(model_frame, lazy=True)
    model_frame.loc[0, "deaths"] = -1.0
    with pytest.raises(mpa.SchemaErrors):
        mpa.PopulationChangesWide.validate(model_frame, lazy=True)
    mpa.MigrationByCitizenshipLong.validate(printed[1].frame(), lazy=True)
    with pytest.raises(mpa.SchemaErrors):
        mpa.MigrationByCitizenshipLong.validate(inject(printed[1], 1, citizenship="Iraq", region="Total").frame(), lazy=True)


def test_backend_option_on_the_example_release():
    """`migaudit audit --backend pandera` prints the same report on the bundled release (GX too, but slowly)."""
    from migaudit.cli import example_release

    release = [example_release()]
    assert run_audit(release, [], backend="pandera").to_dict() == run_audit(release, [], backend="native").to_dict()


# --- Great Expectations --------------------------------------------------------------------
@pytest.fixture(scope="module")
def gx_context():
    pytest.importorskip("great_expectations")
    from migaudit.backends import gx as mgx

    return mgx.ephemeral_context()


def test_importing_gx_module_does_not_import_great_expectations():
    code = "import sys, migaudit.backends.gx; print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_gx_same_verdicts_on_real_tables(gx_context, t01222, printed):
    from migaudit.backends import gx as mgx

    for table in [t01222, *_cases(t01222, printed)]:
        native = audit([table], RULES)
        via = mgx.audit_with([table], RULES, context=gx_context)
        assert verdicts(via) == verdicts(native), table.id
        assert via.to_dict() == native.to_dict()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(case=corrupted(st.one_of(population_changes_tables(max_regions=3, max_periods=4), hierarchy_tables())))
def test_gx_same_verdicts_on_generated_tables(gx_context, case):
    from migaudit.backends import gx as mgx

    _, bad, _ = case
    assert verdicts(mgx.audit_with([bad], RULES, cross_table=False, context=gx_context)) == \
        verdicts(audit([bad], RULES, cross_table=False))


def test_gx_suites_are_current(gx_context, tmp_path):
    from migaudit.backends import gx as mgx

    written = mgx.export_suites(tmp_path, RULES)
    stored = sorted(p.name for p in (ROOT / "expectations" / "gx").glob("*.json"))
    assert sorted(p.name for p in written) == stored, "run `migaudit export gx` to regenerate"
    for p in written:
        assert p.read_text(encoding="utf-8") == (ROOT / "expectations" / "gx" / p.name).read_text(encoding="utf-8"), \
            f"expectations/gx/{p.name} is stale: run `migaudit export gx`"


def test_gx_stored_suite_runs_on_pandas_frames(gx_context, t01222):
    from migaudit.backends import gx as mgx
    from migaudit.model.cube import Cube

    suite = mgx.load_suite(ROOT / "expectations" / "gx" / "population_changes.json")
    assert {e.severity for e in suite.expectations} == {"critical", "info"}
    bad = inject(t01222, Region="0301", ContentsCode="Fodte2", Tid="2015K2")
    pop_rules = [r for r in RULES if r.family == "population_changes"]
    instances, _ = mgx.instances_frame(Cube.of(bad), pop_rules)
    cells = mgx.cells_frame(bad)
    cells.loc[0, "value"] = -5.0  # a negative count: GX's own between-expectation sees it
    results = mgx.run_suite(suite, cells, instances, gx_context)
    failed_cells = [r.expectation_config.type for r in results["cells"].results if not r.success]
    assert failed_cells == ["expect_column_values_to_be_between"]
    failed = {(r.expectation_config.meta["rule"], r.expectation_config.severity): r.result["unexpected_count"]
              for r in results["instances"].results if not r.success}
    assert failed == {("excess_of_births", "critical"): 1, ("growth_q4_year", "info"): 8}
    doc = json.loads((ROOT / "expectations" / "gx" / "population_changes.json").read_text(encoding="utf-8"))
    assert doc["name"] == "migaudit.population_changes"


def test_gx_cells_frame_shapes(printed):
    from migaudit.backends import gx as mgx

    f = mgx.cells_frame(printed[0])
    assert len(f) == printed[0].size and set(f["measure"]) == {"emigration"}
    assert isinstance(f, pd.DataFrame) and f["value"].dtype == np.float64
