"""Readers turn every form an SSB table takes into `Table`s, chosen by content.

Each reader module defines
    sniff(head: bytes, source: str) -> int     # 0 = not mine, higher = surer
    read(data: bytes, source: str) -> list[Table]
and is listed in `READERS`. `read(path)` asks every reader to sniff the first bytes and
lets the surest read the whole file. Readers raise `ReadError` naming file and place.
"""

from __future__ import annotations

import importlib
import math
import re
from pathlib import Path
from types import ModuleType

from migaudit.errors import ReadError, UsageError
from migaudit.model import symbols as sym
from migaudit.model.table import Table

#: module names under migaudit.readers, in the order ties are broken
READERS: tuple[str, ...] = ("jsonstat", "px", "statbank_csv", "tidy", "wide_csv", "printed", "webtext")

HEAD_BYTES = 64 * 1024


def reader_module(name: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.{name}")


#: readers of line-oriented text, where one line over `MAX_LINE_BYTES` is refused at once
LINE_READERS = frozenset({"statbank_csv", "wide_csv", "printed", "webtext"})
#: the longest line a line-oriented reader accepts (SSB rows are well under a kilobyte)
MAX_LINE_BYTES = 4 * 1024 * 1024
#: a numbered SSB table title (`12 Emigration, by citizenship and region. 2011`)
_TABLE_TITLE = re.compile(r"^(?:(?:Table|Tabell)\s+)?\d{1,3}[A-Za-z]?[.:]?\s+[^\W\d_].*(?:1[89]|20)\d\d")
#: space-like thousands separators browsers copy (NBSP, thin, narrow NBSP, figure space)
_SPACES = ("\u00a0", "\u2009", "\u202f", "\u2007")


def _sniff(head: bytes, source: str) -> tuple[ModuleType | None, int]:
    best, best_score = None, 0
    for name in READERS:
        try:
            module = reader_module(name)
        except ModuleNotFoundError:
            continue
        score = module.sniff(head, source)
        if score > best_score:
            best, best_score = module, score
    return best, best_score


def _plain_head(head: bytes) -> bytes | None:
    """The head as UTF-8 with plain spaces for NBSP/thin spaces, Windows-1252 decoded; None if unchanged.

    Sniffers look for plain-space thousands; their readers also accept these variants, so
    detection must too (a page copied from a browser, a file saved on Windows).
    """
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 4:  # not just a character cut at the end of the head
            text = head.decode("cp1252", errors="replace")
        else:
            text = head[: e.start].decode("utf-8")
    plain = text
    for space in _SPACES:
        plain = plain.replace(space, " ")
    out = plain.encode("utf-8")
    return None if out == head else out


def choose_reader(data: bytes, source: str) -> ModuleType:
    """The reader surest of `data`; ReadError if none recognises it (naming the line when it can)."""
    if not data[:HEAD_BYTES].strip() and not data.strip():  # the slice first: no copy of a big file
        raise ReadError("file is empty", source=source, expected="an SSB table")
    head = data[:HEAD_BYTES]
    best, _ = _sniff(head, source)
    if best is None and (plain := _plain_head(head)) is not None:
        best, _ = _sniff(plain, source)
    if best is None:
        _diagnose(data, source)
        raise ReadError(
            "not a table format migaudit knows",
            source=source,
            expected="JSON-stat, PX, StatBank CSV, tidy CSV/JSON/Parquet or a printed SSB table",
        )
    return best


def _diagnose(data: bytes, source: str) -> None:
    """A table cut short (a header and no rows) fails in its reader, which names the line.

    Sniffers want a header *and* rows; without this a header-only or truncated file would be
    "not a table format" instead of "line 3: a header but no data rows".
    """
    text = data[:HEAD_BYTES].decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines or b"\x00" in data[:HEAD_BYTES] or re.match(r"\s*(?:\{|<|\[\s*[\[{\"\d-])", text):
        return  # JSON, XML or binary: not a cut-short text table
    if any("\t" in ln for ln in lines):
        name = "printed"
    elif any(_TABLE_TITLE.match(ln.strip()) for ln in lines[:50]):
        name = "printed"  # a numbered table title and no table under it: cut short
    elif len(lines) <= 2 and (lines[0].count(",") or lines[0].count(";")):
        name = "statbank_csv" if lines[0].count(";") > lines[0].count(",") else "wide_csv"
    else:
        return
    try:
        reader_module(name).read(data, source)
    except ReadError as e:
        if e.where:
            raise
    except Exception:  # noqa: BLE001 - a diagnosis only; the caller's error stands
        return


def check_line_lengths(data: bytes, source: str, limit: int = MAX_LINE_BYTES) -> None:
    """ReadError at once for a line longer than `limit` bytes, in time linear in the size.

    Jumps to the last line break within `limit` bytes of each line start, so a file of short
    lines costs a few `rfind`s, and a 200 MB single line is refused after reading 4 MB.
    """
    pos, n = 0, len(data)
    while n - pos > limit:
        cut = data.rfind(b"\n", pos, pos + limit + 1)
        if cut < 0:
            line = data.count(b"\n", 0, pos) + 1
            raise ReadError(f"line longer than {limit // (1024 * 1024)} MB", source=source, where=f"line {line}",
                            expected="a table of lines (this reader reads text line by line)")
        pos = cut + 1


def read_bytes(data: bytes, source: str, format: str | None = None, lang: str | None = None) -> list[Table]:
    """Every table in `data`, read by `format` or by the reader that recognises it."""
    if format is not None and format not in READERS:
        raise UsageError(f"unknown format {format!r}", expected=" | ".join(READERS))
    module = reader_module(format) if format else choose_reader(data, source)
    if module.__name__.rsplit(".", 1)[-1] in LINE_READERS:
        check_line_lengths(data, source)
    if lang is None:
        tables = module.read(data, source)
    elif module.__name__.rsplit(".", 1)[-1] in ("px", "jsonstat"):
        tables = module.read(data, source, lang=lang)
    else:
        raise ReadError(f"a language ({lang!r}) was asked for, but this is a {module.__name__.rsplit('.', 1)[-1]} "
                        "file, which has one language", source=source, expected="a PX or JSON-stat file")
    if not tables:
        raise ReadError("no table found", source=source)
    # column labels that combine two dimensions ("I alt, Innvandring") become both (lazily:
    # the structure step's one hook into reading, so every later step sees the same axes)
    from migaudit.structure.split import split_combined

    return [split_combined(t) for t in tables]


def read(path: str | Path, format: str | None = None, lang: str | None = None) -> list[Table]:
    """Every table in the file at `path` (a printed page may hold several); `lang` picks a PX language."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise ReadError("no such file", source=str(p)) from None
    except IsADirectoryError:
        raise ReadError("is a folder, not a file", source=str(p)) from None
    except OSError as e:
        raise ReadError(f"cannot read: {e.strerror}", source=str(p)) from None
    return read_bytes(data, str(p), format, lang)


def read_table(path: str | Path, format: str | None = None) -> Table:
    """The one table in the file at `path`; ReadError if it holds several."""
    tables = read(path, format)
    if len(tables) != 1:
        raise ReadError(f"holds {len(tables)} tables, expected one", source=str(path))
    return tables[0]


#: the largest integer float64 holds exactly, with every smaller one (2^53)
MAX_EXACT_INTEGER = 2**53
#: digits float64 always round-trips; more would be rounded silently
MAX_SIGNIFICANT_DIGITS = 15


def parse_exact_cell(text: str, decimal: str = ".") -> tuple[float, int]:
    """`symbols.parse_cell`, refusing numbers a float64 would round (ValueError saying why).

    Counts are integers; one beyond 2^53 (or a decimal with more than 15 significant digits)
    would be stored as a neighbouring number, a changed cell nobody sees.
    """
    value, code = sym.parse_cell(text, decimal)
    if math.isnan(value) and code != sym.NUMBER:
        return value, code  # a symbol: no number
    if not math.isfinite(value):
        raise ValueError(f"{text.strip()!r} is not a finite number")
    mark = "," if decimal == "," else "."
    digits = "".join(ch for ch in text if ch.isdigit() or ch == mark)
    whole, _, frac = digits.partition(mark)
    if whole and int(whole) > MAX_EXACT_INTEGER:
        raise ValueError(f"{text.strip()!r} is beyond 2^53: a float64 would round it")
    if frac and len((whole.lstrip("0") + frac).strip("0")) > MAX_SIGNIFICANT_DIGITS:
        raise ValueError(f"{text.strip()!r} has more than {MAX_SIGNIFICANT_DIGITS} significant digits: "
                         "a float64 would round it")
    return value, code


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
