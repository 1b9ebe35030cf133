"""JSON-stat 1.x and 2.0, as SSB's StatBank API serves them.

Layouts read:
  * 1.x single  `{"dataset": {...}}` with `dimension.id`, `dimension.size`, `dimension.role`
  * 1.x bundle  `{"name1": {...}, "name2": {...}}`: one Table per named dataset
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
Every malformation is a ReadError naming the JSON path (e.g. `$.dataset.value[17]`).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from .. import symbols as sym
from ..errors import ReadError
from ..table import Dimension, Table, guess_role
from . import decode

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


def read(data: bytes, source: str) -> list[Table]:
    """Every dataset in a JSON-stat document, one Table each."""
    text = decode(data, source)
    if not text.strip():
        raise ReadError("file is empty", source=source, expected="a JSON-stat document")
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
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
    found = list(_datasets(doc, source))
    if not found:
        raise ReadError("no dataset found", source=source, where="$",
                        expected='"dataset", "class": "dataset" or named datasets with "dimension" and "value"')
    stem = Path(source).stem if source and not source.startswith("<") else ""
    tables = []
    for path, name, ds, version in found:
        tables.append(_read_dataset(ds, path, name, version, source, stem, bundle=len(found) > 1))
    return tables


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _kind(v: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(v), "number")


def _key(path: str, key: str) -> str:
    return f"{path}.{key}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) else f"{path}[{json.dumps(key)}]"


def _datasets(doc: dict[str, Any], source: str):
    """(json path, name, dataset object, version) for every dataset in the document."""
    cls = doc.get("class")
    if "version" in doc or cls is not None:
        if cls == "dataset" or (cls is None and "dimension" in doc):
            yield "$", None, doc, "2.0"
            return
        if cls in ("collection", "bundle"):
            items = (doc.get("link") or {}).get("item") if isinstance(doc.get("link"), dict) else None
            if isinstance(items, list):
                for i, item in enumerate(items):
                    if isinstance(item, dict) and item.get("class") == "dataset" and "dimension" in item:
                        yield f"$.link.item[{i}]", None, item, "2.0"
            return
        raise ReadError(f"class {cls!r} holds no table", source=source, where="$.class", expected='"dataset"')
    if "dataset" in doc and isinstance(doc["dataset"], dict):
        yield "$.dataset", None, doc["dataset"], "1.x"
        return
    for name, ds in doc.items():
        if isinstance(ds, dict) and "dimension" in ds:
            yield _key("$", name), name, ds, "1.x"


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
        extras = {k: v for k, v in cat.items() if k in ("note", "child", "coordinates")}
        extras.update({f"dimension_{k}": v for k, v in d.items() if k not in ("category", "label")})
        if extras:
            dim_meta[dim_id] = extras

    n = math.prod(sizes)
    values, symbols, moved = _cells(ds, path, n, notes, err)

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
    if moved:
        meta["values_under_missing_status"] = moved
    unit, decimals = _unit(units, notes)
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


def _status_code(s: Any, where: str, err) -> int:
    if s is None or s == "":
        return -1
    if not isinstance(s, str):
        raise err(f"status is a JSON {_kind(s)}", where, "a symbol string")
    t = s.strip()
    if t not in sym.CODE:
        raise err(f"unknown status symbol {s!r}", where, f"one of {_STATUS_TEXTS}")
    return sym.CODE[t]


def _cells(
    ds: dict[str, Any], path: str, n: int, notes: list[str], err
) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """Values and symbol codes for the n cells, from `value` and `status`."""
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
        for i, v in enumerate(raw):
            take(i, v, f"{vpath}[{i}]")
    elif isinstance(raw, dict):
        for k, v in raw.items():
            where = _key(vpath, k)
            if not (k.isdigit() and k.isascii() and len(k) < 19) or int(k) >= n:
                raise err(f"key {k!r} is not a flat cell index", where, f"an integer string from 0 to {n - 1}")
            present[int(k)] = True
            take(int(k), v, where)
    else:
        raise err(f"value is a JSON {_kind(raw)}", vpath, "an array or an object keyed by flat index")
    if strings:
        notes.append(f"{strings} values at {vpath} are JSON strings; parsed as SSB cells")

    # status: one string for all cells, an array, or an object keyed by flat index
    status = np.full(n, -1, dtype=np.int16)
    spath = f"{path}.status"
    st = ds.get("status")
    if isinstance(st, str):
        status[:] = _status_code(st, spath, err)
    elif isinstance(st, list):
        if len(st) != n:
            raise err(f"{len(st)} statuses but {n} cells", spath, f"{n} statuses, or an object keyed by flat index")
        for i, s in enumerate(st):
            status[i] = _status_code(s, f"{spath}[{i}]", err)
    elif isinstance(st, dict):
        for k, s in st.items():
            where = _key(spath, k)
            if not (k.isdigit() and k.isascii() and len(k) < 19) or int(k) >= n:
                raise err(f"key {k!r} is not a flat cell index", where, f"an integer string from 0 to {n - 1}")
            status[int(k)] = _status_code(s, where, err)
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
    return values, symbols, moved


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
