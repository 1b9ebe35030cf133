"""StatBank CSV and transcribed wide CSV readers against the real files in ../shared/ssb."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_tables_or_read_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migaudit.errors import ReadError
from migaudit.model import symbols as sym
from migaudit.readers import choose_reader, read, read_bytes, statbank_csv, tidy, wide_csv

EXPORT = "statbank_export_nationality_by_county_2018-05.csv"
COUNTY = "county_annual_changes_2011_partial.csv"
GROUPS = "immigration_emigration_by_citizenship_group_2018.csv"
QUARTERS = "national_quarterly_changes_2012K4-2021K1.csv"
WIDE = [COUNTY, GROUPS, QUARTERS]


def _rows(path: Path, sep: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8")), delimiter=sep))


def _number(text: str) -> float | None:
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        return None


# --- StatBank export --------------------------------------------------------------------

def test_export_reads_with_period_and_suppressed_counties(ssb):
    path = ssb / EXPORT
    assert choose_reader(path.read_bytes(), str(path)) is statbank_csv
    (t,) = read(path)
    assert [(d.name, d.role) for d in t.dimensions] == [
        ("region", "region"), ("citizenship", "citizenship"), ("time", "time")]
    assert t.shape == (10, 50, 1)
    assert t.dim("time").codes == ("2018M05",) and t.dim("time").labels == ("May 2018",)
    assert t.dim("region").codes[:4] == ("The whole country", "Østfold", "Akershus", "Oslo")
    assert t.dim("citizenship").codes[:3] == ("Total", "Foreign national, total", "Norway")
    assert t.dim("citizenship").codes[-1] == "Unknown"
    assert t.meta["measure"] is None

    raw = _rows(path, ";")
    header = raw[0][1:-1]
    body = raw[2:]
    colons = sum(c.strip() == ":" for r in body for c in r[1:-1])
    assert colons == 144
    assert t.symbol_counts() == {"number": 500 - colons, ":": colons}
    # whole counties suppressed: Østfold, Akershus and Oslo hold only `:` and two published zeros
    # (New Zealand and Unknown, both 0 nationally too)
    for county in ("Østfold", "Akershus", "Oslo"):
        i = t.dim("region").index(county)
        assert (t.symbols[i, :, 0] == sym.CONFIDENTIAL).sum() == 48
        published = [t.dim("citizenship").codes[j] for j in np.flatnonzero(t.symbols[i, :, 0] == sym.NUMBER)]
        assert published == ["New Zealand", "Unknown"]
        assert np.nansum(t.values[i]) == 0
    total = math.fsum(v for r in body for c in r[1:-1] if (v := _number(c)) is not None)
    assert t.total() == total
    for r in body:
        for j, c in enumerate(r[1:-1]):
            v, s = t.cell(region=r[0].strip(), citizenship=header[j])
            if c.strip() == ":":
                assert s == ":" and math.isnan(v)
            else:
                assert (v, s) == (float(c), "")
    assert t.cell(region="The whole country", citizenship="Total")[0] == 151905
    assert t.cell(region="Aust-Agder", citizenship="Poland")[0] == 986


def test_export_variants_read_to_the_same_cube(ssb):
    text = (ssb / EXPORT).read_text(encoding="utf-8")
    (t,) = statbank_csv.read(text.encode(), "export.csv")
    # Windows-1252 bytes (Ø): same cube, with a note
    (cp,) = read_bytes(text.encode("cp1252"), "export.csv")
    assert cp.equals(t) and any("not UTF-8" in n and "line 4" in n for n in cp.notes)
    # comma separated, quoted cells
    lines = [";".join(f'"{c}"' if "," in c else c for c in ln.split(";")).replace(";", ",")
             for ln in text.splitlines()]
    (comma,) = read_bytes("\n".join(lines).encode(), "export_comma.csv")
    assert comma.equals(t)
    # a title row with the table number, CRLF line ends
    titled = "05425: Immigration, by citizenship;;\r\n" + text.replace("\n", "\r\n")
    (tt,) = read_bytes(titled.encode(), "titled.csv")
    assert tt.equals(t) and tt.id == "05425" and tt.title == "Immigration, by citizenship"
    # decimal comma with `;`
    dec = text.replace(";1520;", ";1520,5;", 1)
    (d,) = statbank_csv.read(dec.encode(), "dec.csv")
    assert d.cell(region="The whole country", citizenship="Denmark")[0] == 1520.5


def test_long_form_matches_jsonstat(ssb):
    """A long StatBank export (SSB's column naming) built from the real 01222 numbers."""
    raw = json.loads((ssb / "01222_five_regions_DERIVED.jsonstat2.json").read_text(encoding="utf-8"))
    (js,) = read(ssb / "01222_five_regions_DERIVED.jsonstat2.json")
    dims = raw["dimension"]
    regions = sorted(dims["Region"]["category"]["index"], key=dims["Region"]["category"]["index"].get)
    contents = sorted(dims["ContentsCode"]["category"]["index"], key=dims["ContentsCode"]["category"]["index"].get)
    tids = sorted(dims["Tid"]["category"]["index"], key=dims["Tid"]["category"]["index"].get)
    out = ['"region";"statistikkvariabel";"kvartal";"01222: Befolkning og kvartalsvise endringar"']
    flat = 0
    for r in regions:
        for c in contents:
            for q in tids:
                v = raw["value"][flat]
                cell = raw["status"][str(flat)] if v is None else str(v)
                label = dims["ContentsCode"]["category"]["label"][c]
                out.append(f'"{r} {dims["Region"]["category"]["label"][r]}";"{label}";"{q}";{cell}')
                flat += 1
    data = "\n".join(out).encode()
    assert statbank_csv.sniff(data, "long.csv") > max(wide_csv.sniff(data, "long.csv"), tidy.sniff(data, "long.csv"))
    (t,) = read_bytes(data, "long.csv")
    assert t.id == "01222" and t.title == "Befolkning og kvartalsvise endringar"
    assert [(d.name, d.role) for d in t.dimensions] == [
        ("region", "region"), ("statistikkvariabel", "measure"), ("kvartal", "time")]
    assert t.dim("region").codes == js.dim("Region").codes
    assert t.dim("region").labels == js.dim("Region").labels
    assert t.dim("statistikkvariabel").codes == js.dim("ContentsCode").labels
    np.testing.assert_array_equal(t.values, js.values)
    np.testing.assert_array_equal(t.symbols, js.symbols)
    # the form with English names and `value`
    eng = data.replace(b'"region";"statistikkvariabel";"kvartal";"01222: Befolkning og kvartalsvise endringar"',
                       b'"region";"contents";"quarter";"value"').replace(b";", b",")
    (e,) = read_bytes(eng, "long_en.csv")
    np.testing.assert_array_equal(e.values, js.values)
    assert [d.role for d in e.dimensions] == ["region", "measure", "time"]


def _err(module, data: bytes, source: str = "bad.csv") -> str:
    with pytest.raises(ReadError) as e:
        module.read(data, source)
    return str(e.value)


def test_export_errors_name_line_and_column(ssb):
    lines = (ssb / EXPORT).read_text(encoding="utf-8").split("\n")
    short = lines.copy()
    short[4] = short[4].rsplit(";", 2)[0] + ";"
    msg = _err(statbank_csv, "\n".join(short).encode())
    assert "bad.csv:line 5:" in msg and "51 cells, the header has 52" in msg
    junk = lines.copy()
    junk[6] = junk[6].replace(";1310;", ";13l0;", 1)
    msg = _err(statbank_csv, "\n".join(junk).encode())
    assert "bad.csv:line 7 column 2:" in msg and "'13l0'" in msg and "'Total'" in msg
    empty_cell = lines.copy()
    empty_cell[7] = empty_cell[7].replace(";9410;", ";;", 1)
    assert "line 8 column 2" in _err(statbank_csv, "\n".join(empty_cell).encode())
    bad_bytes = "\n".join(lines).encode("utf-8").replace(b"Hedmark", b"Hed\x81\x8dmark")
    msg = _err(statbank_csv, bad_bytes)
    assert "line 7" in msg and "0x81" in msg
    assert "line 3" in _err(statbank_csv, "\n".join(lines).encode().replace(b"The whole", b"The\x00whole"))
    assert "empty" in _err(statbank_csv, b"")
    assert "empty" in _err(statbank_csv, b" \n;;\n")
    with pytest.raises(ReadError, match="empty"):
        read_bytes(b"\n\n", "empty.csv")


# --- transcribed wide CSVs --------------------------------------------------------------

def _independent(path: Path, first_measure: int, last_measure: int):
    """(key → {column → cell text}) and the sum of all numbers, parsed with csv only."""
    rows = _rows(path)
    header = rows[0]
    cols = header[first_measure:last_measure]
    cells = {tuple(r[:first_measure]): dict(zip(cols, r[first_measure:last_measure], strict=True)) for r in rows[1:]}
    total = math.fsum(v for r in rows[1:] for c in r[first_measure:last_measure] if (v := _number(c)) is not None)
    return header, cells, total


def test_county_2011(ssb):
    path = ssb / COUNTY
    assert choose_reader(path.read_bytes(), str(path)) is wide_csv
    (t,) = read(path)
    assert t.id == "county_annual_changes_2011_partial"
    assert [(d.name, d.role) for d in t.dimensions] == [("region", "region"), ("contents", "measure")]
    region = t.dim("region")
    assert region.codes[:3] == ("0", "01", "02") and region.codes[-1] == "15" and len(region) == 15
    assert region.label_of("0") == "Hele landet" and region.label_of("15") == "Møre og Romsdal"
    contents = t.dim("contents")
    assert "population_growth" in contents.codes and contents.footnotes == {"population_growth": ("1",)}
    header, cells, total = _independent(path, 2, 13)
    assert t.total() == total
    for (code, _label), row in cells.items():
        for col, text in row.items():
            v, s = t.cell(region=code, contents=col.removesuffix("_fn1"))
            if text == ".":
                assert s == "." and math.isnan(v)
            else:
                assert (v, s) == (float(text), "")
    assert t.symbol_counts() == {"number": 163, ".": 2}
    assert t.cell(region="0", contents="population_growth")[0] == 65565
    urls = t.meta["row_attributes"]["source_url"]
    assert list(urls) == list(region.codes) and set(urls.values()) == {
        "https://ssb.no/a/kortnavn/folkendrkv/2011k4/hittil00.html"}


def test_citizenship_groups_2018_split_by_year(ssb):
    path = ssb / GROUPS
    (t,) = read(path)
    assert [(d.name, d.role) for d in t.dimensions] == [
        ("citizenship", "citizenship"), ("contents", "measure"), ("year", "time")]
    assert t.dim("contents").codes == ("immigration", "emigration", "net_immigration")
    assert t.dim("year").codes == ("2018", "2017")
    assert t.shape == (21, 3, 2)
    assert t.symbol_counts() == {"number": 84, ".": 42}
    header, cells, total = _independent(path, 1, 5)
    assert t.total() == total
    for (label,), row in cells.items():
        for col, text in row.items():
            measure, year = col.rsplit("_", 1)
            assert t.cell(citizenship=label, contents=measure, year=year) == (float(text), "")
        v, s = t.cell(citizenship=label, contents="immigration", year="2017")
        assert math.isnan(v) and s == "."
    assert t.cell(citizenship="I alt", contents="net_immigration", year="2017")[0] == 21349
    assert t.meta["row_attributes"]["role"]["Oseania"] == "world_region_group"
    assert t.meta["measure_columns"]["net_immigration_2017"] == {"contents": "net_immigration", "year": "2017"}
    rows = _rows(path)
    assert t.meta["row_attributes"]["role"] == {r[0]: r[5] for r in rows[1:]}


def test_national_quarters(ssb):
    path = ssb / QUARTERS
    (t,) = read(path)
    assert [(d.name, d.role) for d in t.dimensions] == [("quarter", "time"), ("contents", "measure")]
    assert t.dim("quarter").codes[0] == "2012K4" and t.dim("quarter").codes[-1] == "2021K1"
    assert len(t.dim("contents")) == 10
    header, cells, total = _independent(path, 1, 11)
    assert t.total() == total
    empties = sum(text == "" for row in cells.values() for text in row.values())
    assert empties == 19
    assert t.symbol_counts() == {"number": 181, "..": 19}
    assert any("19 empty cells" in n and "line 2 column 9" in n for n in t.notes)
    for (q,), row in cells.items():
        for col, text in row.items():
            v, s = t.cell(quarter=q, contents=col)
            assert (s == ".." and math.isnan(v)) if text == "" else (v, s) == (float(text), "")
    assert t.cell(quarter="2019K4", contents="statistical_adjustment") == (334.0, "")
    attrs = t.meta["row_attributes"]
    assert set(attrs) == {"source_url", "source_language"}
    assert attrs["source_language"]["2016K3"] == "nn"


def test_wide_errors(ssb):
    lines = (ssb / QUARTERS).read_text(encoding="utf-8").split("\n")
    short = lines.copy()
    short[3] = short[3].rsplit(",", 1)[0]
    assert "bad.csv:line 4:" in _err(wide_csv, "\n".join(short).encode())
    dup = [*lines[:3], lines[2]]
    assert "line 4" in _err(wide_csv, "\n".join(dup).encode())
    bad = "\n".join(lines).encode().replace(b"2014K1", b"\xff2014K1")
    assert "line 4" in _err(wide_csv, bad.replace(b"\xff", b"\x81"))
    assert "empty" in _err(wide_csv, b"")
    assert "no data rows" in _err(wide_csv, lines[0].encode())
    assert "empty column name" in _err(wide_csv, b"quarter,,births\n2012K4,1,2\n")


def test_sniff_ranks(ssb):
    export = (ssb / EXPORT).read_bytes()
    assert statbank_csv.sniff(export, EXPORT) > wide_csv.sniff(export, EXPORT)
    for name in [*WIDE, EXPORT]:
        (t,) = read(ssb / name)
        text = tidy.write(t, None, "csv").encode()
        assert tidy.sniff(text, "t.csv") > max(wide_csv.sniff(text, "t.csv"), statbank_csv.sniff(text, "t.csv"))
        assert choose_reader(text, "t.csv") is tidy
    for name in WIDE:
        data = (ssb / name).read_bytes()
        assert wide_csv.sniff(data, name) > statbank_csv.sniff(data, name)
        assert choose_reader(data, name) is wide_csv


@pytest.mark.parametrize("name", [*WIDE, EXPORT])
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_round_trip_through_tidy(ssb, name, fmt):
    (t,) = read(ssb / name)
    (back,) = read_bytes(tidy.write(t, None, fmt).encode("utf-8"), f"rt.{fmt}")
    assert back.equals(t)
    assert [d.role for d in back.dimensions] == [d.role for d in t.dimensions]
    if fmt == "json":
        assert back.meta.get("row_attributes") == t.meta.get("row_attributes")


# --- fuzz -------------------------------------------------------------------------------

_SSB = Path(__file__).resolve().parents[2] / "shared" / "ssb"
_SEEDS = [(_SSB / n).read_bytes() for n in [*WIDE, EXPORT] if (_SSB / n).exists()] or [b"a,b\n1,2\n"]
_FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _read_or_error(data: bytes) -> None:
    assert_tables_or_read_error([lambda: statbank_csv.read(data, "f.csv"), lambda: wide_csv.read(data, "f.csv"),
                                 lambda: read_bytes(data, "f.csv")])


@_FUZZ
@given(st.binary(max_size=300))
def test_fuzz_random_bytes(data):
    _read_or_error(data)


@_FUZZ
@given(st.integers(0, len(_SEEDS) - 1),
       st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.sampled_from(["del", "ins", "set"]),
                          st.sampled_from([b",", b";", b'"', b"\n", b"", b".", b":", b"x", b"-", b"\xc3", b" ",
                                           b"1,5", b"\r", b"\x00"])),
                min_size=1, max_size=6))
def test_fuzz_mutations_of_real_files(which, edits):
    data = bytearray(_SEEDS[which])
    for frac, op, blob in edits:
        pos = int(frac * len(data))
        if op == "del":
            del data[pos: pos + max(1, len(blob))]
        elif op == "ins":
            data[pos:pos] = blob
        else:
            data[pos: pos + len(blob)] = blob
    _read_or_error(bytes(data))
