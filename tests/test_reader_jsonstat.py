"""JSON-stat reader against SSB's real 01222 responses and variants built from them."""

from __future__ import annotations

import copy
import json
import math
import random

import numpy as np
import pytest
from conftest import assert_tables_or_read_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migaudit.errors import ReadError
from migaudit.model import symbols as sym
from migaudit.readers import choose_reader, jsonstat, read, read_bytes, tidy

BIG = "01222_municipalities_2014K3-2016K3.jsonstat1.json"
SMALL = "01222_five_regions_DERIVED.jsonstat2.json"


@pytest.fixture(scope="module")
def big_raw(ssb):
    return json.loads((ssb / BIG).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def small_raw(ssb):
    return json.loads((ssb / SMALL).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def big(ssb):
    (t,) = read(ssb / BIG)
    return t


@pytest.fixture(scope="module")
def small(ssb):
    (t,) = read(ssb / SMALL)
    return t


def _dump(doc) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def _read_doc(doc, source: str = "variant.json"):
    return jsonstat.read(_dump(doc), source)


def _flat(ds_dims, ids, codes) -> int:
    """Flat index of a cell from the raw category indexes (row-major over `ids`)."""
    flat = 0
    for dim_id, code in zip(ids, codes, strict=True):
        index = ds_dims[dim_id]["category"]["index"]
        pos = index[code] if isinstance(index, dict) else index.index(code)
        flat = flat * len(index) + pos
    return flat


# --- the real 1.x response ------------------------------------------------------------

def test_big_file_shape_and_symbols(big, ssb):
    assert choose_reader((ssb / BIG).read_bytes(), BIG) is jsonstat
    assert [d.name for d in big.dimensions] == ["Region", "ContentsCode", "Tid"]
    assert [d.role for d in big.dimensions] == ["region", "measure", "time"]
    assert big.shape == (430, 10, 9)
    assert big.size == 38_700
    assert big.symbol_counts() == {"number": 38_520, ".": 180}
    assert big.id == "01222"
    assert big.unit == "persons"
    assert big.title.startswith("Population and changes during the quarter")
    assert big.meta["updated"] == "2016-12-16T14:29:43Z"
    assert big.meta["source"] == "Statistics Norway"
    assert big.dim("Region").label_of("0301") == "Oslo municipality"
    assert big.dim("ContentsCode").label_of("Fraflytting8") == "Emigration, domestic"
    assert big.dim("Tid").codes == tuple(f"{y}K{q}" for y, q in [(2014, 3), (2014, 4)] +
                                         [(2015, q) for q in range(1, 5)] + [(2016, q) for q in range(1, 4)])


def test_big_file_values_match_raw(big, big_raw):
    ds = big_raw["dataset"]
    dims = ds["dimension"]
    ids = dims["id"]
    raw_values = ds["value"]
    numbers = [v for v in raw_values if v is not None]
    assert len(numbers) == 38_520
    assert big.total() == pytest.approx(math.fsum(numbers))
    rng = random.Random(1222)
    region_codes = list(dims["Region"]["category"]["index"])
    content_codes = list(dims["ContentsCode"]["category"]["index"])
    tid_codes = list(dims["Tid"]["category"]["index"])
    for _ in range(300):
        key = (rng.choice(region_codes), rng.choice(content_codes), rng.choice(tid_codes))
        flat = _flat(dims, ids, key)
        value, symbol = big.cell(Region=key[0], ContentsCode=key[1], Tid=key[2])
        if raw_values[flat] is None:
            assert symbol == ds["status"][str(flat)] == "."
            assert math.isnan(value)
        else:
            assert (value, symbol) == (raw_values[flat], "")
    # a few fixed cells: Oslo's population at the end of 2016K3, Halden's births in 2014K3
    oslo = _flat(dims, ids, ("0301", "Folketallet11", "2016K3"))
    assert big.cell(Region="0301", ContentsCode="Folketallet11", Tid="2016K3")[0] == raw_values[oslo]
    assert big.cell(Region="0101", ContentsCode="Fodte2", Tid="2014K3") == (72.0, "")


def test_big_file_dot_cells_are_the_status_cells(big, big_raw):
    status = big_raw["dataset"]["status"]
    dots = set(np.flatnonzero(big.symbols.ravel() == sym.CODE["."]).tolist())
    assert dots == {int(k) for k, v in status.items() if v == "."}
    # the 180 `.` cells are the two discontinued municipalities, every contents and quarter
    region_axis = {big.dim("Region").codes[i] for i in np.nonzero(big.symbols == sym.CODE["."])[0]}
    assert region_axis == {"1901", "1915"}


def test_derived_2_0_equals_1_x_for_its_regions(big, small):
    assert small.shape == (5, 10, 9)
    assert small.id == big.id == "01222"
    assert small.meta["format"] == "JSON-stat 2.0"
    assert [d.role for d in small.dimensions] == ["region", "measure", "time"]
    assert small.dim("ContentsCode").codes == big.dim("ContentsCode").codes
    assert small.dim("Tid").codes == big.dim("Tid").codes
    for i, code in enumerate(small.dim("Region").codes):
        j = big.dim("Region").index(code)
        assert small.dim("Region").labels[i] == big.dim("Region").labels[j]
        np.testing.assert_array_equal(small.values[i], big.values[j])
        np.testing.assert_array_equal(small.symbols[i], big.symbols[j])
    assert small.symbol_counts() == {"number": 360, ".": 90}


# --- variants built from the real files -----------------------------------------------

def test_dict_order_of_index_does_not_matter(small, small_raw):
    doc = copy.deepcopy(small_raw)
    for d in doc["dimension"].values():
        items = list(d["category"]["index"].items())
        random.Random(7).shuffle(items)
        d["category"]["index"] = dict(items)
    (t,) = _read_doc(doc)
    assert t.equals(small)


def test_permuted_index_positions_map_values(small, small_raw):
    """Positions reassigned (values re-laid out to match): every cell still reads the same."""
    doc = copy.deepcopy(small_raw)
    ids, sizes = doc["id"], doc["size"]
    perms = {}
    for dim_id in ids:
        index = doc["dimension"][dim_id]["category"]["index"]
        codes = sorted(index, key=index.get)
        new_order = codes[::-1] if dim_id != "ContentsCode" else codes[1::2] + codes[0::2]
        perms[dim_id] = (codes, new_order)
        doc["dimension"][dim_id]["category"]["index"] = {c: new_order.index(c) for c in reversed(codes)}
    old_values = small_raw["value"]
    old_status = small_raw["status"]
    new_values = [None] * len(old_values)
    new_status = {}
    for old_flat in range(len(old_values)):
        rest, pos = old_flat, []
        for size in reversed(sizes):
            pos.append(rest % size)
            rest //= size
        pos.reverse()
        codes = [perms[d][0][p] for d, p in zip(ids, pos, strict=True)]
        new_flat = 0
        for d, c, size in zip(ids, codes, sizes, strict=True):
            new_flat = new_flat * size + perms[d][1].index(c)
        new_values[new_flat] = old_values[old_flat]
        if str(old_flat) in old_status:
            new_status[str(new_flat)] = old_status[str(old_flat)]
    doc["value"], doc["status"] = new_values, new_status
    (t,) = _read_doc(doc)
    assert t.dim("Region").codes == tuple(perms["Region"][1])
    for r in small.dim("Region").codes:
        for c in small.dim("ContentsCode").codes:
            for q in small.dim("Tid").codes:
                a, b = t.cell(Region=r, ContentsCode=c, Tid=q), small.cell(Region=r, ContentsCode=c, Tid=q)
                assert a[1] == b[1] and (a[0] == b[0] or (math.isnan(a[0]) and math.isnan(b[0])))
    assert t.total() == small.total()


def test_index_as_array_status_as_array_value_as_object(small, small_raw):
    doc = copy.deepcopy(small_raw)
    for d in doc["dimension"].values():
        index = d["category"]["index"]
        d["category"]["index"] = sorted(index, key=index.get)
    (t,) = _read_doc(doc)
    assert t.equals(small)
    n = len(doc["value"])
    doc["status"] = [doc["status"].get(str(i)) for i in range(n)]
    (t,) = _read_doc(doc)
    assert t.equals(small)
    doc["value"] = {str(i): v for i, v in enumerate(small_raw["value"]) if v is not None}
    (t,) = _read_doc(doc)
    assert t.equals(small)
    assert not any("absent" in note for note in t.notes)


def test_sparse_value_object_without_status_gives_no_cell(small, small_raw):
    doc = copy.deepcopy(small_raw)
    doc["value"] = {str(i): v for i, v in enumerate(small_raw["value"]) if v is not None}
    del doc["status"]
    (t,) = _read_doc(doc)
    assert t.symbol_counts() == {"number": 360, ".": 90}
    assert any("90 cells absent" in note for note in t.notes)


def test_null_without_status_is_not_available_and_noted(small_raw):
    doc = copy.deepcopy(small_raw)
    del doc["status"]
    (t,) = _read_doc(doc)
    assert t.symbol_counts() == {"number": 360, "..": 90}
    assert any(note.startswith("90 null values without status") for note in t.notes)


def test_status_as_one_string_and_flags(small_raw):
    doc = copy.deepcopy(small_raw)
    doc["value"] = [v if v is not None else 0 for v in small_raw["value"]]
    doc["status"] = "*"
    (t,) = _read_doc(doc)
    assert t.symbol_counts() == {"*": 450}
    doc["status"] = {"0": "r", "1": "..", "2": ":"}
    doc["value"][2] = None
    (t,) = _read_doc(doc)
    assert t.cell(Region="0101", ContentsCode="Fodte2", Tid="2014K3") == (72.0, "r")
    v, s = t.cell(Region="0101", ContentsCode="Fodte2", Tid="2014K4")
    assert math.isnan(v) and s == ".."
    assert t.meta["values_under_missing_status"] == {"1": 63.0}
    assert math.isnan(t.values.ravel()[2]) and t.symbols.ravel()[2] == sym.CONFIDENTIAL


def test_1x_bundle_gives_one_table_per_dataset(big_raw, small):
    ds = big_raw["dataset"]
    bundle = {"first": ds, "second": copy.deepcopy(ds)}
    tables = jsonstat.read(_dump(bundle), "bundle.json")
    assert [t.meta["dataset"] for t in tables] == ["first", "second"]
    assert tables[0].equals(tables[1]) and tables[0].size == 38_700


def test_roles_from_names_and_table_id_from_extension(small_raw):
    doc = copy.deepcopy(small_raw)
    del doc["role"]
    doc["extension"] = {"px": {"tableid": "07459"}}
    (t,) = _read_doc(doc, "whatever.json")
    assert [d.role for d in t.dimensions] == ["region", "measure", "time"]
    assert t.id == "07459"
    assert t.meta["extension"] == {"px": {"tableid": "07459"}}
    doc = {"version": "2.0", "class": "dataset", "label": "05810: Folkemengde etter kjønn og alder",
           "id": ["Kjonn", "Alder", "Statsborgerskap", "Landbakgrunn"], "size": [2, 1, 1, 1],
           "dimension": {"Kjonn": {"category": {"index": ["1", "2"], "label": {"1": "Menn", "2": "Kvinner"}}},
                         "Alder": {"category": {"label": {"20": "20 år"}}},
                         "Statsborgerskap": {"category": {"index": {"NO": 0}}},
                         "Landbakgrunn": {"category": {"index": {"000": 0}}}},
           "value": [1, 2]}
    (t,) = _read_doc(doc, "x.json")
    assert [d.role for d in t.dimensions] == ["sex", "age", "citizenship", "citizenship"]
    assert t.id == "05810"
    assert t.dim("Alder").codes == ("20",)


# --- errors name the JSON path ------------------------------------------------------

def _error(doc_or_bytes, source: str = "bad.json") -> str:
    data = doc_or_bytes if isinstance(doc_or_bytes, bytes) else _dump(doc_or_bytes)
    with pytest.raises(ReadError) as e:
        jsonstat.read(data, source)
    return str(e.value)


def test_truncated_json_names_line_and_column(ssb):
    data = (ssb / SMALL).read_bytes()
    msg = _error(data[: len(data) // 2])
    assert msg.startswith("bad.json:line ") and "column" in msg and "malformed JSON" in msg


def test_wrong_sizes_and_lengths(big_raw, small_raw):
    doc = copy.deepcopy(big_raw)
    doc["dataset"]["dimension"]["size"][0] = 431
    assert "$.dataset.dimension.size" in _error(doc)
    doc = copy.deepcopy(big_raw)
    doc["dataset"]["value"].pop()
    msg = _error(doc)
    assert "$.dataset.value:" in msg and "38699 values" in msg and "38700" in msg
    doc = copy.deepcopy(small_raw)
    doc["size"][2] = 8
    assert "bad.json:$.size:" in _error(doc)


def test_junk_value_and_unknown_status(big_raw):
    doc = copy.deepcopy(big_raw)
    doc["dataset"]["value"][17] = "12x"
    assert "$.dataset.value[17]" in _error(doc)
    doc = copy.deepcopy(big_raw)
    doc["dataset"]["value"][17] = True
    assert "$.dataset.value[17]" in _error(doc)
    doc = copy.deepcopy(big_raw)
    doc["dataset"]["status"]["34650"] = 7
    msg = _error(doc)
    assert '$.dataset.status["34650"]' in msg and "status is a JSON number" in msg


def test_any_status_string_is_kept_and_a_number_stays_a_number(big_raw):
    """The schema allows any status string: 'e' (estimate) beside a number keeps the number."""
    doc = copy.deepcopy(big_raw)
    values = doc["dataset"]["value"]
    i = next(k for k, v in enumerate(values) if isinstance(v, int | float) and v)
    doc["dataset"]["status"][str(i)] = "e"
    j = next(k for k, v in enumerate(values) if v is None)
    doc["dataset"]["status"][str(j)] = "p"
    (t,) = jsonstat.read(_dump(doc), "x.json")
    flat_v, flat_s = t.values.ravel(), t.symbols.ravel()
    assert flat_v[i] == values[i] and flat_s[i] == 0
    assert np.isnan(flat_v[j]) and sym.TEXT[flat_s[j]] == ".."
    assert t.meta["status"] == {str(min(i, j)): "e" if i < j else "p", str(max(i, j)): "p" if i < j else "e"}


def test_index_gaps_duplicates_and_missing_keys(small_raw):
    doc = copy.deepcopy(small_raw)
    doc["dimension"]["Region"]["category"]["index"]["0301"] = 0
    msg = _error(doc)
    assert '$.dimension.Region.category.index["0301"]' in msg and "share position 0" in msg
    doc = copy.deepcopy(small_raw)
    doc["dimension"]["Region"]["category"]["index"]["0301"] = 7  # a gap at 1
    assert '$.dimension.Region.category.index["0301"]' in _error(doc)
    doc = copy.deepcopy(small_raw)
    doc["dimension"]["Tid"]["category"]["index"] = ["2014K3"] * 9
    assert "$.dimension.Tid.category.index[1]" in _error(doc)
    doc = copy.deepcopy(small_raw)
    del doc["dimension"]["Tid"]
    assert "$.dimension.Tid" in _error(doc)
    doc = copy.deepcopy(small_raw)
    del doc["value"]
    assert "$.value" in _error(doc)
    doc = copy.deepcopy(small_raw)
    doc["dimension"]["Region"]["category"]["label"]["9999"] = "Nowhere"
    assert '$.dimension.Region.category.label["9999"]' in _error(doc)
    doc = copy.deepcopy(small_raw)
    doc["status"]["0"] = "-"
    assert '$.status["0"]' in _error(doc)
    doc = copy.deepcopy(small_raw)
    doc["status"]["2"] = "*"
    doc["value"][2] = None
    assert '$.status["2"]' in _error(doc)
    assert "NaN is not a JSON number" in _error(b'{"dataset": {"value": [NaN]}}')


def test_empty_and_non_object(ssb):
    assert "empty" in _error(b"  \n")
    assert "top level is a JSON array" in _error(b"[1, 2]")
    assert "no dataset" in _error(b'{"a": 1}')
    with pytest.raises(ReadError, match="empty"):
        read_bytes(b"", "empty.json")


# --- round trips ------------------------------------------------------------------------

@pytest.mark.parametrize("name", [BIG, SMALL])
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_round_trip_through_tidy(ssb, name, fmt):
    (t,) = read(ssb / name)
    text = tidy.write(t, None, fmt)
    (back,) = read_bytes(text.encode("utf-8"), f"roundtrip.{fmt}")
    assert back.equals(t)
    assert [d.role for d in back.dimensions] == [d.role for d in t.dimensions]
    if fmt == "json":
        assert back.id == t.id and back.meta["updated"] == t.meta["updated"]


# --- fuzz -------------------------------------------------------------------------------

def _small_bytes() -> bytes:
    from pathlib import Path

    p = Path(__file__).resolve().parents[2] / "shared" / "ssb" / SMALL
    return p.read_bytes() if p.exists() else b'{"version": "2.0"}'


_SMALL_BYTES = _small_bytes()
_FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _read_or_error(data: bytes) -> None:
    assert_tables_or_read_error([lambda: jsonstat.read(data, "fuzz.json"), lambda: read_bytes(data, "fuzz.json")])


@_FUZZ
@given(st.binary(max_size=400))
def test_fuzz_random_bytes(data):
    _read_or_error(data)
    _read_or_error(b'{"dataset": ' + data)


@_FUZZ
@given(st.lists(st.tuples(st.integers(0, len(_SMALL_BYTES) - 1), st.sampled_from(["del", "ins", "set"]),
                          st.binary(min_size=1, max_size=4)), min_size=1, max_size=6))
def test_fuzz_byte_mutations_of_real_file(edits):
    data = bytearray(_SMALL_BYTES)
    for pos, op, blob in edits:
        pos = min(pos, len(data) - 1)
        if op == "del":
            del data[pos: pos + len(blob)]
        elif op == "ins":
            data[pos:pos] = blob
        else:
            data[pos: pos + len(blob)] = blob
    _read_or_error(bytes(data))


_JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**6), st.floats(allow_nan=False),
                       st.sampled_from([".", "..", ":", "-", "*", "r", "?", "", "0101", "Tid", "x"]))
_JSON = st.recursive(_JSON_LEAF, lambda kids: st.one_of(st.lists(kids, max_size=4),
                                                       st.dictionaries(st.text(max_size=5), kids, max_size=4)),
                     max_leaves=8)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list) and len(node) <= 12:
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


_SMALL_DOC = json.loads(_SMALL_BYTES)
_SMALL_PATHS = [p for p in _paths(_SMALL_DOC) if p]


@_FUZZ
@given(st.lists(st.tuples(st.sampled_from(_SMALL_PATHS), st.one_of(_JSON, st.just("<delete>"))),
                min_size=1, max_size=4))
def test_fuzz_structural_mutations_of_real_file(edits):
    doc = copy.deepcopy(_SMALL_DOC)
    for path, new in edits:
        node = doc
        try:
            for k in path[:-1]:
                node = node[k]
            if new == "<delete>":
                if isinstance(node, dict):
                    node.pop(path[-1], None)
                elif isinstance(node, list) and path[-1] < len(node):
                    node.pop(path[-1])
            else:
                node[path[-1]] = new
        except (KeyError, IndexError, TypeError):
            continue
    _read_or_error(json.dumps(doc).encode())


# --- issue 9/10: spec forms and bad input ------------------------------------------------------


def test_duplicate_keys_are_errors_naming_the_object(small_raw):
    text = _dump(small_raw).decode()
    dup = text.replace('"version"', '"label": "again", "version"', 1) if '"label"' in text else None
    assert dup is not None
    msg = _error(dup.encode())
    assert "bad.json:$:" in msg and "key 'label' given twice" in msg
    i = text.index('"index"')
    inner = text[:i] + '"label": {}, ' + text[i:]
    msg = _error(inner.encode())
    assert "given twice" in msg and ".category:" in msg


def test_07_and_7_do_not_name_the_same_cell(small_raw):
    doc = copy.deepcopy(small_raw)
    doc["value"] = {str(i): v for i, v in enumerate(doc["value"]) if v is not None} if isinstance(
        doc["value"], list) else doc["value"]
    doc["value"]["07"] = 5
    msg = _error(doc)
    assert '$.value["07"]' in msg and "'7'" in msg


@pytest.mark.parametrize("number", ["1" * 400, "12345678901234567890", "9007199254740993", "1e309", "-1e400",
                                    "0.12345678901234567890123"])
def test_numbers_float64_cannot_hold_are_errors(small_raw, number):
    doc = copy.deepcopy(small_raw)
    text = _dump(doc).decode()
    i = text.index('"value"')
    j = text.index("[", i) + 1
    bad = text[:j] + number + "," + text[text.index(",", j) + 1:]
    msg = _error(bad.encode())
    assert "$.value[0]" in msg and "float64" in msg and "\n" not in msg


def test_non_finite_literals_are_errors(small_raw):
    text = _dump(small_raw).decode()
    j = text.index("[", text.index('"value"')) + 1
    bad = text[:j] + "NaN," + text[text.index(",", j) + 1:]
    assert "finite" in _error(bad.encode()) or "NaN" in _error(bad.encode())


def test_one_element_status_applies_to_every_cell(small_raw):
    doc = copy.deepcopy(small_raw)
    doc["status"] = ["*"]
    doc["value"] = [1 if v is None else v for v in doc["value"]] if isinstance(doc["value"], list) else doc["value"]
    (t,) = _read_doc(doc)
    assert set(t.symbol_counts()) <= {"*"} and any("one element" in n for n in t.notes)


def test_collection_that_only_links_is_an_error_and_embedded_ones_all_read(small_raw):
    link_only = {"version": "2.0", "class": "collection", "link": {"item": [{"class": "dataset", "href": "x"}]}}
    assert "$.link.item[0]" in _error(link_only)
    nested = {"version": "2.0", "class": "collection", "link": {"item": [
        small_raw, {"class": "collection", "link": {"item": [small_raw, small_raw]}}]}}
    assert len(_read_doc(nested)) == 3


def test_child_and_unit_are_kept(small_raw):
    doc = copy.deepcopy(small_raw)
    dim_id = doc["id"][0]
    cat = doc["dimension"][dim_id]["category"]
    codes = list(cat["index"]) if isinstance(cat["index"], list) else sorted(cat["index"], key=cat["index"].get)
    cat["child"] = {codes[0]: codes[1:]}
    for other in doc["id"]:
        doc["dimension"][other]["category"].pop("unit", None)
    cat["unit"] = {c: {"label": "persons", "decimals": 1, "multiplier": 6, "symbol": "M", "position": "end"}
                   for c in codes}
    (t,) = _read_doc(doc)
    assert t.meta["hierarchies"] == {dim_id: {codes[0]: codes[1:]}}
    assert t.meta["unit"] == {"decimals": 1, "label": "persons", "multiplier": 6, "position": "end", "symbol": "M"}
    assert t.decimals == 1
    cat["child"] = {codes[0]: ["nope"]}
    assert "child 'nope'" in _error(doc)


def test_blank_status_on_a_null_is_not_a_number(small_raw):
    doc = copy.deepcopy(small_raw)
    n = len(doc["value"]) if isinstance(doc["value"], list) else None
    assert n
    doc["value"][0] = None
    doc["status"] = {"0": " "}
    (t,) = _read_doc(doc)
    assert np.isnan(t.values.ravel()[0]) and sym.TEXT[t.symbols.ravel()[0]] == ".."
