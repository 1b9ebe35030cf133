"""JSON-stat 1.x and 2.0, as SSB's StatBank API serves them.

Layouts read:
  * 1.x single  `{"dataset": {...}}` with `dimension.id`, `dimension.size`, `dimension.role`
  * 1.x bundle  `{"name1": {...}, "name2": {...}}`: one Table per named dataset
  * a bare dataset `{"dimension": ..., "value": ...}` without `version`
  * 2.0 dataset top-level `version`, `class: "dataset"`, `id`, `size`, `role`
  * 2.0 collection whose `link.item` embeds datasets (`class: "dataset"`)

Decisions, each made to stay faithful to what SSB published:
  * `category.index` (object in ANY order, or array) is the only source of positions;
    codes are laid out in index order so flat value positions map straight onto the cube.
  * Cell symbols come from `status` (one string for all, array, or object keyed by flat
    index). A null value with a missing-data status keeps that symbol; a number with `*`/`r`
    keeps number and flag; a number with `-` must be 0.
  * A null value WITHOUT status is SSB's "no number": symbol `..` (not available), counted
    in a Table note; never dropped.
  * In a sparse `value` object, a position that is absent is a cell that does not exist:
    symbol `.` (no cell) unless `status` names another symbol; counted in a note. This is
    how `Table.from_frame` treats missing key combinations too.
  * A number whose status says "no number" (`..`, `:`, ...) keeps the symbol; the number is
    moved to `meta["values_under_missing_status"]` and counted in a note.
  * Table.id: the SSB table number from `extension.px.tableid`, else a `NNNNN:` label
    prefix, else a 5-digit number leading the file name, else the file stem (a Table note
    says which). Dataset-level `label`, `source`, `updated`, `href`, `note`, `extension`,
    `link`, `error` are kept in `meta` (note also as `Table.footnotes`); category `unit`,
    `note`, `child`, `coordinates` are kept in `meta` per dimension.
  * Roles: `time`/`geo`/`metric` → time/region/measure; other dimensions by name
    (Tid, Region, ContentsCode, Kjonn, Alder, Statsborgerskap, Landbakgrunn, ...).
  * `status` may be any string (the schema allows it): SSB's symbols keep their meaning;
    others (`"e"` estimate, `"p"`...) are kept in `meta["status"]` ({flat index: text}), the
    cell stays a number when it has one (`..` when it has none). A one-element status array
    applies to every cell.
  * Every dataset is read: all named datasets of a 1.x bundle (also beside a `"dataset"`
    key), a bare dataset without `version`, every dataset embedded in a 2.0 collection
    (nested too); a collection that only links datasets by `href` is an error.
  * An early Eurostat `status` object (`{"value": [...], "category": {"label": ...}}`) is read,
    its labels kept in `meta["status_labels"]`.
  * `category.child` → `meta["hierarchies"]` ({dimension id: {parent: [children]}}, the
    same key PX HIERARCHIES uses); the unit fields all categories share (label, symbol,
    position, decimals, multiplier...) → `meta["unit"]`.
  * A key given twice in one object, a sparse key not written canonically (`"07"`), a
    number a float64 cannot hold exactly (over 2^53, over 17 digits, `1e309`) are errors.
Every malformation is a ReadError naming the JSON path (e.g. `$.dataset.value[17]`).
`write_jsonstat` writes tables back (1.x/2.0, sparse, bundles and collections).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from migaudit.errors import ReadError, UsageError
from migaudit.model import symbols as sym
from migaudit.model.table import Dimension, Table, guess_role
from migaudit.readers import decode

_ROLE_MAP = {"time": "time", "geo": "region", "metric": "measure"}
_META_KEYS = ("label", "source", "updated", "href", "note", "extension", "link", "error", "version", "class")
_MISSING = {i for i, s in enumerate(sym.SYMBOLS) if s.arithmetic in ("absent", "unknown", "bound")}
_FLAGS = {sym.CODE["*"], sym.CODE["r"]}
#: a sparse `value` object may describe a cube of at most this many cells
MAX_SPARSE_CELLS = 50_000_000
_STATUS_TEXTS = " ".join(repr(t) for t in sym.TEXT if t)


def sniff(head: bytes, source: str) -> int:
    """JSON whose first 64 KiB name a `dimension` (or a JSON-stat class) is JSON-stat."""
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if not text.startswith(b"{") or b'"migaudit_table"' in text[:2000]:
        return 0
    if b'"dimension"' in text:
        return 90
    if re.search(rb'"class"\s*:\s*"(dataset|collection|bundle)"', text) or b'"dataset"' in text:
        return 60
    if source.lower().endswith((".json", ".jsonstat")):
        return 10
    return 0


_LONG_NUMBER = re.compile(r"\d{16}|[eE][+-]?\d{3}")


class _Inexact(str):
    """A JSON number float64 cannot hold (over 2^53, over 17 digits, or out of range), as its text."""


class _Dup(dict):
    """A JSON object that gave a key twice (`dup` names it): an error once its path is known."""

    dup = ""


def _pairs(pairs: list[tuple[str, Any]], dups: list[str]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        dups.append("")
        seen: set[str] = set()
        out = _Dup(pairs)
        out.dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        return out
    return d


def _int(text: str) -> int | _Inexact:
    digits = text.lstrip("-").lstrip("0")
    if len(digits) > 15 and (len(digits) > 16 or int(digits) > 2**53):
        return _Inexact(text)
    return int(text)


def _float(text: str) -> float | _Inexact:
    mantissa = re.split("[eE]", text.lstrip("-"))[0].replace(".", "").lstrip("0")
    if len(mantissa.rstrip("0")) > 17:
        return _Inexact(text)
    v = float(text)
    return v if math.isfinite(v) else _Inexact(text)


def _find_dup(doc: Any) -> tuple[str, str] | None:
    """(JSON path, key) of the first object that gave a key twice."""
    stack: list[tuple[str, Any]] = [("$", doc)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, _Dup):
            return path, node.dup
        if isinstance(node, dict):
            stack.extend((_key(path, k), v) for k, v in reversed(list(node.items())) if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend((f"{path}[{i}]", v) for i, v in reversed(list(enumerate(node))) if isinstance(v, dict | list))
    return None


def read(data: bytes, source: str, lang: str | None = None) -> list[Table]:
    """Every dataset in a JSON-stat document, one Table each (JSON-stat has one language: `lang` is noted)."""
    text = decode(data, source)
    if not text.strip():
        raise ReadError("file is empty", source=source, expected="a JSON-stat document")
    try:
        dups: list[str] = []
        # number hooks only when a number might not fit a float64 (they cost ~50% of the parse)
        hooks: dict[str, Any] = {"parse_int": _int, "parse_float": _float} if _LONG_NUMBER.search(text) else {}
        doc = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=lambda p: _pairs(p, dups),
                         **hooks)
    except json.JSONDecodeError as e:
        raise ReadError(f"malformed JSON: {e.msg}", source=source, where=f"line {e.lineno} column {e.colno}",
                        expected="a JSON-stat document") from None
    except ValueError as e:  # NaN / Infinity literals
        raise ReadError(f"malformed JSON: {e}", source=source, where="$", expected="finite numbers") from None
    except RecursionError:
        raise ReadError("malformed JSON: nested too deeply", source=source, where="$") from None
    if not isinstance(doc, dict):
        raise ReadError(f"top level is a JSON {_kind(doc)}", source=source, where="$",
                        expected='an object: {"dataset": {...}} (1.x) or {"version": "2.0", "class": "dataset", ...}')
    dup = _find_dup(doc) if dups else None
    if dup is not None:
        raise ReadError(f"key {dup[1]!r} given twice in one object", source=source, where=dup[0],
                        expected="each key once (JSON-stat readers disagree on which copy wins)")
    found = list(_datasets(doc, source))
    if not found:
        raise ReadError("no dataset found", source=source, where="$",
                        expected='"dataset", "class": "dataset" or named datasets with "dimension" and "value"')
    stem = Path(source).stem if source and not source.startswith("<") else ""
    tables = []
    for path, name, ds, version in found:
        tables.append(_read_dataset(ds, path, name, version, source, stem, bundle=len(found) > 1))
    if lang is not None:
        for t in tables:
            t.notes.append(f"language {lang!r} asked for: JSON-stat holds one language, read as published")
    return tables


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _kind(v: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(v), "number")


def _key(path: str, key: str) -> str:
    return f"{path}.{key}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) else f"{path}[{json.dumps(key)}]"


def _datasets(doc: dict[str, Any], source: str, path: str = "$", notes: list[str] | None = None):
    """(json path, name, dataset object, version) for every dataset in the document.

    Never drops one silently: a 1.x bundle yields every named dataset (also beside a
    `"dataset"` key), a 2.0 collection every embedded dataset (nested collections too); a
    collection that only links datasets by `href` is an error naming them.
    """
    cls = doc.get("class")
    if "version" in doc or cls is not None:
        if cls == "dataset" or (cls is None and "dimension" in doc):
            yield path, None, doc, "2.0"
            return
        if cls in ("collection", "bundle"):
            link = doc.get("link")
            items = link.get("item") if isinstance(link, dict) else None
            if not isinstance(items, list):
                raise ReadError(f"{cls} without link.item", source=source, where=f"{path}.link",
                                expected='"link": {"item": [...]}')
            linked = []
            for i, item in enumerate(items):
                ipath = f"{path}.link.item[{i}]"
                if not isinstance(item, dict):
                    raise ReadError(f"item is a JSON {_kind(item)}", source=source, where=ipath, expected="an object")
                if item.get("class") == "dataset" and "dimension" in item:
                    yield ipath, None, item, "2.0"
                elif item.get("class") in ("collection", "bundle") and isinstance(item.get("link"), dict):
                    yield from _datasets(item, source, ipath)
                else:
                    linked.append((ipath, item.get("href") or item.get("label") or "?"))
            if linked:
                raise ReadError(f"the {cls} links {len(linked)} item(s) by reference without embedding them "
                                f"(first {linked[0][1]!r})", source=source, where=linked[0][0],
                                expected="datasets embedded in link.item (with dimension and value); "
                                         "fetch the linked files and read them one by one")
            return
        raise ReadError(f"class {cls!r} holds no table", source=source, where=f"{path}.class", expected='"dataset"')
    if "dimension" in doc and "value" in doc:  # a bare dataset without "version": 1.x in form
        yield path, None, doc, "1.x"
        return
    for name, ds in doc.items():
        if isinstance(ds, dict) and ("dimension" in ds or "value" in ds):
            yield _key(path, name), (None if name == "dataset" and len(doc) == 1 else name), ds, "1.x"


def _read_dataset(ds: dict[str, Any], path: str, name: str | None, version: str, source: str,
                  stem: str, bundle: bool) -> Table:
    notes: list[str] = []

    def err(message: str, where: str, expected: str | None = None) -> ReadError:
        return ReadError(message, source=source, where=where, expected=expected)

    dims_obj = ds.get("dimension")
    dpath = f"{path}.dimension"
    if not isinstance(dims_obj, dict):
        raise err("no dimension object" if dims_obj is None else f"dimension is a JSON {_kind(dims_obj)}",
                  dpath, "an object of dimensions")
    # id / size / role: top level (2.0, and allowed in 1.x) or inside `dimension` (1.x)
    if "id" in ds and "size" in ds and version == "2.0" or ("id" not in dims_obj and "id" in ds):
        ids, ipath = ds.get("id"), f"{path}.id"
        sizes, spath = ds.get("size"), f"{path}.size"
        roles_obj, rpath = ds.get("role"), f"{path}.role"
    else:
        ids, ipath = dims_obj.get("id"), f"{dpath}.id"
        sizes, spath = dims_obj.get("size"), f"{dpath}.size"
        roles_obj, rpath = dims_obj.get("role", ds.get("role")), f"{dpath}.role"
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise err("missing or malformed dimension id list", ipath, "an array of dimension names")
    if len(set(ids)) != len(ids):
        dup = next(i for n, i in enumerate(ids) if i in ids[:n])
        raise err(f"dimension {dup!r} listed twice", ipath, "distinct dimension names")
    if (isinstance(sizes, list) and sizes and all(isinstance(s, str) and s.isascii() and s.isdigit() for s in sizes)):
        # CSO Ireland's JSON-stat 1.0 writes "size": ["37","15","15"]: whole numbers, as strings
        notes.append(f"{spath} holds its sizes as strings {sizes[:3]}: read as the whole numbers they spell")
        sizes = [int(s) for s in sizes]
    if not isinstance(sizes, list) or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0
                                              for s in sizes):
        raise err("missing or malformed size list", spath, "an array of non-negative integers")
    if len(sizes) != len(ids):
        raise err(f"{len(sizes)} sizes for {len(ids)} dimensions", spath, f"{len(ids)} sizes, one per id")

    roles: dict[str, str] = {}
    if roles_obj is not None:
        if not isinstance(roles_obj, dict):
            raise err(f"role is a JSON {_kind(roles_obj)}", rpath, 'an object like {"time": ["Tid"]}')
        for rkey, members in roles_obj.items():
            if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
                raise err("malformed role list", _key(rpath, rkey), "an array of dimension names")
            for m in members:
                if m not in ids:
                    notes.append(f"{_key(rpath, rkey)} names {m!r}, which is not a dimension: ignored")
                elif rkey in _ROLE_MAP:
                    roles[m] = _ROLE_MAP[rkey]

    dimensions: list[Dimension] = []
    hierarchies: dict[str, dict[str, list[str]]] = {}
    dim_meta: dict[str, dict[str, Any]] = {}
    units: dict[str, dict[str, Any]] = {}
    for pos, (dim_id, size) in enumerate(zip(ids, sizes, strict=True)):
        d_path = _key(dpath, dim_id)
        d = dims_obj.get(dim_id)
        if not isinstance(d, dict):
            raise err(f"dimension {dim_id!r} is " + ("missing" if d is None else f"a JSON {_kind(d)}"),
                      d_path, "an object with a category")
        cat = d.get("category")
        cpath = f"{d_path}.category"
        if not isinstance(cat, dict):
            raise err("missing category" if cat is None else f"category is a JSON {_kind(cat)}", cpath,
                      "an object with index and/or label")
        codes = _codes(cat, cpath, err)
        if len(codes) != size:
            raise err(f"size {size} for dimension {dim_id!r} (position {pos}) but its category has "
                      f"{len(codes)} codes", spath, f"size = number of categories ({len(codes)})")
        labels_obj = cat.get("label")
        labels = list(codes)
        if labels_obj is not None:
            lpath = f"{cpath}.label"
            if not isinstance(labels_obj, dict):
                raise err(f"label is a JSON {_kind(labels_obj)}", lpath, "an object code → label")
            extra = [k for k in labels_obj if k not in set(codes)]
            if extra:
                raise err(f"label for {extra[0]!r}, which is not in the index", _key(lpath, extra[0]),
                          "labels only for indexed categories")
            for i, c in enumerate(codes):
                if c in labels_obj:
                    lab = labels_obj[c]
                    if not isinstance(lab, str):
                        raise err(f"label is a JSON {_kind(lab)}", _key(lpath, c), "a string")
                    labels[i] = lab
        dlabel = d.get("label")
        if dlabel is not None and not isinstance(dlabel, str):
            raise err(f"label is a JSON {_kind(dlabel)}", f"{d_path}.label", "a string")
        role = roles.get(dim_id) or guess_role(dim_id) or (guess_role(dlabel) if dlabel else None)
        dimensions.append(Dimension(dim_id, tuple(codes), tuple(labels), role=role, label=dlabel))
        if "unit" in cat:
            if not isinstance(cat["unit"], dict):
                raise err(f"unit is a JSON {_kind(cat['unit'])}", f"{cpath}.unit", "an object code → unit")
            units[dim_id] = cat["unit"]
        if "child" in cat:
            hierarchies[dim_id] = _child(cat["child"], codes, f"{cpath}.child", err)
        extras = {k: v for k, v in cat.items() if k in ("note", "child", "coordinates")}
        extras.update({f"dimension_{k}": v for k, v in d.items() if k not in ("category", "label")})
        if extras:
            dim_meta[dim_id] = extras

    n = math.prod(sizes)
    values, symbols, moved, other_status = _cells(ds, path, n, notes, err)

    meta: dict[str, Any] = {"format": f"JSON-stat {version}"}
    if name is not None:
        meta["dataset"] = name
    for k in _META_KEYS:
        if k in ds:
            meta[k] = ds[k]
    if units:
        meta["units"] = units
    if dim_meta:
        meta["dimension_meta"] = dim_meta
    if other_status:
        meta["status"] = {str(i): t for i, t in sorted(other_status.items())}
    st = ds.get("status")
    if isinstance(st, dict) and isinstance(st.get("category"), dict) and isinstance(st["category"].get("label"), dict):
        meta["status_labels"] = st["category"]["label"]  # what the office says its statuses mean (early Eurostat)
    if moved:
        meta["values_under_missing_status"] = moved
    if hierarchies:
        meta["hierarchies"] = hierarchies
    unit, decimals = _unit(units, notes)
    shared = _shared_unit(units)
    if shared:
        meta["unit"] = shared
    title = ds.get("label") if isinstance(ds.get("label"), str) else ""
    footnotes = _footnotes(ds.get("note"))
    tid, why = _table_id(ds, stem, name, bundle)
    notes.append(f"table id {tid!r} from {why}")
    table = Table(dimensions, values, symbols, id=tid, title=title, source=source, unit=unit,
                  decimals=decimals, footnotes=footnotes, notes=notes, meta=meta)
    return table


def _codes(cat: dict[str, Any], cpath: str, err) -> list[str]:
    """Category codes in index order; gaps, duplicates and wrong types are errors."""
    index = cat.get("index")
    ipath = f"{cpath}.index"
    if index is None:
        labels = cat.get("label")
        if isinstance(labels, dict) and len(labels) == 1:
            return [next(iter(labels))]
        raise err("no category index", ipath, "an index (object code → position, or array of codes); "
                  "it may be left out only for a single category with a label")
    if isinstance(index, list):
        if not all(isinstance(c, str) for c in index):
            bad = next(i for i, c in enumerate(index) if not isinstance(c, str))
            raise err(f"index entry is a JSON {_kind(index[bad])}", f"{ipath}[{bad}]", "a category code string")
        seen: set[str] = set()
        for i, c in enumerate(index):
            if c in seen:
                raise err(f"category {c!r} listed twice", f"{ipath}[{i}]", "distinct codes")
            seen.add(c)
        return list(index)
    if not isinstance(index, dict):
        raise err(f"index is a JSON {_kind(index)}", ipath, "an object code → position, or an array of codes")
    by_pos: dict[int, str] = {}
    for c, p in index.items():
        if not isinstance(p, int) or isinstance(p, bool) or not 0 <= p < len(index):
            raise err(f"position {p!r} for category {c!r}", _key(ipath, c),
                      f"an integer from 0 to {len(index) - 1}")
        if p in by_pos:
            raise err(f"categories {by_pos[p]!r} and {c!r} share position {p}", _key(ipath, c),
                      "each position once")
        by_pos[p] = c
    return [by_pos[p] for p in range(len(index))]  # len(by_pos) == len(index) with no dup → no gaps


_OTHER = -2


def _status_code(s: Any, where: str, err, other: dict[int, str] | None = None, i: int = -1) -> int:
    """SSB symbol code of a status; any other string (`"e"` estimate, `"p"`...) is kept in `other`."""
    if s is None or s == "":
        return -1
    if not isinstance(s, str):
        raise err(f"status is a JSON {_kind(s)}", where, "a string")
    t = s.strip()
    if not t:  # a blank status says nothing (never "a number" for a cell without one)
        return -1
    if t in sym.CODE:
        return sym.CODE[t]
    if other is not None:
        other[i] = s
    return _OTHER


def _flat_key(k: str, n: int, where: str, err) -> int:
    """A sparse object's key: a flat cell index written canonically ("7", never "07" or "+7")."""
    if not (k.isdigit() and k.isascii() and len(k) < 19) or int(k) >= n:
        raise err(f"key {k!r} is not a flat cell index", where, f"an integer string from 0 to {n - 1}")
    if k != str(int(k)):
        raise err(f"key {k!r} is not written as a flat cell index", where,
                  f"{str(int(k))!r} (no leading zeros: '07' and '7' would name the same cell)")
    return int(k)


#: Python types of JSON values numpy converts exactly (None becomes NaN)
_PLAIN_NUMBERS = frozenset({int, float, type(None)})


def _cells(
    ds: dict[str, Any], path: str, n: int, notes: list[str], err
) -> tuple[np.ndarray, np.ndarray, dict[str, float], dict[int, str]]:
    """Values and symbol codes for the n cells, from `value` and `status` (and non-SSB statuses)."""
    vpath = f"{path}.value"
    raw = ds.get("value")
    if raw is None:
        raise err("no value", vpath, f"an array of {n} values or an object keyed by flat index")
    if isinstance(raw, list) and len(raw) != n:
        raise err(f"{len(raw)} values but the dimension sizes multiply to {n}", vpath,
                  f"{n} values (product of size)")
    if isinstance(raw, dict) and n > MAX_SPARSE_CELLS:
        raise err(f"a sparse value object for {n} cells", vpath, f"at most {MAX_SPARSE_CELLS} cells")
    values = np.full(n, np.nan)
    present = np.zeros(n, dtype=bool)
    strings = 0

    def take(i: int, v: Any, where: str) -> None:
        nonlocal strings
        if v is None:
            return
        if isinstance(v, _Inexact):
            raise err(f"value {v[:40]}{'...' if len(v) > 40 else ''} cannot be held exactly as a float64"
                      + (" (out of range)" if len(v) < 400 and not math.isfinite(float(v)) else ""), where,
                      "a finite number of at most 15 significant digits (integers up to 2^53)")
        if isinstance(v, bool) or not isinstance(v, int | float | str):
            raise err(f"value is a JSON {_kind(v)}", where, "a number or null")
        if isinstance(v, str):
            try:
                x, code = sym.parse_cell(v)
            except ValueError:
                raise err(f"value {v!r} is not a number", where, "a number or null") from None
            strings += 1
            if code != sym.NUMBER:
                str_symbols[i] = code
            values[i] = x
        else:
            if not math.isfinite(float(v)):
                raise err(f"value {v!r} is not finite", where, "a finite number")
            values[i] = float(v)

    str_symbols: dict[int, int] = {}
    if isinstance(raw, list):
        if len(raw) != n:
            raise err(f"{len(raw)} values but the dimension sizes multiply to {n}", vpath,
                      f"{n} values (product of size)")
        present[:] = True
        if set(map(type, raw)) <= _PLAIN_NUMBERS:
            # numbers and nulls only (the common case): one numpy conversion, null → NaN;
            # only the NaN/inf positions (nulls, or a non-finite number) go through `take`
            values = np.array(raw, dtype=np.float64)
            for i in np.flatnonzero(~np.isfinite(values)).tolist():
                take(i, raw[i], f"{vpath}[{i}]")
        else:
            for i, v in enumerate(raw):
                take(i, v, f"{vpath}[{i}]")
    elif isinstance(raw, dict):
        for k, v in raw.items():
            where = _key(vpath, k)
            present[_flat_key(k, n, where, err)] = True
            take(int(k), v, where)
    else:
        raise err(f"value is a JSON {_kind(raw)}", vpath, "an array or an object keyed by flat index")
    if strings:
        notes.append(f"{strings} values at {vpath} are JSON strings; parsed as SSB cells")

    # status: one string for all cells, an array, or an object keyed by flat index
    status = np.full(n, -1, dtype=np.int16)
    spath = f"{path}.status"
    st = ds.get("status")
    other: dict[int, str] = {}
    if isinstance(st, dict) and "value" in st and not any(k.isdigit() for k in st):
        notes.append(f"{spath} is an object with 'value' (an early Eurostat form): its 'value' read as the status")
        spath, st = f"{spath}.value", st["value"]
    if isinstance(st, list) and len(st) == 1 and n != 1:
        notes.append(f"{spath} has one element: it applies to every cell")
        st = st[0]
    if isinstance(st, str):
        status[:] = _status_code(st, spath, err, other, 0)
        if other:
            other = dict.fromkeys(range(n), other[0])
    elif isinstance(st, list):
        if len(st) != n:
            raise err(f"{len(st)} statuses but {n} cells", spath,
                      f"{n} statuses, one for all cells, or an object keyed by flat index")
        for i, s in enumerate(st):
            status[i] = _status_code(s, f"{spath}[{i}]", err, other, i)
    elif isinstance(st, dict):
        for k, s in st.items():
            where = _key(spath, k)
            i = _flat_key(k, n, where, err)
            status[i] = _status_code(s, where, err, other, i)
    elif st is not None:
        raise err(f"status is a JSON {_kind(st)}", spath, "a string, an array or an object keyed by flat index")

    symbols = np.full(n, sym.NUMBER, dtype=np.uint8)
    has_number = ~np.isnan(values)
    for i, code in str_symbols.items():
        symbols[i] = code
        if code != sym.NIL:
            has_number[i] = False
    null_plain = 0
    absent = 0
    moved: dict[str, float] = {}
    for i in np.flatnonzero(status >= 0):
        code = int(status[i])
        where = f"{spath}[{json.dumps(str(i))}]" if isinstance(st, dict) else f"{spath}[{i}]"
        if code == sym.NIL:
            if has_number[i] and values[i] != 0:
                raise err(f"status '-' (nil) on the number {values[i]:g}", where, "value 0 or null with '-'")
            values[i] = 0.0
            symbols[i] = code
        elif code in _FLAGS:
            if not has_number[i]:
                raise err(f"status {sym.TEXT[code]!r} flags a number but the cell has none", where,
                          "a number beside '*' or 'r'")
            symbols[i] = code
        elif code in _MISSING:
            if has_number[i]:
                moved[str(i)] = float(values[i])
                values[i] = np.nan
            symbols[i] = code
        elif code == _OTHER:
            if not has_number[i]:
                symbols[i] = sym.CODE[".."]
        else:  # status "" handled as -1; NUMBER cannot reach here
            symbols[i] = code
    nostatus = (status < 0) & ~has_number & ~np.isin(np.arange(n), list(str_symbols))
    null_plain = int((nostatus & present).sum())
    absent = int((nostatus & ~present).sum())
    symbols[nostatus & present] = sym.CODE[".."]
    symbols[nostatus & ~present] = sym.NOT_APPLICABLE
    if null_plain:
        first = int(np.flatnonzero(nostatus & present)[0])
        notes.append(f"{null_plain} null values without status (first at {vpath}[{first}]) read as '..' "
                     "(data not available)")
    if absent:
        first = int(np.flatnonzero(nostatus & ~present)[0])
        notes.append(f"{absent} cells absent from the sparse {vpath} object without status (first flat index "
                     f"{first}) read as '.' (no cell)")
    if moved:
        first = next(iter(moved))
        notes.append(f"{len(moved)} numbers carry a 'no number' status (first {spath}[{json.dumps(first)}]); "
                     "the symbol is kept and the numbers moved to meta['values_under_missing_status']")
    if other:
        texts = sorted(set(other.values()))
        no_number = sum(1 for i in other if not has_number[i])
        notes.append(f"{len(other)} cells carry statuses that are not SSB symbols ({', '.join(map(repr, texts[:5]))}"
                     f"{'...' if len(texts) > 5 else ''}): kept in meta['status']; numbers stay numbers"
                     + (f", {no_number} without a number read as '..'" if no_number else ""))
    return values, symbols, moved, other


def _unit(units: dict[str, dict[str, Any]], notes: list[str]) -> tuple[str | None, int]:
    """One unit base and decimals for the table when every category agrees."""
    bases, decs = set(), set()
    for per_dim in units.values():
        for u in per_dim.values():
            if isinstance(u, dict):
                if isinstance(u.get("base"), str):
                    bases.add(u["base"])
                d = u.get("decimals")
                if isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 15:
                    decs.add(d)
    unit = next(iter(bases)) if len(bases) == 1 else None
    if len(bases) > 1:
        notes.append(f"categories have different unit bases {sorted(bases)}: Table.unit left empty, "
                     "see meta['units']")
    decimals = max(decs) if decs else 0
    if len(decs) > 1:
        notes.append(f"categories have different decimals {sorted(decs)}: Table.decimals is the largest")
    return unit, decimals


def _child(child: Any, codes: list[str], where: str, err) -> dict[str, list[str]]:
    """category.child as {parent code: [child codes]} (the same form as PX HIERARCHIES)."""
    if not isinstance(child, dict):
        raise err(f"child is a JSON {_kind(child)}", where, "an object parent code → array of child codes")
    known = set(codes)
    out: dict[str, list[str]] = {}
    for parent, kids in child.items():
        p = _key(where, parent)
        if parent not in known:
            raise err(f"child names parent {parent!r}, which is not in the index", p, "a category code")
        if not isinstance(kids, list) or not all(isinstance(k, str) for k in kids):
            raise err("malformed child list", p, "an array of category codes")
        for i, k in enumerate(kids):
            if k not in known:
                raise err(f"child {k!r} is not in the index", f"{p}[{i}]", "a category code")
        if len(set(kids)) != len(kids):
            raise err("a child listed twice", p, "each child once")
        out[parent] = list(kids)
    return out


def _shared_unit(units: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The unit fields (label, symbol, position, decimals, multiplier...) every category shares.

    Kept in `meta["unit"]` so a rule knows figures are "in millions, 1 decimal" and need not be whole.
    """
    all_units = [u for per_dim in units.values() for u in per_dim.values() if isinstance(u, dict)]
    if not all_units:
        return {}
    keys = set.intersection(*(set(u) for u in all_units))
    return {k: all_units[0][k] for k in sorted(keys)
            if all(json.dumps(u[k], sort_keys=True) == json.dumps(all_units[0][k], sort_keys=True) for u in all_units)}


def _footnotes(note: Any) -> list[str]:
    if isinstance(note, str):
        return [note]
    if isinstance(note, list):
        return [str(x) for x in note if isinstance(x, str | int | float)]
    if isinstance(note, dict):
        return [str(v) for v in note.values() if isinstance(v, str | int | float)]
    return []


def _table_id(ds: dict[str, Any], stem: str, name: str | None, bundle: bool) -> tuple[str, str]:
    ext = ds.get("extension")
    if isinstance(ext, dict):
        px = ext.get("px")
        if isinstance(px, dict) and isinstance(px.get("tableid"), str | int) and str(px["tableid"]).strip():
            return str(px["tableid"]).strip(), "extension.px.tableid"
        for k in ("tableid", "tableId", "table_id"):
            if isinstance(ext.get(k), str | int) and str(ext[k]).strip():
                return str(ext[k]).strip(), f"extension.{k}"
    label = ds.get("label")
    if isinstance(label, str):
        m = re.match(r"\s*(?:table\s+|tabell\s+)?(\d{5})\s*[:.\s]", label, re.IGNORECASE)
        if m:
            return m.group(1), "the dataset label"
    if bundle and name:
        m = re.fullmatch(r"\d{5}", name)
        return name, "the bundle's dataset name" + (" (an SSB table number)" if m else "")
    m = re.match(r"(\d{5})(?:_|$)", stem)
    if m:
        return m.group(1), "the 5-digit SSB table number leading the file name"
    return stem or (name or "jsonstat"), "the file name"


# --- writing ---------------------------------------------------------------------------------

_ROLE_OUT = {"time": "time", "region": "geo", "measure": "metric"}


def _json_number(v: float) -> int | float:
    return int(v) if v == int(v) and abs(v) < 2**53 else float(v)


def dataset_dict(table: Table, version: str = "2.0", sparse: bool = False, index_as: str = "object") -> dict[str, Any]:
    """One Table as a JSON-stat dataset object (2.0, or the 1.x layout with id/size in `dimension`).

    Writes what the reader keeps: labels, roles, `child` from `meta["hierarchies"]`, category
    `unit` from `meta["units"]`, SSB symbols and other statuses (`meta["status"]`) as `status`,
    footnotes as `note`, `extension`, `link`, `href`, `source`, `updated`. `sparse` leaves out
    the '.' (no cell) cells, which is how the reader reads a sparse `value` object.
    """
    if version not in ("1.x", "2.0"):
        raise UsageError(f"JSON-stat version {version!r}", expected='"1.x" or "2.0"')
    meta = table.meta
    hier = meta.get("hierarchies") or {}
    units = meta.get("units") or {}
    dims: dict[str, Any] = {}
    ids = [d.name for d in table.dimensions]
    for d in table.dimensions:
        cat: dict[str, Any] = {"index": list(d.codes) if index_as == "array" else {c: i for i, c in enumerate(d.codes)}}
        if d.has_labels:
            cat["label"] = dict(zip(d.codes, d.labels, strict=True))
        if d.name in hier:
            cat["child"] = {p: list(kids) for p, kids in hier[d.name].items() if p}
        if d.name in units:
            cat["unit"] = units[d.name]
        dims[d.name] = {"category": cat} if d.label is None else {"label": d.label, "category": cat}
    roles: dict[str, list[str]] = {}
    for d in table.dimensions:
        if d.role in _ROLE_OUT:
            roles.setdefault(_ROLE_OUT[d.role], []).append(d.name)
    flat_v, flat_s = table.values.ravel(), table.symbols.ravel()
    moved = meta.get("values_under_missing_status") or {}
    other = meta.get("status") or {}
    values: list[Any] = []
    status: dict[str, str] = {}
    keep = []
    for i, (v, s) in enumerate(zip(flat_v.tolist(), flat_s.tolist(), strict=True)):
        text = sym.TEXT[s]
        if sparse and text == "." and str(i) not in other:
            continue
        keep.append(i)
        if str(i) in moved:
            values.append(_json_number(moved[str(i)]))
        elif math.isnan(v):
            values.append(None)
        else:
            values.append(_json_number(v))
        if text and not (text == ".." and str(i) in other):
            status[str(i)] = text
        if str(i) in other:
            status[str(i)] = other[str(i)]
    ds: dict[str, Any] = {}
    if version == "2.0":
        ds.update({"version": "2.0", "class": "dataset"})
    if table.title:
        ds["label"] = table.title
    for k in ("source", "updated", "href", "link", "extension", "error"):
        if k in meta:
            ds[k] = meta[k]
    if table.footnotes:
        ds["note"] = list(table.footnotes)
    if version == "2.0":
        ds["id"], ds["size"] = ids, [len(d) for d in table.dimensions]
        if roles:
            ds["role"] = roles
        ds["dimension"] = dims
    else:
        ds["dimension"] = {"id": ids, "size": [len(d) for d in table.dimensions], **dims}
        if roles:
            ds["dimension"]["role"] = roles
    ds["value"] = {str(i): v for i, v in zip(keep, values, strict=True)} if sparse else values
    if status:
        ds["status"] = status
    return ds


def write_jsonstat(tables: Table | list[Table], path: str | Path | None = None, version: str = "2.0",
                   sparse: bool = False, index_as: str = "object") -> str | None:
    """JSON-stat text of one table (a dataset) or several (2.0 collection, 1.x bundle).

    read(write_jsonstat(t)) gives back the same cells, labels, hierarchies and statuses.
    """
    many = isinstance(tables, list)
    items = tables if isinstance(tables, list) else [tables]
    sets = [dataset_dict(t, version, sparse, index_as) for t in items]
    if version == "2.0":
        doc: dict[str, Any] = sets[0] if not many else {
            "version": "2.0", "class": "collection", "label": "migaudit tables", "link": {"item": sets}}
    else:
        names = [t.id or f"dataset{i + 1}" for i, t in enumerate(items)]
        if len(set(names)) != len(names):
            names = [f"dataset{i + 1}" for i in range(len(items))]
        doc = {"dataset": sets[0]} if not many else dict(zip(names, sets, strict=True))
    text = json.dumps(doc, ensure_ascii=False, allow_nan=False)
    if path is None:
        return text
    Path(path).write_text(text, encoding="utf-8")
    return None
