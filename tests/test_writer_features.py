"""The PX and JSON-stat writers emit each feature the readers understand, and reading gives it back.

PX: KEYS rows, another language (read with `lang=`), HIERARCHIES, every DATA separator.
JSON-stat: 1.x and 2.0, sparse `value` objects, index as array or object, `child`
hierarchies, statuses that are not SSB symbols, 1.x bundles and 2.0 collections.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_reader_px import tables

from migaudit.model import symbols as sym
from migaudit.model.table import Table
from migaudit.readers import jsonstat, px


@st.composite
def featured(draw: st.DrawFn) -> Table:
    """A random table with a hierarchy on some dimensions."""
    t = draw(tables())
    hier: dict[str, dict[str, list[str]]] = {}
    for d in t.dimensions:
        if len(d) >= 2 and draw(st.booleans()):
            root, kids = d.codes[0], list(d.codes[1:])
            tree: dict[str, list[str]] = {"": [root], root: kids[:1]}
            if len(kids) > 2:
                tree[kids[0]] = kids[1:]
            else:
                tree[root] = kids
            hier[d.name] = tree
    if hier:
        t.meta["hierarchies"] = hier
    return t


def _same(a: Table, b: Table) -> None:
    assert b.equals(a), (a, b)


def _translation(t: Table) -> dict[str, Any]:
    return {"title": "På svenska", "variables": {d.name: f"{d.label or d.name}·sv" for d in t.dimensions},
            "values": {d.name: [f"{x}·sv" for x in d.labels] for d in t.dimensions}}


SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(t=featured(), keys=st.booleans(), separator=st.sampled_from([" ", ",", "\t", ";"]),
       lang=st.booleans(), codepage=st.sampled_from(["iso-8859-1", "utf-8"]))
def test_px_features_round_trip(t: Table, keys: bool, separator: str, lang: bool, codepage: str) -> None:
    tr = {"sv": _translation(t)} if lang else None
    data = px.write_px(t, None, codepage, keys=keys, translations=tr, separator=separator).encode(
        "utf-8" if codepage == "utf-8" else "latin-1")
    (back,) = px.read(data, "w.px")
    _same(t, back)
    assert back.meta.get("hierarchies", {}) == {
        d.name: t.meta["hierarchies"][d.name] for d in t.dimensions if d.name in t.meta.get("hierarchies", {})}
    if keys and len(t.dimensions) > 1:
        assert any(n.startswith("KEYS:") for n in back.notes) == bool(
            np.all(t.symbols.reshape(-1, t.shape[-1]) == sym.NIL, axis=1).any())
    if lang:
        (sv,) = px.read(data, "w.px", lang="sv")
        assert sv.meta["language"] == "sv" and sv.title == "På svenska"
        for d, s in zip(t.dimensions, sv.dimensions, strict=True):
            assert s.codes == d.codes and s.labels == tuple(f"{x}·sv" for x in d.labels)
        assert np.array_equal(sv.values, t.values, equal_nan=True) and np.array_equal(sv.symbols, t.symbols)


def test_px_keys_file_leaves_out_nil_rows_and_reads_them_as_nil() -> None:
    from migaudit.model.table import Dimension

    dims = [Dimension("region", ("0301", "1103")), Dimension("år", ("2020", "2021"))]
    t = Table(dims, np.array([[0.0, 0.0], [5.0, 7.0]]), np.array([[1, 1], [0, 0]], dtype=np.uint8))
    text = px.write_px(t, None, keys=True)
    assert 'KEYS("region")=CODES;' in text and '"0301"' not in text.split("DATA=")[1]
    (back,) = px.read(text.encode("latin-1"), "k.px")
    _same(t, back)
    assert "KEYS: 1 of 2 rows are not in DATA: read as nil ('-', 0)" in back.notes


@st.composite
def with_statuses(draw: st.DrawFn) -> Table:
    t = draw(featured())
    numbers = np.flatnonzero(t.symbols.ravel() == sym.NUMBER).tolist()
    if numbers and draw(st.booleans()):
        picked = draw(st.lists(st.sampled_from(numbers), max_size=3, unique=True))
        t.meta["status"] = {str(i): draw(st.sampled_from(["e", "p", "a", "provisional"])) for i in sorted(picked)}
    return t


@SETTINGS
@given(t=with_statuses(), version=st.sampled_from(["1.x", "2.0"]), sparse=st.booleans(),
       index_as=st.sampled_from(["object", "array"]))
def test_jsonstat_features_round_trip(t: Table, version: str, sparse: bool, index_as: str) -> None:
    text = jsonstat.write_jsonstat(t, None, version, sparse, index_as)
    (back,) = jsonstat.read(text.encode(), "w.json")
    _same(t, back)
    want = {k: {p: c for p, c in tree.items() if p} for k, tree in t.meta.get("hierarchies", {}).items()}
    assert back.meta.get("hierarchies", {}) == {k: v for k, v in want.items() if v}
    assert back.meta.get("status", {}) == t.meta.get("status", {})


@SETTINGS
@given(ts=st.lists(with_statuses(), min_size=2, max_size=3), version=st.sampled_from(["1.x", "2.0"]))
def test_jsonstat_bundles_and_collections_keep_every_dataset(ts: list[Table], version: str) -> None:
    text = jsonstat.write_jsonstat(ts, None, version)
    back = jsonstat.read(text.encode(), "b.json")
    assert len(back) == len(ts)
    for a, b in zip(ts, back, strict=True):
        _same(a, b)


def test_1x_bundle_with_a_dataset_key_keeps_its_siblings() -> None:
    from migaudit.model.table import Dimension

    t = Table([Dimension("x", ("a", "b"))], np.array([1.0, 2.0]), np.zeros(2, dtype=np.uint8))
    one = jsonstat.dataset_dict(t, "1.x")
    import json

    text = json.dumps({"dataset": one, "second": one, "third": one})
    assert len(jsonstat.read(text.encode(), "b.json")) == 3
