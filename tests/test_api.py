"""One behaviour for the command line and Python: `migaudit.audit()` is `migaudit audit`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import migaudit
from migaudit.cli import cli
from migaudit.resources import example_release

RELEASE = example_release()


def cli_json(*args: str) -> tuple[int, dict]:
    res = CliRunner().invoke(cli, ["audit", *args, "--format", "json", "--fail-on", "never"],
                             catch_exceptions=False)
    return res.exit_code, json.loads(res.output)


def test_audit_with_no_argument_is_the_bundled_release():
    code, doc = cli_json()
    assert code == 0
    assert migaudit.audit().to_dict() == doc
    assert migaudit.audit([RELEASE]).to_dict() == doc
    assert migaudit.audit(str(RELEASE)).ok


def test_api_applies_the_folders_migaudit_yaml():
    """The bundled release accepts one real SSB inconsistency; the API must accept it too."""
    cfg = yaml.safe_load((RELEASE / "migaudit.yaml").read_text(encoding="utf-8"))
    accepted = {(a["rule"], str(a["table"])) for a in cfg["accept"]}
    result = migaudit.audit(RELEASE)
    found = {(v.rule, v.table): v for v in result.violation_list}
    assert accepted <= set(found)
    assert all(found[k].severity == "info" and found[k].message.startswith("accepted:") for k in accepted)
    # the same tables without the folder's settings: the finding fails
    bare = migaudit.audit(sorted(p for p in RELEASE.iterdir() if p.suffix in (".txt", ".json", ".csv")))
    assert not bare.ok
    assert {(v.rule, v.table) for v in bare.violation_list if v.severity == "error"} == accepted


def test_cli_and_api_agree_on_a_release_with_files_families_and_an_accepted_error(tmp_path: Path):
    src = RELEASE / "001_immigration_by_citizenship_and_region_2011.txt"
    lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
    i = next(n for n, line in enumerate(lines) if line.startswith("Poland"))
    assert lines[i].count("\t2 330\t") == 1      # Poland × Western Norway
    lines[i] = lines[i].replace("\t2 330\t", "\t2 430\t")
    (tmp_path / "t11.txt").write_text("".join(lines), encoding="utf-8")
    shutil.copy(RELEASE / "000_emigration_by_citizenship_and_region_2011.txt", tmp_path / "t12.txt")
    (tmp_path / "notes.txt").write_text("not part of the release\n", encoding="utf-8")
    (tmp_path / "migaudit.yaml").write_text(yaml.safe_dump({
        "files": ["t11.txt", "t12.txt"],
        "families": {"12": "my_family"},
        "accept": [{"rule": "regions_sum_to_total", "table": "11", "where": {"citizenship": "Poland"},
                    "reason": "known typo, fixed in the next release"}],
    }), encoding="utf-8")
    code, doc = cli_json(str(tmp_path))
    assert migaudit.audit(tmp_path).to_dict() == doc
    tables = {t["id"]: t for t in doc["tables"]}
    assert set(tables) == {"11", "12"} and tables["12"]["family"] == "my_family"
    poland = [v for v in doc["violations"] if v["table"] == "11" and v["where"].get("citizenship") == "Poland"]
    assert poland and all(v["severity"] == "info" for v in poland if v["rule"] == "regions_sum_to_total")
    # the column sum for Western Norway (Europe) is not accepted: still an error, exit 1
    assert any(v["severity"] == "error" for v in doc["violations"])
    res = CliRunner().invoke(cli, ["audit", str(tmp_path), "--format", "json"])
    assert res.exit_code == 1


def test_unknown_backend_is_a_usage_error():
    with pytest.raises(migaudit.MigauditError, match="unknown backend"):
        migaudit.audit(backend="duckdb")
