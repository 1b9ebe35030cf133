"""StatBank (statbank.ssb.no / PxWeb) CSV exports, the "matrix" and the "long" form.

Matrix form (e.g. `statbank_export_nationality_by_county_2018-05.csv`):
    [title row]            `05425: Immigrations, ...;;;`   (optional; `NNNNN:` gives Table.id)
    header row             `;Total;Foreign national, total;Norway;...;`  (first cell empty or the
                           row dimension's name): the column categories
    [period row]           ` May 2018;;;...`  → a singleton time dimension, code `2018M05`
    data rows              ` The whole country;151905;93994;...;`
Separator `;` or `,` (the one the first line uses more); a trailing separator on every row is
dropped; quoted cells are unquoted; with `;` a comma is the decimal mark (unless no cell has
a comma and some have a point: then the point, noted). Cells are SSB cells (`:` suppressed,
`-` nil, `.`/`..` missing, `*`/`r` flags); an empty or junk cell is a ReadError naming line
and column, as is a row with the wrong number of cells. Text that is not UTF-8 is read as
Windows-1252 (a superset of ISO-8859-1 for letters) with a note.

Dimension names, kept simple: the row dimension is named by the header's first cell when
given; else `region` (role region) when most row labels are Norwegian regions (whole country,
counties), `citizenship` when they are countries, else `row`. The column dimension likewise
(`citizenship` for nationality columns, else `column`). Codes are the labels as printed
(stripped): the export carries no codes. What is counted is not in the export:
`meta["measure"]` is None.

Long form: a header of quoted column names, the last one being the value column (`value`, or
SSB's `"01222: Befolkning ..."`, which gives id and title); every other column is a
dimension named by its header, its role guessed from the name (region, statistikkvariabel,
år, kvartal, ...). Cells like `0101 Halden` are split into code `0101` and label `Halden`
when every cell of the column has that form.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np

from migaudit.errors import ReadError
from migaudit.model import symbols as sym
from migaudit.model.table import (
    Dimension,
    Table,
    arrow_numpy,
    flat_index,
    guess_role,
    is_arange,
    release_arrow_memory,
)
from migaudit.readers import decode

_MONTHS = {
    m: i + 1
    for names in (
        ("january", "february", "march", "april", "may", "june", "july", "august", "september",
         "october", "november", "december"),
        ("januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september",
         "oktober", "november", "desember"),
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        ("jan", "feb", "mar", "apr", "mai", "jun", "jul", "aug", "sep", "okt", "nov", "des"),
    )
    for i, m in enumerate(names)
}

#: Norwegian regions as StatBank prints them (whole country; counties before and after 2020/2024)
REGION_NAMES = frozenset(x.lower() for x in (
    "The whole country", "Hele landet", "Heile landet", "Norway", "Norge", "Noreg", "Østfold", "Akershus",
    "Oslo", "Hedmark", "Oppland", "Buskerud", "Vestfold", "Telemark", "Aust-Agder", "Vest-Agder",
    "Rogaland", "Hordaland", "Sogn og Fjordane", "Møre og Romsdal", "Sør-Trøndelag", "Nord-Trøndelag",
    "Trøndelag", "Trøndelag - Trööndelage", "Nordland", "Nordlánnda", "Troms", "Troms - Romsa",
    "Troms - Romsa - Tromssa", "Finnmark", "Finnmark - Finnmárku", "Finnmark - Finnmárku - Finmarkku",
    "Viken", "Innlandet", "Vestfold og Telemark", "Agder", "Vestland", "Troms og Finnmark",
    "Troms og Finnmark - Romsa ja Finnmárku", "Svalbard", "Jan Mayen", "Unknown county", "Uoppgitt fylke",
))

_COUNTRY_WORDS = (
    "norway", "norge", "sweden", "sverige", "denmark", "danmark", "finland", "iceland", "poland", "polen",
    "germany", "tyskland", "lithuania", "litauen", "united kingdom", "storbritannia", "syria", "somalia",
    "foreign", "utenlandsk", "stateless", "statsløse", "the rest of", "resten av", "citizenship",
    "statsborgerskap", "nationality",
)


def sniff(head: bytes, source: str) -> int:
    """StatBank exports: `;`-separated, a title or header row whose first cell is empty."""
    text = head.lstrip(b"\xef\xbb\xbf").decode("utf-8", errors="replace")
    lines = [ln for ln in text.splitlines() if ln.strip()][:4]
    if not lines or text.lstrip().startswith(("{", "[")):
        return 0
    first = lines[0]
    semi, comma = first.count(";"), first.count(",")
    cells = [c.strip().strip('"').strip().lower() for c in first.split(";" if semi >= comma else ",")]
    if "value" in cells and "symbol" in cells:
        return 0
    if re.match(r'^\s*"?\d{5}\s*:', first):
        return 85  # `01222: title` row, or long header of one column... either is StatBank
    if len(lines) > 1 and semi + comma == 0 and (lines[1].count(";") or lines[1].count(",")):
        return 40  # a bare title line above a table
    if semi and semi >= comma:
        if cells[0] == "" or all(c == "" for c in cells[1:]):
            return 85
        if re.search(r'"\s*;\s*"?\d{5}\s*:', first) or cells[-1] in ("value", "verdi"):
            return 85
        return 50
    if comma:
        if cells[0] == "" and len(cells) > 2:
            return 75
        if first.lstrip().startswith('"') and (re.search(r'\d{5}\s*:', cells[-1]) or cells[-1] in ("value", "verdi")):
            return 70
    return 0


def read_text(data: bytes, source: str, notes: list[str]) -> str:
    """UTF-8 text, else Windows-1252 with a note; control bytes are a ReadError naming the line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            decode(data, source)  # raises, naming the first bad byte
            raise
        line = data[: e.start].count(b"\n") + 1
        notes.append(f"not UTF-8 (byte 0x{data[e.start]:02x} on line {line}): read as Windows-1252/ISO-8859-1")
    bad = re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text)
    if bad:
        line = text[: bad.start()].count("\n") + 1
        raise ReadError(f"control character {bad.group()!r} in text", source=source, where=f"line {line}",
                        expected="CSV text")
    if not text.strip():
        raise ReadError("file is empty", source=source, expected="a CSV table")
    return text


def split_rows(text: str, sep: str, source: str) -> list[tuple[int, list[str]]]:
    """(line number, cells) for every row that is not blank."""
    out = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar='"', strict=True)
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                out.append((reader.line_num, cells))
    except csv.Error as e:
        raise ReadError(f"malformed CSV: {e}", source=source, where=f"line {reader.line_num + 1}",
                        expected="cells separated by " + repr(sep)) from None
    return out


def parse_period(text: str) -> tuple[str, str] | None:
    """(SSB period code, label) for `May 2018`, `2018`, `2018K1`, `2018M05`, `mai 2018`; else None."""
    t = text.strip()
    if re.fullmatch(r"\d{4}", t):
        return t, t
    m = re.fullmatch(r"(\d{4})\s*[KkQq](\d)", t)
    if m and 1 <= int(m.group(2)) <= 4:
        return f"{m.group(1)}K{m.group(2)}", t
    m = re.fullmatch(r"(\d{4})\s*M(\d{2})", t) or re.fullmatch(r"(\d{4})-(\d{2})", t)
    if m and 1 <= int(m.group(2)) <= 12:
        return f"{m.group(1)}M{int(m.group(2)):02d}", t
    m = re.fullmatch(r"([A-Za-zæøåÆØÅ]+)\.?\s+(\d{4})", t)
    if m and m.group(1).lower() in _MONTHS:
        return f"{m.group(2)}M{_MONTHS[m.group(1).lower()]:02d}", t
    m = re.fullmatch(r"(\d)\.?\s*(?:st|nd|rd|th)?\s*(?:quarter|kvartal)\s+(\d{4})", t, re.IGNORECASE)
    if m and 1 <= int(m.group(1)) <= 4:
        return f"{m.group(2)}K{m.group(1)}", t
    return None


def axis_kind(labels: list[str]) -> tuple[str, str | None]:
    """(name, role) for categories printed without a dimension name."""
    low = [x.strip().lower() for x in labels]
    if low and sum(x in REGION_NAMES for x in low) * 2 > len(low):
        return "region", "region"
    hits = sum(any(w in x for w in _COUNTRY_WORDS) for x in low)
    if hits >= 3 or (low and hits * 2 > len(low)):
        return "citizenship", "citizenship"
    return "", None


#: a cube may be this many times larger than its rows before the rows are "not a table"
MAX_SPARSITY = 100
MAX_CELLS = 50_000_000


def check_cube_size(shape: tuple[int, ...], rows: int, source: str, header_line: int) -> None:
    """ReadError when rows keyed by these columns would span an absurdly sparse cube."""
    cells = 1
    for n in shape:
        cells *= n
    if cells > MAX_CELLS or (cells > 1_000_000 and cells > MAX_SPARSITY * rows):
        raise ReadError(f"{rows} rows keyed by {len(shape)} columns would span {cells} cells", source=source,
                        where=f"line {header_line}", expected="category columns that form a table")


def head_lines(text: str, n: int) -> list[str]:
    """The first `n` lines of `text`, without splitting (copying) the rest of a big file."""
    out: list[str] = []
    pos = 0
    while len(out) < n and pos < len(text):
        end = text.find("\n", pos)
        if end < 0:
            out.append(text[pos:])
            break
        out.append(text[pos:end])
        pos = end + 1
    return out


def choose_sep(text: str) -> str:
    first = next((ln for ln in head_lines(text, 1000) if ln.strip()), "")
    return ";" if first.count(";") >= first.count(",") and first.count(";") else ","


def choose_decimal(cells: list[str], sep: str, notes: list[str]) -> str:
    if sep != ";":
        return "."
    if not any("," in c for c in cells) and any(re.fullmatch(r"\s*-?\d+\.\d+\s*", c) for c in cells):
        notes.append("`;`-separated but no decimal commas and some decimal points: '.' read as the decimal mark")
        return "."
    return ","


def _cell(text: str, decimal: str, source: str, line: int, col: int, header: str) -> tuple[float, int]:
    if not text.strip():
        raise ReadError(f"empty cell under {header!r}", source=source, where=f"line {line} column {col}",
                        expected="a number or an SSB symbol (. .. : -)")
    try:
        return sym.parse_cell(text, decimal)
    except ValueError as e:
        raise ReadError(f"cell {text!r} under {header!r}: {e}", source=source, where=f"line {line} column {col}",
                        expected="a number or an SSB symbol (. .. ... : - * r)") from None


def csv_rows(data: bytes, source: str) -> tuple[list[tuple[int, list[str]]], str, list[str]]:
    """(numbered rows, separator, notes) of CSV bytes: the start both CSV readers share."""
    notes: list[str] = []
    text = read_text(data, source, notes)
    sep = choose_sep(text)
    return split_rows(text, sep, source), sep, notes


def read(data: bytes, source: str) -> list[Table]:
    """The one table in a StatBank CSV export."""
    fast = _read_long_fast(data, source)
    release_arrow_memory()  # the Arrow table of the fast path is gone: its pages too
    if fast is not None:
        return [fast]
    notes: list[str] = []
    text = read_text(data, source, notes)
    sep = choose_sep(text)
    head = split_rows("\n".join(head_lines(text, 64)), sep, source)
    if not head:
        raise ReadError("file is empty", source=source, expected="a CSV table")
    stem = _stem(source)
    first = [c.strip() for c in head[0][1]]
    title_only = sum(bool(c) for c in first) == 1 and first[0] != ""
    if first[0] == "" or title_only or not _is_long(first, head[1:]):
        rows = split_rows(text, sep, source)
        return [_read_matrix(rows, sep, source, stem, notes)]
    fast = _read_long_arrow(text, data, head[0], sep, source, stem, list(notes))
    if fast is not None:
        return [fast]
    # the slow reader names the exact line of whatever the fast one could not read
    return [_read_long(split_rows(text, sep, source), sep, source, stem, notes)]


def _stem(source: str) -> str:
    return Path(source).stem if source and not source.startswith("<") else "statbank"


#: every byte but the control characters `read_text` refuses (deleting these leaves only those)
_TEXT_BYTES = bytes(range(32, 127)) + bytes(range(128, 256)) + b"\t\n\r"


def _read_long_fast(data: bytes, source: str) -> Table | None:
    """A plainly right UTF-8 long-form export, read without decoding the whole file to Python text.

    Decoding 470 MB, searching it for control characters and stripping it cost ~6 s of a
    10M-cell file: here only the first lines are decoded, control bytes are found by one
    `bytes.translate` (in UTF-8 and Windows-1252 a control character is its own byte), and
    pyarrow checks the UTF-8. None (the general path runs, with its notes and line numbers)
    for anything else: the matrix form, another encoding, a control character, a bad row.
    """
    end = 0
    for _ in range(64):
        nl = data.find(b"\n", end)
        if nl < 0:
            end = len(data)
            break
        end = nl + 1
    try:
        head_text = data[:end].decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if not head_text.strip():
        return None
    sep = choose_sep(head_text)
    try:
        head = split_rows("\n".join(head_lines(head_text, 64)), sep, source)
    except ReadError:
        return None  # the general path raises it, or an earlier error it finds first
    if not head:
        return None
    first = [c.strip() for c in head[0][1]]
    title_only = sum(bool(c) for c in first) == 1 and first[0] != ""
    if first[0] == "" or title_only or not _is_long(first, head[1:]):
        return None
    if data.translate(None, _TEXT_BYTES):  # a control byte anywhere: read_text names its line
        return None
    return _read_long_arrow(None, data, head[0], sep, source, _stem(source), [])


def _read_long_arrow(text: str | None, data: bytes, header_row: tuple[int, list[str]], sep: str, source: str,
                     stem: str, notes: list[str]) -> Table | None:
    """The long form read by pyarrow straight into integer codes; None when any row is not
    plainly right (then the row-by-row reader runs and names the line)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    header_line, raw = header_row
    header = [h.strip() for h in raw]
    if len(header) < 2 or any(not h for h in header) or len(set(raw)) != len(raw):
        return None
    names = header[:-1]
    for j, h in enumerate(names):
        if h in names[:j] or h.lower() in ("value", "symbol") or h.endswith("_label"):
            return None
    body = text.encode("utf-8") if text is not None and any(x.startswith("not UTF-8") for x in notes) else data
    # category columns straight to dictionaries: no 10M Python-visible strings per column
    types = {h: pa.dictionary(pa.int32(), pa.string()) for h in raw}
    try:
        pt = pacsv.read_csv(
            pa.BufferReader(body),
            parse_options=pacsv.ParseOptions(delimiter=sep, quote_char='"'),
            convert_options=pacsv.ConvertOptions(column_types=types,
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, pa.ArrowKeyError):
        return None
    if pt.num_rows == 0 or pt.column_names != raw:
        return None
    n = pt.num_rows
    # every distinct cell text is parsed once, by the same function as the row-by-row reader
    cells = pt.column(len(header) - 1).combine_chunks()
    texts = cells.dictionary.to_pylist()
    whole = [t.isascii() and (t.isdigit() or (t[:1] == "-" and t[1:].isdigit())) for t in texts]
    decimal = "."
    if sep == ";":
        decimal = ","
        if not any("," in t for t in texts) and any(re.fullmatch(r"\s*-?\d+\.\d+\s*", t)
                                                   for t, w in zip(texts, whole, strict=True) if not w):
            notes.append("`;`-separated but no decimal commas and some decimal points: '.' read as the decimal mark")
            decimal = "."
    parsed_v = np.empty(len(texts))
    parsed_s = np.empty(len(texts), dtype=np.uint8)
    for k, t in enumerate(texts):
        if whole[k]:
            parsed_v[k], parsed_s[k] = float(t), sym.NUMBER  # what parse_cell gives a plain integer, 10× faster
            continue
        if not t.strip():
            return None
        try:
            parsed_v[k], parsed_s[k] = sym.parse_cell(t, decimal)
        except ValueError:
            return None
    cell_idx = arrow_numpy(cells.indices)
    if len(set(texts)) != len(texts) or (len(texts) and int(cell_idx.max()) >= len(texts)):
        return None
    values = parsed_v[cell_idx]
    symbols = parsed_s[cell_idx]
    del cell_idx, cells
    dims: list[Dimension] = []
    positions: list[np.ndarray] = []
    for j, name in enumerate(names):
        col = pt.column(j).combine_chunks()
        trimmed = [t.strip() for t in col.dictionary.to_pylist()]
        idx = arrow_numpy(col.indices)
        used = np.zeros(len(trimmed), dtype=bool)
        used[idx] = True
        if not used.all():
            return None
        if len(set(trimmed)) != len(trimmed):  # "Oslo" and " Oslo" are one category, as row by row
            first: dict[str, int] = {}
            idx = np.array([first.setdefault(t, len(first)) for t in trimmed], dtype=np.int64)[idx]
            trimmed = list(first)
        uniq = trimmed
        if "" in uniq:
            return None
        split = all(re.fullmatch(r"\d+\s+\S.*", v) for v in uniq)
        codes = [v.split(None, 1)[0] if split else v for v in uniq]
        if len(set(codes)) != len(codes):
            codes, split = uniq, False
        labels = [v.split(None, 1)[1] if split else v for v in uniq]
        if split:
            notes.append(f"column {name!r}: cells like {uniq[0]!r} split into code and label")
        dims.append(Dimension(name, tuple(codes), tuple(labels), role=guess_role(name)))
        positions.append(idx)
    shape = tuple(len(d) for d in dims)
    check_cube_size(shape, n, source, header_line)
    size = int(np.prod(shape))
    flat = flat_index(positions, shape, n)
    del positions
    in_order = n == size and is_arange(flat)  # rows in the cube's order: no scatter
    if not in_order:
        seen = np.zeros(size, dtype=bool)
        seen[flat] = True
        if int(np.count_nonzero(seen)) != n:
            return None
        del seen
    if not np.isfinite(parsed_v[parsed_s == sym.NUMBER]).all():  # per distinct text, not per cell
        return None
    if in_order:
        full_v, full_s = values, symbols
    else:
        full_v = np.full(size, np.nan)
        full_s = np.full(size, sym.NOT_APPLICABLE, dtype=np.uint8)
        full_v[flat] = values
        full_s[flat] = symbols
    missing = size - n
    if missing:
        notes.append(f"{missing} combinations have no row: read as '.' (no cell)")
    tid, title = _title_id(header[-1])
    meta = {"format": "StatBank CSV (long)", "separator": sep, "decimal": decimal, "value_column": header[-1]}
    return Table(dims, full_v.reshape(shape), full_s.reshape(shape), id=tid or stem,
                 title=title if tid else stem.replace("_", " "), source=source, notes=notes, meta=meta)


def _is_long(header: list[str], body: list[tuple[int, list[str]]]) -> bool:
    """Long form: the last column holds the values, the others categories (text)."""
    last = header[-1].lower()
    if last in ("value", "verdi", "values") or re.match(r"\d{5}\s*:", last):
        return True
    for _, cells in body[:20]:
        for c in cells[1:-1]:
            try:
                sym.parse_cell(c)
            except ValueError:
                if c.strip():
                    return True
    return False


def _title_id(title: str) -> tuple[str | None, str]:
    m = re.match(r"\s*(\d{5})\s*:\s*(.*)", title)
    return (m.group(1), m.group(2).strip()) if m else (None, title.strip())


def _read_matrix(rows: list[tuple[int, list[str]]], sep: str, source: str, stem: str,
                 notes: list[str]) -> Table:
    titles: list[str] = []
    period: tuple[str, str] | None = None
    header: list[str] | None = None
    header_line = 0
    data_start = len(rows)
    for k, (line, cells) in enumerate(rows):
        stripped = [c.strip() for c in cells]
        only_first = stripped[0] != "" and not any(stripped[1:])
        if only_first:
            p = parse_period(stripped[0])
            if p and period is None:
                period = p
                notes.append(f"line {line}: period row {stripped[0]!r} → singleton time dimension {p[0]}")
            elif header is None:
                titles.append(stripped[0])
            else:
                raise ReadError(f"row {stripped[0]!r} has a label but no cells", source=source,
                                where=f"line {line}", expected=f"{len(header) - 1} cells after the label")
            continue
        if header is None:
            header, header_line = stripped, line
            continue
        data_start = k
        break
    if header is None:
        raise ReadError("no header row with column categories", source=source, where=f"line {rows[-1][0]}",
                        expected="a row like ';Total;Norway;...'")
    ncols = len(header)
    trailing = header[-1] == "" and all(c.strip() == "" for _, cs in rows[data_start:] if len(cs) == ncols
                                         for c in cs[-1:])
    body = rows[data_start:]
    if not body:
        raise ReadError("no data rows", source=source, where=f"line {header_line}", expected="rows of cells")
    for line, cells in body:
        if len(cells) != ncols:
            raise ReadError(f"{len(cells)} cells, the header has {ncols}", source=source, where=f"line {line}",
                            expected=f"{ncols} cells separated by {sep!r}")
    width = ncols - 1 if trailing else ncols
    col_labels = header[1:width]
    for j, c in enumerate(col_labels):
        if not c:
            raise ReadError("empty column heading", source=source, where=f"line {header_line} column {j + 2}",
                            expected="a category label")
        if c in col_labels[:j]:
            raise ReadError(f"column {c!r} appears twice", source=source,
                            where=f"line {header_line} column {j + 2}", expected="distinct column headings")
    decimal = choose_decimal([c for _, cs in body for c in cs[1:width]], sep, notes)
    row_labels: list[str] = []
    values = np.full((len(body), len(col_labels)), np.nan)
    symbols = np.zeros((len(body), len(col_labels)), dtype=np.uint8)
    for i, (line, cells) in enumerate(body):
        label = cells[0].strip()
        if not label:
            raise ReadError("row without a label", source=source, where=f"line {line} column 1",
                            expected="a category label in the first cell")
        if label in row_labels:
            raise ReadError(f"row {label!r} appears twice", source=source, where=f"line {line}",
                            expected="distinct row labels")
        row_labels.append(label)
        for j in range(len(col_labels)):
            values[i, j], symbols[i, j] = _cell(cells[j + 1], decimal, source, line, j + 2, col_labels[j])
    if trailing:
        notes.append("every row ends with a separator: the empty last column is dropped")
    row_name, row_role = (header[0], guess_role(header[0])) if header[0] else axis_kind(row_labels)
    col_name, col_role = axis_kind(col_labels)
    row_name = row_name or "row"
    col_name = col_name or "column"
    if col_name == row_name:
        col_name = f"{col_name}_columns"
    notes.append(f"rows read as dimension {row_name!r}, columns as {col_name!r} (codes are the printed labels)")
    dims = [Dimension(row_name, tuple(row_labels), role=row_role), Dimension(col_name, tuple(col_labels), role=col_role)]
    if period:
        dims.append(Dimension("time", (period[0],), (period[1],), role="time"))
        values, symbols = values[..., None], symbols[..., None]
    tid, title = None, ""
    if titles:
        tid, title = _title_id(titles[0])
        for extra in titles[1:]:
            notes.append(f"further title line {extra!r} kept in meta['title_lines']")
    meta = {"format": "StatBank CSV (matrix)", "separator": sep, "decimal": decimal, "measure": None}
    if titles:
        meta["title_lines"] = titles
    return Table(dims, values, symbols, id=tid or stem, title=title or stem.replace("_", " "), source=source,
                 notes=notes, meta=meta)


def _read_long(rows: list[tuple[int, list[str]]], sep: str, source: str, stem: str, notes: list[str]) -> Table:
    header_line, header = rows[0]
    header = [h.strip() for h in header]
    if len(header) < 2 or any(not h for h in header):
        raise ReadError("header has an empty column name", source=source, where=f"line {header_line}",
                        expected="a name for every column, the last one the values")
    names = header[:-1]
    for j, h in enumerate(names):
        if h in names[:j] or h.lower() in ("value", "symbol") or h.endswith("_label"):
            raise ReadError(f"column name {h!r} cannot name a dimension", source=source,
                            where=f"line {header_line} column {j + 1}", expected="distinct dimension names")
    tid, title = _title_id(header[-1])
    body = rows[1:]
    if not body:
        raise ReadError("no data rows", source=source, where=f"line {header_line}", expected="rows of cells")
    for line, cells in body:
        if len(cells) != len(header):
            raise ReadError(f"{len(cells)} cells, the header has {len(header)}", source=source,
                            where=f"line {line}", expected=f"{len(header)} cells separated by {sep!r}")
    decimal = choose_decimal([cs[-1] for _, cs in body], sep, notes)
    dims: list[Dimension] = []
    positions: list[list[int]] = []
    for j, name in enumerate(names):
        col = [cs[j].strip() for _, cs in body]
        for (line, _), v in zip(body, col, strict=True):
            if not v:
                raise ReadError(f"empty {name!r}", source=source, where=f"line {line} column {j + 1}",
                                expected="a category")
        split = all(re.fullmatch(r"\d+\s+\S.*", v) for v in col)
        codes_of = {v: (v.split(None, 1)[0] if split else v) for v in col}
        uniq = list(dict.fromkeys(col))
        codes = [codes_of[v] for v in uniq]
        if len(set(codes)) != len(codes):  # same code, two labels: keep the full text as the code
            codes, split = uniq, False
        labels = [v.split(None, 1)[1] if split else v for v in uniq]
        if split:
            notes.append(f"column {name!r}: cells like {uniq[0]!r} split into code and label")
        dims.append(Dimension(name, tuple(codes), tuple(labels), role=guess_role(name)))
        lookup = {v: i for i, v in enumerate(uniq)}
        positions.append([lookup[v] for v in col])
    shape = tuple(len(d) for d in dims)
    check_cube_size(shape, len(body), source, header_line)
    values = np.full(shape, np.nan)
    symbols = np.full(shape, sym.NOT_APPLICABLE, dtype=np.uint8)
    seen: dict[tuple[int, ...], int] = {}
    for r, (line, cells) in enumerate(body):
        key = tuple(p[r] for p in positions)
        if key in seen:
            raise ReadError("duplicate row: same categories as line " + str(seen[key]), source=source,
                            where=f"line {line}", expected="one row per combination")
        seen[key] = line
        values[key], symbols[key] = _cell(cells[-1], decimal, source, line, len(header), header[-1])
    missing = int(np.prod(shape)) - len(body)
    if missing:
        notes.append(f"{missing} combinations have no row: read as '.' (no cell)")
    meta = {"format": "StatBank CSV (long)", "separator": sep, "decimal": decimal, "value_column": header[-1]}
    return Table(dims, values, symbols, id=tid or stem, title=title if tid else stem.replace("_", " "),
                 source=source, notes=notes, meta=meta)
