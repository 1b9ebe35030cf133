"""Printed SSB tables copied as text: tab-separated cells, spaced thousands, SSB symbols.

Printed tables carry no codes, break across pages with the header repeated, put footnote
markers on labels (`Serbia ¹`) and mix web-navigation lines into the text. This reader
turns them into a `Table` without dropping or guessing a cell: navigation lines are
recognised by pattern, other stray text becomes a note with its line number (or an
error inside the table body), and every malformed row or cell is a `ReadError` naming
the line.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from migaudit.errors import ReadError
from migaudit.model import symbols as sym
from migaudit.model.table import Dimension, Table, guess_role
from migaudit.readers import parse_exact_cell

SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUP_DIGITS = str.maketrans(SUPERSCRIPTS, "0123456789")
_SUP_RUN = re.compile(f"[{SUPERSCRIPTS}]+")

#: web-navigation links left over from copying a page: `[Explanation of symbols](#)`
_NAV = re.compile(r"^\[[^\[\]\n]{1,200}\]\([^()\s]{0,300}\)$")
#: a footnote line: superscript marker(s), then the text (`¹ 1 November 2006 Serbia …`)
_FOOTNOTE = re.compile(f"^(?P<marker>[{SUPERSCRIPTS}]+)\\)?\\s*(?P<text>\\S.*)$")
#: a numbered table title: `12 Emigration, by citizenship and region. 2011`
_TITLE = re.compile(r"^(?:(?:Table|Tabell)\s+)?(?P<num>\d{1,3}[A-Za-z]?)[.:]?\s+(?P<rest>[^\W\d_].*)$")
_YEAR = re.compile(r"(?<!\d)(?:1[89]|20)\d\d(?!\d)")
#: row or column labels that are periods: 2011, 2011K3, 2011Q3, 2011M03, 2010-2011
_PERIOD = re.compile(r"^(?:1[89]|20)\d\d(?:\s*[KQMkqm]\d{1,2}|\s*[-–/]\s*(?:1[89]|20)?\d\d)?$")
#: header words that say the columns are regions (`From county`, `To region`)
_REGION_HEADER = re.compile(
    r"^(?:(?:to|from|by|in|per|til|fra|etter|i)\s+)?"
    r"(?:regions?|count(?:y|ies)|fylke[rs]?|municipalit(?:y|ies)|kommuner?|landsdel(?:er)?)$",
    re.IGNORECASE,
)
#: ` by ` / `, etter ` splits the measure from the breakdown in a title
_BY = re.compile(r",?\s+(?:by|etter)\s+")
#: superscripts glued to these are units (km², m³), not footnote markers
_UNIT = re.compile(r"(?:^|[\s(/])(?:[kcdm]?m|ft)$")
_PX_KEYWORD = re.compile(r'^[A-Z][A-Z0-9-]*(?:\[[^\]]*\])?(?:\("[^"]*"\))?=')
_COMMA_DECIMAL = re.compile(r"\d,\d")
_DOT_DECIMAL = re.compile(r"\d\.\d")


def sniff(head: bytes, source: str) -> int:
    """60–70 for tab-separated text whose later cells look like SSB numbers or symbols.

    Printed tables have no format marker, so the score stays below the readers of
    self-describing formats (JSON-stat, PX, tidy), and is 0 for JSON, PX and `;` CSV.
    """
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    stripped = text.lstrip()
    if not stripped or stripped[0] == "{":
        return 0
    lines = text.split("\n")[:500]
    if stripped[0] == "[" and not _NAV.match(stripped.split("\n", 1)[0].strip()):
        return 0
    if any(_PX_KEYWORD.match(line) for line in lines[:50]):
        return 0
    tab_lines = [line for line in lines if "\t" in line]
    if not tab_lines:
        return 0
    if sum(";" in line for line in lines) > len(tab_lines):
        return 0
    data_like = 0
    for line in tab_lines:
        cells = [c.strip() for c in line.rstrip("\r").split("\t")]
        later = [c for c in cells[1:] if c]
        if cells[0] and later and sum(_is_cell(c) for c in later) * 2 >= len(later):
            data_like += 1
    if data_like == 0:
        return 0
    titled = any(_TITLE.match(line.strip()) for line in lines if "\t" not in line)
    return 70 if titled and data_like >= 2 else 60


def _is_cell(text: str) -> bool:
    try:
        sym.parse_cell(text)
    except ValueError:
        return False
    return True


def norm(text: str) -> str:
    """Whitespace runs (any Unicode space) to one space, ends stripped."""
    return " ".join(text.split())


def split_markers(text: str) -> tuple[str, tuple[str, ...]]:
    """The label without its footnote markers, and the markers: `Serbia ¹` → (`Serbia`, (`1`,)).

    Superscripts glued to a unit (`km²`) belong to the name; plain trailing digits are never
    taken as markers (`Region 1` is a name), since nothing tells them apart in print.
    """
    t = norm(text)
    i = len(t)
    while i > 0 and (t[i - 1] in SUPERSCRIPTS or t[i - 1] in " ,"):
        i -= 1
    tail = t[i:]
    if not any(c in SUPERSCRIPTS for c in tail):
        return t, ()
    head = t[:i]
    if tail[0] in SUPERSCRIPTS and _UNIT.search(head):
        return t, ()
    markers = tuple(m.translate(_SUP_DIGITS) for m in _SUP_RUN.findall(tail))
    return head.rstrip(" ,"), markers


def _slug(text: str) -> str:
    return re.sub(r"[^\w]+", "_", text.lower()).strip("_")


@dataclass
class _Title:
    line: int
    raw: str
    number: str
    title: str
    period: str | None


def _parse_title(text: str, line: int) -> _Title | None:
    m = _TITLE.match(text)
    if not m:
        return None
    rest = m.group("rest").strip()
    period = None
    for sep in (". ", ", "):
        idx = rest.rfind(sep)
        if idx <= 0:
            continue
        tail = rest[idx + 2 :].strip().rstrip(".").strip()
        if len(tail) <= 40 and _YEAR.search(tail) and (sep == ". " or _PERIOD.match(tail)):
            period, rest = tail, rest[:idx]
            break
    return _Title(line, text, m.group("num"), rest.rstrip(". ").strip(), period)


@dataclass
class _Section:
    """One table's lines while reading: title, header block, data rows, stray text."""

    title: _Title | None = None
    header: list[tuple[int, list[str]]] = field(default_factory=list)
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    repeats: list[int] = field(default_factory=list)
    repeat_pos: int = 0
    notes: list[str] = field(default_factory=list)
    pending: list[tuple[int, str]] = field(default_factory=list)
    footnotes: list[tuple[int, str]] = field(default_factory=list)
    navigation: list[str] = field(default_factory=list)

    def text_lines(self) -> list[str]:
        """Everything this section saw as text, for when it turns out to hold no table."""
        out = [f"line {self.title.line}: {self.title.raw}"] if self.title else []
        out += self.notes + [f"line {n}: {t}" for n, t in self.pending]
        return out


def _trim(cells: list[str]) -> list[str]:
    out = [norm(c) for c in cells]
    while out and not out[-1]:
        out.pop()
    return out


def _looks_unlabelled_data(cells: list[str]) -> bool:
    later = [c.strip() for c in cells[1:]]
    return (
        not cells[0].strip()
        and bool(later)
        and all(c and _is_cell(c) for c in later)
        and not all(_PERIOD.match(c) for c in later)
    )


def _looks_like_data(cells: list[str]) -> bool:
    """A labelled row of numbers and symbols only (column labels that are years excepted)."""
    later = [c.strip() for c in cells[1:]]
    return (
        bool(cells[0].strip())
        and bool(later)
        and all(c and _is_cell(c) for c in later)
        and not all(_PERIOD.match(c) for c in later)
    )


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source
        self.sections: list[_Section] = []
        self.sec = _Section()
        self.navigation: list[str] = []

    def error(self, message: str, line: int, expected: str | None = None) -> ReadError:
        return ReadError(message, source=self.source, where=f"line {line}", expected=expected)

    # --- line by line -----------------------------------------------------------------
    def text_line(self, n: int, text: str) -> None:
        sec = self.sec
        if _NAV.match(text):
            self.navigation.append(f"line {n}: {text}")
            return
        if _FOOTNOTE.match(text):
            sec.footnotes.append((n, text))
            return
        title = _parse_title(text, n)
        if title is not None:
            if not sec.header:
                if sec.title is not None:
                    sec.notes.append(f"line {sec.title.line}: {sec.title.raw}")
                sec.title = title
                return
            if sec.title is not None and title.number == sec.title.number:
                sec.notes.append(f"line {n}: title repeated at a page break")
                return
            self.sections.append(sec)
            self.sec = _Section(title=title)
            return
        sec.pending.append((n, text))

    def tab_line(self, n: int, cells: list[str]) -> None:
        sec = self.sec
        if not sec.header:
            if _looks_like_data(cells):
                where = f" (the title at line {sec.title.line} starts a new table)" if sec.title else ""
                raise self.error(f"data row without a header{where}", n,
                                 "a header row naming the columns before the data")
            sec.notes += [f"line {k}: {t}" for k, t in sec.pending]
            sec.pending = []
            sec.header.append((n, cells))
            return
        if not sec.rows and sec.repeat_pos == 0:
            named = any(c[0].strip() for _, c in sec.header)
            if _looks_unlabelled_data(cells):
                raise self.error("data row has no label", n, "a row label in the first cell")
            if not cells[0].strip() or (not named and not any(_is_cell(c.strip()) for c in cells[1:])):
                if sec.pending:
                    k, t = sec.pending[0]
                    raise self.error(f"unrecognised line inside the table header: {t!r}", k)
                sec.header.append((n, cells))
                return
        if sec.repeat_pos:
            k, expected = sec.header[sec.repeat_pos]
            if _trim(cells) != _trim(expected):
                raise self.error(
                    f"repeated header differs from the header at line {k}", n,
                    "\\t".join(_trim(expected)) or "an empty header row",
                )
            sec.repeats.append(n)
            sec.repeat_pos = (sec.repeat_pos + 1) % len(sec.header)
            return
        first = norm(cells[0])
        if sec.rows and (not first or first == norm(sec.header[0][1][0])):
            if _looks_unlabelled_data(cells):
                raise self.error("data row has no label", n, "a row label in the first cell")
            k, expected = sec.header[0]
            if _trim(cells) != _trim(expected):
                raise self.error(
                    f"header row differs from the table's header at line {k}", n,
                    "\\t".join(_trim(expected)),
                )
            for k, t in sec.pending:
                # page-break text ("continued") is a note; a stray number or symbol is a lost cell
                if not any(ch.isalpha() for ch in t) or _is_cell(t):
                    raise self.error(f"stray {t!r} between the table's pages", k,
                                     "a data row, a repeated header or a blank line")
            sec.notes += [f"line {k}: {t}" for k, t in sec.pending]
            sec.pending = []
            sec.repeats.append(n)
            sec.repeat_pos = 1 % len(sec.header)
            return
        if sec.pending:
            k, t = sec.pending[0]
            raise self.error(f"unrecognised line inside the table body: {t!r}", k,
                             "a data row, a repeated header or a blank line")
        sec.rows.append((n, cells))

    # --- the cube ---------------------------------------------------------------------
    def finish(self) -> list[Table]:
        self.sections.append(self.sec)
        tables: list[Table] = []
        leftover: list[str] = []
        for sec in self.sections:
            if not sec.header:
                leftover += sec.text_lines()
                continue
            if sec.repeat_pos:
                k = sec.repeats[-1]
                raise self.error("repeated header is cut short", k,
                                 f"{len(sec.header)} header rows as at line {sec.header[0][0]}")
            table = self.build(sec)
            if leftover:
                table.notes[:0] = leftover
                leftover = []
            tables.append(table)
        if not tables:
            line = self.sections[0].pending[0][0] if self.sections[0].pending else 1
            raise ReadError("no table found", source=self.source, where=f"line {line}",
                            expected="a printed SSB table: tab-separated header and data rows")
        if leftover:
            tables[-1].notes += leftover
        return tables

    def columns(self, sec: _Section) -> tuple[list[str], dict[str, tuple[str, ...]], str | None, int]:
        """Column labels (spanning header cells filled right), their markers, region header."""
        rows = [_trim(cells) for _, cells in sec.header]
        width = max(len(r) for r in rows)
        line0 = sec.header[0][0]
        if width < 2:
            raise self.error("header has no column labels", line0, "a row label header and column labels, tab-separated")
        region_header = None
        parts: list[list[str]] = [[] for _ in range(width - 1)]
        for r, row in enumerate(rows):
            row = row + [""] * (width - len(row))
            last = r == len(rows) - 1
            fill = ""
            for j in range(1, width):
                cell = row[j]
                if cell and _REGION_HEADER.match(cell):
                    region_header = region_header or cell
                    fill = ""
                    continue
                if cell:
                    fill = cell
                    parts[j - 1].append(cell)
                elif fill and not last and any(len(lower) > j and lower[j] for lower in rows[r + 1 :]):
                    parts[j - 1].append(fill)
        labels, markers = [], {}
        for j, p in enumerate(parts):
            label, marks = split_markers(", ".join(p))
            if not label:
                raise self.error(f"column {j + 1} has no label", line0, "a label for every column")
            if label in labels:
                raise self.error(f"duplicate column label {label!r}", line0, "distinct column labels")
            labels.append(label)
            if marks:
                markers[label] = marks
        return labels, markers, region_header, width

    def build(self, sec: _Section) -> Table:
        labels, col_marks, region_header, width = self.columns(sec)
        ncols = width - 1
        notes = list(sec.notes)
        if not sec.rows:
            raise self.error("table has a header but no data rows", sec.header[-1][0],
                             f"rows of {width} cells (label + {ncols} columns)")
        padded: list[int] = []
        row_codes: list[str] = []
        row_marks: dict[str, tuple[str, ...]] = {}
        first_line: dict[str, int] = {}
        cells_by_row: list[tuple[int, list[str]]] = []
        for n, cells in sec.rows:
            if len(cells) > width and not any(c.strip() for c in cells[width:]):
                padded.append(n)
                cells = cells[:width]
            if len(cells) != width:
                raise self.error(
                    f"row has {len(cells)} cells", n, f"{width} cells (label + {ncols} columns)"
                )
            label, marks = split_markers(cells[0])
            if not label:
                raise self.error("row label is only a footnote marker", n, "a row label")
            if label in first_line:
                raise self.error(f"duplicate row label {label!r} (first at line {first_line[label]})", n,
                                 "each row label once")
            first_line[label] = n
            row_codes.append(label)
            if marks:
                row_marks[label] = marks
            cells_by_row.append((n, cells[1:]))
        if padded:
            notes.append(f"lines {', '.join(map(str, padded))}: empty cells after the last column ignored")
        all_cells = [c for _, cs in cells_by_row for c in cs]
        decimal = "."
        if any(_COMMA_DECIMAL.search(c) for c in all_cells) and not any(_DOT_DECIMAL.search(c) for c in all_cells):
            decimal = ","
            notes.append("numbers use a decimal comma")
        values = np.empty((len(row_codes), ncols), dtype=np.float64)
        symbols = np.empty((len(row_codes), ncols), dtype=np.uint8)
        decimals = 0
        for i, (n, cells) in enumerate(cells_by_row):
            for j, cell in enumerate(cells):
                text = cell.strip()
                try:
                    value, code = parse_exact_cell(text, decimal)
                except ValueError as e:
                    what = "empty cell" if not text else (
                        str(e) if any(ch.isdigit() for ch in text) or text.lower() in ("nan", "inf", "infinity")
                        else f"unknown symbol {text!r}"
                    )
                    raise self.error(
                        f"column {j + 2} ({labels[j]!r}) of row {row_codes[i]!r}: {what}", n,
                        "a number like 1 234 or an SSB symbol (- . .. ... : with * or r flags)",
                    ) from e
                if math.isinf(value):
                    raise self.error(f"number {text!r} in column {j + 2} is too large", n)
                values[i, j] = value
                symbols[i, j] = code
                if code in (sym.NUMBER, sym.CODE["*"], sym.CODE["r"]):
                    for mark in ".,":
                        if mark == decimal and mark in text:
                            digits = len(text.rsplit(mark, 1)[1].rstrip("*r").strip())
                            decimals = max(decimals, digits)

        title = sec.title
        header_first = next((norm(c[0]) for _, c in sec.header if c[0].strip()), "")
        row_head, row_head_marks = split_markers(header_first)
        row_name = _slug(row_head) or "row"
        row_role = guess_role(row_name)
        if row_role == "time" or all(_PERIOD.match(c) for c in row_codes):
            row_name, row_role = "time", "time"
        if region_header is not None:
            col_name, col_role = "region", "region"
        elif all(_PERIOD.match(c) for c in labels):
            col_name, col_role = "time", "time"
        else:
            col_name, col_role = "contents", "measure"
        if col_name == row_name:
            col_name = f"{col_name}_column"
        row_dim = Dimension(row_name, tuple(row_codes), role=row_role, label=row_head or None,
                            footnotes=row_marks)
        col_dim = Dimension(col_name, tuple(labels), role=col_role, label=region_header,
                            footnotes=col_marks)

        meta: dict[str, object] = {}
        footnote_text: dict[str, str] = {}
        for _, line in sec.footnotes:
            m = _FOOTNOTE.match(line)
            assert m is not None
            footnote_text[m.group("marker").translate(_SUP_DIGITS)] = m.group("text")
        used = {mk for marks in (*row_marks.values(), *col_marks.values(), row_head_marks) for mk in marks}
        for mk in sorted(used - footnote_text.keys()):
            notes.append(f"footnote marker {mk} is used but no footnote line gives its text")
        for mk in sorted(footnote_text.keys() - used):
            notes.append(f"footnote {mk} is given but no label carries its marker")
        notes += [f"line {k}: {t}" for k, t in sec.pending]
        if title is not None:
            meta.update(table_number=title.number, title_line=title.line)
            if title.period:
                meta["reference_period"] = title.period
            by = _BY.search(title.title)
            if by and by.start() > 0:
                meta["measure"] = meta["measure_label"] = title.title[: by.start()]
        if region_header is not None:
            meta["column_header"] = region_header
        if row_head:
            meta["row_header"] = row_head
        meta["header_lines"] = [n for n, _ in sec.header]
        if sec.repeats:
            meta["repeated_header_lines"] = list(sec.repeats)
        if footnote_text:
            meta["footnote_text"] = footnote_text
        if self.navigation:
            meta["navigation_lines"] = list(self.navigation)
        return Table(
            [row_dim, col_dim], values, symbols,
            id=title.number if title else "",
            title=title.title if title else "",
            source=self.source,
            decimals=decimals,
            footnotes=[line for _, line in sec.footnotes],
            notes=notes,
            meta=meta,
        )


def _decode(data: bytes, source: str) -> tuple[str, str | None]:
    """UTF-8 (BOM or not); cp1252 only when UTF-8 fails, with a note saying so."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise ReadError(
                f"byte 0x{data[e.start]:02x} at offset {e.start} is neither UTF-8 nor cp1252",
                source=source, where=f"line {line}", expected="text in UTF-8",
            ) from None
        return text, f"not valid UTF-8 (byte 0x{data[e.start]:02x} on line {line}): read as cp1252"


def read(data: bytes, source: str) -> list[Table]:
    """Every printed table in `data`; ReadError naming the line for anything malformed."""
    if not data.strip():
        raise ReadError("file is empty", source=source, expected="a printed SSB table")
    text, enc_note = _decode(data, source)
    if "\x00" in text:
        n = text[: text.index("\x00")].count("\n") + 1
        raise ReadError("binary data (NUL byte), not text", source=source, where=f"line {n}",
                        expected="a printed SSB table as text")
    reader = _Reader(source)
    for n, raw in enumerate(text.split("\n"), 1):
        line = raw[:-1] if raw.endswith("\r") else raw
        if not line.strip():
            continue
        if "\t" in line:
            reader.tab_line(n, line.split("\t"))
        else:
            reader.text_line(n, line.strip())
    tables = reader.finish()
    if enc_note:
        for t in tables:
            t.notes.insert(0, enc_note)
            t.meta["encoding"] = "cp1252"
    return tables
