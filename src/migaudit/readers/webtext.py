"""SSB web pages copied as text, whose table cell separators were lost in the copy.

Copying an ssb.no statistics page drops the cell borders: `Total66 07731 96834 10952 578`
is Total | 66 077 | 31 968 | 34 109 | 52 578, and the column headers run together
(`ImmigrationEmigrationNet immigration`). Nothing may be guessed silently, so this reader

1. finds the tables in the page: a title (often printed twice, maybe with footnote
   markers glued on: `by county1`), a header line (or two), rows, and an end
   (`Explanation of symbols`, a blank line, the next title); section lines inside a
   table (`Selected citizenship`, `Of this(15 largest):`) become groups and notes;
2. splits the header at lowercase/`)`/digit → Uppercase boundaries and between glued
   periods (`2nd quarter 20212nd quarter 2020`);
3. enumerates *every* way to split each row's numeric tail into exactly as many cells
   as the header has columns, allowed by number formatting alone (a number is
   `-?\\d{1,3}( \\d{3})*` or a decimal; a thousands group is exactly three digits; no
   leading zeros except a lone 0; the copy never puts a cell border at a space; a column
   keeps the decimals it shows in the rows that split one way only);
4. chooses without trusting the figures, because a page with a typo is the page that
   needs auditing:
   - one split → taken;
   - several, and the table's identities between columns (c = a − b, c = a + b: found in
     the rows that split one way — a quarter of them may break it, one typo must not make
     the arithmetic unknown — or implied by a `Net …`/`… total` header) allow exactly
     one → taken, and the identity that chose it is *assumed* on that row, not checked;
   - none allowed, or several → formatting evidence chooses (the digit counts and signs
     of the column in the other rows, the same figure elsewhere on the page); the row is
     read, so the audit reports the broken identity at that row, and the candidates are
     kept for the finding.
   A page is unreadable (`ReadError` naming the line) only when a row has no split that
   formatting allows.

A row with fewer cells than columns (`6-12 years448 573-`: one number and a lone `-`
where three percentages belong) is not padded: the cells that cannot be placed are `..`
(not available) and a note names the line and what the page showed.

What the reader decided is in `Table.meta` (and, in words with line numbers, in
`Table.notes`); the audit and its reports may read these keys:

- `meta["assumed"]`: rows whose split an identity chose. A list of
  `{"line", "row" (code of the row category), "label", "rule" (the identity, in header
  names), "columns" (the header names it binds), "chosen", "candidates" (at most 8),
  "splits" (how many formatting allows)}`. On that row
  the identity holds by construction: count it as assumed, not as checked.
- `meta["split_candidates"]`: rows read by formatting evidence alone, because no split
  satisfies the identities or several do. A list of `{"line", "row", "label", "why",
  "chosen", "candidates", "splits"}` (cells as printed, candidates best first, at most
  8); a finding on that row should show them.
- `meta["identities_used"]`, `meta["decimals_by_column"]`, `meta["reference_period"]`
  (with a note saying where the period came from: header, title, page heading, the
  page's time series, and only as a last resort figures that recur).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from migaudit.errors import ReadError
from migaudit.model import symbols as sym
from migaudit.model.table import Dimension, Table

# --------------------------------------------------------------------------------------
# lexical pieces

_NUM = re.compile(r"-?(?:0|[1-9]\d{0,2}(?: \d{3})*)(?:\.\d+)?")
_SYMBOL_CELLS = ("-", ".", "..", "...", ":")
_TAIL_CHARS = frozenset("0123456789 .-:")
_YEAR_LABEL = re.compile(r"^(?:1[89]|20)\d\d")
#: a digit group glued to letters: the mark of a web copy that lost its cell borders
_GLUED = re.compile(r"[A-Za-zæøåÆØÅ)]-?\d{1,3} \d{3}")
_HEADER_BREAK = re.compile(r"(?<=[a-zæøå)\d])(?=[A-ZÆØÅ])")
_GLUED_YEAR = re.compile(r"(?<!\d)((?:1[89]|20)\d\d)(?=\d)")
_QUARTER = re.compile(r"^([1-4])(?:st|nd|rd|th) quarter ((?:1[89]|20)\d\d)$", re.IGNORECASE)
_YEAR = re.compile(r"^(?:1[89]|20)\d\d$")
_YEAR_SPAN = re.compile(r"^((?:1[89]|20)\d\d) ?- ?((?:1[89]|20)\d\d)$")
_FOOTNOTE_LINE = re.compile(r"^(\d{1,2})\s?([A-ZÆØÅ].*)$")
_TITLE_MARKERS = re.compile(r"^[\d ,]+$")
_END_LINES = ("explanation of symbols",)
_MAX_SPLITS = 5000
#: more columns than any SSB web table has: refused (bounded time, no deep structures)
_MAX_COLUMNS = 200
#: candidate splits kept per row in meta (the best by formatting evidence first)
_MAX_SHOWN = 8
_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2012": "-", "\u00a0": " ",
                        "\u2009": " ", "\u202f": " ", "\u2007": " "})


def _text(data: bytes, strict: bool = True) -> str:
    """UTF-8, else Windows-1252 (a page saved by a Windows browser); the head of a file
    may end inside a UTF-8 character, so sniffing cuts the last bytes' errors loose."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        if not strict and e.start >= len(data) - 3:
            return data[:e.start].decode("utf-8-sig")
        return data.decode("cp1252", errors="strict" if strict else "replace")


def sniff(head: bytes, source: str) -> int:
    """20 when lines run letters straight into digit groups (`Total66 07731 968`).

    The score stays low: the pattern is a symptom of a lossy copy, not a format marker,
    so every self-describing or tab-separated reader wins over this one.
    """
    text = _text(head, strict=False).translate(_MINUS)
    stripped = text.lstrip()
    if not stripped or stripped[0] in "{[" or stripped.startswith("PAR1"):
        return 0
    if re.search(r'^[A-Z][A-Z0-9-]*(?:\[[^\]]*\])?(?:\("[^"]*"\))?=', stripped[:2000], re.M):
        return 0  # PX keywords
    hits = 0
    for line in text.splitlines():
        if "\t" in line or ";" in line:
            continue
        if _GLUED.search(line):
            hits += 1
    return 20 if hits >= 2 else 0


# --------------------------------------------------------------------------------------
# splitting a row's numeric tail


def _cell_ok(s: str, nxt: str) -> bool:
    """Is `s` one cell when the next character is `nxt`?

    A lone `-` glued before a digit is read as a minus sign and a `.` glued before a digit
    as a decimal point: the page cannot tell them apart and these are the readings SSB's
    layout makes likely (the identities then confirm or reject the row).
    """
    if s in _SYMBOL_CELLS:
        return not nxt.isdigit()
    return _NUM.fullmatch(s) is not None


def _ends(tail: str, p: int) -> list[int]:
    out = []
    n = len(tail)
    for e in range(p + 1, n + 1):
        if tail[e - 1] == " " or (e < n and tail[e] == " "):
            continue
        if e - p > 40:
            break
        if _cell_ok(tail[p:e], tail[e] if e < n else ""):
            out.append(e)
    return out


class _Splitter:
    """Split counting and listing for one tail by dynamic programming over (position,
    cells left), iterative so that a row of 1,200 cells costs no recursion: O(length ×
    cells) states at most, and a table with more than `_MAX_COLUMNS` columns is refused
    before any of this runs."""

    def __init__(self, tail: str) -> None:
        self.tail = tail
        self._ends: dict[int, list[int]] = {}
        self._count: dict[tuple[int, int], int] = {}

    def ends(self, p: int) -> list[int]:
        if p not in self._ends:
            self._ends[p] = _ends(self.tail, p)
        return self._ends[p]

    def count(self, p: int, k: int) -> int:
        n = len(self.tail)
        memo = self._count
        stack = [(p, k)]
        while stack:
            q, j = stack[-1]
            if (q, j) in memo:
                stack.pop()
                continue
            if j == 0 or n - q < j:
                memo[q, j] = 1 if (j == 0 and q == n) else 0
                stack.pop()
                continue
            todo = [(e, j - 1) for e in self.ends(q) if (e, j - 1) not in memo]
            if todo:
                stack.extend(todo)
                continue
            total = 0
            for e in self.ends(q):
                total += memo[e, j - 1]
                if total > _MAX_SPLITS:
                    break
            memo[q, j] = min(total, _MAX_SPLITS + 1)
            stack.pop()
        return memo[p, k]

    def listing(self, p: int, k: int) -> list[tuple[str, ...]]:
        if self.count(p, k) == 0:
            return []
        out: list[tuple[str, ...]] = []
        stack: list[tuple[int, int, tuple[str, ...]]] = [(p, k, ())]
        while stack:
            q, j, done = stack.pop()
            if j == 0:
                out.append(done)
                continue
            for e in reversed(self.ends(q)):
                if self.count(e, j - 1):
                    stack.append((e, j - 1, (*done, self.tail[q:e])))
        return out


def count_splits(tail: str, n: int) -> int:
    """How many ways `tail` splits into exactly `n` cells (capped just above the limit)."""
    if n <= 0 or not tail:
        return 0
    return _Splitter(tail).count(0, n)


def splits(tail: str, n: int) -> list[tuple[str, ...]]:
    """Every split of `tail` into exactly `n` cells (empty if there are too many to list)."""
    if n <= 0 or not tail:
        return []
    sp = _Splitter(tail)
    if sp.count(0, n) > _MAX_SPLITS:
        return []
    return sp.listing(0, n)


def _fmt(cell: str) -> str:
    if cell in _SYMBOL_CELLS:
        return "sym"
    return f"dec{len(cell.split('.', 1)[1])}" if "." in cell else "int"


def _parse(cell: str) -> tuple[float, int]:
    return sym.parse_cell(cell)


# --------------------------------------------------------------------------------------
# page structure


def _clean(line: str) -> str:
    s = unicodedata.normalize("NFC", line).strip()
    if s.startswith("•"):
        s = s[1:].strip()
    return s


@dataclass
class _Row:
    line: int
    label: str
    tail: str
    group: str | None = None


def _row_parts(s: str) -> tuple[str, str] | None:
    """(label, numeric tail) when `s` looks like a table row, else None."""
    s = s.translate(_MINUS)
    p = len(s)
    while p > 0 and s[p - 1] in _TAIL_CHARS:
        p -= 1
    while p < len(s) and not (s[p].isdigit() or (s[p] == "-" and p + 1 < len(s)
                                                  and s[p + 1].isdigit())):
        p += 1
    if p >= len(s):
        return None
    label, tail = s[:p], s[p:]
    if not label:
        m = _YEAR_LABEL.match(s)
        if not m or len(s) <= 4 or not (s[4].isdigit() or s[4] == "-"):
            return None
        return s[:4], s[4:]
    if label[-1].isspace() or not any(ch.isalpha() for ch in label):
        return None
    return label, tail


def _split_header(s: str) -> list[str]:
    """Column names run together: split at case and glued-period boundaries."""
    parts: list[str] = []
    for piece in _HEADER_BREAK.split(s):
        parts.extend(x.strip() for x in _GLUED_YEAR.sub("\\1\x00", piece).split("\x00"))
    return [p for p in parts if p]


def _is_period(s: str) -> bool:
    return bool(_QUARTER.match(s) or _YEAR.match(s) or _YEAR_SPAN.match(s))


def _period_code(s: str) -> str:
    m = _QUARTER.match(s)
    if m:
        return f"{m.group(2)}K{m.group(1)}"
    m = _YEAR_SPAN.match(s)
    if m:
        return f"{m.group(1)}-{m.group(2)}"
    return s


@dataclass
class _Block:
    title: str
    title_line: int
    header_lines: list[int]
    columns: list[str]
    stub: str | None
    rows: list[_Row]
    markers: list[str] = field(default_factory=list)
    footnotes: list[str] = field(default_factory=list)
    sections: list[tuple[int, str]] = field(default_factory=list)
    end_line: int = 0
    # filled by _resolve
    cells: list[list[tuple[float, int]]] = field(default_factory=list)
    formats: list[set[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    identities: list[str] = field(default_factory=list)
    #: rows whose split an identity chose: that identity is assumed there, not checked
    assumed: list[dict] = field(default_factory=list)
    #: rows read by formatting evidence alone (no split satisfies the identities, or several do)
    uncertain: list[dict] = field(default_factory=list)


def _title_pair(lines: list[str], i: int) -> tuple[str, list[str]] | None:
    """(title, footnote markers) when line i is printed again at i+1 (maybe with markers)."""
    if i + 1 >= len(lines):
        return None
    a, b = lines[i], lines[i + 1]
    if not a or _row_parts(a) is not None:
        return None
    if a == b:
        return a, []
    if b.startswith(a) and _TITLE_MARKERS.match(b[len(a):]):
        return a, re.findall(r"\d+", b[len(a):])
    return None


def _fits(columns: list[str], row: tuple[str, str]) -> bool:
    return count_splits(row[1], len(columns)) > 0


def _header_at(lines: list[str], i: int, source: str = ""
               ) -> tuple[list[int], list[str], str | None] | None:
    """(header line numbers, columns, stub caption) when a table header starts at line i.

    The header must fit one of the first rows below it (not only the first: one damaged
    row must not make its table vanish; it is then the row that is refused or read)."""
    s = lines[i]
    if not s or _row_parts(s) is not None or s.lower() in _END_LINES:
        return None
    if _title_pair(lines, i) is not None:
        return None
    cols = _split_header(s)
    if not cols:
        return None
    nxt = lines[i + 1] if i + 1 < len(lines) else ""
    row = _row_parts(nxt) if nxt else None
    if row is not None:
        if len(cols) > _MAX_COLUMNS:
            raise ReadError(f"a header of {len(cols)} columns", source=source,
                            where=f"line {i + 1}",
                            expected=f"at most {_MAX_COLUMNS} columns in a web table")
        stub = None
        if len(cols) > 1 and _is_period(cols[0]) and not any(_is_period(c) for c in cols[1:]):
            stub, cols = cols[0], cols[1:]
        rows = [row]
        for d in range(2, 5):
            if i + d >= len(lines) or (r := _row_parts(lines[i + d])) is None:
                break
            rows.append(r)
        if any(_fits(cols, r) for r in rows):
            return [i], cols, stub
        return None
    # a two-line header: the last column of line i spans the columns of line i+1
    if nxt and i + 2 < len(lines) and _row_parts(nxt) is None and lines[i + 2]:
        row = _row_parts(lines[i + 2])
        sub = _split_header(nxt)
        if (row is not None and len(cols) > 1 and len(sub) > 1
                and _title_pair(lines, i) is None and (i == 0 or _title_pair(lines, i - 1) is None)):
            cols2 = cols[:-1] + [f"{cols[-1]} {x}" for x in sub]
            if _fits(cols2, row):
                return [i, i + 1], cols2, None
    return None


_JUNK = re.compile(r"(?:^|[^A-Za-z])?(nan|NaN|NAN|inf|Inf|INF|[Ii]nfinity|null|NULL|None|"
                   r"n/a|N/A)[\d .:-]*$")


def _orphan_check(lines: list[str], i: int, source: str) -> None:
    """A title printed twice, then a header: its rows must follow, and fit it."""
    pair = _title_pair(lines, i)
    if pair is None or i + 2 >= len(lines):
        return
    head = lines[i + 2]
    if (not head or _row_parts(head) is not None or head.lower() in _END_LINES
            or _title_pair(lines, i + 2) is not None or len(_split_header(head)) < 2):
        return
    after = lines[i + 3] if i + 3 < len(lines) else ""
    if not after or after.lower() in _END_LINES or _title_pair(lines, i + 3) is not None:
        raise ReadError(f"table {pair[0]!r} has a header and no rows", source=source,
                        where=f"line {i + 4}" if i + 3 < len(lines) else f"line {i + 3}",
                        expected="rows under the header " + repr(head))
    if _row_parts(after) is not None and _header_at(lines, i + 2, source) is None:
        raise ReadError(f"table {pair[0]!r}: no row splits into the "
                        f"{len(_split_header(head))} columns of its header", source=source,
                        where=f"line {i + 4}", expected=" | ".join(_split_header(head)))


def _find_blocks(lines: list[str], source: str = "") -> list[_Block]:
    blocks: list[_Block] = []
    i = 0
    n = len(lines)
    while i < n:
        _orphan_check(lines, i, source)
        head = _header_at(lines, i, source)
        if head is None:
            i += 1
            continue
        header_lines, cols, stub = head
        title, title_line, markers = "", i, []
        if i >= 2 and (pair := _title_pair(lines, i - 2)) is not None:
            title, markers = pair
            title_line = i - 2
        elif i >= 1 and lines[i - 1] and _row_parts(lines[i - 1]) is None:
            title, title_line = lines[i - 1], i - 1
        block = _Block(title, title_line + 1, [h + 1 for h in header_lines], cols, stub, [],
                       markers=markers)
        k = header_lines[-1] + 1
        group: str | None = None
        while k < n:
            s = lines[k]
            if not s:
                break
            if s.lower() in _END_LINES:
                k += 1
                break
            if _title_pair(lines, k) is not None:
                break
            parts = _row_parts(s)
            j = _JUNK.search(s if parts is None else parts[0])
            if j and (parts is None or (j.start(1) > 0 and s[j.start(1) - 1].isdigit())):
                # not a section heading, not a label: a junk cell
                raise ReadError(f"{j.group(1)!r} where a cell belongs: {s!r}", source=source,
                                where=f"line {k + 1}", expected="numbers or SSB symbols")
            fm = _FOOTNOTE_LINE.match(s)
            if fm and fm.group(1) in markers and block.rows:
                block.footnotes.append(f"{fm.group(1)} {fm.group(2)}")
                k += 1
                continue
            parts = _row_parts(s)
            if parts is not None and not block.footnotes:
                block.rows.append(_Row(k + 1, parts[0], parts[1], group))
                k += 1
                continue
            if (parts is None and block.rows and k + 1 < n and lines[k + 1]
                    and _row_parts(lines[k + 1]) is not None
                    and _header_at(lines, k, source) is None):
                group = s
                block.sections.append((k + 1, s))
                k += 1
                continue
            if parts is None and block.rows and _header_at(lines, k, source) is not None:
                break
            break
        block.end_line = k
        if block.rows:
            blocks.append(block)
        i = max(k, i + 1)
    return blocks


# --------------------------------------------------------------------------------------
# resolving the splits


@dataclass(frozen=True)
class _Identity:
    target: int
    a: int
    b: int
    sign: int  # target = a + sign * b

    def holds(self, v: tuple[float, ...]) -> bool | None:
        x, y, z = v[self.target], v[self.a], v[self.b]
        if math.isnan(x) or math.isnan(y) or math.isnan(z):
            return None
        return abs(x - (y + self.sign * z)) < 1e-9

    def text(self, names: list[str]) -> str:
        op = "+" if self.sign > 0 else "−"
        return f"{names[self.target]} = {names[self.a]} {op} {names[self.b]}"


def _implied(name: str, sign: int) -> bool:
    n = name.lower()
    if sign < 0:
        return n.startswith("net") or n.startswith("change")
    return "total" in n or n in ("males and females", "both sexes", "sum")


@lru_cache(maxsize=1 << 16)
def _values(cands: tuple[str, ...]) -> tuple[float, ...]:
    return tuple([_parse(c)[0] if c not in _SYMBOL_CELLS or c == "-" else math.nan for c in cands])


def _show(c: tuple[str, ...]) -> str:
    return " | ".join(c)


def _deciders(accepted: list[_Identity], chosen: tuple[str, ...],
              cands: list[tuple[str, ...]], names: list[str]) -> list[_Identity]:
    """A small set of identities that rules out every other split (named in the note)."""
    others = [_values(x) for x in cands if x != chosen]
    def rank(i: _Identity) -> tuple[int, int, int, int]:
        implied = _implied(names[i.target], i.sign)
        plain = not (_implied(names[i.a], -1) or _implied(names[i.b], -1))
        return (0 if implied and i.sign < 0 and plain else 1 if implied else 2,
                i.target, i.a, i.b)

    pool = sorted(accepted, key=rank)
    picked: list[_Identity] = []
    while others:
        best = max(pool, key=lambda i: sum(1 for v in others if i.holds(v) is False))
        if not any(best.holds(v) is False for v in others):
            break
        picked.append(best)
        others = [v for v in others if best.holds(v) is not False]
    return picked


def _fits_formats(cells: tuple[str, ...], formats: list[set[str]]) -> bool:
    return all(_fmt(c) == "sym" or not formats[j] or _fmt(c) in formats[j]
               for j, c in enumerate(cells))


def _digits(cell: str) -> int:
    return len(cell.lstrip("-").split(".", 1)[0].replace(" ", ""))


class _Evidence:
    """How a column's figures look in the rows that split one way only (digit counts,
    signs) and which figures the page prints elsewhere: the tie-breaker that never asks
    whether the figures are right."""

    def __init__(self, rows: list[tuple[str, ...]], n: int, page: Counter[float]) -> None:
        self.digits: list[Counter[int]] = [Counter() for _ in range(n)]
        self.neg: list[Counter[bool]] = [Counter() for _ in range(n)]
        for cells in rows:
            for j, c in enumerate(cells):
                if _fmt(c) != "sym":
                    self.digits[j][_digits(c)] += 1
                    self.neg[j][c.startswith("-")] += 1
        self.page = page

    def score(self, cells: tuple[str, ...], formats: list[set[str]]) -> float:
        total = 0.0
        for j, c in enumerate(cells):
            if _fmt(c) == "sym":
                continue
            if formats[j] and _fmt(c) not in formats[j]:
                total -= 8.0
            d, seen = _digits(c), self.digits[j]
            k = sum(seen.values())
            if k:
                near = seen[d] + 0.3 * (seen[d - 1] + seen[d + 1])
                total += math.log((near + 0.2) / (k + 0.2))
                neg = self.neg[j]
                total += math.log((neg[c.startswith("-")] + 0.5) / (k + 1.0))
            v = _parse(c)[0]
            if _telling(v) and self.page[v]:
                total += 1.0
        return total


def _page_figures(blocks: list[_Block]) -> Counter[float]:
    """Figures of rows that split one way only, over the whole page."""
    out: Counter[float] = Counter()
    for b in blocks:
        n = len(b.columns)
        for row in b.rows:
            if count_splits(row.tail, n) == 1:
                for c in splits(row.tail, n)[0]:
                    v = _parse(c)[0] if _fmt(c) != "sym" else math.nan
                    if _telling(v):
                        out[v] += 1
    return out


def _distinct(idents: list[_Identity], names: list[str]) -> list[_Identity]:
    """One form of each identity (c = a − b, a = b + c and b = a − c are one): the form
    whose target the header names (`Net …`, `… total`), else the rightmost target."""
    best: dict[frozenset[tuple[int, int]], _Identity] = {}
    for i in idents:
        coef = {i.target: 1, i.a: -1, i.b: -i.sign}
        flip = 1 if coef[min(coef)] > 0 else -1
        key = frozenset((j, c * flip) for j, c in coef.items())
        old = best.get(key)
        rank = (_implied(names[i.target], i.sign), i.target)
        if old is None or rank > (_implied(names[old.target], old.sign), old.target):
            best[key] = i
    return [i for i in idents if i in best.values()]


def _placeable(c: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Short splits that start with a number and end in symbols only (`448 573-`): only a
    row that shows a symbol where cells belong is short by design; digits alone that fill
    too few cells are a damaged copy."""
    out = []
    for x in c:
        first = next((k for k, cell in enumerate(x) if _fmt(cell) == "sym"), None)
        if _fmt(x[0]) != "sym" and first is not None and all(
                _fmt(cell) == "sym" for cell in x[first:]):
            out.append(x)
    return out


def _resolve(block: _Block, source: str, page: Counter[float] | None = None) -> None:
    """Choose one split per row and fill block.cells.

    The choice never depends on the figures being right: every split number formatting
    allows is a candidate; one candidate → taken; several → the one the table's identities
    allow (recorded in block.assumed: that identity is then assumed, not checked, on the
    row); none or several allowed → formatting evidence (digit counts of the column,
    the same figure elsewhere on the page) chooses, the row is read, and block.uncertain
    keeps the candidates so the audit's finding can show them. ReadError only for a row
    no split of which formatting allows.
    """
    n = len(block.columns)
    cands: list[list[tuple[str, ...]]] = []
    for row in block.rows:
        if count_splits(row.tail, n) > _MAX_SPLITS:
            raise ReadError(f"{row.label!r}: the digits {row.tail!r} split into {n} cells in "
                            f"more than {_MAX_SPLITS} ways", source=source,
                            where=f"line {row.line}", expected="a row the arithmetic can decide")
        cands.append(splits(row.tail, n))
    first_count = [len(c) for c in cands]
    allowed = [list(c) for c in cands]

    # 1. the decimals of each column: SSB prints a column with a fixed number of decimals,
    #    so the format most rows with a single split show is the column's format. A row
    #    none of whose splits keeps them is a short row (below) or else keeps them all.
    formats: list[set[str]] = [set() for _ in range(n)]
    for _ in range(3):
        seen: list[Counter[str]] = [Counter() for _ in range(n)]
        for c in cands:
            if len(c) == 1:
                for j, cell in enumerate(c[0]):
                    if _fmt(cell) != "sym":
                        seen[j][_fmt(cell)] += 1
        for j in range(n):
            if seen[j]:
                top = max(seen[j].values())
                formats[j] = {f for f, k in seen[j].items() if k == top}
        cands = [[x for x in c if _fits_formats(x, formats)] for c in cands]

    # rows that fit no split into n cells: fewer cells than columns (placed below when a
    # symbol stands where cells belong), else the splits that break the column decimals
    short: dict[int, list[tuple[str, ...]]] = {}
    for r_i, row in enumerate(block.rows):
        if cands[r_i]:
            continue
        for k in range(n - 1, 0, -1):
            c = [x for x in splits(row.tail, k) if _fits_formats(x, formats)]
            if c:
                if len(_placeable(c)) == 1:
                    short[r_i] = c
                break
        if r_i not in short and allowed[r_i]:
            cands[r_i] = allowed[r_i]
            block.notes.append(
                f"line {row.line}: no split keeps the decimals of every column "
                f"({', '.join('/'.join(sorted(f)) or 'any' for f in formats)}); "
                "read from the splits that do not")
        elif r_i not in short:
            shown = f": {'; '.join(_show(x) for x in c[:8])}" if c else ""
            raise ReadError(f"{row.label!r}: cannot split {row.tail!r} into {n} cells"
                            + (f" or place fewer{shown}" if c else ""),
                            source=source, where=f"line {row.line}",
                            expected=f"{n} cells under {' | '.join(block.columns)}")
    for r_i, c in enumerate(cands):
        if len(c) == 1 and first_count[r_i] > 1:
            block.notes.append(
                f"line {block.rows[r_i].line}: {first_count[r_i]} splits possible; chose "
                f"{_show(c[0])} by the decimals each column shows in the other rows")
    block.formats = formats

    # 2. identities between integer columns. One found in the data needs two distinct
    #    rows with a single split where it holds with no zero term (zeros and equal
    #    columns make coincidences) and fails in at most a quarter as many (one typo
    #    must not make the table's arithmetic unknown); one the header implies (`Net …`
    #    = a − b, `… total` = a + b) needs no support, but must be the member of its
    #    family that the most rows can satisfy.
    ints = [j for j in range(n) if formats[j] <= {"int"}]
    full = [r for r in range(len(cands)) if r not in short]
    unique = [_values(cands[r][0]) for r in full if len(cands[r]) == 1]
    ambiguous = [r for r in full if len(cands[r]) > 1]
    accepted: list[_Identity] = []
    families: dict[tuple[int, int], list[tuple[int, _Identity]]] = {}
    if ambiguous:
        for t in ints:
            for a in ints:
                for b in ints:
                    if len({t, a, b}) < 3:
                        continue
                    for sign in (1, -1):
                        if sign > 0 and a > b:
                            continue
                        ident = _Identity(t, a, b, sign)
                        held = [ident.holds(v) for v in unique]
                        fails = sum(1 for h in held if h is False)
                        support = {(v[t], v[a], v[b]) for v, h in zip(unique, held, strict=True)
                                   if h and v[t] and v[a] and v[b]}
                        if len(support) >= 2 and 4 * fails <= len(support):
                            accepted.append(ident)
                        elif _implied(block.columns[t], sign):
                            can = sum(1 for r in ambiguous if any(
                                ident.holds(_values(x)) for x in cands[r]))
                            score = can + sum(1 for h in held if h) - fails
                            if score > 0:
                                families.setdefault((t, sign), []).append((score, ident))
    def order(m: tuple[int, _Identity]) -> tuple[int, int]:
        # ties go to the reading order of SSB's headers: `Net` after its two terms
        i = m[1]
        return -m[0], 0 if i.a < i.b < i.target else 1

    for members in families.values():
        members.sort(key=order)
        if len(members) == 1 or order(members[0]) < order(members[1]):
            accepted.append(members[0][1])
    accepted = _distinct(accepted, block.columns)
    evidence = _Evidence([cands[r][0] for r in full if len(cands[r]) == 1], n,
                         page if page is not None else Counter())
    for r in ambiguous:
        row = block.rows[r]
        held = {x: sum(1 for i in accepted if i.holds(_values(x)) is not False)
                for x in cands[r]}
        kept = [x for x in cands[r] if held[x] == len(accepted)]
        rank = sorted(cands[r], key=lambda x: (-held[x], -evidence.score(x, formats)))
        if len(kept) == 1:
            deciders = _deciders(accepted, kept[0], cands[r], block.columns)
            block.notes.append(
                f"line {row.line}: {first_count[r]} splits possible; chose {_show(kept[0])} "
                "by " + ", ".join(i.text(block.columns) for i in deciders)
                + " (assumed there, not checked)")
            block.assumed.append({
                "line": row.line, "row": r, "chosen": list(kept[0]),
                "identities": [i.text(block.columns) for i in deciders],
                "columns": sorted({j for i in deciders for j in (i.target, i.a, i.b)}),
                "candidates": [list(x) for x in cands[r] if x != kept[0]]})
            cands[r] = kept
            continue
        chosen = rank[0]
        if kept and len(kept) < len(cands[r]):
            used = [i for i in accepted if any(i.holds(_values(x)) is False for x in cands[r])]
            block.assumed.append({
                "line": row.line, "row": r, "chosen": list(chosen),
                "identities": [i.text(block.columns) for i in used],
                "columns": sorted({j for i in used for j in (i.target, i.a, i.b)}),
                "candidates": [list(x) for x in cands[r] if x != chosen]})
        if kept:
            why = ("several splits satisfy " + (", ".join(
                i.text(block.columns) for i in accepted) or "the table (no identity found)"))
        else:
            why = "no split satisfies " + ", ".join(i.text(block.columns) for i in accepted)
        block.notes.append(
            f"line {row.line}: {first_count[r]} splits possible and {why}; read as "
            f"{_show(chosen)} by the digits each column shows in the other rows "
            f"(other candidates: {'; '.join(_show(x) for x in rank[1:6])})")
        block.uncertain.append({
            "line": row.line, "row": r, "chosen": list(chosen), "why": why,
            "candidates": [list(x) for x in rank[1:]]})
        cands[r] = [chosen]
    block.identities = [i.text(block.columns) for i in accepted]

    # 3. rows with fewer cells than columns: place what fits, the rest is `..`
    cells: list[list[tuple[float, int]]] = []
    for r_i, c in enumerate(cands):
        row = block.rows[r_i]
        if r_i not in short:
            cells.append([_parse(x) for x in c[0]])
            continue
        placed = _placeable(short[r_i])
        x = placed[0]
        nums = [cell for cell in x if _fmt(cell) != "sym"]
        lost = [cell for cell in x if _fmt(cell) == "sym"]
        row_cells = [_parse(cell) for cell in nums]
        row_cells += [(math.nan, sym.CODE[".."])] * (n - len(row_cells))
        cells.append(row_cells)
        block.notes.append(
            f"line {row.line}: {row.label!r} shows {len(x)} cell(s) ({_show(x)}) under {n} "
            f"columns; {' | '.join(nums) or 'nothing'} read into the first column(s), "
            f"the other {n - len(nums)} set to '..' (not available)"
            + (f": the page's lone {' '.join(repr(s) for s in lost)} cannot be placed in "
               "one column" if lost else ""))
    block.cells = cells


# --------------------------------------------------------------------------------------
# naming: codes, dimensions, roles

_MEASURE_CODES = {
    "immigration": "immigration", "immigration, total": "immigration",
    "emigration": "emigration", "emmigration": "emigration", "emigration, total": "emigration",
    "net immigration": "net_immigration", "net migration (not domestic)": "net_immigration",
    "net migration": "net_migration", "net migration, total": "net_migration",
    "in-migration": "in_migration", "out-migration": "out_migration",
    "in-migration, domestic": "in_migration_domestic",
    "out-migration, domestic": "out_migration_domestic",
    "net migration, domestic": "net_migration_domestic",
    "norwegian citizens, immigration": "immigration_norwegian",
    "norwegian citizens, emigration": "emigration_norwegian",
    "foreign citizens, immigration": "immigration_foreign",
    "foreign citizens, emigration": "emigration_foreign",
    "population at the beginning of the quarter": "population_start",
    "population at the end of the quarter": "population_end",
    "net migration, immigration and emigration incl": "net_migration",
    "migrations": "migrations",
    "migration per 1000 mean population": "per_1000_mean_population",
    "per 1000 mean population": "per_1000_mean_population",
    "changes from same period previous year": "change",
}
_SEX_CODES = {"males and females": "total", "both sexes": "total", "males": "males",
              "females": "females"}
#: county numbers from 1 January 2024 (the 2024 split of Viken, Vestfold og Telemark,
#: Troms og Finnmark); labels stay as printed
_COUNTY_CODES = {
    "the whole country": "0", "østfold": "31", "akershus": "32", "oslo": "03",
    "innlandet": "34", "buskerud": "33", "vestfold": "39", "telemark": "40", "agder": "42",
    "rogaland": "11", "vestland": "46", "møre og romsdal": "15", "trøndelag": "50",
    "nordland": "18", "troms": "55", "finnmark": "56",
}


def _slug(s: str) -> str:
    s = unicodedata.normalize("NFKD", s.lower())
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).replace("ø", "o").replace(
        "æ", "ae")
    s = re.sub(r"[^a-z0-9]+", "_", s).strip("_")
    return s or "x"


def _measure_code(name: str, title: str) -> str:
    key = name.lower().strip()
    if key in _MEASURE_CODES:
        return _MEASURE_CODES[key]
    m = re.match(r"^change in percent (.+)$", key)
    if m and _is_period(m.group(1)):
        return "change_pct_" + _period_code(m.group(1)).replace("-", "_")
    if _is_period(name):
        subject = re.split(r"[,.]| by ", title, maxsplit=1)[0].strip()
        return _slug(subject) if subject else _slug(name)
    return _slug(name)


def _age_code(label: str) -> str | None:
    s = label.lower().strip()
    if s == "total":
        return "total"
    m = re.fullmatch(r"(\d+)(?:-(\d+))? years?", s)
    if m:
        return m.group(1) if m.group(2) is None else f"{m.group(1)}-{m.group(2)}"
    m = re.fullmatch(r"(\d+) years? or older", s)
    return f"{m.group(1)}+" if m else None


def _county_code(label: str) -> str | None:
    first = label.split(" - ")[0].strip().lower()
    return _COUNTY_CODES.get(first)


def _unique_codes(codes: list[str], labels: list[str], what: str, source: str,
                  lines: list[int], repeat_ok: bool = False) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for code, label, line in zip(codes, labels, lines, strict=True):
        if code in seen:
            if labels[seen[code]] == label and not repeat_ok:
                raise ReadError(f"{what} {label!r} appears twice", source=source,
                                where=f"line {line}", expected="each row label once")
            k = 2
            while f"{code}_{k}" in seen:
                k += 1
            code = f"{code}_{k}"
        seen[code] = len(out)
        out.append(code)
    return out


def _row_dimension(block: _Block, source: str) -> Dimension:
    labels = [r.label for r in block.rows]
    lines = [r.line for r in block.rows]
    title = block.title.lower()
    if all(_YEAR.match(lab) for lab in labels):
        name, role, codes = "year", "time", labels
    elif all(_age_code(lab) for lab in labels):
        name, role, codes = "age", "age", [_age_code(lab) or "" for lab in labels]
    elif "county" in title or sum(1 for lab in labels if _county_code(lab)) > len(labels) / 2:
        name, role = "region", "region"
        codes = [_county_code(lab) or _slug(lab) for lab in labels]
    elif "citizenship" in title:
        name, role, codes = "citizenship", "citizenship", labels
    elif all(re.match(r"(?i)(between|within) ", lab) for lab in labels):
        name, role, codes = "level", None, [_slug(lab) for lab in labels]
    else:
        name, role = "contents", "measure"
        codes = [_measure_code(lab, block.title) for lab in labels]
    codes = _unique_codes(list(codes), labels, "row", source, lines)
    return Dimension(name, tuple(codes), tuple(labels), role=role, label=block.stub)


# --------------------------------------------------------------------------------------
# cross-table inference: periods from a time series on the same page


def _series_years(blocks: list[_Block]) -> list[tuple[str, set[float]]]:
    out = []
    for b in blocks:
        if b.rows and all(_YEAR.match(r.label) for r in b.rows):
            for r, cells in zip(b.rows, b.cells, strict=True):
                out.append((r.label, {v for v, s in cells if s == sym.NUMBER and _telling(v)}))
    return out


def _telling(v: float) -> bool:
    """Values distinctive enough to identify a period when they recur (not 0, 12, …)."""
    return not math.isnan(v) and (abs(v) >= 100 or not float(v).is_integer())


def _year_of(values: set[float], series: list[tuple[str, set[float]]], need: int) -> str | None:
    scores: Counter[str] = Counter()
    for year, vals in series:
        scores[year] += len(values & vals)
    if not scores:
        return None
    best = scores.most_common(2)
    if best[0][1] >= need and (len(best) == 1 or best[1][1] < best[0][1]):
        return best[0][0]
    return None


# --------------------------------------------------------------------------------------
# building tables


def _build(block: _Block, index: int, prefix: str, source: str,
           series: list[tuple[str, set[float]]], page_period: str | None,
           page_year: tuple[str, str] | None = None) -> Table:
    n = len(block.columns)
    notes = [f"lines {block.title_line}–{block.end_line}: table {block.title!r}"
             + (f" (header line {block.header_lines[0]})" if len(block.header_lines) == 1
                else f" (header lines {block.header_lines[0]}–{block.header_lines[-1]})")]
    meta: dict[str, object] = {"lines": [block.title_line, block.end_line],
                               "header": list(block.columns)}
    if block.stub:
        meta["stub"] = block.stub
    values = np.array([[v for v, _ in row] for row in block.cells], dtype=np.float64)
    symbols = np.array([[s for _, s in row] for row in block.cells], dtype=np.uint8)
    row_dim = _row_dimension(block, source)
    names = block.columns
    lowered = [c.lower() for c in names]
    if "emmigration" in lowered:
        notes.append(f"line {block.header_lines[0]}: header 'Emmigration' (sic) read as "
                     "emigration")

    # which period a table refers to
    period: str | None = None
    bare = [c for c in names if _YEAR.match(c)]
    if block.stub and _is_period(block.stub):
        period = _period_code(block.stub)
    elif len(bare) == 1 and len(names) > 1 and not all(_is_period(c) for c in names):
        period = bare[0]
    elif (m := re.search(r"(?<!\d)((?:19|20)\d\d)(?!\d)", block.title)) and not re.search(
            r"(?<!\d)(?:19|20)\d\d ?[-–] ?(?:19|20)\d\d", block.title):
        period = m.group(1)
        notes.append(f"reference period {period}: from the title")
    elif row_dim.role != "time" and page_year:
        period = page_year[0]
        notes.append(f"reference period {period}: {page_year[1]}")
    elif row_dim.role != "time" and series:
        # last resort: the figures recur in one year's row of a time series on the page
        vals = {float(v) for v in values[symbols == sym.NUMBER].ravel() if _telling(v)}
        year = _year_of(vals, series, 2)
        if year:
            period = year
            notes.append(f"reference period {year}: the numbers recur in that year's row "
                         "of the time series on the same page")

    dims: list[Dimension]
    if all(_is_period(c) or _measure_code(c, "") == "change" for c in names) and any(
            _is_period(c) for c in names):
        codes = [_period_code(c) if _is_period(c) else "change" for c in names]
        codes = _unique_codes(codes, names, "column", source, [block.header_lines[0]] * n)
        col_dim = Dimension("time", tuple(codes), tuple(names), role="time")
        period = period or next(c for c in codes if c != "change")
        periods = [c for c in codes if c != "change"]
        if "change" in codes and len(periods) == 2:
            # not a period: rules over time (counts ≥ 0, growth) must leave it out
            meta["derived_categories"] = {"time": {"change": f"{periods[0]} - {periods[1]}"}}
            notes.append(f"line {block.header_lines[0]}: column "
                         f"{names[codes.index('change')]!r} is coded time 'change' = "
                         f"{periods[0]} − {periods[1]}; it is a difference, not a period")
        dims = [row_dim, col_dim]
    elif all(c in _SEX_CODES for c in lowered):
        codes = _unique_codes([_SEX_CODES[c] for c in lowered], names, "column", source,
                              [block.header_lines[0]] * n)
        col_dim = Dimension("sex", tuple(codes), tuple(names), role="sex")
        dims = [row_dim, col_dim]
    else:
        codes = [_measure_code(c, block.title) for c in names]
        repeated = [c for c, k in Counter(codes).items() if k > 1]
        if repeated and (series or period) and row_dim.role != "time":
            built = _split_repeated(block, row_dim, codes, values, symbols, series, notes,
                                    period)
            if built is not None:
                dims, values, symbols, period = built
                return _finish(block, index, prefix, source, dims, values, symbols, notes,
                               meta, period, page_period)
        codes = _unique_codes(codes, names, "column", source, [block.header_lines[0]] * n,
                              repeat_ok=True)
        for c in repeated:
            notes.append(f"line {block.header_lines[0]}: header repeats {c!r}; the later "
                         "column(s) are coded with a suffix (_2, …): their period is unknown")
        col_dim = Dimension("contents", tuple(codes), tuple(names), role="measure")
        dims = [row_dim, col_dim]
    return _finish(block, index, prefix, source, dims, values, symbols, notes, meta, period,
                   page_period)


def _split_repeated(block: _Block, row_dim: Dimension, codes: list[str], values: np.ndarray,
                    symbols: np.ndarray, series: list[tuple[str, set[float]]],
                    notes: list[str], period: str | None = None):
    """A header that repeats a measure (`Net immigration` twice) gives two periods of it.

    With the table's period known from the page, the first column of the measure is that
    period and a later one the year before (SSB shows the previous year beside the
    current), unless the page's time series has the column's figures for another year.
    Without it, the periods come from the time series alone. A typo in one figure moves
    no column to another period: a figure that recurs nowhere is no evidence."""
    years: list[str | None] = []
    for j, code in enumerate(codes):
        if codes.count(code) == 1:
            years.append(None)
            continue
        col = {float(v) for v, s in zip(values[:, j], symbols[:, j], strict=True)
               if s == sym.NUMBER and _telling(v)}
        years.append(_year_of(col, series, 1) if series else None)
    rep = [j for j, y in enumerate(years) if codes.count(codes[j]) > 1]
    how = "the page's time series has the same numbers for"
    if period and _YEAR.match(period):
        seen: dict[str, int] = {}
        for j in rep:
            k = seen[codes[j]] = seen.get(codes[j], -1) + 1
            if k == 0:
                years[j] = period
            elif years[j] is None or years[j] == period:
                years[j] = str(int(period) - k)
        how = (f"the table's period is {period}; the first column of a repeated measure is "
               "that year and the next the year before (or the year whose time-series row "
               "has its figures):")
    if any(years[j] is None for j in rep) or len({(codes[j], years[j]) for j in rep}) < len(rep):
        return None
    main = years[rep[0]]
    assert main is not None
    periods = list(dict.fromkeys([main] + [years[j] for j in rep if years[j] != main]))
    measures = list(dict.fromkeys(codes))
    labels = {c: block.columns[codes.index(c)] for c in measures}
    out_v = np.full((len(row_dim), len(measures), len(periods)), np.nan)
    out_s = np.full(out_v.shape, sym.NOT_APPLICABLE, dtype=np.uint8)
    for j, code in enumerate(codes):
        p = years[j] if years[j] is not None else main
        out_v[:, measures.index(code), periods.index(p)] = values[:, j]
        out_s[:, measures.index(code), periods.index(p)] = symbols[:, j]
    shown = ", ".join(f"column {j + 1} = {years[j]}" for j in rep)
    notes.append(
        f"line {block.header_lines[0]}: the header repeats {block.columns[rep[0]]!r}; "
        f"{how} {shown}, so the other measures "
        f"are {main} and the {', '.join(p for p in periods if p != main)} cells of "
        "measures the page does not show are '.' (no cell)")
    dims = [row_dim,
            Dimension("contents", tuple(measures), tuple(labels[c] for c in measures),
                      role="measure"),
            Dimension("time", tuple(periods), role="time")]
    return dims, out_v, out_s, main


def _finish(block: _Block, index: int, prefix: str, source: str, dims: list[Dimension],
            values: np.ndarray, symbols: np.ndarray, notes: list[str],
            meta: dict[str, object], period: str | None, page_period: str | None) -> Table:
    title = block.title
    if any(d.name == dims[0].name for d in dims[1:]):
        notes.append(f"rows and columns both read as {dims[0].name!r}; rows named 'category'")
        dims = [replace(dims[0], name="category", role=None), *dims[1:]]
    if period is None and "1. january" in title.lower() and page_period:
        period = page_period[:4]
        notes.append(f"reference period 1 January {period}: the title gives no year; taken "
                     "from the page heading")
    if period:
        if "1. january" in title.lower() and re.fullmatch(r"\d{4}", period):
            period = f"{period}-01-01"
        meta["reference_period"] = period
    if block.sections:
        groups: dict[str, list[str]] = {}
        rows = dims[0]
        for r, row in enumerate(block.rows):
            if row.group:
                groups.setdefault(row.group, []).append(rows.codes[r])
        meta["groups"] = groups
        for line, text in block.sections:
            members = groups.get(text, [])
            notes.append(f"line {line}: section {text!r} groups the {len(members)} rows "
                         "below it" + (": a selection (a subset of the total, not its parts)"
                                       if re.search(r"(?i)of this|selected", text) else ""))
    decimals = {}
    for j, f in enumerate(block.formats):
        d = max((int(x[3:]) for x in f if x.startswith("dec")), default=0)
        decimals[block.columns[j]] = d
    if any(decimals.values()):
        meta["decimals_by_column"] = decimals
    if block.identities:
        meta["identities_used"] = block.identities
    rows = dims[0]
    if block.assumed:
        meta["assumed"] = [
            {"line": a["line"], "row": rows.codes[a["row"]], "label": block.rows[a["row"]].label,
             "rule": "; ".join(a["identities"]),
             "columns": [block.columns[j] for j in a["columns"]],
             "chosen": a["chosen"], "candidates": a["candidates"][:_MAX_SHOWN],
             "splits": len(a["candidates"]) + 1}
            for a in block.assumed]
    if block.uncertain:
        meta["split_candidates"] = [
            {"line": u["line"], "row": rows.codes[u["row"]], "label": block.rows[u["row"]].label,
             "why": u["why"], "chosen": u["chosen"], "candidates": u["candidates"][:_MAX_SHOWN],
             "splits": len(u["candidates"]) + 1}
            for u in block.uncertain]
    footnotes = list(block.footnotes)
    if block.markers:
        meta["title_footnote_markers"] = block.markers
        missing = [m for m in block.markers if not any(f.startswith(m + " ") for f in footnotes)]
        if missing:
            notes.append(f"title footnote marker(s) {', '.join(missing)} have no footnote text")
    all_int = not any(decimals.values())
    return Table(
        dims, values, symbols, id=f"{prefix}-{index}", title=title, source=source,
        unit="persons" if all_int else None, decimals=max(decimals.values(), default=0),
        footnotes=footnotes, notes=notes + block.notes, meta=meta,
    )


_UPDATED = re.compile(r"(?i)^updated:?\s.*?((?:19|20)\d\d)\b")


def _page_year(lines: list[str], blocks: list[_Block]) -> tuple[str, str] | None:
    """The year a statistics page is about, from its structure (never its figures): the
    latest year row of a time series on the page, else the year before the page's
    `Updated:` date (annual statistics are published the year after)."""
    best: tuple[str, str] | None = None
    for b in blocks:
        if len(b.rows) > 1 and all(_YEAR.match(r.label) for r in b.rows):
            last = max(b.rows, key=lambda r: r.label)
            if best is None or last.label > best[0]:
                best = (last.label, f"the latest year of the page's time series "
                                    f"(line {last.line})")
    if best:
        return best
    for i, s in enumerate(lines):
        m = _UPDATED.match(s)
        if m:
            return (str(int(m.group(1)) - 1), f"the year before the page's update date "
                    f"(line {i + 1}: {s!r})")
    return None


def _page_period(lines: list[str]) -> str | None:
    for s in lines[:5]:
        if _QUARTER.match(s):
            return _period_code(s)
    return None


def read(data: bytes, source: str) -> list[Table]:
    """Every table of a web page copied as text; ReadError when a row cannot be split."""
    from migaudit.readers import decode

    text = decode(data, source, ("utf-8-sig", "cp1252"))
    lines = [_clean(x) for x in text.splitlines()]
    blocks = _find_blocks(lines, source)
    if not blocks:
        raise ReadError("no table found", source=source,
                        expected="a title, a header line and rows like 'Total66 07731 968'")
    page = _page_figures(blocks)
    for b in blocks:
        _resolve(b, source, page)
    series = _series_years(blocks)
    prefix = Path(source).name.split("_")[0].split(".")[0] or "webtext"
    page_period = _page_period(lines)
    page_year = _page_year(lines, blocks)
    return [_build(b, i + 1, prefix, source, series, page_period, page_year)
            for i, b in enumerate(blocks)]
