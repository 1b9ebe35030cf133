"""The printed-table reader on SSB's own printed tables (seeds 000 and 001), broken copies
of them, and fuzzed bytes: every input gives Tables or a ReadError naming the line."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migaudit.cli import cli
from migaudit.errors import ReadError
from migaudit.model import symbols as sym
from migaudit.readers import choose_reader, printed, read, read_bytes, tidy

F000 = "000_bde9bdc2cd03acc2.txt"
F001 = "001_9afe6c9cbe8ed332.txt"
REGIONS = [
    "Total", "Oslo and Akershus", "Hedmark and Oppland", "South Eastern Norway",
    "Agder and Rogaland", "Western Norway", "Trøndelag", "Northern Norway",
]
HERE = Path(__file__).resolve().parent
SEEDS = HERE.parent.parent / "shared" / "seeds"


def _text(seeds: Path, name: str) -> str:
    return (seeds / name).read_text(encoding="utf-8")


def _one(text: str, source: str = "mem.txt"):
    tables = printed.read(text.encode("utf-8"), source)
    assert len(tables) == 1
    return tables[0]


def _independent_cells(text: str) -> list[str]:
    """Data cells of a printed table, found without the reader: tab lines whose 2nd cell
    starts with a digit or is an SSB symbol."""
    cells = []
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) > 1 and parts[0] and (parts[1][:1].isdigit() or parts[1] in ("-", ".", "..", ":")):
            cells += parts[1:]
    return cells


def _independent_sum(text: str) -> float:
    return sum(float(c.replace(" ", "")) for c in _independent_cells(text) if re.fullmatch(r"[\d ]+", c))


def _error(text: str) -> ReadError:
    with pytest.raises(ReadError) as info:
        printed.read(text.encode("utf-8"), "bad.txt")
    return info.value


# --- the real tables ------------------------------------------------------------------

def test_000_shape_values_and_metadata(seeds: Path) -> None:
    text = _text(seeds, F000)
    [t] = read(seeds / F000)
    assert t.shape == (42, 8) and t.size == 336
    assert t.id == "12"
    assert t.title == "Emigration, by citizenship and region"
    assert t.meta["reference_period"] == "2011"
    assert t.meta["table_number"] == "12"
    assert t.meta["measure"] == "Emigration"
    assert t.meta["column_header"] == "From county"
    cit, reg = t.dimensions
    assert (cit.name, cit.role, reg.name, reg.role) == ("citizenship", "citizenship", "region", "region")
    assert list(reg.codes) == REGIONS and list(reg.labels) == REGIONS
    assert cit.codes[0] == "Total" and cit.codes[-1] == "Unknown"
    assert "Asia, Turkey included" in cit.codes and "North America, total" in cit.codes
    assert t.cell(citizenship="Total", region="Total") == (32466.0, "")
    assert t.cell(citizenship="Poland", region="Western Norway") == (606.0, "")
    v, s = t.cell(citizenship="Sri Lanka", region="Hedmark and Oppland")
    assert math.isnan(v) and s == "."
    assert t.cell(citizenship="Unknown", region="Oslo and Akershus") == (1.0, "")
    assert t.cell(citizenship="Unknown", region="Trøndelag") == (0.0, "-")
    # everything in the file, counted without the reader
    cells = _independent_cells(text)
    assert len(cells) == 336
    assert t.total() == _independent_sum(text) == 177058
    assert t.symbol_counts() == {"number": 329, "-": cells.count("-"), ".": cells.count(".")}
    assert cells.count("-") == 6 and cells.count(".") == 1
    # the repeated header is recognised, navigation lines are not notes
    assert t.meta["header_lines"] == [7, 8] and t.meta["repeated_header_lines"] == [44, 45]
    assert len(t.meta["navigation_lines"]) == 2
    assert t.notes == [] and t.footnotes == []
    assert cit.footnotes == {} and reg.footnotes == {}


def test_000_row_sums_hold(seeds: Path) -> None:
    """The Total column is the sum of the 7 regions in every row (a check on alignment)."""
    [t] = read(seeds / F000)
    vals = np.nan_to_num(t.values)
    assert np.array_equal(vals[:, 0], vals[:, 1:].sum(axis=1))


def test_001_shape_footnotes_and_values(seeds: Path) -> None:
    text = _text(seeds, F001)
    [t] = read(seeds / F001)
    assert t.shape == (72, 8)
    assert t.id == "11" and t.meta["measure"] == "Immigration"
    assert t.meta["column_header"] == "To region"
    cit, reg = t.dimensions
    assert list(reg.codes) == REGIONS
    assert t.cell(citizenship="Total", region="Total") == (79498.0, "")
    assert t.cell(citizenship="Poland", region="South Eastern Norway") == (2528.0, "")
    assert t.cell(citizenship="Montenegro", region="Western Norway") == (0.0, "-")
    assert t.cell(citizenship="Unknown", region="Northern Norway") == (4.0, "")
    # markers stripped from labels, kept on the dimension
    assert "Serbia" in cit.codes and "Serbia ¹" not in cit.codes
    assert cit.footnotes == {"Serbia": ("1",), "Montenegro": ("1",), "Asia, Turkey included": ("1",)}
    assert len(t.footnotes) == 1 and t.footnotes[0].startswith("¹ 1 November 2006 Serbia and Montenegro")
    assert t.meta["footnote_text"]["1"].startswith("1 November 2006")
    assert t.meta["repeated_header_lines"] == [46, 47]
    # a row of nothing but nil
    i = cit.index("The rest of North America")
    assert list(t.symbols[i]) == [sym.NIL] * 8 and not t.values[i].any()
    cells = _independent_cells(text)
    assert len(cells) == 576
    assert t.total() == _independent_sum(text)
    assert t.symbol_counts() == {"number": 576 - cells.count("-"), "-": cells.count("-")} == {"number": 566, "-": 10}
    vals = t.values
    assert np.array_equal(vals[:, 0], vals[:, 1:].sum(axis=1))


def test_sniff_chooses_printed_and_refuses_other_formats(seeds: Path) -> None:
    for name in (F000, F001):
        head = (seeds / name).read_bytes()
        assert printed.sniff(head, name) >= 60
        assert choose_reader(head, name) is printed
    assert printed.sniff(b'{"dataset": {"value": [1]}}', "x.json") == 0
    assert printed.sniff(b'[{"a": 1}]', "x.json") == 0
    assert printed.sniff(b'CHARSET="ANSI";\nMATRIX="01222";\nDATA=\n1\t2\t3;\n', "x.px") == 0
    assert printed.sniff(b'"region";"2018";"value"\n"Oslo";"1 234";"5"\n', "x.csv") == 0
    assert printed.sniff(b"region,value,symbol\nOslo,1,\n", "x.csv") == 0
    assert printed.sniff(b"", "x") == 0
    assert printed.sniff(b"Just prose.\nNo table here.\n", "x") == 0


# --- variants a printed table may take --------------------------------------------------

def test_bom_crlf_and_unicode_spaces(seeds: Path) -> None:
    text = _text(seeds, F000)
    [ref] = read(seeds / F000)
    variant = "\ufeff" + text.replace("32 466", "32\u00a0466").replace("13 613", "13\u2009613")
    variant = variant.replace("1 164", "1\u202f164").replace("\n", "\r\n")
    t = printed.read(variant.encode("utf-8"), "v.txt")[0]
    assert t.equals(ref) and t.meta["header_lines"] == [7, 8]


def test_cp1252_fallback_is_noted(seeds: Path) -> None:
    [ref] = read(seeds / F000)
    data = _text(seeds, F000).encode("cp1252")
    [t] = printed.read(data, "latin.txt")
    assert t.equals(ref)
    assert "cp1252" in t.notes[0] and t.meta["encoding"] == "cp1252"


def test_negative_numbers_flags_and_symbols() -> None:
    text = (
        "3 Population changes, by county. 2020\n\n"
        "County\tGrowth\tNet migration\tImmigration\n"
        "Oslo\t-1 204\t\u22121 500\t..\n"
        "Viken\t2 000*\t:\t...\n"
        "Agder\t12r\t.\t-\n"
    )
    t = _one(text)
    assert t.dimensions[0].name == "county" and t.dimensions[0].role == "region"
    assert t.dimensions[1].name == "contents" and t.dimensions[1].role == "measure"
    assert t.cell(county="Oslo", contents="Growth") == (-1204.0, "")
    assert t.cell(county="Oslo", contents="Net migration") == (-1500.0, "")
    assert t.cell(county="Viken", contents="Growth") == (2000.0, "*")
    assert t.cell(county="Agder", contents="Growth") == (12.0, "r")
    counts = t.symbol_counts()
    assert counts["number"] == 2 and counts["*"] == 1 and counts["r"] == 1
    assert counts[":"] == counts[".."] == counts["..."] == counts["."] == counts["-"] == 1


def test_years_make_a_time_dimension() -> None:
    text = "Year\tImmigration\tEmigration\n2010\t73 852\t31 506\n2011\t79 498\t32 466\n"
    t = _one(text)
    assert t.dimensions[0].name == "time" and t.dimensions[0].role == "time"
    assert t.dimensions[0].codes == ("2010", "2011")
    assert t.cell(time="2011", contents="Emigration") == (32466.0, "")
    t2 = _one("Citizenship\t2010\t2011\nTotal\t73 852\t79 498\nNorway\t9 000\t8 739\n")
    assert [d.name for d in t2.dimensions] == ["citizenship", "time"]
    assert t2.cell(citizenship="Norway", time="2011") == (8739.0, "")


def test_markers_and_names_that_end_in_digits() -> None:
    text = (
        "Area\tSize\n"
        "Region 1\t5\n"            # a plain digit is part of the name
        "Land area, km²\t10\n"      # a unit, not a marker
        "Serbia¹\t3\n"              # glued marker
        "Kosovo ¹ ²\t4\n"           # two markers
        "¹ First note\n² Second note\n"
    )
    t = _one(text)
    d = t.dimensions[0]
    assert d.codes == ("Region 1", "Land area, km²", "Serbia", "Kosovo")
    assert d.footnotes == {"Serbia": ("1",), "Kosovo": ("1", "2")}
    assert t.meta["footnote_text"] == {"1": "First note", "2": "Second note"}


def test_stray_text_outside_the_table_becomes_notes(seeds: Path) -> None:
    text = "Some introduction.\n" + _text(seeds, F000) + "\nSource: Statistics Norway\n"
    t = _one(text)
    assert t.notes == ["line 1: Some introduction.", "line 57: Source: Statistics Norway"]
    assert t.shape == (42, 8)


def test_two_tables_in_one_file(seeds: Path) -> None:
    tables = printed.read((_text(seeds, F000) + "\n" + _text(seeds, F001)).encode(), "both.txt")
    assert [t.id for t in tables] == ["12", "11"]
    assert [t.shape for t in tables] == [(42, 8), (72, 8)]


# --- broken copies: every one is a ReadError naming the line ---------------------------

def _line_of(text: str, start: str) -> int:
    return next(i for i, line in enumerate(text.split("\n"), 1) if line.startswith(start))


def test_junk_cell(seeds: Path) -> None:
    text = _text(seeds, F000).replace("Poland\t2 301", "Poland\t1 2a3")
    e = _error(text)
    assert e.where == f"line {_line_of(text, 'Poland')}" and "'1 2a3' is not a number" in str(e)
    assert "column 2 ('Total')" in str(e)


def test_short_row(seeds: Path) -> None:
    text = _text(seeds, F000).replace("Iran\t118\t47\t", "Iran\t118\t")
    e = _error(text)
    assert e.where == f"line {_line_of(text, 'Iran')}"
    assert e.expected == "9 cells (label + 8 columns)" and "8 cells" in e.message


def test_long_row(seeds: Path) -> None:
    text = _text(seeds, F000).replace("Iran\t118\t", "Iran\t118\t7\t")
    assert _error(text).where == f"line {_line_of(text, 'Iran')}"


def test_empty_cell(seeds: Path) -> None:
    text = _text(seeds, F000).replace("Iran\t118\t", "Iran\t\t")
    e = _error(text)
    assert e.where == f"line {_line_of(text, 'Iran')}" and "empty cell" in e.message


def test_duplicate_label(seeds: Path) -> None:
    text = _text(seeds, F000).replace("Iran\t", "Iraq\t")
    e = _error(text)
    assert e.where == f"line {_line_of(text, 'Iraq') + 1}" and "duplicate row label 'Iraq'" in e.message


def test_duplicate_label_after_marker_stripping(seeds: Path) -> None:
    text = _text(seeds, F001).replace("Montenegro ¹\t", "Serbia ¹\t")
    assert "duplicate row label 'Serbia'" in str(_error(text))


@pytest.mark.parametrize("bad", ["x", "—", "?", "n.a.", "…", "r", "*"])
def test_unknown_symbol(seeds: Path, bad: str) -> None:
    text = _text(seeds, F000).replace("Sri Lanka\t117\t58\t.\t", f"Sri Lanka\t117\t58\t{bad}\t")
    e = _error(text)
    assert e.where == f"line {_line_of(text, 'Sri Lanka')}" and "column 4" in e.message


def test_differing_repeated_header(seeds: Path) -> None:
    text = _text(seeds, F000)
    lines = text.split("\n")
    lines[44] = lines[44].replace("Trøndelag", "Trondheim")  # second row of the repeat
    e = _error("\n".join(lines))
    assert e.where == "line 45" and "differs from the header at line 8" in e.message
    lines = text.split("\n")
    lines[43] = lines[43].replace("From county", "To county")
    e = _error("\n".join(lines))
    assert e.where == "line 44" and "differs" in e.message


def test_text_inside_the_body_is_an_error(seeds: Path) -> None:
    text = _text(seeds, F000).replace("Iran\t", "some stray remark\nIran\t")
    e = _error(text)
    assert e.where == f"line {_line_of(text, 'some stray')}" and "inside the table body" in e.message


def test_row_without_label(seeds: Path) -> None:
    text = _text(seeds, F000).replace("Iran\t", "\t")
    assert "no label" in _error(text).message


def test_empty_and_no_table() -> None:
    for data in (b"", b"   \n\n", "\ufeff".encode()):
        with pytest.raises(ReadError, match="empty"):
            printed.read(data, "empty.txt")
    e = _error("[Immigration and emigration](#)\n\nJust some prose here.\n")
    assert "no table found" in e.message and e.where == "line 3"
    e = _error("12 Emigration, by citizenship. 2011\nCitizenship\tTotal\n")
    assert "no data rows" in e.message and e.where == "line 2"


def test_random_bytes_and_binary() -> None:
    with pytest.raises(ReadError):
        printed.read(bytes(range(256)) * 4, "random.bin")
    with pytest.raises(ReadError, match="NUL"):
        printed.read(b"a\tb\n\x00\x01\x02", "nul.bin")
    with pytest.raises(ReadError, match="neither UTF-8 nor cp1252"):
        printed.read(b"a\tb\n\x81\x8d", "bad.bin")


def test_read_errors_reach_the_registry(seeds: Path) -> None:
    data = _text(seeds, F000).replace("Poland\t2 301", "Poland\t1 2a3").encode()
    with pytest.raises(ReadError, match="line 22"):
        read_bytes(data, "x.txt")


# --- round trip and CLI -----------------------------------------------------------------

@pytest.mark.parametrize("name", [F000, F001])
def test_tidy_round_trip(seeds: Path, name: str) -> None:
    [t] = read(seeds / name)
    csv = tidy.write(t, None, "csv")
    assert csv is not None
    [back] = read_bytes(csv.encode("utf-8"), "back.csv")
    assert back.equals(t)
    assert back.total() == t.total()
    js = tidy.write(t, None, "json")
    assert js is not None
    [back_js] = read_bytes(js.encode("utf-8"), "back.json")
    assert back_js.equals(t) and back_js.id == t.id
    assert back_js.dimensions[0].footnotes == t.dimensions[0].footnotes


def test_cli_preview_and_bad_file(seeds: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["read", str(seeds / F000)])
    assert result.exit_code == 0, result.output
    assert "Emigration, by citizenship and region" in result.output
    assert "citizenship" in result.output and "336" in result.output
    assert "177 058" in result.output
    bad = tmp_path / "bad.txt"
    bad.write_text(_text(seeds, F000).replace("Iran\t118\t47\t", "Iran\t118\t"), encoding="utf-8")
    result = runner.invoke(cli, ["read", str(bad)])
    assert result.exit_code == 2
    err = result.stderr.strip().splitlines()
    assert len(err) == 1 and "line 35" in err[0] and "9 cells" in err[0]


# --- fuzz: never anything but Tables or a ReadError -------------------------------------

def _seed_texts() -> list[str]:
    if not SEEDS.is_dir():
        return ["Citizenship\tTotal\nTotal\t1\n"]
    return [(SEEDS / n).read_text(encoding="utf-8") for n in (F000, F001)]


_SEED_TEXTS = _seed_texts()
_ALPHABET = "\t\n\r -−.:*r0123456789¹² \u00a0\u2009abcÅø,[]()#"


def _reads_or_read_error(data: bytes) -> None:
    try:
        tables = printed.read(data, "fuzz.txt")
    except ReadError as e:
        assert e.source == "fuzz.txt"
        return
    assert tables and all(t.size == t.values.size for t in tables)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_fuzz_random_bytes(data: bytes) -> None:
    _reads_or_read_error(data)
    printed.sniff(data, "fuzz.txt")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(range(len(_SEED_TEXTS))),
    st.lists(
        st.tuples(st.sampled_from(["delete", "insert", "replace"]), st.floats(0, 1, exclude_max=True),
                  st.text(alphabet=_ALPHABET, min_size=1, max_size=3)),
        min_size=1, max_size=6,
    ),
)
def test_fuzz_mutated_seeds(which: int, edits: list[tuple[str, float, str]]) -> None:
    text = _SEED_TEXTS[which]
    for op, where, chars in edits:
        i = int(where * len(text))
        if op == "delete":
            text = text[:i] + text[i + len(chars):]
        elif op == "insert":
            text = text[:i] + chars + text[i:]
        else:
            text = text[:i] + chars + text[i + len(chars):]
    _reads_or_read_error(text.encode("utf-8"))


def test_data_without_header_is_an_error(seeds: Path) -> None:
    e = _error("Total\t32 466\t13 613\nNorway\t9 583\t3 971\n")
    assert e.where == "line 1" and "without a header" in e.message
    # a title-like line inside the body must not silently start a second table
    text = _text(seeds, F000).replace("Iran\t", "7 Something else\nIran\t")
    e = _error(text)
    assert e.where == f"line {_line_of(text, 'Iran')}" and "title at line" in e.message


def test_page_break_text(seeds: Path) -> None:
    text = _text(seeds, F000)
    lines = text.split("\n")
    t = _one("\n".join([*lines[:42], "(continued)", *lines[42:]]))
    assert t.notes == ["line 43: (continued)"] and t.shape == (42, 8)
    e = _error("\n".join([*lines[:42], "1 234", *lines[42:]]))
    assert e.where == "line 43" and "stray" in e.message
