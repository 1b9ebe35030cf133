"""Real PX and JSON-stat files from many statistics offices (tests/data/real/, see its README).

Each file is checked against the file itself, read here independently of migaudit's readers
with a few lines of plain parsing: the cell count, spot values and the count of every
symbol. Where the peer readers install (pyaxis for PX, pyjstat for JSON-stat) they must
agree with migaudit cell for cell on every file they can read.
"""

from __future__ import annotations

import csv
import json
import math
import re
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from migaudit.errors import ReadError
from migaudit.model import symbols as sym
from migaudit.readers import jsonstat, px, read

REAL = Path(__file__).parent / "data" / "real"
SOURCES = list(csv.DictReader((REAL / "SOURCES.tsv").open(encoding="utf-8"), delimiter="\t"))
FILES = [row["file"] for row in SOURCES]

#: real files that break the spec: each must give one clear error naming its place
BROKEN = {
    "uk_ons_QS104EW.json": ("$.QS104EW.dimension.size", "3 sizes for 4 dimensions"),
    "jsonstat_collection.json": ("$.link.item[0]", "without embedding them"),
}
MISSING = {".", "..", "...", "....", ".....", "......", ":"}


# --- an independent reading of each file ----------------------------------------------------

def _decode_px(raw: bytes) -> str:
    m = re.search(rb'CODEPAGE\s*=\s*"([^"]+)"', raw)
    declared = [m.group(1).decode("ascii")] if m else []
    if declared and declared[0].lower() in ("iso-8859-1", "windows-1252"):
        declared = ["utf-8"] + declared  # some files declare Latin-1 but hold UTF-8 bytes
    for enc in declared + ["utf-8-sig", "cp1252", "latin-1"]:
        try:
            return raw.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
    raise AssertionError("undecodable")


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    out, cur, quoted = [], [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


_STATEMENT = re.compile(r'^\s*([A-Za-z0-9-]+)(?:\[([^\]]*)\])?(?:\((.*?)\))?\s*=(.*)$', re.S)


def px_plain(raw: bytes) -> dict:
    """Keywords, cell tokens and the cube size of a PX file, by plain string handling."""
    text = _decode_px(raw)
    m = re.search(r'(?m)^\s*DATA\s*=', text)
    head, data = text[: m.start()], text[m.end():]
    kw: dict[tuple[str, str | None, str], list[str]] = {}
    for stmt in _split_outside_quotes(head, ";"):
        s = _STATEMENT.match(stmt)
        if not s:
            continue
        key, lang, subs, value = s.groups()
        items = []
        for item in _split_outside_quotes(value, ","):
            parts = re.findall(r'"([^"]*)"', item)
            items.append("".join(parts) if parts else item.strip())
        sub = ",".join(re.findall(r'"([^"]*)"', subs or ""))
        kw[(key.upper(), lang, sub)] = items
    main = kw.get(("LANGUAGE", None, ""), [None])[0]

    def get(key: str, sub: str = "") -> list[str] | None:
        return kw.get((key, None, sub), kw.get((key, main, sub)))

    variables = (get("STUB") or []) + (get("HEADING") or [])
    sizes = [len(get("VALUES", v) or []) for v in variables]
    tokens = re.findall(r'"[^"]*"|[^\s,;"]+', data)
    remap = {}
    for i, tok in enumerate(("", ".", "..", "...", "....", ".....", "......")):
        shown = (get(f"DATASYMBOL{i}") or [None])[0] if i else None
        if shown in MISSING and shown != tok:
            remap[tok] = shown
    keys = [v for v in (get("STUB") or []) if get("KEYS", v)]
    return {"variables": variables, "sizes": sizes, "tokens": tokens, "keys": keys, "remap": remap,
            "values": {v: get("VALUES", v) for v in variables}}


def px_cells(plain: dict) -> list[str]:
    """Every cell's token in cube order (a KEYS file's missing rows as '"-"')."""
    if not plain["keys"]:
        return plain["tokens"]
    k = len(plain["keys"])
    m = math.prod(plain["sizes"][k:])
    rows: dict[tuple[int, ...], list[str]] = {}
    toks = plain["tokens"]
    for start in range(0, len(toks), k + m):
        key = tuple(plain["values"][v].index(toks[start + j].strip('"')) for j, v in enumerate(plain["keys"]))
        rows[key] = toks[start + k: start + k + m]
    out: list[str] = []
    for key in np.ndindex(*plain["sizes"][:k]):
        out.extend(rows.get(tuple(key), ['"-"'] * m))
    return out


def px_symbol(token: str, remap: dict[str, str]) -> str:
    if token.startswith('"'):
        t = token.strip('"').strip()
        return remap.get(t, t)
    return "number"


def json_datasets(doc: dict) -> list[dict]:
    if doc.get("class") == "dataset" or ("version" in doc and "dimension" in doc):
        return [doc]
    if doc.get("class") == "collection":
        return [item for item in doc["link"]["item"] if "dimension" in item]
    if "dimension" in doc and "value" in doc:
        return [doc]
    return [ds for ds in doc.values() if isinstance(ds, dict) and "dimension" in ds]


def json_cells(ds: dict) -> tuple[list, list]:
    """(value per flat cell, None where absent from a sparse object) and each cell's expected symbol."""
    size = ds.get("size") or ds["dimension"]["size"]
    n = math.prod(size)
    raw = ds["value"]
    present = [True] * n
    if isinstance(raw, dict):
        values = [raw.get(str(i)) for i in range(n)]
        present = [str(i) in raw for i in range(n)]
    else:
        values = list(raw)
    st = ds.get("status")
    if isinstance(st, dict) and "value" in st and not any(k.isdigit() for k in st):
        st = st["value"]
    if isinstance(st, list) and len(st) == 1:
        st = st[0]
    status = ([st] * n if isinstance(st, str) else list(st) if isinstance(st, list)
              else [st.get(str(i)) for i in range(n)] if isinstance(st, dict) else [None] * n)
    symbols = []
    for v, s, p in zip(values, status, present, strict=True):
        s = s.strip() if isinstance(s, str) else s
        if s == "-":
            symbols.append("-")
        elif s in ("*", "r") and v is not None:
            symbols.append(s)
        elif s in MISSING:
            symbols.append(s)
        elif v is not None:
            symbols.append("number")
        else:
            symbols.append(".." if p else ".")
    return values, symbols


def _spots(seq: list, ok) -> list[int]:
    idx = [i for i, x in enumerate(seq) if ok(x)]
    return sorted({idx[0], idx[len(idx) // 2], idx[-1]}) if idx else []


# --- the corpus itself ------------------------------------------------------------------------

def test_corpus_is_big_and_wide_enough() -> None:
    assert len(FILES) >= 40 and len(set(FILES)) == len(FILES)
    assert {p.name for p in REAL.iterdir()} - {"README.md", "SOURCES.tsv"} == set(FILES)
    offices = {row["office"].split(" (")[0] for row in SOURCES if "sample" not in row["office"]}
    assert len(offices) >= 6
    assert all(re.fullmatch(r"[0-9a-f]{40}", row["commit"]) and row["licence"] for row in SOURCES)
    assert all(p.stat().st_size < 60_000 for p in REAL.iterdir())


@pytest.mark.parametrize("name", [f for f in FILES if f not in BROKEN])
def test_reads_cell_for_cell_against_the_file_itself(name: str) -> None:
    raw = (REAL / name).read_bytes()
    tables = read(REAL / name)
    if name.lower().endswith(".px"):
        (t,) = tables
        plain = px_plain(raw)
        cells = px_cells(plain)
        assert t.size == math.prod(plain["sizes"]) == len(cells)
        assert [len(d) for d in t.dimensions] == plain["sizes"]
        flat_v = t.values.ravel()
        spots = _spots(cells, lambda c: not c.startswith('"'))
        for i in spots:
            assert flat_v[i] == float(cells[i]), (name, i)
        want = Counter(px_symbol(c, plain["remap"]) for c in cells)
        got = Counter({k: v for k, v in t.symbol_counts().items()})
        for flag in ("*", "r"):  # DATANOTECELL flags mark numbers
            got["number"] += got.pop(flag, 0)
        assert +got == +want, name
        return
    doc = json.loads(raw.decode("utf-8-sig"))
    datasets = json_datasets(doc)
    assert len(tables) == len(datasets) >= 1
    for t, ds in zip(tables, datasets, strict=True):
        values, symbols = json_cells(ds)
        assert t.size == len(values)
        flat_v = t.values.ravel()
        spots = _spots(values, lambda v: isinstance(v, int | float) and not isinstance(v, bool))
        for i in spots:
            if symbols[i] in ("number", "*", "r"):
                assert flat_v[i] == values[i], (name, i)
        assert t.symbol_counts() == dict(Counter(symbols)), name


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_real_files_give_one_clear_error(name: str) -> None:
    where, what = BROKEN[name]
    with pytest.raises(ReadError) as e:
        read(REAL / name)
    msg = str(e.value)
    assert f"{name}:{where}:" in msg and what in msg and "\n" not in msg


# --- peer readers -------------------------------------------------------------------------------

def _px_encoding(raw: bytes) -> str:
    m = re.search(rb'CODEPAGE\s*=\s*"([^"]+)"', raw)
    if m:
        return m.group(1).decode("ascii")
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "latin-1"


def _pyaxis_cell(token: object) -> tuple[str, float]:
    if isinstance(token, float) and math.isnan(token):
        return "..", math.nan
    t = str(token)
    if t == "":
        return ".", math.nan
    if t.startswith('"'):
        return t.strip('"').strip(), math.nan
    return "number", float(t)


PEER_PX: dict[str, str] = {}
PEER_JSON: dict[str, str] = {}


@pytest.mark.parametrize("name", [f for f in FILES if f.lower().endswith(".px")])
def test_agrees_with_pyaxis(name: str) -> None:
    pyaxis = pytest.importorskip("pyaxis.pyaxis")
    raw = (REAL / name).read_bytes()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = pyaxis.parse(str(REAL / name), encoding=_px_encoding(raw))["DATA"]
    except Exception as e:  # a peer that cannot read a file says nothing about ours
        PEER_PX[name] = f"pyaxis cannot read it: {type(e).__name__}"
        pytest.skip(PEER_PX[name])
    (t,) = px.read(raw, name)
    if len(frame) != t.size:
        PEER_PX[name] = f"pyaxis gives {len(frame)} cells for {t.size}"
        pytest.skip(PEER_PX[name])
    flat_v, flat_s = t.values.ravel(), t.symbols.ravel()
    remap = px_plain(raw)["remap"]
    for i, token in enumerate(frame["DATA"].tolist()):
        kind, value = _pyaxis_cell(token)
        ours = sym.TEXT[flat_s[i]] or "number"
        if kind == "number":
            assert ours in ("number", "*", "r") and flat_v[i] == value, (name, i, token)
        else:
            assert ours == remap.get(kind, kind), (name, i, token, ours)
    PEER_PX[name] = "agrees"


@pytest.mark.parametrize("name", [f for f in FILES if f.endswith(".json") and f not in BROKEN])
def test_agrees_with_pyjstat(name: str) -> None:
    pyjstat = pytest.importorskip("pyjstat.pyjstat")
    from collections import OrderedDict

    raw = (REAL / name).read_bytes()
    doc = json.loads(raw.decode("utf-8-sig"), object_pairs_hook=OrderedDict)
    datasets = json_datasets(doc)
    for ds in datasets:  # pyjstat needs `index` even where the spec lets a 1-category dimension leave it out
        if ds.get("class") == "dataset" and "id" in ds:
            ds.setdefault("version", "2.0")  # and `version` on a collection's embedded datasets
        for dim in ds["dimension"].values():
            if isinstance(dim, dict) and "index" not in dim.get("category", {"index": 0}):
                dim["category"]["index"] = OrderedDict([(next(iter(dim["category"]["label"])), 0)])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frames = [pyjstat.from_json_stat(OrderedDict(ds), naming="id")[0]
                      if ds.get("class") == "dataset" or "version" in ds
                      else pyjstat.from_json_stat(OrderedDict([("d", ds)]), naming="id")[0] for ds in datasets]
    except Exception as e:  # a peer that cannot read a file says nothing about ours
        PEER_JSON[name] = f"pyjstat cannot read it: {type(e).__name__}"
        pytest.skip(PEER_JSON[name])
    tables = jsonstat.read(raw, name)
    for t, frame in zip(tables, frames, strict=True):
        assert len(frame) == t.size, name
        moved = {int(k): v for k, v in t.meta.get("values_under_missing_status", {}).items()}
        flat_v, flat_s = t.values.ravel(), t.symbols.ravel()
        for i, theirs in enumerate(frame["value"].tolist()):
            if theirs is None or (isinstance(theirs, float) and math.isnan(theirs)):
                assert math.isnan(flat_v[i]) or flat_s[i] == sym.NIL, (name, i)
            elif i in moved:
                assert moved[i] == float(theirs) and math.isnan(flat_v[i])
            else:
                assert flat_v[i] == float(theirs), (name, i, theirs, flat_v[i])
    PEER_JSON[name] = "agrees"


# --- what the corpus shows about each feature ------------------------------------------------

def _t(name: str, **kw):
    (t,) = read(REAL / name, **kw)
    return t


def test_keys_file_reads_rows_by_their_keys() -> None:
    t = _t("se_BE0101F1symbnotkeys.px")
    assert t.cell(region="0115", age="22", period="2003", type="BE0101F2", sex="2") == (35.0, "")
    assert t.cell(region="00", age="20", period="2003", type="BE0101F1", sex="2") [1] == "."


def test_missing_final_semicolon_is_read_with_a_note() -> None:
    t = _t("se_HA0201E8.px")
    assert any("without ';'" in n for n in t.notes) and t.size == 117


def test_semicolons_between_rows() -> None:
    t = _t("es_ine_14001.px")
    assert t.size == 8064 and any("';'" in n for n in t.notes)


def test_multi_line_string_is_one_note() -> None:
    t = _t("no_ssb_MultipleContentSmall.px")
    assert any("Til publiseringen 15. juni 2023" in f and "kommunene." in f for f in t.footnotes)


def test_hierarchies_become_a_tree_in_meta() -> None:
    t = _t("unece_GeneveEUhierarch.px")
    tree = t.meta["hierarchies"]["Country"]
    assert tree[""] == ["E2A"] and tree["E2A"] == ["EUA", "E1A"] and "752" in tree["EUA"]
    assert set(tree["EAA"]) <= set(t.dim("Country").codes)


def test_a_language_is_picked_and_the_cells_stay_the_same() -> None:
    en = _t("se_BE0101F1langensvolikacelln.px")
    sv = _t("se_BE0101F1langensvolikacelln.px", lang="sv")
    assert en.meta["language"] == "en" and sv.meta["language"] == "sv"
    assert "Inflyttade" in sv.dimensions[3].labels and "Inmigrated" in en.dimensions[3].labels
    assert np.array_equal(en.values, sv.values, equal_nan=True) and np.array_equal(en.symbols, sv.symbols)
    with pytest.raises(ReadError, match="no language 'de'"):
        _t("se_BE0101F1langensvolikacelln.px", lang="de")


def test_windows_1251_codepage() -> None:
    t = _t("ua_020101.px")
    assert t.meta["encoding"] == "cp1251" and t.meta["language"] == "uk"
    assert "Україна" in t.dimensions[0].labels[0]


def test_any_status_and_one_element_status() -> None:
    (oecd, canada) = read(REAL / "oecd_canada.json")
    assert set(oecd.meta["status"].values()) == {"e"} and oecd.symbol_counts()["number"] == oecd.size
    c = _t("ca_canada.json")
    assert c.size == 120 and any("one element" in n for n in c.notes)


def test_collection_reads_every_embedded_dataset() -> None:
    tables = read(REAL / "oecd_canada_col.json")
    assert len(tables) == len(json.loads((REAL / "oecd_canada_col.json").read_text())["link"]["item"])


def test_child_hierarchy_in_meta() -> None:
    t = _t("au_abs_hierarchy.json")
    (dim, tree), = t.meta["hierarchies"].items()
    doc = json.loads((REAL / "au_abs_hierarchy.json").read_text())
    assert tree == doc["dimension"][dim]["category"]["child"]


def test_pxwebapi_v2_jsonstat() -> None:
    t = _t("se_api_v2_TAB6471_data.json")
    doc = json.loads((REAL / "se_api_v2_TAB6471_data.json").read_text())
    assert t.size == len(doc["value"]) and [d.name for d in t.dimensions] == doc["id"]


def _languages(name: str) -> list[str]:
    text = _decode_px((REAL / name).read_bytes())
    m = re.search(r'(?m)^LANGUAGES\s*=\s*(.*?);', text)
    return re.findall(r'"([^"]+)"', m.group(1)) if m else []


MULTILINGUAL = [(f, lang) for f in FILES if f.lower().endswith(".px") for lang in _languages(f)[1:]]


@pytest.mark.parametrize(("name", "lang"), MULTILINGUAL)
def test_every_language_of_a_real_file_reads_the_same_cells(name: str, lang: str) -> None:
    main = _t(name)
    other = _t(name, lang=lang)
    assert other.meta["language"] == lang
    text = _decode_px((REAL / name).read_bytes())
    for d, o in zip(main.dimensions, other.dimensions, strict=True):  # without CODES, codes are the labels
        assert len(o) == len(d) and (o.codes == d.codes or f'CODES("{d.label}")' not in text)
    assert np.array_equal(other.values, main.values, equal_nan=True)
    assert np.array_equal(other.symbols, main.symbols)
    plain = px_plain((REAL / name).read_bytes())
    first_var = re.search(rf'(?m)^(?:STUB|HEADING)\[{lang}\]\s*=\s*"([^"]+)"', text)
    if first_var:  # the language's own labels, as the file gives them
        m = re.search(rf'VALUES\[{lang}\]\("{re.escape(first_var.group(1))}"\)\s*=\s*"([^"]*)"', text)
        if m:
            assert other.dimensions[0].labels[0] == m.group(1)
    assert len(MULTILINGUAL) >= 5 and plain["variables"]


def test_cli_lang_and_bad_input_exit_2(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from migaudit.cli import cli

    runner = CliRunner()
    name = str(REAL / "se_BE0101F1langensvolikacelln.px")
    result = runner.invoke(cli, ["read", name, "--lang", "sv", "--to", "csv"])
    assert result.exit_code == 0, result.output
    assert "Inflyttade" in result.output and "Inmigrated" not in result.output
    result = runner.invoke(cli, ["read", name, "--lang", "de"])
    assert result.exit_code == 2 and "no language 'de'" in result.stderr
    result = runner.invoke(cli, ["read", str(REAL / "es_ige_galicia-2.0.json"), "--lang", "sv"])
    assert result.exit_code == 0
    bad = tmp_path / "dup.json"
    bad.write_text('{"version": "2.0", "class": "dataset", "class": "dataset", "id": [], "size": [],'
                   ' "dimension": {}, "value": [1]}', encoding="utf-8")
    result = runner.invoke(cli, ["read", str(bad)])
    assert result.exit_code == 2
    err = result.stderr.strip().splitlines()
    assert len(err) == 1 and "dup.json:$:" in err[0] and "'class' given twice" in err[0]


_PIECES = [b'"', b";", b"=", b",", b"(", b")", b"[", b"]", b"\n", b'"."', b'"x"', b"-", b"\xff", b":",
           b'KEYS("x")=VALUES;', b'HIERARCHIES("a")="b":"c";', b'TIMEVAL("x")=TLIST(A1, "1");', b"{", b"}",
           b'"status": ["e"],', b'"07": 1,', b"12345678901234567890", b'"child": {"a": ["b"]},']


@pytest.mark.parametrize("name", FILES)
def test_mutated_real_files_read_or_give_one_clear_line(name: str) -> None:
    """Truncations, junk bytes and spec fragments: Tables or one ReadError line, never a traceback."""
    import random

    from migaudit.readers import read_bytes

    rng = random.Random(name)
    data = (REAL / name).read_bytes()
    for _ in range(8):
        d = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            pos, op = rng.randint(0, len(d)), rng.randint(0, 3)
            if op == 0:
                del d[pos:pos + rng.randint(1, 50)]
            elif op == 1:
                d[pos:pos] = rng.choice(_PIECES)
            elif op == 2:
                d = d[:pos]
            else:
                d[pos:pos + 1] = bytes([rng.randint(0, 255)])
        try:
            tables = read_bytes(bytes(d), name, None, rng.choice([None, "sv", "en"]))
        except ReadError as e:
            assert "\n" not in str(e) and name in str(e)
        else:
            assert tables and all(t.values.shape == t.symbols.shape for t in tables)
            for t in tables:  # a number always has a finite value; a missing cell never has one
                numbers = np.isin(t.symbols, [0, sym.CODE["*"], sym.CODE["r"], sym.NIL])
                assert np.isfinite(t.values[numbers]).all() and np.isnan(t.values[~numbers]).all()


def test_early_eurostat_status_object_and_its_labels() -> None:
    t = _t("eu_eurostat_gdp_IT_FR.json")
    assert t.meta["status_labels"] == {":": "not available"}
    assert any("early Eurostat form" in n for n in t.notes) and t.symbol_counts()[":"] > 0
