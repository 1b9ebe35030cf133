"""The audit runner on a whole release: the bundled example, suggest → audit, migaudit.yaml."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import migaudit
import migaudit.runner
from migaudit.cli import cli, example_release
from migaudit.model.cube import Cube
from migaudit.readers import tidy
from migaudit.rules.ruleset import load_rule_file
from migaudit.rules.suggest import suggest, to_yaml

RELEASE = example_release()


@pytest.fixture(scope="module")
def release_json() -> dict:
    res = CliRunner().invoke(cli, ["audit", "--format", "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_bundled_release_passes_with_cross_table_checks(release_json):
    s = release_json["summary"]
    assert s["errors"] == 0 and s["warnings"] == 0 and s["tables"] >= 17
    cross = [r for r in release_json["rules"] if r["kind"] == "cross_table"]
    pairs = {r["table"] for r in cross if r["passed"]}
    # the examples: net migration 2024 in three tables, 2011 immigration/emigration,
    # the end of 2020K4 = population 1 January 2021, the end of 2021K1 = the start of 2021K2,
    # municipalities of 01222 add up to the national quarterly pages
    for pair in ("002-1 = 002-2", "002-1 = 002-3", "002-2 = 002-3", "002-3 = 11", "002-3 = 12",
                 "12 = county_annual_changes_2011_partial", "004-3 = national_quarterly_changes_2012K4-2021K1",
                 "004-1 = national_quarterly_changes_2012K4-2021K1"):
        assert pair in pairs, pair
    assert any(r["id"] == "parts_match_whole" and r["passed"] >= 50 for r in cross)
    assert all(r["failed"] == 0 for r in cross)


def test_known_inconsistency_is_shown_as_accepted(release_json):
    """SSB's 2015 row: emigration 37 474 ≠ 10 090 + 25 844; acknowledged in migaudit.yaml."""
    v = [v for v in release_json["violations"] if v["rule"] == "norwegian_plus_foreign_emigration"]
    assert len(v) == 1 and v[0]["severity"] == "info" and v[0]["imbalance"] == 1540
    assert v[0]["message"].startswith("accepted:")


def test_json_contract_fields(release_json):
    assert set(release_json) == {"migaudit", "tables", "rules", "violations", "not_applied", "warnings",
                                 "intervals", "summary"}
    assert {"table", "where", "codes", "symbol", "lower", "upper"} <= set(release_json["intervals"][0])
    assert release_json["warnings"] == []
    assert {"id", "title", "source", "family", "cells", "notes"} <= set(release_json["tables"][0])
    assert any(n.startswith("structure:") for t in release_json["tables"] for n in t["notes"])
    assert {"id", "table", "severity", "checked", "passed", "failed", "skipped", "assumed"} <= set(release_json["rules"][0])
    v = release_json["violations"][0]
    assert {"rule", "severity", "table", "where", "expected", "actual", "imbalance", "tolerance", "message",
            "suspects"} <= set(v)
    assert set(release_json["summary"]) == {"tables", "cells", "rules", "checked", "assumed", "errors", "warnings", "infos"}


def _release_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "release"
    shutil.copytree(RELEASE, dest)
    return dest


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_error_injected_into_any_release_table_is_found(tmp_path_factory, data):
    """Any table of the bundled release, any published count cell: exit 1 and the cell named.

    Not every published cell is bound by an exact check: rates (per 1000), 002-5's "within
    counties" and "between six regions" rows, 002-1's net 2023 column for the groups that do
    not add up to the total (EU27/EFTA includes Norway; bounds do not hold for net figures).
    Those tables are left out here; every cell of these is covered by an identity or a sum.
    """
    dest = _release_copy(tmp_path_factory.mktemp("r"))
    jsons = sorted(p for p in dest.glob("*.json") if p.name.startswith(("002-2", "002-3", "004-1", "004-4")))
    path = data.draw(st.sampled_from(jsons))
    t = migaudit.read(path)[0]
    cube = Cube.of(t)
    m_ax = cube.axis("measure")
    counts = np.ones(t.shape, dtype=bool)
    if m_ax is not None and m_ax < t.values.ndim:
        rate = np.array(["per_1000" in c or c == "change_percent" or "rate" in c for c in cube.canon[m_ax]])
        counts = ~np.broadcast_to(np.expand_dims(rate, [a for a in range(t.values.ndim) if a != m_ax]), t.shape)
    published = np.flatnonzero((t.symbols.ravel() == 0) & ~np.isnan(t.values.ravel()) & counts.ravel())
    flat = data.draw(st.sampled_from(list(published)))
    idx = np.unravel_index(flat, t.shape)
    t.values[idx] += 1000
    tidy.write(t, path, "json")
    r = migaudit.runner.run_audit([dest], [])
    errors = [v for v in r.violation_list if v.severity == "error"]
    assert errors and r.fails("error")
    cell = {d.name: d.labels[i] for d, i in zip(t.dimensions, idx, strict=True)}
    involved = [v for v in errors if v.table == t.id or (v.other or {}).get("table") == t.id]
    assert involved
    named = [s["where"] for v in involved for s in v.suspects] + [v.where for v in involved]
    named += [(v.other or {}).get("where", {}) for v in involved]
    assert any(all(w.get(k) == val for k, val in cell.items()) for w in named), (cell, involved[:2])


def test_suggest_then_audit_next_release(seeds, tmp_path):
    """Learn rules from the trusted table 11 and catch an error in a corrupted copy with them."""
    t = migaudit.read(seeds / "001_9afe6c9cbe8ed332.txt")[0]
    learnt = suggest(t)
    ids = {r.id for r in learnt}
    assert "suggested_citizenship_subtotals" in ids and "suggested_region_total" in ids
    f = tmp_path / "rules.yaml"
    f.write_text(to_yaml(learnt, "learnt", "from 2011"), encoding="utf-8")
    reread = load_rule_file(f)
    assert {r.id for r in reread} == ids
    bad = t.with_meta(values=t.values.copy())
    bad.values[bad.dim("citizenship").index("Eritrea"), 3] += 5
    out = tmp_path / "bad.json"
    tidy.write(bad, out, "json")
    res = CliRunner().invoke(cli, ["audit", str(out), "--rules", str(f), "--format", "json"])
    assert res.exit_code == 1
    rules = {v["rule"] for v in json.loads(res.output)["violations"]}
    assert "suggested_citizenship_subtotals" in rules


def test_suggest_finds_identities_it_has_no_names_for():
    cols = ("a", "b", "c")
    rng = np.random.default_rng(0)
    b, c = rng.integers(0, 100, 20), rng.integers(0, 100, 20)
    vals = np.stack([b - c, b, c], axis=1).astype(float)
    t = migaudit.Table([migaudit.Dimension("region", tuple(f"r{i}" for i in range(20)), role="region"),
                        migaudit.Dimension("contents", cols, role="measure")], vals, np.zeros(vals.shape), id="x")
    exprs = {r.expression for r in suggest(t) if r.id.startswith("suggested_")}
    assert exprs == {"a = b - c"}


def test_bad_release_config_exits_2(tmp_path):
    d = _release_copy(tmp_path)
    (d / "migaudit.yaml").write_text("accept:\n  - rule: x\n", encoding="utf-8")
    res = subprocess.run([sys.executable, "-m", "migaudit.cli", "audit", str(d)], capture_output=True, text=True)
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "migaudit.yaml" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.parametrize("args", [["audit", "/no/such/release"], ["audit", "--format", "pdf"],
                                  ["audit", "--rules", "/no/rules.yaml"], ["read"]])
def test_bad_usage_exits_2_with_one_line(args):
    res = subprocess.run([sys.executable, "-m", "migaudit.cli", *args], capture_output=True, text=True)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
