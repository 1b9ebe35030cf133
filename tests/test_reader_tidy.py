"""Tidy CSV/JSON/Parquet: exact round trips, and every malformed cell a ReadError naming the place."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from migaudit.errors import ReadError
from migaudit.model.table import Dimension, Table
from migaudit.readers import read_table, tidy


@pytest.fixture
def table() -> Table:
    dims = [Dimension("region", ("0", "03"), ("The whole country", "Oslo"), role="region"),
            Dimension("time", ("2020K1", "2020K2"), role="time"),
            Dimension("contents", ("births", "deaths"), ("Births", "Deaths"), role="measure")]
    values = np.arange(8, dtype=float).reshape(2, 2, 2)
    symbols = np.zeros((2, 2, 2), dtype=np.uint8)
    values[1, 1, 1], symbols[1, 1, 1] = np.nan, 3  # ..
    values[0, 1, 0], symbols[0, 1, 0] = 0.0, 1  # -
    values[1, 0, 0], symbols[1, 0, 0] = 5.0, 9  # 5*
    return Table(dims, values, symbols, id="t1", title="Test", meta={"measure": None})


@pytest.mark.parametrize("fmt", tidy.FORMATS)
def test_round_trip(table: Table, tmp_path: Path, fmt: str) -> None:
    f = tmp_path / f"t.{fmt}"
    tidy.write(table, f, fmt)
    back = read_table(f)
    assert back.equals(table)
    if fmt != "csv":
        assert back.id == "t1" and back.title == "Test"


def _csv(table: Table) -> list[str]:
    text = tidy.write(table, None, "csv")
    assert text is not None
    return text.splitlines()


@pytest.mark.parametrize("value, message", [
    ("inf", "finite"), ("1e309", "finite"), ("nan", "finite"), ("-Infinity", "finite"),
    ("12a", "not a number"), ("1;5", "not a number"), ("--5", "not a number"),
])
def test_csv_bad_value_names_the_line(table: Table, tmp_path: Path, value: str, message: str) -> None:
    lines = _csv(table)
    cells = lines[3].split(",")
    vi = lines[0].split(",").index('"value"')
    cells[vi] = value
    lines[3] = ",".join(cells)
    f = tmp_path / "bad.csv"
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(ReadError) as e:
        read_table(f)
    assert message in str(e.value) and "line 4" in str(e.value) and "bad.csv" in str(e.value)


def test_csv_number_under_unknown_symbol(table: Table, tmp_path: Path) -> None:
    lines = _csv(table)
    i = next(k for k, ln in enumerate(lines) if ln.endswith('".."'))
    lines[i] = lines[i].replace(',,".."', ',7,".."')
    f = tmp_path / "bad.csv"
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(ReadError, match=r"under the symbol '\.\.'") as e:
        read_table(f)
    assert f"line {i + 1}" in str(e.value)


def test_csv_cut_short_row_and_header_without_rows(table: Table, tmp_path: Path) -> None:
    lines = _csv(table)
    f = tmp_path / "short.csv"
    f.write_text("\n".join(lines[:5] + [lines[5].rsplit(",", 2)[0]] + lines[6:]) + "\n")
    with pytest.raises(ReadError, match="cells, the header has") as e:
        read_table(f)
    assert "line 6" in str(e.value)
    f.write_text(lines[0] + "\n")
    with pytest.raises(ReadError, match="header but no rows"):
        read_table(f)


def test_csv_empty_value_without_symbol_is_not_a_cell(table: Table, tmp_path: Path) -> None:
    lines = _csv(table)
    lines[2] = lines[2].rsplit(",", 2)[0] + ',,""'
    f = tmp_path / "bad.csv"
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(ReadError, match="neither a number nor a symbol"):
        read_table(f)


def test_csv_code_with_two_labels(table: Table, tmp_path: Path) -> None:
    lines = _csv(table)
    lines[-1] = lines[-1].replace("Oslo", "Bergen")
    f = tmp_path / "bad.csv"
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(ReadError, match="two labels"):
        read_table(f)


def _json_doc(table: Table) -> dict:
    text = tidy.write(table, None, "json")
    assert text is not None
    return json.loads(text)


@pytest.mark.parametrize("change, where", [
    (lambda d: d["cells"][2].__setitem__("value", "12"), "$.cells[2].value"),
    (lambda d: d["cells"][2].__setitem__("value", True), "$.cells[2].value"),
    (lambda d: d["cells"][1].__setitem__("region", 3), "$.cells[1].region"),
    (lambda d: d["cells"][4].pop("symbol"), "$.cells[4]"),
    (lambda d: d["cells"].__setitem__(3, [1, 2]), "$.cells[3]"),
    (lambda d: d.__setitem__("migaudit_table", []), "$.migaudit_table"),
    (lambda d: d["migaudit_table"].__setitem__("dimensions", [{"name": 5}]), "$.migaudit_table.dimensions[0]"),
    (lambda d: d["migaudit_table"].__setitem__("decimals", "0"), "$.migaudit_table.decimals"),
])
def test_json_wrong_types(table: Table, tmp_path: Path, change, where: str) -> None:
    doc = _json_doc(table)
    change(doc)
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(doc))
    with pytest.raises(ReadError) as e:
        read_table(f)
    assert where in str(e.value) and "bad.json" in str(e.value)


def test_json_deep_nesting_and_huge_numbers(table: Table, tmp_path: Path) -> None:
    f = tmp_path / "deep.json"
    f.write_text('{"migaudit_table": {}, "cells": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(ReadError, match="nested too deeply|not an object"):
        read_table(f)
    doc = _json_doc(table)
    text, n = re.subn(r'"value": -?\d+(?:\.\d+)?', '"value": 1e309', json.dumps(doc), count=1)
    assert n == 1
    f.write_text(text)
    with pytest.raises(ReadError, match="finite"):
        read_table(f)


def test_parquet_metadata_not_json(table: Table, tmp_path: Path) -> None:
    f = tmp_path / "t.parquet"
    tidy.write(table, f, "parquet")
    pt = pq.read_table(f)
    pq.write_table(pt.replace_schema_metadata({b"migaudit_table": b"\xff{not json"}), f)
    with pytest.raises(ReadError, match="not JSON") as e:
        read_table(f)
    assert "t.parquet" in str(e.value)
    pq.write_table(pt.replace_schema_metadata({b"migaudit_table": b"[1, 2]"}), f)
    with pytest.raises(ReadError, match="wrong type"):
        read_table(f)


def test_parquet_inf_and_headers_only(table: Table, tmp_path: Path) -> None:
    f = tmp_path / "t.parquet"
    tidy.write(table, f, "parquet")
    pt = pq.read_table(f)
    values = pt.column("value").to_numpy(zero_copy_only=False).copy()
    values[3] = np.inf
    bad = pt.set_column(pt.schema.get_field_index("value"), "value", pa.array(values))
    pq.write_table(bad, f)
    with pytest.raises(ReadError, match="finite") as e:
        read_table(f)
    assert "row 4" in str(e.value)
    pq.write_table(pt.slice(0, 0), f)
    with pytest.raises(ReadError, match="no rows"):
        read_table(f)


def test_csv_duplicate_key_names_the_second_line(table: Table, tmp_path: Path) -> None:
    lines = _csv(table)
    f = tmp_path / "dup.csv"
    f.write_text("\n".join(lines + [lines[3]]) + "\n")
    with pytest.raises(ReadError, match="duplicate key") as e:
        read_table(f)
    assert f"line {len(lines) + 1}" in str(e.value) and "'region': '0'" in str(e.value)
