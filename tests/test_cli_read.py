"""`migaudit read` on files with several tables, and output paths a user gets wrong."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner

from migaudit.cli import cli
from migaudit.readers import read
from migaudit.resources import example_release


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_several_tables_go_one_file_per_table_into_a_folder(seeds: Path, tmp_path: Path) -> None:
    page = next(seeds.glob("002_*.txt"))
    ids = [t.id for t in read(page)]
    assert len(ids) > 1
    one = run("read", str(page), "--to", "csv", "-o", str(tmp_path / "out.csv"))
    assert one.exit_code == 2 and "-o DIR/" in one.output and not (tmp_path / "out.csv").exists()
    to_stdout = run("read", str(page), "--to", "json")
    assert to_stdout.exit_code == 2 and "--table ID" in to_stdout.output
    folder = tmp_path / "new" / "tables"
    res = run("read", str(page), "--to", "csv", "-o", f"{folder}/")
    assert res.exit_code == 0, res.output
    assert sorted(p.stem for p in folder.iterdir()) == sorted(ids)
    assert all(f"wrote table {i}" in res.output for i in ids)


def test_one_table_by_id_and_counts_as_integers(seeds: Path) -> None:
    page = next(seeds.glob("002_*.txt"))
    table = read(page)[2]
    res = run("read", str(page), "--to", "json", "--table", table.id)
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["migaudit_table"]["id"] == table.id
    values = [c["value"] for c in doc["cells"] if c["value"] is not None]
    assert values and all(isinstance(v, int) for v in values)
    missing = run("read", str(page), "--to", "json", "--table", "nope")
    assert missing.exit_code == 2 and repr(table.id) in missing.output


def test_csv_keeps_decimals_where_the_table_has_them(tmp_path: Path) -> None:
    f = example_release() / "004-3_population_by_age_2021-01-01.json"
    table = read(f)[0]
    assert table.decimals > 0
    out = tmp_path / "ages.csv"
    assert run("read", str(f), "--to", "csv", "-o", str(out)).exit_code == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert any("." in r["value"] for r in rows)


def test_output_folder_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    res = run("audit", "--format", "html", "-o", str(blocker / "sub" / "r.html"))
    assert res.exit_code == 2
    assert "cannot create the output folder" in res.output and "Traceback" not in res.output
