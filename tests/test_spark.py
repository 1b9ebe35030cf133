"""The Spark engine finds what the dense engine finds, and runs cubes the dense path refuses.

Local mode, two shuffle partitions, one SparkSession for the module; skipped cleanly when
pyspark or Java is missing. Each test batches its tables into one audit (one Spark job):
on a shared CI machine every job costs seconds of scheduling.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migaudit.backends.testing import (
    corrupted,
    hierarchy_tables,
    involves,
    population_changes_tables,
)
from migaudit.cli import example_release
from migaudit.errors import UsageError
from migaudit.readers.tidy import _meta
from migaudit.rules.ruleset import load_rules
from migaudit.runner import audit, run_audit

RULES = load_rules()


def verdicts(result) -> list[tuple]:
    """What must agree across engines: rule, table, cell keys, imbalance, severity."""
    return sorted((v.rule, v.table, tuple(sorted(v.codes.items())), round(v.imbalance, 9), v.severity)
                  for v in result.violation_list)


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime (apt-get install default-jre-headless)")
    from migaudit.engine.spark import session

    s = session("local[2]", app="migaudit-tests", partitions=2)
    yield s
    s.stop()


def test_cli_without_pyspark_names_the_extra(tmp_path):
    """`--engine spark` without pyspark: one line naming migaudit[spark], exit 2; import migaudit stays Spark-free."""
    code = ("import sys; sys.modules['pyspark'] = None\n"
            "import migaudit, migaudit.cli, migaudit.runner\n"
            "assert not any(m.startswith('pyspark') and sys.modules[m] for m in sys.modules)\n"
            "from migaudit.cli import main; sys.argv = ['migaudit', 'audit', '--engine', 'spark']; main()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "migaudit[spark]" in lines[0]


def test_example_release_same_report(spark):
    """Every rule, count, violation, suspect and cross-table check of the bundled release."""
    release = [example_release()]
    dense = run_audit(release, [])
    on_spark = run_audit(release, [], engine="spark")
    assert len(dense.violation_list) > 50
    assert verdicts(on_spark) == verdicts(dense)
    assert on_spark.to_dict() == dense.to_dict()
    assert [v.suspects for v in on_spark.violation_list] == [v.suspects for v in dense.violation_list]


@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(cases=st.lists(corrupted(st.one_of(population_changes_tables(max_periods=5), hierarchy_tables())),
                      min_size=4, max_size=4))
def test_generated_cubes_with_injected_errors(spark, cases):
    """Corrupted generated tables, half as tidy DataFrames and half as Tables, in one Spark job."""
    from migaudit.engine.spark import audit_frames

    items, bad_tables = [], []
    for i, (_clean, bad, _where) in enumerate(cases):
        bad.id = f"case{i}"
        bad_tables.append(bad)
        items.append((spark.createDataFrame(bad.frame()), _meta(bad), bad.id) if i % 2 else bad)
    got = audit_frames(items, RULES, cross_table=False, spark=spark)
    want = audit(bad_tables, RULES, cross_table=False)
    assert verdicts(got.result) == verdicts(want)
    assert got.result.summary().equals(want.result.summary() if hasattr(want, "result") else want.summary())
    for (_clean, bad, where) in cases:  # every corruption is found where it was made
        hits = [v for v in got.result.violation_list if v.table == bad.id and v.severity != "info"
                and involves(v, where, bad, RULES.get(v.rule) if v.rule in {r.id for r in RULES} else None)]
        assert hits, (bad.id, where)
    rows = got.findings.collect()
    assert sorted((r["rule"], r["table"], round(r["imbalance"], 9)) for r in rows) == \
        sorted((v.rule, v.table, round(v.imbalance, 9)) for v in want.violation_list)


def test_register_cube_over_the_dense_cap(spark, tmp_path):
    """A partitioned register cube whose dense arrays exceed the cap: refused dense, audited on Spark.

    The same cube collected without a cap (it is kept small enough for that) gives the dense
    engine's verdicts to compare with; the injected cells are named as suspects.
    """
    from migaudit.backends import register_cube as rc
    from migaudit.engine.spark import audit_spark, prepare, read_parquet, to_dense

    cube = rc.generate(regions=80, ages=60, quarters=4, seed=3)
    injected = rc.inject(cube, n=2, seed=5)
    root = rc.write_parquet(cube, tmp_path / "register")
    cap = 150_000  # cells: kept low so that CI stays fast; the mechanism is the same at any size
    assert cube.dense_cells() > 3 * cap > len(cube)
    df, meta = read_parquet(spark, root)
    found = audit_spark(df, RULES, spark=spark, meta=meta, max_driver_cells=cap)
    with pytest.raises(UsageError, match="--engine spark"):
        to_dense(prepare(df, meta), max_cells=cap)
    dense_table = to_dense(prepare(df, meta), max_cells=None)
    want = audit([dense_table], RULES, cross_table=False)
    assert verdicts(found.result) == verdicts(want)
    assert {o.rule.id for o in found.result.outcomes if o.checked} >= {
        "excess_of_births", "regions_sum_to_total", "sexes_sum_to_total", "ages_sum_to_total",
        "start_is_previous_end", "end_is_start_plus_growth", "counts_non_negative"}
    suspects = {tuple(sorted(s["where"].items())) for v in found.result.violation_list for s in v.suspects}
    for inj in injected:
        where = {d.name: d.labels[d.codes.index(inj.where[d.name])] for d in dense_table.dimensions}
        assert tuple(sorted(where.items())) in suspects
    assert any("cross-table checks not run" in why for _, why in found.result.ignored)
