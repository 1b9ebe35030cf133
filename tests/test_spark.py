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


def cross(result) -> list[tuple]:
    """The cross-table outcomes as the reports show them."""
    return [(o.rule.id, o.table, o.checked, o.passed, o.failed,
             [(v.where, v.other, v.expected, v.actual, v.cells) for v in o.violations])
            for o in result.outcomes if o.rule.kind == "cross_table"]


def test_example_release_same_report(spark, monkeypatch):
    """Every rule, count, violation, suspect and cross-table check of the bundled release;
    the cross-table checks as a Spark join of canonical keys (not the driver's dense copies)."""
    from functools import partial

    from migaudit.engine import spark as engine

    monkeypatch.setattr(engine, "audit_with", partial(engine.audit_with, spark=spark, cross_table_on="spark"))
    release = [example_release()]
    dense = run_audit(release, [])
    on_spark = run_audit(release, [], engine="spark")
    assert len(cross(dense)) > 10 and any(o[0] == "parts_match_whole" for o in cross(dense))
    assert cross(on_spark) == cross(dense)
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
    assert not any("cross-table" in why for _, why in found.result.ignored)  # one table: nothing to compare


def test_cross_table_join_over_the_driver_cap(spark, tmp_path):
    """Two register cubes that share every figure but one, one over the driver cap: the Spark
    join of canonical keys reports what the dense engine's cross-table check reports."""
    from migaudit.backends import register_cube as rc
    from migaudit.engine.crosstable import cross_table_outcomes
    from migaudit.engine.spark import cross_table_spark, prepare, read_parquet, to_dense
    from migaudit.model.cube import Cube

    cap = 150_000
    big = rc.generate(regions=80, ages=60, quarters=4, seed=3)
    small = rc.generate(regions=80, ages=60, quarters=4, seed=3)
    changed = rc.inject(small, n=1, seed=7)[0]
    prepared = []
    for cube, tid in ((big, "register_a"), (small, "register_b")):
        df, meta = read_parquet(spark, rc.write_parquet(cube, tmp_path / tid, table_id=tid))
        prepared.append(prepare(df, meta))
    with pytest.raises(UsageError, match="--engine spark"):
        to_dense(prepared[0], max_cells=cap)
    got = cross_table_spark(prepared)
    want = cross_table_outcomes([Cube.of(to_dense(p, max_cells=None)) for p in prepared])
    assert [(o.rule.id, o.table, o.checked, o.failed) for o in got] == \
        [(o.rule.id, o.table, o.checked, o.failed) for o in want]
    assert got[0].checked > 10_000 and got[0].failed == 1
    assert [vars(v) for o in got for v in o.violations] == [vars(v) for o in want for v in o.violations]
    (v,) = got[0].violations
    assert v.codes == changed.where and v.actual - v.expected == -changed.delta


@pytest.fixture()
def connect_server(tmp_path):
    """A local Spark Connect server (its own JVM) on a free port; stopped at the end."""
    import os
    import signal
    import socket
    import time

    for mod in ("grpc", "grpc_status", "google.protobuf", "zstandard"):
        pytest.importorskip(mod, reason=f"Spark Connect client needs {mod} (pip install 'migaudit[spark]')")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime (apt-get install default-jre-headless)")
    from pyspark.find_spark_home import _find_spark_home

    home = _find_spark_home()
    with socket.socket() as s:
        s.bind(("localhost", 0))
        port = s.getsockname()[1]
    log = open(tmp_path / "connect.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [f"{home}/bin/spark-submit", "--class", "org.apache.spark.sql.connect.service.SparkConnectServer",
         "--master", "local[2]", "--conf", f"spark.connect.grpc.binding.port={port}",
         "--conf", "spark.ui.enabled=false", "--conf", "spark.sql.shuffle.partitions=2"],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "SPARK_HOME": home}, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while True:
            assert proc.poll() is None, (tmp_path / "connect.log").read_text()[-2000:]
            try:
                socket.create_connection(("localhost", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "Spark Connect server did not open its port in 300 s"
                time.sleep(1)
        yield f"sc://localhost:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(60)
        log.close()


def test_spark_connect_same_as_local(spark, connect_server, tmp_path):
    """`SPARK_REMOTE=sc://... migaudit audit --engine spark` (a Spark Connect client: no JVM in
    the process, DataFrame API only) reports what local mode reports, Parquet and JSON-stat."""
    import json
    import os

    from migaudit.engine.spark import audit_with
    from migaudit.readers import read, tidy
    from migaudit.report import render

    src = example_release()
    release = tmp_path / "release"
    release.mkdir()
    for name in ("004-2_migration_by_citizenship_2021K2.json", "national_quarterly_changes_2012K4-2021K1.csv"):
        shutil.copy(src / name, release / name)
    tidy.write(read(src / "004-1_population_and_changes_2021K2.json")[0], release / "004-1.parquet", "parquet")
    local = json.loads(render(audit_with([release], RULES, spark=spark), "json"))
    out = subprocess.run([sys.executable, "-m", "migaudit.cli", "audit", "--engine", "spark", "--format", "json",
                          "--fail-on", "never", str(release)],
                         capture_output=True, text=True, env={**os.environ, "SPARK_REMOTE": connect_server})
    assert out.returncode == 0, out.stderr[-3000:]
    remote = json.loads(out.stdout)
    assert remote == local
    assert any(r["kind"] == "cross_table" and r["checked"] for r in remote["rules"])
    assert len(remote["tables"]) == 3 and remote["summary"] == local["summary"]
