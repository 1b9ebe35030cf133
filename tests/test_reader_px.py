"""PX reader and writer: real SSB numbers in PX files, errors naming lines, round trips, fuzz."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migaudit.errors import ReadError, UsageError
from migaudit.model import symbols as sym
from migaudit.model.table import Dimension, Table
from migaudit.readers import px, read, read_bytes, tidy

DATA = Path(__file__).parent / "data" / "px"
F01222 = DATA / "01222_five_regions.px"
FEMIG = DATA / "emigration_2011.px"


def read_text(text: str, encoding: str = "iso-8859-1", source: str = "t.px") -> Table:
    tables = px.read(text.encode(encoding), source)
    assert len(tables) == 1
    return tables[0]


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


# --- the real-number files --------------------------------------------------------------------


@pytest.fixture(scope="module")
def t01222() -> Table:
    return read(F01222)[0]


@pytest.fixture(scope="module")
def temig() -> Table:
    return read(FEMIG)[0]


@pytest.fixture(scope="module")
def jsonstat(ssb: Path) -> dict:
    return json.loads((ssb / "01222_five_regions_DERIVED.jsonstat2.json").read_text("utf-8"))


def _ordered(cat: dict) -> list[str]:
    return sorted(cat["index"], key=cat["index"].__getitem__)


def test_sniff_recognises_px_and_not_other_text() -> None:
    assert px.sniff(F01222.read_bytes()[:4096], "x") == 90
    assert px.sniff(b"\xef\xbb\xbfMATRIX=\"1\";\n", "x") == 90
    assert px.sniff(b"Region,Tid,value,symbol\n0101,2014K3,1,\n", "x") == 0
    assert px.sniff(b'{"version": "2.0", "class": "dataset"}', "x") == 0
    assert px.sniff(b"Citizenship\tTotal\nNorway\t9 583\n", "x") == 0


def test_01222_dimensions(t01222: Table, jsonstat: dict) -> None:
    t = t01222
    assert t.id == "01222"
    assert [d.name for d in t.dimensions] == ["Region", "ContentsCode", "Tid"]
    assert [d.label for d in t.dimensions] == ["region", "statistikkvariabel", "kvartal"]
    assert [d.role for d in t.dimensions] == ["region", "measure", "time"]
    assert t.shape == (5, 10, 9)
    for d in t.dimensions:
        assert list(d.codes) == _ordered(jsonstat["dimension"][d.name]["category"])
    contents = t.dim("measure").labels
    assert contents[0] == "Fødte" and contents[1] == "Døde"
    assert "Folketallet ved utgangen av kvartalet" in contents
    assert "Fødselsoverskudd" in contents
    reg_en = jsonstat["dimension"]["Region"]["category"]["label"]
    assert t.dim("region").label_of("1901") == reg_en["1901"] == "Harstad (-2012)"
    assert t.dim("region").label_of("0301") == "Oslo kommune"
    assert t.unit == "personer"
    assert t.decimals == 0
    assert "Bjarkøy" in t.footnotes[0] and "«.»" in t.footnotes[0]
    assert t.footnotes[0].count("Harstad") == 1  # the two quoted pieces joined, not repeated
    assert t.notes == []


def test_01222_every_cell_equals_the_json(t01222: Table, jsonstat: dict) -> None:
    values = jsonstat["value"]
    status = jsonstat["status"]
    flat_v, flat_s = t01222.values.ravel(), t01222.symbols.ravel()
    assert len(flat_v) == len(values) == 450
    for i, v in enumerate(values):
        if v is None:
            assert status[str(i)] == "."
            assert math.isnan(flat_v[i]) and sym.TEXT[flat_s[i]] == "."
        else:
            assert flat_v[i] == v and flat_s[i] == sym.NUMBER
    assert t01222.total() == sum(v for v in values if v is not None)
    dots = sum(1 for s in status.values() if s == ".")
    assert t01222.symbol_counts() == {"number": 450 - dots, ".": dots}
    assert dots == 90


def test_01222_spot_values(t01222: Table, jsonstat: dict) -> None:
    values = jsonstat["value"]
    # flat index = region * 90 + content * 9 + quarter, by the JSON-stat index
    assert t01222.cell(Region="0101", ContentsCode="Fodte2", Tid="2014K3") == (values[0], "")
    assert t01222.cell(Region="0301", ContentsCode="Folketallet11", Tid="2016K3") == (values[90 + 81 + 8], "")
    assert t01222.cell(Region="Stavanger", ContentsCode="Døde", Tid="2015K4") == (values[180 + 9 + 5], "")
    v, s = t01222.cell(Region="1901", ContentsCode="Innvandring5", Tid="2015K1")
    assert math.isnan(v) and s == "."


def test_01222_meta(t01222: Table, jsonstat: dict) -> None:
    m = t01222.meta
    assert m["language"] == "no" and m["languages"] == ["no", "en"]
    assert m["timeval"]["kvartal"]["tlist"] == "Q1"
    assert m["timeval"]["kvartal"]["values"][0] == "20143"
    con_en = jsonstat["dimension"]["ContentsCode"]["category"]["label"]
    en = m["translations"]["en"]
    assert en['VALUES("contents")'] == [con_en[c] for c in t01222.dim("measure").codes]
    assert en["TITLE"] == jsonstat["label"]
    assert m["by_content"]["Fødte"]["UNITS"] == "personer"
    assert m["elimination"] == {"region": "YES", "statistikkvariabel": "NO"}
    assert m["valuenotes"][0]["value"] == "Harstad (-2012)"
    assert m["px_source"] == "Statistisk sentralbyrå"
    assert m["px"]["SUBJECT-AREA"] == "Befolkning"
    json.dumps(m)  # meta stays JSON-able for the tidy writers


def _seed_000(seeds: Path) -> tuple[list[str], list[str], list[list[str]]]:
    rows, cells, regions = [], [], []
    for line in (seeds / "000_bde9bdc2cd03acc2.txt").read_text("utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 9 and parts[0] == "" and parts[1] == "Total":
            regions = parts[1:]
        elif len(parts) == 9 and parts[0] not in ("", "Citizenship"):
            rows.append(parts[0])
            cells.append(parts[1:])
    return rows, regions, cells


def test_emigration_matches_the_printed_seed(temig: Table, seeds: Path) -> None:
    rows, regions, cells = _seed_000(seeds)
    t = temig
    assert t.shape == (42, 8) == (len(rows), len(regions))
    assert [d.role for d in t.dimensions] == ["citizenship", "region"]
    assert list(t.dim("citizenship").labels) == rows
    assert list(t.dim("region").codes) == regions
    assert "Trøndelag" in t.dim("region").codes
    numbers = []
    for i, row in enumerate(cells):
        for j, c in enumerate(row):
            v, s = float(t.values[i, j]), sym.TEXT[t.symbols[i, j]]
            if c in ("-", "."):
                assert s == c
                assert v == 0.0 if c == "-" else math.isnan(v)
            else:
                n = int(c.replace(" ", ""))
                numbers.append(n)
                assert (v, s) == (n, "")
    assert t.total() == sum(numbers)
    assert t.cell(citizenship="Total", region="Total") == (32466.0, "")
    assert t.cell(citizenship="Sri Lanka", region="Hedmark and Oppland")[1] == "."
    flat = [c for row in cells for c in row]
    assert t.symbol_counts() == {"number": 336 - 7, "-": flat.count("-"), ".": flat.count(".")}
    # the printed Total column is the sum of the regions for every citizenship
    assert np.array_equal(t.values[:, 0], np.nansum(t.values[:, 1:], axis=1))


def test_generated_files_are_current() -> None:
    """The committed PX files are what make_px.py builds from ../shared."""
    import importlib.util

    if not (Path(__file__).resolve().parents[2] / "shared").is_dir():
        pytest.skip("../shared missing")
    spec = importlib.util.spec_from_file_location("make_px", DATA / "make_px.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.make_01222() == F01222.read_bytes()
    assert mod.make_emigration() == FEMIG.read_bytes()


# --- encodings ----------------------------------------------------------------------------------


def _small(codepage: str | None, title: str = "Fødte og døde") -> str:
    head = f'CODEPAGE="{codepage}";\n' if codepage else ""
    return (
        'CHARSET="ANSI";\n' + head + f'MATRIX="x";\nTITLE="{title}";\nSTUB="kjønn";\nHEADING="år";\n'
        'VALUES("kjønn")="Menn","Kvinner";\nVALUES("år")="2020","2021";\n'
        'DATA=\n1 2\n3 "-";\n'
    )


def test_latin1_without_codepage_is_decoded_by_the_spec_default() -> None:
    t = px.read(_small(None).encode("latin-1"), "x.px")[0]
    assert t.title == "Fødte og døde" and t.dimensions[0].name == "kjønn"
    assert t.dimensions[0].role == "sex" and t.dimensions[1].role == "time"
    assert any("no CODEPAGE" in n for n in t.notes)


def test_utf8_without_codepage_is_detected() -> None:
    t = px.read(_small(None).encode("utf-8"), "x.px")[0]
    assert t.title == "Fødte og døde"
    t = px.read(b"\xef\xbb\xbf" + _small(None).encode("utf-8"), "x.px")[0]
    assert t.title == "Fødte og døde"


def test_cp1252_bytes_declared_latin1_are_read_as_windows_1252() -> None:
    t = px.read(_small("iso-8859-1", "Fødte – døde").encode("cp1252"), "x.px")[0]
    assert t.title == "Fødte – døde"
    assert any("Windows-1252" in n for n in t.notes)


def test_utf8_bytes_declared_latin1_are_read_as_utf8_with_a_note() -> None:
    t = px.read(_small("iso-8859-1").encode("utf-8"), "x.px")[0]
    assert t.title == "Fødte og døde"
    assert any("valid UTF-8" in n for n in t.notes)


def test_latin1_bytes_declared_utf8_is_an_error_naming_the_line() -> None:
    with pytest.raises(ReadError) as e:
        px.read(_small("utf-8").encode("latin-1"), "x.px")
    msg = str(e.value)
    assert "x.px:line 4" in msg and "0xf8" in msg and "utf-8" in msg


@pytest.mark.parametrize("cp", ["klingon", "rot13", "utf-16", "base64"])
def test_bad_codepage(cp: str) -> None:
    with pytest.raises(ReadError, match=r"x\.px:line 2: unknown CODEPAGE"):
        px.read(_small(cp).encode("latin-1"), "x.px")


# --- the format's corners ------------------------------------------------------------------------


def test_quoted_numbers_commas_tabs_and_unquoted_symbols() -> None:
    text = _small("utf-8").replace('DATA=\n1 2\n3 "-";', 'DATA=\n"1",\t2.50\n-3e1 -;')
    t = read_text(text, "utf-8")
    assert t.values.ravel().tolist() == [1.0, 2.5, -30.0, 0.0]
    assert sym.TEXT[t.symbols[1, 1]] == "-"


def test_all_symbol_tokens() -> None:
    text = _small("utf-8").replace('VALUES("år")="2020","2021"', 'VALUES("år")="a","b","c","d"').replace(
        'DATA=\n1 2\n3 "-";', 'DATA=\n"." ".." "..." "...."\n"....." "......" ":" "-";')
    t = read_text(text, "utf-8")
    assert [sym.TEXT[s] for s in t.symbols.ravel()] == [".", "..", "...", "....", ".....", "......", ":", "-"]
    assert np.isnan(t.values.ravel()[:7]).all() and t.values.ravel()[7] == 0


def test_datasymbol_naming_an_ssb_symbol_remaps_the_token() -> None:
    text = _small("utf-8").replace('DATA=\n1 2\n3 "-";', 'DATASYMBOL4=":";\nDATASYMBOL2="n/a";\nDATA=\n1 ".."\n"...." "-";')
    t = read_text(text, "utf-8")
    assert sym.TEXT[t.symbols[1, 0]] == ":" and sym.TEXT[t.symbols[0, 1]] == ".."
    assert t.meta["datasymbols"] == {"DATASYMBOL4": ":", "DATASYMBOL2": "n/a"}


def test_datanotecell_flags_numbers() -> None:
    text = _small("utf-8").replace("DATA=", 'DATANOTECELL("Menn","*")="*";\nDATANOTECELL("Kvinner","2020")="r";\nDATA=')
    t = read_text(text, "utf-8")
    assert [sym.TEXT[s] for s in t.symbols.ravel()] == ["*", "*", "r", "-"]
    assert t.values.ravel().tolist() == [1, 2, 3, 0]


def test_timeval_range_gives_the_values() -> None:
    text = _small("utf-8").replace('VALUES("år")="2020","2021";', 'TIMEVAL("år")=TLIST(A1, "2020")-"2021";')
    t = read_text(text, "utf-8")
    assert t.dimensions[1].codes == ("2020", "2021") and t.dimensions[1].role == "time"
    q = text.replace('TIMEVAL("år")=TLIST(A1, "2020")-"2021";', 'TIMEVAL("år")=TLIST(Q1, "20194")-"20201";')
    assert read_text(q, "utf-8").dimensions[1].codes == ("20194", "20201")


def test_unknown_keywords_are_kept() -> None:
    text = _small("utf-8").replace("DATA=", 'X-SSB-TABLEINFO="hei";\nPRESENTATION-FORM=YES;\nDATA=')
    t = read_text(text, "utf-8")
    assert t.meta["px"]["X-SSB-TABLEINFO"] == "hei" and t.meta["px"]["PRESENTATION-FORM"] == "YES"


def test_heading_only_and_stub_only() -> None:
    h = read_text('HEADING="år";\nVALUES("år")="2020","2021";\nDATA=1 2;\n')
    s = read_text('STUB="år";\nVALUES("år")="2020","2021";\nDATA=1 2;\n')
    assert h.shape == s.shape == (2,) and h.equals(s)


def test_reader_registry_picks_px(tmp_path: Path) -> None:
    p = tmp_path / "no_extension"
    p.write_bytes(F01222.read_bytes())
    assert read(p)[0].id == "01222"


# --- errors naming the line ------------------------------------------------------------------


def _err(text: str, encoding: str = "iso-8859-1") -> str:
    with pytest.raises(ReadError) as e:
        px.read(text.encode(encoding), "bad.px")
    return str(e.value)


@pytest.fixture(scope="module")
def base() -> str:
    return F01222.read_bytes().decode("iso-8859-1")


def test_error_missing_cell(base: str) -> None:
    end = base.rindex(";")
    text = base[:end].rsplit(" ", 1)[0] + base[end:]
    msg = _err(text)
    assert "DATA has 449 cells, expected 450" in msg
    assert f"bad.px:line {text.count(chr(10))}" in msg


def test_error_extra_cell(base: str) -> None:
    end = base.rindex(";")
    text = base[:end] + " 7" + base[end:]
    msg = _err(text)
    assert "more cells" in msg and "'7'" in msg and f"line {text.count(chr(10))}" in msg


def test_error_junk_token(base: str) -> None:
    text = base.replace("DATA=\n72 63", "DATA=\n72 6a3", 1)
    msg = _err(text)
    assert "6a3" in msg and f"line {line_of(text, '72 6a3')}" in msg and "not a number" in msg


def test_error_junk_token_short() -> None:
    msg = _err(_small("utf-8").replace("DATA=\n1 2\n3", "DATA=\n1 2a3\n3"), "utf-8")
    assert "2a3" in msg and "bad.px:line 10:" in msg


def test_error_unterminated_string(base: str) -> None:
    text = base.replace('TITLE="Befolkning', 'TITLE="Befolkning;\nSTUB="x";', 1).replace('kvartal";\nTITLE[en]', 'kvartal;\nTITLE[en]')
    msg = _err(text)
    assert "unterminated string" in msg and f"line {line_of(text, 'TITLE=')}" in msg


def test_error_unknown_symbol(base: str) -> None:
    text = base.replace('"." "." "."', '"." "?" "."', 1)
    msg = _err(text)
    assert 'unknown symbol "?"' in msg and f"line {line_of(text, chr(34) + '?')}" in msg


def test_error_missing_stub_and_heading(base: str) -> None:
    text = re.sub(r'(?m)^(STUB|HEADING)=.*\n', "", base)
    msg = _err(text)
    assert "no STUB or HEADING" in msg and f"line {line_of(text, 'DATA=')}" in msg


def test_error_values_codes_mismatch(base: str) -> None:
    text = base.replace('CODES("region")="0101",\n', 'CODES("region")=', 1)
    msg = _err(text)
    assert 'CODES("region") has 4 codes but VALUES("region") has 5' in msg
    assert f"line {line_of(text, 'CODES(' + chr(34) + 'region')}" in msg


def test_error_missing_values(base: str) -> None:
    text = re.sub(r'VALUES\("kvartal"\)=[^;]*;\n', "", base).replace('TIMEVAL("kvartal")', 'TIMEVAL("other")')
    msg = _err(text)
    assert 'no VALUES("kvartal")' in msg and f"line {line_of(text, 'HEADING=')}" in msg


def test_error_missing_data(base: str) -> None:
    msg = _err(base[: base.index("DATA=")])
    assert "no DATA" in msg and "line" in msg


def test_error_missing_semicolon() -> None:
    msg = _err(_small("utf-8").replace('MATRIX="x";', 'MATRIX="x"'), "utf-8")
    assert "line" in msg


def test_error_text_after_data() -> None:
    text = _small("utf-8") + "\nNOTE=\"late\";\n"
    msg = _err(text, "utf-8")
    assert "after the end of DATA" in msg and f"line {line_of(text, 'NOTE=')}:" in msg
    assert px.read(_small("utf-8").encode() + b"\x1a", "x")  # a DOS end-of-file mark is fine


def test_error_duplicate_codes() -> None:
    msg = _err(_small("utf-8").replace('VALUES("år")="2020","2021"', 'VALUES("år")="2020","2020"'), "utf-8")
    assert "duplicate" in msg and "line 8:" in msg


def test_error_number_out_of_range() -> None:
    assert "out of range" in _err(_small("utf-8").replace("1 2", "1 2e999"), "utf-8")


@pytest.mark.parametrize("data", [b"", b"   \n\n", b"\xef\xbb\xbf"])
def test_error_empty_file(data: bytes) -> None:
    with pytest.raises(ReadError, match="empty|no DATA"):
        px.read(data, "e.px")


# --- round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [F01222, FEMIG])
@pytest.mark.parametrize("codepage", ["iso-8859-1", "utf-8", "windows-1252"])
def test_round_trip_px(path: Path, codepage: str, tmp_path: Path) -> None:
    t = read(path)[0]
    out = tmp_path / "out.px"
    assert px.write_px(t, out, codepage) is None
    raw = out.read_bytes()
    assert f'CODEPAGE="{codepage}"'.encode() in raw
    if codepage != "utf-8":
        assert "Trøndelag".encode(codepage) in raw or "Fødte".encode(codepage) in raw
    back = read(out)[0]
    assert back.equals(t)
    assert (back.id, back.title, back.unit, back.decimals, back.footnotes) == (t.id, t.title, t.unit, t.decimals, t.footnotes)
    assert [(d.name, d.role) for d in back.dimensions] == [(d.name, d.role) for d in t.dimensions]
    text = px.write_px(t, None, codepage)
    assert isinstance(text, str) and text.encode(codepage) == raw


@pytest.mark.parametrize("path", [F01222, FEMIG])
def test_round_trip_tidy_csv(path: Path) -> None:
    t = read(path)[0]
    csv = tidy.write(t, None, "csv")
    assert csv is not None
    back = read_bytes(csv.encode("utf-8"), "t.csv")[0]
    assert back.equals(t)


def test_writer_refuses_what_px_cannot_hold() -> None:
    d = Dimension("x", ("a", "b"), ("say \"hi\"", "b"))
    t = Table([d], np.array([1.0, 2.0]), np.zeros(2, np.uint8))
    with pytest.raises(UsageError, match="quote"):
        px.write_px(t, None)
    t2 = Table([Dimension("x", ("a", "€uro"))], np.array([1.0, 2.0]), np.zeros(2, np.uint8))
    with pytest.raises(UsageError, match="cannot be written in iso-8859-1"):
        px.write_px(t2, None)
    assert px.read(px.px_bytes(t2, "utf-8"), "x")[0].equals(t2)


def test_writer_splits_long_strings_and_keeps_them() -> None:
    title = " ".join(["Folketallet ved utgangen av kvartalet"] * 20)
    t = Table([Dimension("x", ("a",))], np.array([1.0]), np.zeros(1, np.uint8), title=title, footnotes=[title])
    text = px.write_px(t, None)
    assert text is not None and max(len(line) for line in text.splitlines()) < 256
    back = read_text(text)
    assert back.title == title and back.footnotes == [title]


# --- property tests -------------------------------------------------------------------------------

_ALPHA = "abcæøåÆØÅ -,;()=[]._/'01234"
_text = st.text(_ALPHA, min_size=1, max_size=8)
_SYMS = list(range(len(sym.SYMBOLS)))


@st.composite
def tables(draw: st.DrawFn) -> Table:
    ndim = draw(st.integers(1, 3))
    names = draw(st.lists(_text, min_size=ndim, max_size=ndim, unique=True))
    roles = draw(st.lists(st.sampled_from([None, "time", "measure", "region"]), min_size=ndim, max_size=ndim))
    dims = []
    for name, role in zip(names, roles, strict=True):
        codes = draw(st.lists(_text, min_size=1, max_size=4, unique=True))
        labels = draw(st.one_of(st.just(codes), st.lists(_text, min_size=len(codes), max_size=len(codes), unique=True)))
        if role == "time" and draw(st.booleans()):
            codes = [f"{2000 + i}K{1 + i % 4}" for i in range(len(codes))]
        dims.append(Dimension(name, tuple(codes), tuple(labels), role=role))
    n = math.prod(len(d) for d in dims)
    decimals = draw(st.integers(0, 3))
    ints = draw(st.lists(st.integers(-10**9, 10**9), min_size=n, max_size=n))
    codes = draw(st.lists(st.sampled_from(_SYMS), min_size=n, max_size=n))
    values = np.array([round(i / 10**decimals, decimals) for i in ints], dtype=np.float64)
    symbols = np.array(codes, dtype=np.uint8)
    for k, c in enumerate(codes):
        kind = sym.SYMBOLS[c].arithmetic
        if kind == "zero":
            values[k] = 0.0
        elif kind != "value":
            values[k] = np.nan
    shape = tuple(len(d) for d in dims)
    title = draw(_text)
    return Table(dims, values.reshape(shape), symbols.reshape(shape), id="T1", title=title, decimals=decimals,
                 unit=draw(st.sampled_from([None, "personer", "prosent"])))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(t=tables(), codepage=st.sampled_from(["iso-8859-1", "utf-8"]))
def test_random_tables_round_trip(t: Table, codepage: str) -> None:
    back = px.read(px.px_bytes(t, codepage), "h.px")[0]
    assert back.equals(t), (t, back)
    assert back.decimals == t.decimals and back.title == t.title
    for d, b in zip(t.dimensions, back.dimensions, strict=True):
        if d.role == "time":
            assert b.role == "time"
    first_measure = next((i for i, d in enumerate(t.dimensions) if d.role == "measure"), None)
    if first_measure is not None:
        assert back.dimensions[first_measure].role == "measure"


_DATA_TOKENS = ["0", "7", "-3", "12.5", "+4", ".5", "5.", "1e3", '"."', '".."', '"-"', '":"', '"......"',
                "-", ".", "..", ":", '"7"', '"?"', '""', "1-2", "1e", "+", "e5", "1e999", "2a3", "nan", "1_0"]


@settings(max_examples=150, deadline=None)
@given(
    toks=st.lists(st.sampled_from(_DATA_TOKENS), min_size=3, max_size=5),
    seps=st.lists(st.sampled_from([" ", "\t", "\n", ",", "  ", "\r\n", ", "]), min_size=5, max_size=5),
)
def test_fast_and_exact_data_parsers_agree(toks: list[str], seps: list[str]) -> None:
    """The vectorised DATA parse never accepts what the token-by-token parse rejects, nor differs."""
    body = "".join(t + s for t, s in zip(toks, seps, strict=False))
    text = 'HEADING="x";\nVALUES("x")="a","b","c","d";\nDATA=\n' + body + ";\n"
    outcomes = []
    for fast in (True, False):
        original = px._cells_fast
        if not fast:
            px._cells_fast = lambda *a: None  # type: ignore[assignment]
        try:
            t = px.read(text.encode(), "d.px")[0]
            outcomes.append((t.values.tolist(), t.symbols.tolist()))
        except ReadError as e:
            outcomes.append(str(e).split(":")[0])
        finally:
            px._cells_fast = original
    assert str(outcomes[0]) == str(outcomes[1]), body


def _read_or_error(data: bytes) -> None:
    try:
        tables = px.read(data, "fuzz.px")
    except ReadError as e:
        assert "fuzz.px" in str(e)
    else:
        assert len(tables) == 1 and isinstance(tables[0], Table)


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=300))
def test_fuzz_random_bytes(data: bytes) -> None:
    _read_or_error(data)


_SEEDS = [F01222.read_bytes(), FEMIG.read_bytes(), _small("utf-8").encode()]
_PIECES = [b'"', b";", b"=", b",", b"(", b")", b"[", b"]", b"\n", b'"."', b'"x"', b"-", b"1e5", b"\xff",
           b"STUB=", b"HEADING=", b"DATA=", b'VALUES("x")=', b"TLIST(", b'CODEPAGE="utf-16";', b"0" * 3]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(_SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(data)))
        op = draw(st.integers(0, 2))
        if op == 0:
            del data[pos:pos + draw(st.integers(1, 20))]
        elif op == 1:
            data[pos:pos] = draw(st.sampled_from(_PIECES))
        else:
            data[pos:pos + 1] = bytes([draw(st.integers(0, 255))])
    return bytes(data)


@settings(max_examples=150, deadline=None)
@given(data=mutated())
def test_fuzz_mutations(data: bytes) -> None:
    _read_or_error(data)


# --- issue 9/10: spec forms and bad input ------------------------------------------------------


def test_extra_cell_in_a_row_is_reported_at_that_row(base: str) -> None:
    lines = base.split("\n")
    start = next(i for i, ln in enumerate(lines) if ln.startswith("DATA=")) + 3
    lines[start] = lines[start] + " 99"
    msg = _err("\n".join(lines))
    assert f"bad.px:line {start + 1}:" in msg and "one too many" in msg


def test_datasymbol_nil_text_never_turns_a_missing_cell_into_zero() -> None:
    text = _small("utf-8").replace('DATA=\n1 2\n3 "-";', 'DATASYMBOL1="-";\nDATA=\n1 "."\n3 "-";')
    t = read_text(text, "utf-8")
    assert sym.TEXT[t.symbols[0, 1]] == "." and np.isnan(t.values[0, 1])
    assert any("display text only" in n for n in t.notes)


@pytest.mark.parametrize("timeval", [
    'TLIST(A1)', 'TLIST(X9),"2020","2021"', 'TLIST(A1, "2020")-', 'TLIST(A1, "2020")-"2021"-"2022"',
    'TLIST(M1, "202013")-"202101"', 'TLIST(A1 "2020","2021"', 'TLIST(Q1),"20201",', 'TLIST(A1),TLIST(A1)',
])
def test_unexpected_timeval_is_one_clear_error(timeval: str) -> None:
    text = _small("utf-8").replace('VALUES("år")="2020","2021";', f'TIMEVAL("år")={timeval};')
    msg = _err(text, "utf-8")
    assert "bad.px:line 8:" in msg and "TIMEVAL" in msg and "\n" not in msg


@pytest.mark.parametrize("cell", ["12345678901234567890", "9007199254740993", "1" * 400, "1.23456789012345678901"])
def test_numbers_a_float64_cannot_hold_are_errors(cell: str) -> None:
    msg = _err(_small("utf-8").replace('3 "-";', f'3 {cell};'), "utf-8")
    assert "bad.px:line 11:" in msg and "more digits than a float64 holds" in msg


def test_integers_up_to_2_53_read_exactly() -> None:
    t = read_text(_small("utf-8").replace('3 "-";', '3 9007199254740992;'), "utf-8")
    assert t.values[1, 1] == 2**53


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_data_separators(sep: str) -> None:
    t = read_text(_small("utf-8").replace('DATA=\n1 2\n3 "-";', f'DATA=\n1{sep}2{sep}\n3{sep}"-";'), "utf-8")
    assert t.values.tolist() == [[1.0, 2.0], [3.0, 0.0]]


def test_missing_final_semicolon_is_noted_and_a_short_file_is_an_error() -> None:
    t = read_text(_small("utf-8").replace('3 "-";', '3 "-"'), "utf-8")
    assert any("without ';'" in n for n in t.notes)
    msg = _err(_small("utf-8").replace('3 "-";', '3'), "utf-8")
    assert "DATA has 3 cells, expected 4" in msg


def test_multi_line_string_is_read_and_an_unclosed_one_names_its_line() -> None:
    t = read_text(_small("utf-8").replace('TITLE="Fødte og døde";', 'TITLE="Fødte\nog døde";'), "utf-8")
    assert t.title == "Fødte\nog døde" and t.dimensions[0].labels == ("Menn", "Kvinner")
    msg = _err(_small("utf-8").replace('TITLE="Fødte og døde";', 'TITLE="Fødte og døde;'), "utf-8")
    assert "bad.px:line 4:" in msg and "unterminated string" in msg


def test_keys_rows_name_unknown_values_or_repeat() -> None:
    keys = _small("utf-8").replace('DATA=\n1 2\n3 "-";', 'KEYS("kjønn")=VALUES;\nDATA=\n"Menn",1 2\n"Barn",3 4;')
    barn, menn = line_of(keys, '"Barn'), line_of(keys, '"Menn",1')
    assert "'Barn'" in _err(keys, "utf-8") and f"bad.px:line {barn}:" in _err(keys, "utf-8")
    again = keys.replace('"Barn"', '"Menn"')
    assert f"repeats line {menn}" in _err(again, "utf-8")


def test_hierarchies_name_values_of_the_variable() -> None:
    text = _small("utf-8").replace("DATA=", 'HIERARCHIES("kjønn")="Menn","Menn":"Kvinner";\nDATA=')
    t = read_text(text, "utf-8")
    assert t.meta["hierarchies"] == {"kjønn": {"": ["Menn"], "Menn": ["Kvinner"]}}
    bad = text.replace('"Menn":"Kvinner"', '"Menn":"Barn"')
    assert "'Barn'" in _err(bad, "utf-8")


def test_a_structural_keyword_given_twice_is_an_error() -> None:
    text = _small("utf-8").replace('VALUES("år")="2020","2021";', 'VALUES("år")="2020","2021";\nVALUES("år")="2019","2020";')
    msg = _err(text, "utf-8")
    assert "bad.px:line 9:" in msg and "given twice (lines 8 and 9)" in msg
