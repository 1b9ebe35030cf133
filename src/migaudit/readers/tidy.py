"""Tidy files migaudit writes (CSV, JSON, Parquet) and reads back unchanged.

Columns: one per dimension (codes), `<dim>_label` beside a dimension whose labels differ,
then `value` and `symbol`. JSON and Parquet also keep the table's metadata, so
read → write → read gives an equal `Table`. CSV and Parquet are read by pyarrow straight
into the cube's integer codes (`Table.from_arrow`): no Python runs per cell, so reading is
as fast as the format allows. Anything that is not exactly a tidy cell (`inf`, `1e309`,
text where a number belongs, a number under `..`, a row cut short, a header without rows,
JSON of the wrong shape or nesting, metadata that is not JSON) is a `ReadError` naming file
and place.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from migaudit.errors import ReadError, UsageError
from migaudit.model.table import Table, release_arrow_memory

FORMATS = ("csv", "json", "parquet")
_META_KEYS = ("id", "title", "source", "unit", "decimals", "footnotes", "notes")
#: the metadata key every tidy Parquet file (or dataset part) carries
PARQUET_META_KEY = b"migaudit_table"


def sniff(head: bytes, source: str) -> int:
    if head.startswith(b"PAR1"):
        return 90
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"{") and b'"migaudit_table"' in text[:2000]:
        return 95
    first = text.split(b"\n", 1)[0].strip().lower()
    cols = [c.strip(b'"') for c in first.split(b",")]
    if b"value" in cols and b"symbol" in cols:
        return 80
    return 0


def table_meta(table: Table) -> dict[str, Any]:
    """The metadata tidy JSON and Parquet keep beside the cells."""
    meta = {k: getattr(table, k) for k in _META_KEYS}
    meta["dimensions"] = [
        {"name": d.name, "role": d.role, "label": d.label, "footnotes": {k: list(v) for k, v in d.footnotes.items()}}
        for d in table.dimensions
    ]
    meta["meta"] = {k: v for k, v in table.meta.items() if _jsonable(v)}
    return meta


_meta = table_meta  # the name other modules used


def _jsonable(v: Any) -> bool:
    try:
        json.dumps(v)
    except (TypeError, ValueError):
        return False
    return True


def _check_meta(meta: Any, source: str, path: str) -> dict[str, Any]:
    """The metadata, its types checked: a wrong type is a ReadError naming its JSON path."""
    def bad(where: str, expected: str) -> ReadError:
        return ReadError("metadata of the wrong type", source=source, where=where, expected=expected)

    if not isinstance(meta, dict):
        raise bad(path, "an object")
    for k in ("id", "title", "source", "unit"):
        if meta.get(k) is not None and not isinstance(meta[k], str):
            raise bad(f"{path}.{k}", "text")
    if "decimals" in meta and (not isinstance(meta["decimals"], int) or isinstance(meta["decimals"], bool)):
        raise bad(f"{path}.decimals", "an integer")
    for k in ("footnotes", "notes"):
        v = meta.get(k, [])
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise bad(f"{path}.{k}", "a list of texts")
    dims = meta.get("dimensions", [])
    if not isinstance(dims, list):
        raise bad(f"{path}.dimensions", "a list")
    for i, d in enumerate(dims):
        p = f"{path}.dimensions[{i}]"
        if not isinstance(d, dict) or not isinstance(d.get("name"), str):
            raise bad(p, '{"name": TEXT, "role": TEXT|null, ...}')
        for k in ("role", "label"):
            if d.get(k) is not None and not isinstance(d[k], str):
                raise bad(f"{p}.{k}", "text or null")
        fn = d.get("footnotes") or {}
        if not isinstance(fn, dict) or not all(isinstance(v, list) and all(isinstance(x, str) for x in v)
                                               for v in fn.values()):
            raise bad(f"{p}.footnotes", "an object of lists of texts")
    if not isinstance(meta.get("meta", {}) or {}, dict):
        raise bad(f"{path}.meta", "an object")
    return meta


def _from_meta(data: Any, meta: dict[str, Any], source: str, place: Callable[[int], str] | None = None) -> Table:
    dims = meta.get("dimensions") or []
    names = [d["name"] for d in dims] or None
    roles = {d["name"]: d.get("role") for d in dims}
    table = Table.from_arrow(data, dims=names, roles=roles, source=source, place=place)
    for i, d_meta in enumerate(dims[: len(table.dimensions)]):
        d = table.dimensions[i]
        table.dimensions[i] = replace(
            d, label=d_meta.get("label"), footnotes={k: tuple(v) for k, v in (d_meta.get("footnotes") or {}).items()}
        )
    for k in _META_KEYS:
        if k in meta and k != "source":
            setattr(table, k, meta[k])
    table.meta = dict(meta.get("meta") or {})
    table.source = source
    return table


def parquet_meta(raw: bytes | None, source: str) -> dict[str, Any]:
    """The `migaudit_table` metadata of a Parquet schema; {} when absent, ReadError when not JSON."""
    if not raw:
        return {}
    try:
        meta = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise ReadError(f"Parquet metadata 'migaudit_table' is not JSON: {str(e)[:80]}", source=source,
                        where="schema metadata", expected="the JSON migaudit writes") from None
    return _check_meta(meta, source, "schema metadata migaudit_table")


def read(data: bytes, source: str) -> list[Table]:
    if data.startswith(b"PAR1"):
        table = _read_parquet(data, source)
    elif data[:4096].lstrip(b"\xef\xbb\xbf").lstrip().startswith(b"{"):  # a slice: no copy of a big file
        table = _read_json(data, source)
    else:
        table = _read_csv(data, source)
    release_arrow_memory()  # the Arrow table is gone: its pages too
    return [table]


def _read_parquet(data: bytes, source: str) -> Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:  # ParquetFile, not read_table: read_table goes through pyarrow.dataset, which imports pandas (~1 s)
        pt = pq.ParquetFile(pa.BufferReader(data)).read()
    except Exception as e:  # pyarrow raises many types for corrupt files
        raise ReadError(f"not a readable Parquet file: {e}", source=source) from None
    meta = parquet_meta((pt.schema.metadata or {}).get(PARQUET_META_KEY), source)
    if pt.num_rows == 0:
        raise ReadError("columns but no rows", source=source, where="row 1", expected="one row per cell")
    return _from_meta(pt, meta, source)


def _read_json(data: bytes, source: str) -> Table:
    import pyarrow as pa

    from migaudit.readers import decode

    text = decode(data, source)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ReadError(f"malformed JSON: {e.msg}", source=source, where=f"line {e.lineno}") from None
    except RecursionError:
        raise ReadError("JSON nested too deeply", source=source, where="$",
                        expected='{"migaudit_table": {...}, "cells": [...]}') from None
    if not isinstance(doc, dict) or "migaudit_table" not in doc or not isinstance(doc.get("cells"), list):
        raise ReadError("not a migaudit tidy JSON file", source=source, where="$",
                        expected='{"migaudit_table": {...}, "cells": [...]}')
    meta = _check_meta(doc["migaudit_table"], source, "$.migaudit_table")
    cells = doc["cells"]
    if not cells:
        raise ReadError("no cells", source=source, where="$.cells", expected="one object per cell")
    if not isinstance(cells[0], dict):
        raise ReadError("a cell that is not an object", source=source, where="$.cells[0]",
                        expected='{"dim": "code", ..., "value": NUMBER|null, "symbol": TEXT}')
    names = list(cells[0])
    for i, c in enumerate(cells):
        if not isinstance(c, dict) or list(c) != names:
            raise ReadError("a cell that is not an object with the first cell's keys", source=source,
                            where=f"$.cells[{i}]", expected="the keys " + ", ".join(names))
    columns: list[Any] = []
    for name in names:
        col = [c[name] for c in cells]
        if name == "value":
            ok = [v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in col]
            expected = "a number or null"
        else:
            ok = [isinstance(v, str) or (v is None and name == "symbol") for v in col]
            expected = "text"
        if not all(ok):
            i = ok.index(False)
            raise ReadError(f"{name} {col[i]!r} is not {expected}", source=source,
                            where=f"$.cells[{i}].{name}", expected=expected)
        if name == "value":
            try:
                numbers = np.array([np.nan if v is None else v for v in col], dtype=np.float64)
            except OverflowError:
                i = next(k for k, v in enumerate(col) if isinstance(v, int) and abs(v) > 1e308)
                raise ReadError(f"value {col[i]} is not a finite number", source=source,
                                where=f"$.cells[{i}].value", expected="a finite number or null") from None
            columns.append(pa.Array.from_buffers(pa.float64(), len(numbers), [None, pa.py_buffer(numbers)]))
        else:
            columns.append(_dictionary(["" if v is None else v for v in col]))
    return _from_meta(pa.Table.from_arrays(columns, names=names), meta, source, place=lambda i: f"$.cells[{i}]")


def _dictionary(texts: list[str]) -> Any:
    """A dictionary-encoded Arrow column built from buffers (pyarrow's converters import pandas)."""
    import pyarrow as pa

    ids: dict[str, int] = {}
    idx = np.array([ids.setdefault(t, len(ids)) for t in texts], dtype=np.int32)
    data = [t.encode("utf-8") for t in ids]
    offsets = np.zeros(len(data) + 1, dtype=np.int32)
    offsets[1:] = np.cumsum([len(b) for b in data])
    dictionary = pa.Array.from_buffers(pa.string(), len(data), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))])
    return pa.DictionaryArray.from_buffers(pa.dictionary(pa.int32(), pa.string()), len(idx), [None, pa.py_buffer(idx)],
                                           dictionary)


def _read_csv(data: bytes, source: str) -> Table:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    end = data.find(b"\n", start)
    first_line = data[start:end if end >= 0 else len(data)]
    body = pa.py_buffer(data).slice(start)  # zero-copy
    try:
        header = next(csv.reader([first_line.decode("utf-8").rstrip("\r")]))
    except (UnicodeDecodeError, StopIteration, csv.Error):
        from migaudit.readers import decode

        decode(data, source)
        raise ReadError("no header row", source=source, where="line 1", expected="column names") from None
    if len(set(header)) != len(header):
        dup = next(h for i, h in enumerate(header) if h in header[:i])
        raise ReadError(f"column {dup!r} appears twice", source=source, where="line 1",
                        expected="distinct column names")
    convert = pacsv.ConvertOptions(column_types={h: pa.string() for h in header},
                                   strings_can_be_null=False, quoted_strings_can_be_null=False)
    pt = None
    for multiline in (False, True):
        try:
            pt = pacsv.read_csv(pa.BufferReader(body), parse_options=pacsv.ParseOptions(newlines_in_values=multiline),
                                convert_options=convert)
            break
        except pa.ArrowInvalid:
            continue
    if pt is None:
        _locate_csv_error(data[start:], header, source)
    assert pt is not None
    if pt.num_rows == 0:
        raise ReadError("a header but no rows", source=source, where="line 2", expected="one row per cell")
    return Table.from_arrow(pt, source=source, place=lambda i: f"line {i + 2}")


def _locate_csv_error(body: bytes, header: list[str], source: str) -> None:
    """The first row pyarrow could not read, named by line (only runs on a bad file)."""
    from migaudit.readers import decode

    text = decode(body, source)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            if len(row) != len(header) and any(c.strip() for c in row):
                raise ReadError(f"{len(row)} cells, the header has {len(header)}", source=source,
                                where=f"line {reader.line_num}", expected=f"{len(header)} cells separated by ','")
    except csv.Error as e:
        raise ReadError(f"malformed CSV: {e}", source=source, where=f"line {reader.line_num + 1}") from None
    raise ReadError("malformed CSV", source=source, expected="rows of the header's columns")


def _is_utf8(data: bytes, source: str) -> bool:
    from migaudit.readers import decode

    decode(data, source)
    return True


def arrow_table(table: Table, whole: bool = False) -> Any:
    """The tidy form as an Arrow table: codes and symbols dictionary-encoded, no number = null.

    `whole`: values as int64 (counts written as 32466, not 32466.0, in text formats).
    """
    import pyarrow as pa

    from migaudit.model import symbols as sym

    n = table.size
    cols: dict[str, Any] = {}
    inner = n
    for d in table.dimensions:
        inner //= max(len(d), 1)
        outer = n // (inner * max(len(d), 1)) if n else 0
        idx = np.tile(np.repeat(np.arange(len(d), dtype=np.int32), inner), outer)
        cols[d.name] = pa.DictionaryArray.from_arrays(idx, pa.array(list(d.codes), pa.string()))
        if d.has_labels:
            cols[f"{d.name}_label"] = pa.DictionaryArray.from_arrays(idx, pa.array(list(d.labels), pa.string()))
    values = table.values.ravel()
    missing = np.isnan(values)
    if whole:
        cols["value"] = pa.array(np.where(missing, 0, values).astype(np.int64), mask=missing)
    else:
        cols["value"] = pa.array(values, mask=missing)
    cols["symbol"] = pa.DictionaryArray.from_arrays(table.symbols.ravel().astype(np.int8),
                                                    pa.array(list(sym.TEXT), pa.string()))
    return pa.table(cols)


def write(table: Table, path: str | Path | None, fmt: str = "csv") -> str | None:
    """Write `table` tidy to `path` (or return the text when `path` is None, CSV/JSON only)."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown output format {fmt!r}", expected=" or ".join(FORMATS))
    # counts stay integers in text formats: 32466, not 32466.0
    whole = (fmt != "parquet" and table.decimals == 0
             and bool(np.all(np.isnan(table.values) | (table.values == np.round(table.values)))))
    at = arrow_table(table, whole)
    if fmt == "parquet":
        if path is None:
            raise UsageError("Parquet output needs a file (-o FILE)")
        import pyarrow.parquet as pq

        at = at.replace_schema_metadata({PARQUET_META_KEY: json.dumps(table_meta(table)).encode()})
        pq.write_table(at, str(path))
        return None
    if fmt == "json":
        cells = at.to_pylist()
        text = json.dumps({"migaudit_table": table_meta(table), "cells": cells}, ensure_ascii=False, indent=1)
    else:
        import pyarrow.csv as pacsv

        sink = io.BytesIO()
        pacsv.write_csv(at, sink, pacsv.WriteOptions(quoting_style="needed"))
        text = sink.getvalue().decode("utf-8")
    if path is None:
        return text
    Path(path).write_text(text, encoding="utf-8")
    return None



def write_table_dataset(table: Table, path: str | Path, rows_per_file: int = 1_000_000) -> None:
    """Write `table` as a folder of tidy Parquet parts with `_common_metadata` (what Spark reads)."""
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    at = arrow_table(table)
    at = at.replace_schema_metadata({PARQUET_META_KEY: json.dumps(table_meta(table)).encode()})
    base = Path(path)
    base.mkdir(parents=True, exist_ok=True)
    ds.write_dataset(at, base, format="parquet", basename_template="part-{i}.parquet",
                     max_rows_per_file=rows_per_file, max_rows_per_group=min(rows_per_file, 1_000_000),
                     existing_data_behavior="delete_matching")
    pq.write_metadata(at.schema, base / "_common_metadata")


def is_dataset(path: str | Path) -> bool:
    """A folder of tidy Parquet parts (with `_common_metadata`), as `synthetic.write_dataset` writes."""
    p = Path(path)
    return p.is_dir() and (p / "_common_metadata").is_file()


def read_dataset(path: str | Path) -> Table:
    """The one table in a folder of tidy Parquet parts (the whole cube, dense)."""
    import pyarrow.parquet as pq

    source = str(path)
    try:
        schema = pq.read_schema(Path(path) / "_common_metadata")
        pt = pq.read_table(source)
    except Exception as e:  # pyarrow raises many types for corrupt files
        raise ReadError(f"not a readable Parquet dataset: {e}", source=source) from None
    meta = parquet_meta((schema.metadata or {}).get(PARQUET_META_KEY), source)
    if pt.num_rows == 0:
        raise ReadError("columns but no rows", source=source, where="row 1", expected="one row per cell")
    table = _from_meta(pt, meta, source)
    del pt
    release_arrow_memory()
    return table
