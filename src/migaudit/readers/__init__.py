"""Readers turn every form an SSB table takes into `Table`s, chosen by content.

Each reader module defines
    sniff(head: bytes, source: str) -> int     # 0 = not mine, higher = surer
    read(data: bytes, source: str) -> list[Table]
and is listed in `READERS`. `read(path)` asks every reader to sniff the first bytes and
lets the surest read the whole file. Readers raise `ReadError` naming file and place.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from ..errors import ReadError
from ..table import Table

#: module names under migaudit.readers, in the order ties are broken
READERS: tuple[str, ...] = ("jsonstat", "px", "statbank_csv", "tidy", "wide_csv", "printed", "webtext")

HEAD_BYTES = 64 * 1024


def reader_module(name: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.{name}")


def choose_reader(data: bytes, source: str) -> ModuleType:
    """The reader surest of `data`; ReadError if none recognises it."""
    if not data[:HEAD_BYTES].strip() and not data.strip():  # the slice first: no copy of a big file
        raise ReadError("file is empty", source=source, expected="an SSB table")
    head = data[:HEAD_BYTES]
    best, best_score = None, 0
    for name in READERS:
        try:
            module = reader_module(name)
        except ModuleNotFoundError:
            continue
        score = module.sniff(head, source)
        if score > best_score:
            best, best_score = module, score
    if best is None:
        raise ReadError(
            "not a table format migaudit knows",
            source=source,
            expected="JSON-stat, PX, StatBank CSV, tidy CSV/JSON/Parquet or a printed SSB table",
        )
    return best


def read_bytes(data: bytes, source: str, format: str | None = None) -> list[Table]:
    module = reader_module(format) if format else choose_reader(data, source)
    tables = module.read(data, source)
    if not tables:
        raise ReadError("no table found", source=source)
    return tables


def read(path: str | Path, format: str | None = None) -> list[Table]:
    """Every table in the file at `path` (a printed page may hold several)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise ReadError("no such file", source=str(p)) from None
    except IsADirectoryError:
        raise ReadError("is a folder, not a file", source=str(p)) from None
    except OSError as e:
        raise ReadError(f"cannot read: {e.strerror}", source=str(p)) from None
    return read_bytes(data, str(p), format)


def read_table(path: str | Path, format: str | None = None) -> Table:
    """The one table in the file at `path`; ReadError if it holds several."""
    tables = read(path, format)
    if len(tables) != 1:
        raise ReadError(f"holds {len(tables)} tables, expected one", source=str(path))
    return tables[0]


def decode(data: bytes, source: str, encodings: tuple[str, ...] = ("utf-8-sig",)) -> str:
    """Text of `data` in the first encoding that fits; ReadError naming the bad byte."""
    err: UnicodeDecodeError | None = None
    for enc in encodings:
        try:
            return data.decode(enc)
        except UnicodeDecodeError as e:
            err = err or e
    assert err is not None
    line = data[: err.start].count(b"\n") + 1
    raise ReadError(
        f"byte 0x{data[err.start]:02x} at offset {err.start} is not valid {encodings[0]}",
        source=source,
        where=f"line {line}",
        expected="text in " + " or ".join(encodings),
    )
