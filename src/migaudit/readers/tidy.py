"""Tidy files migaudit writes (CSV, JSON, Parquet) and reads back unchanged.

Columns: one per dimension (codes), `<dim>_label` beside a dimension whose labels differ,
then `value` and `symbol`. JSON and Parquet also keep the table's metadata, so
read → write → read gives an equal `Table`.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ReadError, UsageError
from ..table import Table

FORMATS = ("csv", "json", "parquet")
_META_KEYS = ("id", "title", "source", "unit", "decimals", "footnotes", "notes")


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


def _meta(table: Table) -> dict[str, Any]:
    meta = {k: getattr(table, k) for k in _META_KEYS}
    meta["dimensions"] = [
        {"name": d.name, "role": d.role, "label": d.label, "footnotes": {k: list(v) for k, v in d.footnotes.items()}}
        for d in table.dimensions
    ]
    meta["meta"] = {k: v for k, v in table.meta.items() if _jsonable(v)}
    return meta


def _jsonable(v: Any) -> bool:
    try:
        json.dumps(v)
    except (TypeError, ValueError):
        return False
    return True


def _from_meta(df: pd.DataFrame, meta: dict[str, Any], source: str) -> Table:
    dims = meta.get("dimensions") or []
    names = [d["name"] for d in dims] or None
    roles = {d["name"]: d.get("role") for d in dims}
    table = Table.from_frame(df, dims=names, roles=roles, source=source)
    for d_meta, i in zip(dims, range(len(table.dimensions)), strict=False):
        d = table.dimensions[i]
        from dataclasses import replace

        table.dimensions[i] = replace(
            d, label=d_meta.get("label"), footnotes={k: tuple(v) for k, v in (d_meta.get("footnotes") or {}).items()}
        )
    for k in _META_KEYS:
        if k in meta and k != "source":
            setattr(table, k, meta[k])
    table.meta = dict(meta.get("meta") or {})
    table.source = source
    return table


def read(data: bytes, source: str) -> list[Table]:
    if data.startswith(b"PAR1"):
        import pyarrow.parquet as pq

        try:
            pt = pq.read_table(io.BytesIO(data))
        except Exception as e:  # pyarrow raises many types for corrupt files
            raise ReadError(f"not a readable Parquet file: {e}", source=source) from None
        raw = (pt.schema.metadata or {}).get(b"migaudit_table")
        meta = json.loads(raw) if raw else {}
        return [_from_meta(pt.to_pandas(), meta, source)]
    text = data.decode("utf-8-sig", errors="strict") if _is_utf8(data, source) else ""
    if text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise ReadError(f"malformed JSON: {e.msg}", source=source, where=f"line {e.lineno}") from None
        try:
            meta, cells = doc["migaudit_table"], doc["cells"]
            df = pd.DataFrame(cells)
        except (KeyError, TypeError, ValueError):
            raise ReadError("not a migaudit tidy JSON file", source=source, where="$",
                            expected='{"migaudit_table": {...}, "cells": [...]}') from None
        return [_from_meta(df, meta, source)]
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except pd.errors.ParserError as e:
        raise ReadError(f"malformed CSV: {e}", source=source) from None
    bad = df["value"].ne("") & pd.to_numeric(df["value"], errors="coerce").isna()
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise ReadError(f"value {df['value'].iloc[row]!r} is not a number", source=source,
                        where=f"line {row + 2}", expected="a number or an empty cell")
    df["value"] = pd.to_numeric(df["value"].replace("", math.nan))
    return [Table.from_frame(df, source=source)]


def _is_utf8(data: bytes, source: str) -> bool:
    from . import decode

    decode(data, source)
    return True


def write(table: Table, path: str | Path | None, fmt: str = "csv") -> str | None:
    """Write `table` tidy to `path` (or return the text when `path` is None, CSV/JSON only)."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown output format {fmt!r}", expected=" or ".join(FORMATS))
    df = table.frame()
    if fmt == "parquet":
        if path is None:
            raise UsageError("Parquet output needs a file (-o FILE)")
        import pyarrow as pa
        import pyarrow.parquet as pq

        pt = pa.Table.from_pandas(df, preserve_index=False)
        pt = pt.replace_schema_metadata({**(pt.schema.metadata or {}), b"migaudit_table": json.dumps(_meta(table)).encode()})
        pq.write_table(pt, str(path))
        return None
    # counts stay integers in text formats: 32466, not 32466.0
    whole = table.decimals == 0 and bool(np.all(np.isnan(table.values) | (table.values == np.round(table.values))))
    if fmt == "json":
        cells = [
            {k: (None if isinstance(v, float) and math.isnan(v) else int(v) if whole and k == "value" else v)
             for k, v in rec.items()}
            for rec in df.to_dict(orient="records")
        ]
        text = json.dumps({"migaudit_table": _meta(table), "cells": cells}, ensure_ascii=False, indent=1)
    else:
        if whole:
            df["value"] = df["value"].astype("Int64")
        text = df.to_csv(index=False, lineterminator="\n")
    if path is None:
        return text
    Path(path).write_text(text, encoding="utf-8")
    return None
