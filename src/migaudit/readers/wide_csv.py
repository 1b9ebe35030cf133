"""Wide CSVs transcribed from SSB pages: one row per category, one column per measure.

E.g. `county_annual_changes_2011_partial.csv`, `national_quarterly_changes_2012K4-2021K1.csv`,
`immigration_emigration_by_citizenship_group_2018.csv`. A header names every column.

How columns are classified (left to right, by name first, content second):
  * Key columns are the leading run of columns that are textual (some cell is not an SSB cell)
    or whose name says they identify a row: `*_code`/`code`/`kode`, or a name with a known
    role other than measure (`quarter`, `year`, `region`, `age`, ...). The first column that
    is neither ends the run. `X_code` followed by `X` (or `X_name`/`X_label`) make ONE
    dimension `X` with codes from `X_code` and labels from `X` (`region_code`+`region` →
    `region`, codes `0`, `01`, ...). `label` becomes `citizenship` when the file name or most
    labels speak of citizenship/countries, `region` when the labels are regions, else stays
    `label`. Other keys keep their column name; roles come from `table.guess_role`.
    With no key column, rows are numbered (`row`, codes `1`...).
  * Numeric columns (every non-empty cell an SSB cell) after the keys are measures: one
    dimension `contents` (role measure), codes = column names. A `_fnN` suffix is a footnote
    marker: it is stripped from the code and kept in `Dimension.footnotes` (code → ("N",)).
  * When EVERY measure column ends in a year (`immigration_2018`, `net_immigration_2017`)
    and no key is a time, the columns are split into `contents` × `year` (codes in the order
    printed: "2018", "2017"); combinations without a column are `.` (no cell), with a note.
    `meta["measure_columns"]` maps each original column to its cell.
  * Text columns after the keys (`source_url`, `role`, `source_language`) are per-row
    attributes: `meta["row_attributes"] = {column: {row_code: text}}`, row_code being the
    key code (several keys joined by `|`). Nothing is dropped.
Cells: empty → `..` (not published; counted in a note with the first line), `.` → `.`,
`-` → nil, `*`/`r` flags; anything else is a ReadError naming line and column.
Table.id is the file stem, the title the stem in words.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from migaudit.errors import ReadError
from migaudit.model import symbols as sym
from migaudit.model.table import Dimension, Table, guess_role
from migaudit.readers import parse_exact_cell
from migaudit.readers.statbank_csv import axis_kind, check_cube_size, csv_rows

_CODE_NAME = re.compile(r"(?:(.+)_)?(?:code|kode|kod)$", re.IGNORECASE)
_YEAR_COL = re.compile(r"(.+?)_((?:18|19|20)\d{2})$")
_FOOTNOTE = re.compile(r"(.+?)_fn(\d+)$")
_CITIZEN_WORDS = ("citizenship", "statsborgerskap", "nationality", "nasjonalitet", "landbakgrunn")


def sniff(head: bytes, source: str) -> int:
    """A comma header of names (no `value`+`symbol`, first cell named) over rows of cells."""
    text = head.lstrip(b"\xef\xbb\xbf").decode("utf-8", errors="replace")
    lines = [ln for ln in text.splitlines() if ln.strip()][:3]
    if len(lines) < 2 or text.lstrip().startswith(("{", "[")):
        return 0
    first = lines[0]
    if first.count(";") > first.count(",") or first.count(",") == 0:
        return 0
    cols = [c.strip().strip('"').strip() for c in first.split(",")]
    low = [c.lower() for c in cols]
    if "value" in low and "symbol" in low:
        return 0
    if not all(cols) or len(set(low)) != len(low):
        return 5  # a damaged header: the reader names the empty or repeated column
    if not all(re.fullmatch(r"[^\W\d][\w .()/%-]*", c) for c in cols):
        return 10
    return 40


_NON_FINITE = frozenset({"nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"})
_PERIOD_CODE = re.compile(r"(?:18|19|20)\d\d\s*[kqmh]\d{1,2}", re.IGNORECASE)
_NUMBER_CHARS = frozenset(" \u00a0\u2009\u202f\u2007+-\u2212\u2013.,*")


def _is_cell(text: str) -> bool:
    try:
        sym.parse_cell(text)
    except ValueError:
        return False
    return True


def _meant_as_number(text: str) -> bool:
    """A damaged number (`1 2a3`, `14 38O`, `1e309`, `--5`, `nan`, `inf`): digits with at most
    one stray letter, or a non-finite word; a period code such as `2012K4` is not one."""
    t = text.strip().lower()
    if t in _NON_FINITE:
        return True
    if _PERIOD_CODE.fullmatch(t):
        return False
    letters = sum(ch.isalpha() for ch in t)
    return (any(ch.isdigit() for ch in t) and letters <= 1
            and all(ch.isalnum() or ch in _NUMBER_CHARS for ch in t))


def _kind(cells: list[str]) -> str:
    """`numeric` (every cell an SSB cell), `damaged` (numbers with some junk cells) or `text`.

    A column of numbers with one junk cell is a measure column with a bad cell (an error
    naming it), never a text attribute or a key: that would drop the column from the checks.
    """
    bad = [c for c in cells if c.strip() and not _is_cell(c)]
    if not bad:
        return "numeric"
    good = sum(1 for c in cells if c.strip()) - len(bad)
    if all(_meant_as_number(c) for c in bad) or good > len(bad):
        return "damaged"
    return "text"


def read(data: bytes, source: str) -> list[Table]:
    """The one table in a transcribed wide CSV."""
    rows, sep, notes = csv_rows(data, source)
    if not rows:
        raise ReadError("no header row", source=source, expected="a header naming every column")
    header_line, header = rows[0]
    header = [h.strip() for h in header]
    for j, h in enumerate(header):
        if not h:
            raise ReadError("empty column name", source=source, where=f"line {header_line} column {j + 1}",
                            expected="a name for every column")
        if h in header[:j]:
            raise ReadError(f"column {h!r} appears twice", source=source,
                            where=f"line {header_line} column {j + 1}", expected="distinct column names")
    body = rows[1:]
    if not body:
        raise ReadError("no data rows", source=source, where=f"line {header_line}", expected="rows under the header")
    for line, cells in body:
        if len(cells) != len(header):
            raise ReadError(f"{len(cells)} cells, the header has {len(header)}", source=source,
                            where=f"line {line}", expected=f"{len(header)} cells separated by {sep!r}")
    columns = [[cs[j].strip() for _, cs in body] for j in range(len(header))]
    lines = [ln for ln, _ in body]
    stem = Path(source).stem if source and not source.startswith("<") else "table"

    # --- classify columns -----------------------------------------------------------
    kinds = [_kind(col) for col in columns]
    n_keys = 0
    for j, name in enumerate(header):
        role = guess_role(name)
        if _CODE_NAME.fullmatch(name) or (role not in (None, "measure")) or kinds[j] == "text":
            n_keys = j + 1
        else:
            break
    measures = [j for j in range(n_keys, len(header)) if kinds[j] != "text"]
    attrs = [j for j in range(n_keys, len(header)) if j not in measures]

    # --- key dimensions -------------------------------------------------------------
    key_dims: list[tuple[str, list[str], list[str], str | None]] = []  # name, row codes, row labels, role
    used: set[int] = set()
    for j in range(n_keys):
        if j in used:
            continue
        name = header[j]
        m = _CODE_NAME.fullmatch(name)
        label_j = None
        if m:
            base = m.group(1) or ""
            for cand in (base, f"{base}_name", f"{base}_label", f"{base}_navn") if base else ("label", "name", "navn"):
                if cand in header[:n_keys] and header.index(cand) not in used and header.index(cand) != j:
                    label_j = header.index(cand)
                    break
            dim_name = base or (header[label_j] if label_j is not None else name)
        else:
            dim_name = name
        used.add(j)
        codes = columns[j]
        labels = columns[label_j] if label_j is not None else codes
        if label_j is not None:
            used.add(label_j)
        for r, c in enumerate(codes):
            if not c:
                raise ReadError(f"empty key {name!r}", source=source, where=f"line {lines[r]} column {j + 1}",
                                expected="a category in every key column")
        role = guess_role(dim_name)
        if dim_name.lower() in ("label", "name", "navn", "category", "kategori"):
            kind, krole = axis_kind(labels)
            if any(w in stem.lower() for w in _CITIZEN_WORDS) or kind == "citizenship":
                dim_name, role = "citizenship", "citizenship"
            elif kind == "region":
                dim_name, role = "region", "region"
            notes.append(f"key column {name!r} read as dimension {dim_name!r} (role {role})")
        key_dims.append((dim_name, codes, labels, role))
        if label_j is not None:
            notes.append(f"key columns {name!r} + {header[label_j]!r} read as dimension {dim_name!r} "
                         "(codes and labels)")
    if not key_dims:
        key_dims.append(("row", [str(i + 1) for i in range(len(body))], [], None))
        notes.append("no key column: rows numbered as dimension 'row'")
    names = [k[0] for k in key_dims]
    if len(set(names)) != len(names) or {"contents", "year"} & set(names) and measures:
        raise ReadError(f"key columns give clashing dimension names {names}", source=source,
                        where=f"line {header_line}", expected="distinct key columns")

    dims: list[Dimension] = []
    positions: list[np.ndarray] = []
    for name, codes, labels, role in key_dims:
        uniq = list(dict.fromkeys(codes))
        lab_of: dict[str, str] = {}
        for r, c in enumerate(codes):
            lab = labels[r] if labels else c
            if lab_of.setdefault(c, lab) != lab:
                raise ReadError(f"code {c!r} has labels {lab_of[c]!r} and {lab!r}", source=source,
                                where=f"line {lines[r]}", expected="one label per code")
        dims.append(Dimension(name, tuple(uniq), tuple(lab_of[c] for c in uniq), role=role))
        lookup = {c: i for i, c in enumerate(uniq)}
        positions.append(np.array([lookup[c] for c in codes], dtype=np.int64))
    row_codes = ["|".join(k[1][r] for k in key_dims) for r in range(len(body))]
    seen: dict[str, int] = {}
    for r, code in enumerate(row_codes):
        if code in seen:
            raise ReadError(f"rows for {code!r} twice (first on line {seen[code]})", source=source,
                            where=f"line {lines[r]}", expected="one row per key")
        seen[code] = lines[r]

    # --- measure dimension(s) ---------------------------------------------------------
    meta: dict[str, Any] = {"format": "wide CSV", "key_columns": header[:n_keys]}
    cells_of: list[tuple[int, ...]] = []  # per measure column: its index in the measure axes
    if not measures:
        raise ReadError("no numeric column", source=source, where=f"line {header_line}",
                        expected="at least one column of numbers after the key columns")
    split = [(_YEAR_COL.fullmatch(header[j])) for j in measures]
    has_time = any(d.role == "time" for d in dims)
    footnotes: dict[str, tuple[str, ...]] = {}

    def code_of(col: str) -> str:
        f = _FOOTNOTE.fullmatch(col)
        if f and f.group(1) not in footnotes:  # noted once
            footnotes[f.group(1)] = (f.group(2),)
            notes.append(f"column {col!r}: footnote marker {f.group(2)} kept in Dimension.footnotes")
        return f.group(1) if f else col

    if all(split) and not has_time:
        bases = list(dict.fromkeys(code_of(m.group(1)) for m in split if m))
        years = list(dict.fromkeys(m.group(2) for m in split if m))
        measure_dims = [Dimension("contents", tuple(bases), role="measure", footnotes=footnotes),
                        Dimension("year", tuple(years), role="time")]
        for m in split:
            assert m
            cells_of.append((bases.index(code_of(m.group(1))), years.index(m.group(2))))
        meta["measure_columns"] = {header[j]: {"contents": bases[c[0]], "year": years[c[1]]}
                                   for j, c in zip(measures, cells_of, strict=True)}
        notes.append(f"columns {[header[j] for j in measures]} split into contents × year")
    else:
        codes = [code_of(header[j]) for j in measures]
        if len(set(codes)) != len(codes):
            codes = [header[j] for j in measures]
            footnotes.clear()
        measure_dims = [Dimension("contents", tuple(codes), role="measure", footnotes=footnotes)]
        cells_of = [(i,) for i in range(len(measures))]
        meta["measure_columns"] = {header[j]: {"contents": c} for j, c in zip(measures, codes, strict=True)}
    dims += measure_dims

    shape = tuple(len(d) for d in dims)
    check_cube_size(shape, len(body) * len(measures), source, header_line)
    values = np.full(shape, np.nan)
    symbols = np.full(shape, sym.NOT_APPLICABLE, dtype=np.uint8)
    empty: list[tuple[int, int]] = []
    for r in range(len(body)):
        key = tuple(int(p[r]) for p in positions)
        for j, mcell in zip(measures, cells_of, strict=True):
            text = columns[j][r]
            idx = key + mcell
            if not text:
                symbols[idx] = sym.CODE[".."]
                empty.append((lines[r], j + 1))
                continue
            try:
                values[idx], symbols[idx] = parse_exact_cell(text)
            except ValueError as e:
                keys = ", ".join(f"{name}={codes[r]}" for name, codes, _, _ in key_dims)
                raise ReadError(f"cell under {header[j]!r} ({keys}): {e}", source=source,
                                where=f"line {lines[r]} column {j + 1}",
                                expected="a number or an SSB symbol (- . .. ... : with * or r flags)") from None
    if empty:
        notes.append(f"{len(empty)} empty cells (first line {empty[0][0]} column {empty[0][1]}) read as '..' "
                     "(not published)")
    absent = int(np.prod(shape)) - len(body) * len(measures)
    if absent:
        notes.append(f"{absent} cells have no column or row: read as '.' (no cell)")
    if attrs:
        meta["row_attributes"] = {header[j]: dict(zip(row_codes, columns[j], strict=True)) for j in attrs}
        notes.append(f"text columns {[header[j] for j in attrs]} kept per row in meta['row_attributes']")
    return [Table(dims, values, symbols, id=stem, title=stem.replace("_", " "), source=source,
                  notes=notes, meta=meta)]
