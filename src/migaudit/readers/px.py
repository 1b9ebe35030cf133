"""PX (PC-Axis) files: StatBank's own download format, read into `Table`s and written back.

PX is a list of `KEYWORD[lang]("subkey",...)=value;` entries ending in `DATA=...;`.
SSB files are often ISO-8859-1, so the text is decoded by the declared CODEPAGE. Cells are
numbers or quoted symbol tokens (`"."` … `"......"`, `"-"` nil, `":"`). DATA runs
row-major: STUB variables vary slowest, then HEADING; the cube's dimensions are STUB then
HEADING. Every keyword the cube has no field for is kept in `Table.meta`.

Decisions (also in `Table.notes` when they apply to a file):
- No CODEPAGE: a UTF-8 BOM or valid UTF-8 bytes are read as UTF-8, otherwise the spec's
  default ISO-8859-1 (through Windows-1252 when that decodes the bytes 0x80–0x9f).
- CODEPAGE="utf-8" with bytes that are not UTF-8: a ReadError (the declaration is wrong).
- CODEPAGE="iso-8859-1" with bytes that are valid multi-byte UTF-8: read as UTF-8, noted.
- DATASYMBOLn whose text is itself an SSB *missing* symbol (e.g. DATASYMBOL4=":") remaps the
  token; any other text (`DATASYMBOL1="-"`, "n.a.") is display text only: the cell stays missing.
- Preliminary/revised flags (`*`, `r`) travel as DATANOTECELL(...)="*" / "r".
- The `":"` token (confidential) is not in the PX spec but is read and written.
- DATA cells may be separated by blanks, tabs, commas or `;`; DATA that ends at the end of the
  file after its last cell (no final `;`) is read with a note; a short or long DATA names the
  row (line) whose cell count differs from the others.
- KEYS("var")=VALUES|CODES: each DATA row names its STUB values; rows left out are nil
  (`-`, 0), counted in a note; an unknown or repeated key is an error at its line.
- A quoted string may continue over lines (SSB writes long NOTEs so); one that runs into the
  next `KEYWORD=` line is "unterminated" at the line it starts.
- `lang=` picks one of LANGUAGES; keywords given only in the main language are carried over
  through the positions of STUB/HEADING/VALUES in both languages.
- Numbers a float64 cannot hold exactly (integers over 2^53, over 17 digits) are errors.

Meta keys: language, languages, translations, contents, px_source, last_updated, timeval,
elimination, by_content, valuenotes, cellnotes, variable_notes, datasymbols,
data_notes (DATANOTECELL), encoding, hierarchies (HIERARCHIES as {dimension name: {parent
code: [child codes]}}, roots under ""), px (every other keyword, `KEY("sub")` → value).
"""

from __future__ import annotations

import codecs
import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from migaudit.errors import ReadError, UsageError
from migaudit.model import symbols as sym
from migaudit.model.table import Dimension, Table, guess_role

# --- sniffing ----------------------------------------------------------------------------

_STRONG = re.compile(
    rb'(?m)^[ \t]*(CHARSET|AXIS-VERSION|CODEPAGE|MATRIX|STUB|HEADING|LANGUAGE|SUBJECT-AREA|CONTVARIABLE)'
    rb'(\[[A-Za-z_-]*\])?(\([^)\r\n]*\))?[ \t]*='
)
_WEAK = re.compile(rb'(?m)^[ \t]*(DATA|VALUES|CODES|TITLE|DECIMALS)(\[[A-Za-z_-]*\])?(\([^)\r\n]*\))?[ \t]*=')


def sniff(head: bytes, source: str) -> int:
    """90 when PX keywords start lines (`CHARSET=`, `MATRIX=`, `STUB=`...), so PX wins over text readers."""
    h = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    if _STRONG.search(h):
        return 90
    if len(set(m.group(1) for m in _WEAK.finditer(h))) >= 2:
        return 60
    return 0


# --- decoding ----------------------------------------------------------------------------

_CODEPAGE_RE = re.compile(rb'(?m)^[ \t]*CODEPAGE[ \t]*=[ \t]*"([^"\r\n]*)"')
_ALIASES = {"ansi": "cp1252", "windows": "cp1252", "1252": "cp1252", "65001": "utf-8", "28591": "latin-1"}


def _codec(name: str) -> str | None:
    n = name.strip().lower()
    n = _ALIASES.get(n, n)
    if n.isdigit():
        n = "cp" + n
    sample = 'CODEPAGE="x"; DATA=0123456789 .,-:()[]'
    try:
        info = codecs.lookup(n)
        ok = info._is_text_encoding and sample.encode(info.name) == sample.encode("ascii")
        ok = ok and sample.encode("ascii").decode(info.name) == sample
    except Exception:  # any codec trouble means: not a usable PX codepage
        return None
    return info.name if ok else None


def _decode(data: bytes, source: str, notes: list[str]) -> tuple[str, str]:
    """The text of a PX file and the encoding used (see the module's decisions)."""
    from migaudit.readers import decode

    bom = data.startswith(b"\xef\xbb\xbf")
    body = data[3:] if bom else data
    stop = re.search(rb'(?m)^[ \t]*DATA[ \t]*=', body)
    m = _CODEPAGE_RE.search(body, 0, stop.start() if stop else len(body))
    if m is None:
        if bom or body.isascii():
            return decode(body, source, ("utf-8",)), "utf-8"
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            notes.append("no CODEPAGE: the bytes are valid UTF-8 and were read as UTF-8")
            return text, "utf-8"
        try:
            text = body.decode("cp1252")
            enc = "cp1252"
        except UnicodeDecodeError:
            text, enc = body.decode("latin-1"), "iso8859-1"
        notes.append(f"no CODEPAGE: read as {enc} (the PX default ISO-8859-1)")
        return text, enc
    line = body[: m.start()].count(b"\n") + 1
    declared = m.group(1).decode("ascii", "replace")
    enc = _codec(declared)
    if enc is None:
        raise ReadError(f"unknown CODEPAGE {declared!r}", source=source, where=f"line {line}",
                        expected='a known encoding such as "iso-8859-1", "windows-1252" or "utf-8"')
    if bom and enc != "utf-8":
        notes.append(f"CODEPAGE={declared!r} but the file starts with a UTF-8 BOM: read as UTF-8")
        enc = "utf-8"
    if enc in ("latin-1", "iso8859-1", "cp1252") and not body.isascii():
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            notes.append(f"CODEPAGE={declared!r} but the bytes are valid UTF-8: read as UTF-8")
            return text, "utf-8"
        if enc != "cp1252" and re.search(rb"[\x80-\x9f]", body):
            try:
                text = body.decode("cp1252")
            except UnicodeDecodeError:
                pass
            else:
                notes.append(f"CODEPAGE={declared!r} with bytes 0x80-0x9f: read as Windows-1252")
                return text, "cp1252"
    try:
        return body.decode(enc), enc
    except UnicodeDecodeError:
        return decode(body, source, (enc,)), enc
    except UnicodeError as e:
        raise ReadError(f"cannot decode as {declared}: {e}", source=source, where=f"line {line}") from None


# --- tokens ------------------------------------------------------------------------------

_TOKEN = re.compile(
    r'(?P<ws>[^\S\n]+)|(?P<nl>\n)|(?P<str>"[^"]*")|(?P<bad>"[^"]*)'
    r'|(?P<punct>[\[\]()=,;])|(?P<word>[^\s"\[\]()=,;]+)'
)
#: a keyword line inside a "string": the string was never closed, not continued
_KEY_LINE = re.compile(r'\n[ \t]*[A-Z][A-Z0-9-]*(\[[A-Za-z_-]+\])?(\([^)\n]*\))?[ \t]*=')


@dataclass
class _Tok:
    kind: str  # str, word, punct
    text: str  # for str: without the quotes
    line: int
    pos: int  # offset just after the token


class _Scanner:
    def __init__(self, text: str, source: str, pos: int = 0, line: int = 1) -> None:
        self.text, self.source, self.pos, self.line = text, source, pos, line
        self._peeked: _Tok | None = None

    def error(self, message: str, line: int | None = None, expected: str | None = None) -> ReadError:
        return ReadError(message, source=self.source, where=f"line {line or self.line}", expected=expected)

    def next(self) -> _Tok | None:
        if self._peeked is not None:
            t, self._peeked = self._peeked, None
            return t
        text = self.text
        while self.pos < len(text):
            m = _TOKEN.match(text, self.pos)
            assert m is not None  # the alternatives cover every character
            self.pos = m.end()
            kind = m.lastgroup
            if kind == "ws":
                continue
            if kind == "nl":
                self.line += 1
                continue
            if kind == "bad":
                raise self.error(f"unterminated string {m.group()[:40]!r}", expected='a closing " on the same line')
            if kind == "str":
                body = m.group()[1:-1]
                line = self.line
                if "\n" in body:  # a string continued over lines (SSB writes long NOTEs so)
                    if _KEY_LINE.search(body):
                        first = body.split("\n", 1)[0]
                        raise self.error(f'unterminated string "{first[:40]}', line,
                                         expected='a closing " before the next KEYWORD=')
                    self.line += body.count("\n")
                    body = body.replace("\r\n", "\n")
                return _Tok("str", body, line, self.pos)
            return _Tok(kind or "word", m.group(), self.line, self.pos)
        return None

    def peek(self) -> _Tok | None:
        if self._peeked is None:
            self._peeked = self.next()
        return self._peeked


@dataclass
class _Entry:
    key: str
    lang: str | None
    sub: tuple[str, ...]
    value: list[_Tok]
    line: int

    @property
    def name(self) -> str:
        s = self.key + (f"[{self.lang}]" if self.lang else "")
        return s + ("(" + ",".join(f'"{x}"' for x in self.sub) + ")" if self.sub else "")


def _items(e: _Entry, source: str, trailing_comma: bool = False) -> list[str]:
    """A keyword's value as a list: quoted strings (adjacent ones concatenated) or words, by commas.

    `trailing_comma`: a comma right before the `;` is allowed (the caller checks the count)."""
    out: list[str] = []
    cur: str | None = None
    last = ""
    for t in e.value:
        if t.kind == "punct" and t.text == ",":
            if cur is None:
                raise ReadError(f"empty item in {e.name}", source=source, where=f"line {t.line}",
                                expected="a value between commas")
            out.append(cur)
            cur, last = None, ","
            continue
        if t.kind == "str":
            cur = t.text if cur is None else (cur + t.text if last == "str" else None)
            if cur is None:
                raise ReadError(f"{e.name}: a string follows {last!r} without a comma", source=source,
                                where=f"line {t.line}", expected='"a","b"')
        elif t.kind == "word" and cur is None:
            cur = t.text
        else:
            raise ReadError(f"unexpected {t.text!r} in {e.name}", source=source, where=f"line {t.line}",
                            expected='quoted strings separated by commas')
        last = t.kind
    if cur is not None:
        out.append(cur)
    elif last == "," and not trailing_comma:
        raise ReadError(f"{e.name} ends with a comma", source=source, where=f"line {e.line}")
    return out


def _ends_with_comma(e: _Entry) -> bool:
    return bool(e.value) and e.value[-1].kind == "punct" and e.value[-1].text == ","


def _scalar(e: _Entry, source: str) -> str:
    items = _items(e, source)
    return items[0] if len(items) == 1 else ", ".join(items)


def _parse(text: str, source: str) -> tuple[list[_Entry], _Scanner, int]:
    """Header entries, the scanner positioned just after `DATA=`, and DATA's line."""
    sc = _Scanner(text, source)
    entries: list[_Entry] = []
    while True:
        t = sc.next()
        if t is None:
            raise ReadError("no DATA keyword", source=source, where=f"line {sc.line}",
                            expected='DATA= followed by the cells and ";"')
        if t.kind != "word":
            raise sc.error(f"unexpected {t.text!r}", t.line, expected="a KEYWORD=")
        key, lang, sub = t.text.upper(), None, ()
        p = sc.peek()
        if p is not None and p.text == "[" and p.kind == "punct":
            sc.next()
            w = sc.next()
            close = sc.next()
            if w is None or w.kind not in ("word", "str") or close is None or close.text != "]":
                raise sc.error(f"bad language tag after {key}", t.line, expected="KEYWORD[xx]=")
            lang = w.text
            p = sc.peek()
        if p is not None and p.text == "(" and p.kind == "punct":
            sc.next()
            subs: list[str] = []
            while True:
                s = sc.next()
                if s is None or s.kind not in ("str", "word"):
                    raise sc.error(f"bad sub-key list after {key}", t.line, expected='KEYWORD("name")=')
                subs.append(s.text)
                s = sc.next()
                if s is not None and s.text == ")" and s.kind == "punct":
                    break
                if s is None or s.text != ",":
                    raise sc.error(f"bad sub-key list after {key}", t.line, expected='KEYWORD("a","b")=')
            sub = tuple(subs)
            p = sc.peek()
        eq = sc.next()
        if eq is None or eq.kind != "punct" or eq.text != "=":
            raise sc.error(f"{key} is not followed by '='", t.line, expected=f"{key}=...;")
        if key == "DATA":
            return entries, sc, t.line
        value: list[_Tok] = []
        while True:
            v = sc.next()
            if v is None:
                raise ReadError(f"{key} is not ended by ';'", source=source, where=f"line {t.line}",
                                expected=f"{key}=...;")
            if v.kind == "punct" and v.text == ";":
                break
            value.append(v)
        entries.append(_Entry(key, lang, sub, value, t.line))


# --- DATA ----------------------------------------------------------------------------------

_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_FAST_CHARS = b'0123456789+-.eE":, \t\r\n'
_TOKENS = {t: c for c, t in enumerate(sym.TEXT) if t and t not in ("*", "r")}


def _cells_fast(text: str, start: int, n: int, symbol_map: dict[str, int]) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Vectorised DATA parse for well-formed files; None sends the caller to the exact scanner."""
    end = text.find(";", start)
    if end < 0:
        return None
    body = text[start:end]
    if not body.isascii():
        return None
    raw = body.encode("ascii")
    del body  # the DATA block is held once, as bytes (peak memory is a target: issue 14)
    if raw.translate(None, _FAST_CHARS) or raw.count(b'"') % 2 or _has_digit_run(raw, 16):
        return None  # the exact scanner names what it cannot read (or cannot hold exactly)
    tail = text[end + 1:]
    after = end + 1 + (len(tail) - len(tail.lstrip()))
    parsed = _cells_numpy(raw, n, symbol_map)
    if parsed is not None:
        return (*parsed, after)
    toks = raw.decode("ascii").replace(",", " ").split()
    del raw
    if len(toks) != n:
        return None
    lookup = {**symbol_map, **{f'"{k}"': v for k, v in symbol_map.items()}}
    get = lookup.get
    symbols = np.fromiter((get(t, 0) for t in toks), dtype=np.uint8, count=n)
    try:
        if symbols.any():
            keep = symbols == sym.NUMBER
            values = np.where(symbols == sym.NIL, 0.0, np.nan)
            values[keep] = np.array([t for t, k in zip(toks, keep.tolist(), strict=True) if k], dtype=np.float64)
        else:
            values = np.array(toks, dtype=np.float64)
    except ValueError:
        return None
    if not np.isfinite(values[symbols == sym.NUMBER]).all():
        return None
    return values, symbols, after


_QUOTED_B = re.compile(rb'"[^"]*"')
#: bytes that separate DATA tokens: blank, tab, newline, carriage return, comma
_BLANK = np.zeros(256, dtype=bool)
_BLANK[[32, 9, 10, 13, 44]] = True
_COMMA_TO_BLANK = bytes.maketrans(b",", b" ")


_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[48:58] = True


def _has_digit_run(raw: bytes, k: int = 16, chunk: int = 1 << 22) -> bool:
    """True when `raw` holds `k` digits in a row (what `re.search(rb"\\d{k}")` finds, ~30× faster).

    Chunks overlap by k−1 bytes; within a chunk, runs of length ≥ 2^j are found by and-ing
    the array with itself shifted (log2 k passes).
    """
    u = np.frombuffer(raw, dtype=np.uint8)
    for i in range(0, max(len(u) - k + 1, 0), chunk):
        run = _DIGIT[u[i: i + chunk + k - 1]]
        have = 1
        while have * 2 <= k:
            run = run[:-have] & run[have:]
            have *= 2
        if have < k:
            run = run[: len(run) - (k - have)] & run[k - have:]
        if run.any():
            return True
    return False


def _count_tokens(raw: bytes, chunk: int = 1 << 22) -> int:
    """Blank-separated tokens in `raw`, counted in chunks (no file-sized boolean temporaries)."""
    u = np.frombuffer(raw, dtype=np.uint8)
    count, prev_blank = 0, True
    for i in range(0, len(u), chunk):
        b = _BLANK[u[i: i + chunk]]
        count += int(prev_blank and not b[0]) + int(np.count_nonzero(~b[1:] & b[:-1]))
        prev_blank = bool(b[-1])
    return count


def _cells_numpy(raw: bytes, n: int, symbol_map: dict[str, int]) -> tuple[np.ndarray, np.ndarray] | None:
    """C-speed parse: quoted symbols become NaN, then numpy reads the numbers in one go.

    Safe because the caller allowed only digits, signs, `.eE`, quotes, commas and blanks, and
    the number of blank-separated tokens must equal both `n` and the numbers numpy found.
    Works on bytes with one text-sized copy alive at a time (peak memory, issue 14).
    """
    if _count_tokens(raw) != n:
        return None
    quoted = _QUOTED_B.findall(raw)
    codes = np.array([symbol_map.get(q[1:-1].decode("ascii"), 255) for q in quoted], dtype=np.uint8)
    if (codes == 255).any():
        return None
    numeric = raw.translate(_COMMA_TO_BLANK)
    if quoted:
        numeric = _QUOTED_B.sub(b" nan ", numeric)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            values = np.fromstring(numeric, dtype=np.float64, sep=" ")
        except (ValueError, DeprecationWarning):
            return None
    del numeric
    if len(values) != n:
        return None
    nan_at = np.flatnonzero(np.isnan(values))
    if len(nan_at) != len(quoted) or np.isinf(values).any():
        return None
    symbols = np.zeros(n, dtype=np.uint8)
    symbols[nan_at] = codes
    values[nan_at[codes == sym.NIL]] = 0.0
    return values, symbols


def _cell(t: _Tok, i: int, symbol_map: dict[str, int], sc: _Scanner) -> tuple[float, int]:
    """(value, symbol) of one DATA token; a clear error for anything else."""
    if t.kind == "str" and "\n" in t.text:
        first = t.text.split("\n", 1)[0]
        raise sc.error(f'unterminated quote "{first[:30]} in DATA (cell {i + 1})', t.line,
                       expected='a closing " on the same line')
    tok = t.text.strip() if t.kind == "str" else t.text
    if _NUMBER.match(tok):
        digits = tok.lstrip("+-").split("e")[0].split("E")[0].replace(".", "").lstrip("0")
        if len(digits) > 15 and (len(digits) > 17 or ("." not in tok and abs(int(tok)) > 2**53)):
            raise sc.error(f"number {tok[:40]} in DATA (cell {i + 1}) has more digits than a float64 holds exactly",
                           t.line, expected="at most 15 significant digits (integers up to 2^53)")
        v = float(tok)
        if not math.isfinite(v):
            raise sc.error(f"number {tok[:40]} in DATA is out of range (cell {i + 1})", t.line)
        return v, sym.NUMBER
    if tok in symbol_map:
        code = symbol_map[tok]
        return (0.0 if code == sym.NIL else math.nan), code
    shown = f'"{t.text}"' if t.kind == "str" else t.text
    what = "unknown symbol" if t.kind == "str" and not re.search(r"\d", tok) else "not a number or symbol"
    raise sc.error(f"{what} {shown[:40]} in DATA (cell {i + 1})", t.line,
                   expected='a number or one of "." ".." "..." "...." "....." "......" "-" ":"')


_CELL_TEXT = re.compile(r'"[^"]*"|[^\s,;"]+')


def _row_problem(sc: _Scanner, data_line: int, width: int) -> str | None:
    """`line N has k cells where the other rows have m`, when DATA is written a row per line."""
    start = sc.text.find("DATA", 0)
    m = re.search(r'(?m)^[ \t]*DATA[ \t]*=', sc.text)
    if m is None:
        return None
    start = m.end()
    end = sc.text.find(";", start)
    body = sc.text[start: end if end >= 0 else len(sc.text)]
    counts = [(data_line + k, len(_CELL_TEXT.findall(line))) for k, line in enumerate(body.split("\n"))]
    counts = [(ln, c) for ln, c in counts if c]
    if len(counts) < 3:
        return None
    freq: dict[int, int] = {}
    for _, c in counts:
        freq[c] = freq.get(c, 0) + 1
    mode = max(freq, key=lambda c: freq[c])
    if freq[mode] * 2 < len(counts) or width % mode and mode % width:
        return None
    for ln, c in counts[:-1]:
        if c != mode:
            return f"line {ln} has {c} cells where the other rows have {mode}"
    ln, c = counts[-1]
    if c > mode or (c < mode and mode == width):
        return f"line {ln} has {c} cells where the other rows have {mode}"
    return None


def _cells_exact(sc: _Scanner, n: int, symbol_map: dict[str, int], data_line: int, notes: list[str],
                 width: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Token-by-token DATA parse that names the line of any problem.

    Cells may be separated by blanks, tabs, commas or semicolons (the spec allows all);
    the `;` that follows the last cell ends DATA, and a file that simply ends after the
    last cell is read with a note.
    """
    values = np.empty(n, dtype=np.float64)
    symbols = np.zeros(n, dtype=np.uint8)
    i = 0
    semis = first_semi = 0
    while True:
        t = sc.next()
        if t is None:
            if i == n and n:
                notes.append(f"DATA ends at the end of the file without ';' (all {n} cells present)")
                break
            where = _row_problem(sc, data_line, width)
            raise ReadError(f"DATA has {i} cells, expected {n} (the product of the VALUES counts)"
                            + (f": {where}" if where else ""), source=sc.source,
                            where=where.split(" has ")[0] if where else f"line {first_semi or sc.line}",
                            expected=f"{n} cells starting at line {data_line}, then ';'")
        if t.kind == "punct":
            if t.text == ";":
                if i == n:
                    break
                semis += 1
                first_semi = first_semi or t.line
                continue
            if t.text == ",":
                continue
            raise sc.error(f"unexpected {t.text!r} in DATA", t.line, expected="numbers or quoted symbols")
        if i >= n:
            where = _row_problem(sc, data_line, width)
            if where:
                raise ReadError(f"DATA has more cells than the {n} the variables give: {where} "
                                f"(cell {t.text[:40]!r} is one too many)", source=sc.source,
                                where=where.split(" has ")[0], expected=f"{n} cells")
            raise sc.error(f"DATA has more cells than the {n} the variables give: extra cell {t.text[:40]!r}",
                           t.line, expected=f"{n} cells")
        values[i], symbols[i] = _cell(t, i, symbol_map, sc)
        i += 1
    if semis:
        notes.append(f"DATA separates cells with ';' ({semis} times); read as separators, as the spec allows")
    return values, symbols


def _cells_keys(sc: _Scanner, dims: list[Dimension], variables: list[str], keys_kind: dict[str, str],
                symbol_map: dict[str, int], data_line: int, notes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """DATA of a KEYS file: each row names its STUB values, then holds the other variables' cells.

    Rows the file leaves out are nil (0, symbol '-'): a KEYS file may omit rows of zeros.
    """
    key_pos = [variables.index(v) for v in keys_kind]
    other = [j for j in range(len(dims)) if j not in key_pos]
    m = math.prod(len(dims[j]) for j in other)
    lookups = []
    for v, j in zip(keys_kind, key_pos, strict=True):
        d = dims[j]
        names = d.codes if keys_kind[v] == "CODES" else d.labels
        lookups.append((v, {x: k for k, x in enumerate(names)}))
    shape = tuple(len(d) for d in dims)
    n_rows = math.prod(shape[j] for j in key_pos)
    values = np.zeros((n_rows, m))
    symbols = np.full((n_rows, m), sym.NIL, dtype=np.uint8)
    seen: dict[int, int] = {}
    row_keys: list[int] = []
    row_line = 0
    cells = 0
    done = False
    while not done:
        t = sc.next()
        if t is None:
            if row_keys or cells:
                raise sc.error(f"DATA ends inside a KEYS row ({cells} of {m} cells)", row_line,
                               expected=f"{len(key_pos)} keys and {m} cells per row")
            notes.append("DATA ends at the end of the file without ';'")
            break
        if t.kind == "punct":
            if t.text == ",":
                continue
            if t.text == ";" and not row_keys and not cells:
                break
            raise sc.error(f"unexpected {t.text!r} in a KEYS row", t.line,
                           expected=f"{len(key_pos)} keys and {m} cells per row")
        if len(row_keys) < len(key_pos):
            v, lookup = lookups[len(row_keys)]
            if t.text not in lookup:
                raise sc.error(f'KEYS row names {t.text[:40]!r}, not one of the {keys_kind[v]} of "{v}"', t.line,
                               expected=f'a value of "{v}"')
            if not row_keys:
                row_line = t.line
            row_keys.append(lookup[t.text])
            continue
        r = int(np.ravel_multi_index(row_keys, tuple(shape[j] for j in key_pos)))
        if cells == 0 and r in seen:
            raise sc.error(f"KEYS row {row_keys} repeats line {seen[r]}", t.line, expected="each row once")
        values[r, cells], symbols[r, cells] = _cell(t, r * m + cells, symbol_map, sc)
        cells += 1
        if cells == m:
            seen[r] = row_line
            row_keys, cells = [], 0
    absent = n_rows - len(seen)
    if absent:
        notes.append(f"KEYS: {absent} of {n_rows} rows are not in DATA: read as nil ('-', 0)")
    # rows × other-cells back to the cube's own axis order
    cube = values.reshape(tuple(shape[j] for j in key_pos) + tuple(shape[j] for j in other))
    syms = symbols.reshape(cube.shape)
    order = np.argsort(key_pos + other)
    return np.transpose(cube, order).ravel(), np.transpose(syms, order).ravel()


# --- building the table ----------------------------------------------------------------------

_EXTRA_ROLES = {"statsborgarskap": "citizenship", "kjonn": "sex", "kjønn": "sex", "tid": "time",
                "kvartal": "time", "år": "time", "region": "region", "statistikkvariabel": "measure"}
_STRING_KEYS = ("SUBJECT-AREA", "SUBJECT-CODE", "DESCRIPTION", "CONTACT", "CREATION-DATE",
                "DATABASE", "INFOFILE", "TABLEID", "SYNONYMS", "UPDATE-FREQUENCY", "NEXT-UPDATE")


def _role(name: str, label: str) -> str | None:
    for n in (name, label):
        low = n.lower()
        if low in _EXTRA_ROLES:
            return _EXTRA_ROLES[low]
        r = guess_role(n)
        if r:
            return r
    return None


#: time scales written as a letter: SSB's Norwegian tables write TLIST(K) (kvartal) for quarters
_SCALE_LETTERS = {"A": "A1", "Å": "A1", "H": "H1", "T": "T1", "Q": "Q1", "K": "Q1", "M": "M1", "W": "W1", "U": "W1"}


def _timeval(e: _Entry, source: str) -> dict[str, Any]:
    """TIMEVAL: `TLIST(A1),"1994","1995"`, `TLIST(A1,"1994"-"1996")` or a plain list of times."""
    toks = e.value
    expected = 'TLIST(A1),"1994","1995",... or TLIST(A1,"1994")-"1996"'

    def bad(why: str) -> ReadError:
        return ReadError(f"{e.name}: {why}", source=source, where=f"line {e.line}", expected=expected)

    if not (toks and toks[0].kind == "word" and toks[0].text.upper().startswith("TLIST")):
        try:
            return {"tlist": None, "values": _items(e, source)}
        except ReadError:
            raise bad("not a list of times") from None
    if len(toks) < 4 or toks[1].text != "(" or toks[2].kind not in ("word", "str"):
        raise bad("TLIST without a time scale")
    scale = toks[2].text.upper()
    if scale in _SCALE_LETTERS:
        note = f"line {e.line}: {e.name}: time scale {toks[2].text!r} read as {_SCALE_LETTERS[scale]}"
        scale = _SCALE_LETTERS[scale]
    else:
        note = ""
    if scale not in ("A1", "H1", "T1", "Q1", "M1", "W1"):
        raise bad(f"unknown time scale {toks[2].text[:10]!r}")
    k = 3
    out: dict[str, Any] = {"tlist": scale}
    if note:
        out["note"] = note
    if toks[k].text == ",":  # TLIST(A1,"1994"-"1996")
        shape = "".join("s" if t.kind == "str" else t.text for t in toks[k + 1:])
        if shape not in ("s)-s", "s-s)"):  # the spec's TLIST(A1, "1994")-"1996", or inside the brackets
            raise bad('a TLIST range is not "from")-"to"')
        strs = [t.text for t in toks[k + 1:] if t.kind == "str"]
        out["from"], out["to"] = strs[0], strs[1]
        return out
    if toks[k].text != ")":
        raise bad("TLIST( is not closed")
    rest = toks[k + 1:]
    if not rest:
        out["values"] = []
        return out
    if rest[0].text != ",":
        raise bad("the times do not follow TLIST(...) after a comma")
    try:
        out["values"] = _items(_Entry(e.key, e.lang, e.sub, rest[1:], e.line), source)
    except ReadError:
        raise bad("the times are not quoted strings separated by commas") from None
    return out


def _expand_range(tv: dict[str, Any], e_line: int, source: str) -> list[str]:
    per = {"A1": 1, "H1": 2, "T1": 3, "Q1": 4, "M1": 12, "W1": 53}.get(str(tv["tlist"]).upper())
    if "from" not in tv:
        raise ReadError("TIMEVAL lists no times and there is no VALUES for the variable", source=source,
                        where=f"line {e_line}", expected="VALUES for the time variable")
    a, b = str(tv["from"]), str(tv["to"])
    width = len(a) - 4
    if per is None or not (a.isascii() and b.isascii() and a.isdigit() and b.isdigit() and len(a) == len(b) >= 4
                           and (width == 0) == (per == 1) and width <= 2
                           and all(1 <= int(x[4:] or 1) <= per for x in (a, b))):
        raise ReadError(f"cannot expand the TIMEVAL range {a}-{b}", source=source, where=f"line {e_line}",
                        expected="VALUES for the time variable")

    def ordinal(x: str) -> int:
        return int(x[:4]) * per + (int(x[4:]) - 1 if width else 0)

    lo, hi = ordinal(a), ordinal(b)
    if hi < lo or hi - lo > 10000:
        raise ReadError(f"bad TIMEVAL range {a}-{b}", source=source, where=f"line {e_line}")
    return [f"{o // per}" + (f"{o % per + 1:0{width}d}" if width else "") for o in range(lo, hi + 1)]


def _languages(entries: list[_Entry], source: str) -> list[str]:
    for e in entries:
        if e.key == "LANGUAGES" and e.lang is None:
            return _items(e, source)
    return []


def _language_view(entries: list[_Entry], default_lang: str | None, lang: str | None,
                   source: str) -> tuple[list[_Entry], list[_Entry], str | None]:
    """(entries of the chosen language, the other languages' entries, the language chosen).

    Language-dependent keywords name variables and values in their own language
    (`VALUES[sv]("ålder")`); keywords given only in the main language are translated through
    the positions of STUB/HEADING and VALUES in both languages, so CODES, KEYS, ELIMINATION,
    PRECISION... still apply.
    """
    def is_main(e: _Entry) -> bool:
        return e.lang is None or e.lang == default_lang

    if lang is None or lang == default_lang or (default_lang is None and lang in ("", None)):
        return [e for e in entries if is_main(e)], [e for e in entries if not is_main(e)], default_lang
    own = [e for e in entries if e.lang == lang]
    if not own:
        known = _languages(entries, source) or ([default_lang] if default_lang else [])
        raise ReadError(f"no language {lang!r} in the file", source=source, where="line 1",
                        expected="one of " + (", ".join(map(repr, known)) if known else "the file's own (no LANGUAGES)"))
    mains = [e for e in entries if is_main(e)]
    others = [e for e in entries if not is_main(e) and e.lang != lang]

    def first(key: str, group: list[_Entry], sub: tuple[str, ...] = ()) -> _Entry | None:
        return next((e for e in group if e.key == key and e.sub == sub), None)

    var_map: dict[str, str] = {}
    for key in ("STUB", "HEADING"):
        a, b = first(key, mains), first(key, own)
        if a is not None and b is not None:
            va, vb = _items(a, source), _items(b, source)
            if len(va) != len(vb):
                raise ReadError(f"{key}[{lang}] has {len(vb)} variables but {key} has {len(va)}", source=source,
                                where=f"line {b.line}", expected=f"{len(va)} variables")
            var_map.update(zip(va, vb, strict=True))
    value_map: dict[str, dict[str, str]] = {}
    for var, var_l in var_map.items():
        a, b = first("VALUES", mains, (var,)), first("VALUES", own, (var_l,))
        if a is not None and b is not None:
            la, lb = _items(a, source), _items(b, source)
            if len(la) != len(lb):
                raise ReadError(f'VALUES[{lang}]("{var_l}") has {len(lb)} values but VALUES("{var}") has {len(la)}',
                                source=source, where=f"line {b.line}", expected=f"{len(la)} values")
            value_map[var] = dict(zip(la, lb, strict=True))
    any_value: dict[str, str] = {}
    for m in value_map.values():
        for k, v in m.items():
            any_value.setdefault(k, v)

    main_vars = [v for key in ("STUB", "HEADING") for v in (_items(first(key, mains), source)
                                                           if first(key, mains) else [])]
    cont_e = first("CONTVARIABLE", mains)
    contvar = _scalar(cont_e, source) if cont_e else None

    def tok(t: _Tok, m: dict[str, str]) -> _Tok:
        return _Tok(t.kind, m.get(t.text, t.text), t.line, t.pos)

    def translate(e: _Entry) -> _Entry:
        sub, value = list(e.sub), list(e.value)
        if e.key == "CONTVARIABLE":
            value = [tok(t, var_map) for t in value]
        elif e.key in _PER_CELL:  # one value per variable, in STUB+HEADING order
            sub = [value_map.get(v, {}).get(x, x) for v, x in zip(main_vars, sub, strict=False)] + sub[len(main_vars):]
        elif sub and sub[0] in var_map and (e.key in _PER_VARIABLE or sub[0] != contvar and sub[0] not in any_value):
            var = sub[0]
            vm = value_map.get(var, {})
            sub = [var_map[var]] + [vm.get(x, x) for x in sub[1:]]
            if e.key == "ELIMINATION":
                value = [tok(t, vm) for t in value]
        elif sub and contvar is not None:  # per-content keywords: UNITS("content")...
            sub = [value_map.get(contvar, {}).get(x, x) for x in sub]
        else:
            sub = [any_value.get(x, x) for x in sub]
        return _Entry(e.key, None, tuple(sub), value, e.line)

    have = {(e.key, e.sub) for e in own}
    view = [_Entry(e.key, None, e.sub, e.value, e.line) for e in own]
    for e in mains:
        t = translate(e)
        if (t.key, t.sub) not in have:
            view.append(t)
    others.extend(e for e in mains if e.lang is not None or e.key in _LANG_KEYS)
    return view, others, lang


#: keywords that shape the cube or its cells: given twice, the file is ambiguous
_STRUCTURAL = ("STUB", "HEADING", "VALUES", "CODES", "KEYS", "CONTVARIABLE", "TIMEVAL", "VARIABLE-CODE",
               "DECIMALS", "SHOWDECIMALS", "CODEPAGE", "LANGUAGE", "DATANOTECELL", "HIERARCHIES",
               "DATASYMBOL1", "DATASYMBOL2", "DATASYMBOL3", "DATASYMBOL4", "DATASYMBOL5", "DATASYMBOL6",
               "DATASYMBOLNIL", "PRECISION", "UNITS")
_PER_CELL = ("CELLNOTE", "CELLNOTEX", "DATANOTECELL")
_PER_VARIABLE = ("VALUES", "CODES", "TIMEVAL", "VARIABLE-CODE", "ELIMINATION", "HIERARCHIES", "HIERARCHYLEVELS",
                 "HIERARCHYLEVELSOPEN", "HIERARCHYNAMES", "KEYS", "NOTE", "NOTEX", "VALUENOTE", "VALUENOTEX",
                 "PRECISION", "DOMAIN", "MAP", "PARTITIONED", "VARIABLE-TYPE", "META-ID")
_LANG_KEYS = ("TITLE", "CONTENTS", "UNITS", "STUB", "HEADING", "VALUES", "DESCRIPTION", "SUBJECT-AREA",
              "NOTE", "NOTEX", "VALUENOTE", "VALUENOTEX", "CELLNOTE", "CELLNOTEX", "CONTVARIABLE",
              "TIMEVAL", "SOURCE", "CONTACT", "CODES", "HIERARCHIES", "ELIMINATION", "PRECISION",
              "LAST-UPDATED", "DOMAIN", "MAP", "PARTITIONED", "STOCKFA", "CFPRICES", "DAYADJ",
              "SEASADJ", "BASEPERIOD", "REFPERIOD", "KEYS", "VARIABLE-CODE", "DATANOTECELL")


def read(data: bytes, source: str, lang: str | None = None) -> list[Table]:
    """The one cube in a PX file; ReadError naming the line of anything that does not fit.

    `lang` picks one of the file's LANGUAGES (default: its main LANGUAGE); keywords the
    file gives only in the main language (CODES, DECIMALS, ...) are carried over.
    """
    if not data.strip():
        raise ReadError("file is empty", source=source, where="line 1", expected="a PX file")
    notes: list[str] = []
    text, encoding = _decode(data, source, notes)
    entries, sc, data_line = _parse(text, source)

    main: dict[tuple[str, tuple[str, ...]], _Entry] = {}
    default_lang = None
    for e in entries:
        if e.key == "LANGUAGE" and e.lang is None:
            default_lang = _scalar(e, source)
    entries, lang_entries, chosen = _language_view(entries, default_lang, lang, source)
    notes_list: list[str] = []
    for e in entries:
        k = (e.key, e.sub)
        if e.key in ("NOTE", "NOTEX") and not e.sub:
            notes_list.append(" ".join(_items(e, source)))
            continue
        if k in main and e.key in _STRUCTURAL:
            raise ReadError(f"{e.name} is given twice (lines {main[k].line} and {e.line})", source=source,
                            where=f"line {e.line}", expected=f"{e.key} once: which one holds is not for a reader to guess")
        if k in main and e.key not in ("VALUENOTE", "VALUENOTEX", "CELLNOTE", "CELLNOTEX"):
            notes.append(f"line {e.line}: {e.name} repeats line {main[k].line}; the later value is used")
        main[k] = e

    def get(key: str, *sub: str) -> _Entry | None:
        return main.get((key, tuple(sub)))

    stub_e, head_e = get("STUB"), get("HEADING")
    if stub_e is None and head_e is None:
        raise ReadError("no STUB or HEADING keyword", source=source, where=f"line {data_line}",
                        expected='STUB="var",... and/or HEADING="var",... before DATA')
    stub = _items(stub_e, source) if stub_e else []
    heading = _items(head_e, source) if head_e else []
    variables = stub + heading
    if len(set(variables)) != len(variables):
        dup = next(v for i, v in enumerate(variables) if v in variables[:i])
        line = (head_e or stub_e).line  # type: ignore[union-attr]
        raise ReadError(f"variable {dup!r} appears twice in STUB/HEADING", source=source, where=f"line {line}")
    contvar_e = get("CONTVARIABLE")
    contvar = _scalar(contvar_e, source) if contvar_e else None
    if contvar is not None and contvar not in variables:
        raise ReadError(f"CONTVARIABLE {contvar!r} is not in STUB or HEADING", source=source,
                        where=f"line {contvar_e.line}", expected=" or ".join(map(repr, variables)))  # type: ignore[union-attr]

    consumed: set[tuple[str, tuple[str, ...]]] = set()
    timevals: dict[str, Any] = {}
    dims: list[Dimension] = []
    for var in variables:
        line = (stub_e if var in stub else head_e).line  # type: ignore[union-attr]
        ve, ce, te = get("VALUES", var), get("CODES", var), get("TIMEVAL", var)
        tv = _timeval(te, source) if te else None
        if tv is not None:
            if "note" in tv:
                notes.append(tv.pop("note"))
            timevals[var] = tv
        if ve is not None:
            labels = _items(ve, source)
        elif tv is not None:
            labels = tv.get("values") or _expand_range(tv, te.line, source)  # type: ignore[union-attr]
            notes.append(f"line {te.line}: no VALUES(\"{var}\"): the values come from TIMEVAL")  # type: ignore[union-attr]
        else:
            raise ReadError(f'no VALUES("{var}")', source=source, where=f"line {line}",
                            expected=f'VALUES("{var}")="..."; for every STUB and HEADING variable')
        if not labels:
            raise ReadError(f'VALUES("{var}") is empty', source=source, where=f"line {ve.line if ve else line}")
        codes = labels
        if ce is not None:
            # SCB's own example files write `CODES("sex")="1","2",;`: one comma too many, but the
            # codes still pair one to one with VALUES, so nothing is guessed
            codes = _items(ce, source, trailing_comma=True)
            if _ends_with_comma(ce):
                if len(codes) != len(labels):
                    raise ReadError(f"{ce.name} ends with a comma: {len(codes)} codes and an empty one for "
                                    f"the {len(labels)} values of VALUES(\"{var}\")", source=source,
                                    where=f"line {ce.line}", expected=f"{len(labels)} codes")
                notes.append(f"line {ce.line}: {ce.name} ends with a comma before ';': "
                             f"read as its {len(codes)} codes, one per value")
            if len(codes) != len(labels):
                raise ReadError(
                    f'CODES("{var}") has {len(codes)} codes but VALUES("{var}") has {len(labels)} values',
                    source=source, where=f"line {ce.line}", expected=f"{len(labels)} codes")
        vc = get("VARIABLE-CODE", var)
        name = _scalar(vc, source) if vc else var
        role = "time" if te is not None else "measure" if var == contvar else _role(name, var)
        try:
            dims.append(Dimension(name, tuple(codes), tuple(labels), role=role, label=var))
        except ValueError as err:
            where = ce or ve
            raise ReadError(str(err), source=source, where=f"line {where.line if where else line}",
                            expected="distinct codes") from None
        consumed.update({("VALUES", (var,)), ("CODES", (var,)), ("TIMEVAL", (var,)), ("VARIABLE-CODE", (var,))})
    if len({d.name for d in dims}) != len(dims):
        raise ReadError("two variables have the same VARIABLE-CODE", source=source, where=f"line {data_line}")

    # symbols: the standard tokens, remapped when DATASYMBOLn names another SSB symbol
    symbol_map = dict(_TOKENS)
    datasymbols: dict[str, str] = {}
    for i, tok in enumerate(("", ".", "..", "...", "....", ".....", "......")):
        key = f"DATASYMBOL{i}" if i else ""
        e = get(key) if key else None
        if e is not None:
            txt = _scalar(e, source)
            datasymbols[key] = txt
            consumed.add((key, ()))
            if txt != tok and txt in sym.CODE and sym.lookup(txt).arithmetic in ("absent", "unknown", "bound"):
                symbol_map[tok] = sym.CODE[txt]
                notes.append(f"line {e.line}: {key}={txt!r}: cells {tok!r} read as the SSB symbol {txt!r}")
            elif txt != tok and txt.strip() in ("-", "0", "", "*", "r"):
                # DATASYMBOLn is how a missing cell is *shown*: it never turns a missing cell into 0
                notes.append(f"line {e.line}: {key}={txt!r} is display text only: cells {tok!r} stay missing")
    for key in ("DATASYMBOLNIL", "DATASYMBOLSUM"):
        e = get(key)
        if e is not None:
            datasymbols[key] = _scalar(e, source)
            consumed.add((key, ()))

    n = math.prod(len(d) for d in dims)
    keys_vars = [v for v in stub if get("KEYS", v) is not None]
    keys_kind: dict[str, str] = {}
    for v in keys_vars:
        ke = get("KEYS", v)
        kind = _scalar(ke, source).upper()  # type: ignore[arg-type]
        if kind not in ("VALUES", "CODES"):
            raise ReadError(f'KEYS("{v}")={kind}', source=source, where=f"line {ke.line}",  # type: ignore[union-attr]
                            expected="VALUES or CODES")
        keys_kind[v] = kind
        consumed.add(("KEYS", (v,)))
    if keys_vars:
        values, symbols = _cells_keys(sc, dims, variables, keys_kind, symbol_map, data_line, notes)
        rest = text[sc.pos:]
    else:
        room = len(text) - sc.pos
        if n > room:  # each cell takes at least two characters: fail before allocating
            found = len(text[sc.pos:].split(";", 1)[0].replace(",", " ").split())
            raise ReadError(f"DATA has {found} cells, expected {n} (the product of the VALUES counts)",
                            source=source, where=f"line {data_line}", expected=f"{n} cells")
        fast = _cells_fast(text, sc.pos, n, symbol_map)
        if fast is not None:
            values, symbols, end = fast
            rest = text[end:]
        else:
            width = len(dims[-1]) if dims else 1
            values, symbols = _cells_exact(sc, n, symbol_map, data_line, notes, width)
            rest = text[sc.pos:]
    if rest.strip().strip(";").strip() == "" and rest.count(";"):
        notes.append(f"DATA is followed by {rest.count(';')} more ';': ignored")
        rest = ""
    junk = re.search(r"[^\s\x1a]", rest)
    if junk:
        rest_clean = rest[junk.start():].strip()
        line = text.count("\n", 0, len(text) - len(rest) + junk.start()) + 1
        raise ReadError(f"text after the end of DATA: {rest_clean[:30]!r}", source=source,
                        where=f"line {line}", expected="DATA=...; as the last keyword")

    meta: dict[str, Any] = {"encoding": encoding}
    by_content: dict[str, dict[str, str]] = {}
    data_notes: list[dict[str, Any]] = []
    valuenotes: list[dict[str, Any]] = []
    cellnotes: list[dict[str, Any]] = []
    variable_notes: list[dict[str, Any]] = []
    elimination: dict[str, str] = {}
    px: dict[str, Any] = {}
    hierarchies: dict[str, _Entry] = {}
    contlabels = set(dims[variables.index(contvar)].labels) if contvar else set()

    for (key, sub), e in main.items():
        if (key, sub) in consumed or key in ("STUB", "HEADING", "CONTVARIABLE", "LANGUAGE", "CODEPAGE"):
            continue
        if key == "HIERARCHIES" and len(sub) == 1:
            hierarchies[sub[0]] = e
            continue
        items = _items(e, source, trailing_comma=key == "CODES") if key not in ("TIMEVAL",) else []
        val: Any = items[0] if len(items) == 1 else items
        if key in ("VALUENOTE", "VALUENOTEX") and len(sub) == 2:
            valuenotes.append({"variable": sub[0], "value": sub[1], "text": " ".join(items), "mandatory": key.endswith("X")})
        elif key in ("CELLNOTE", "CELLNOTEX"):
            cellnotes.append({"keys": list(sub), "text": " ".join(items), "mandatory": key.endswith("X")})
        elif key in ("NOTE", "NOTEX"):
            variable_notes.append({"variable": sub[0], "text": " ".join(items), "mandatory": key.endswith("X")})
        elif key == "DATANOTECELL":
            data_notes.append({"keys": list(sub), "text": " ".join(items), "line": e.line})
        elif key == "ELIMINATION" and len(sub) == 1:
            elimination[sub[0]] = " ".join(items)
        elif contvar and len(sub) == 1 and sub[0] in contlabels:
            by_content.setdefault(sub[0], {})[key] = " ".join(items)
        elif key == "PRECISION" and contvar and len(sub) == 2 and sub[0] == contvar:
            by_content.setdefault(sub[1], {})[key] = " ".join(items)
        else:
            px[e.name] = val

    def take(key: str) -> str | None:
        v = px.pop(key, None)
        if v is None:
            return None
        return v if isinstance(v, str) else ", ".join(v)

    matrix, title = take("MATRIX") or "", take("TITLE") or take("DESCRIPTION") or ""
    unit = take("UNITS")
    if unit is None and by_content:
        units = {c.get("UNITS") for c in by_content.values()}
        if len(units) == 1 and None not in units:
            unit = units.pop()
    dec_text, show_text = take("DECIMALS"), take("SHOWDECIMALS")
    decimals = 0
    for key, t in (("DECIMALS", dec_text), ("SHOWDECIMALS", show_text)):
        if t is not None:
            if not (t.strip().isascii() and t.strip().isdigit()):
                e = get(key)
                raise ReadError(f"{key}={t!r} is not a whole number", source=source,
                                where=f"line {e.line if e else 0}", expected="0 to 15")
            meta[key.lower()] = int(t)
    decimals = meta.get("showdecimals", meta.get("decimals", 0))
    for k_meta, key in (("contents", "CONTENTS"), ("px_source", "SOURCE"), ("last_updated", "LAST-UPDATED")):
        v = take(key)
        if v is not None:
            meta[k_meta] = v
    if chosen or default_lang:
        meta["language"] = chosen or default_lang
    if "LANGUAGES" in px:
        langs = px.pop("LANGUAGES")
        meta["languages"] = [langs] if isinstance(langs, str) else langs
    if "CHARSET" in px:
        meta["charset"] = take("CHARSET")
    for k_meta, obj in (("timeval", timevals), ("elimination", elimination), ("by_content", by_content),
                        ("valuenotes", valuenotes), ("cellnotes", cellnotes), ("variable_notes", variable_notes),
                        ("datasymbols", datasymbols)):
        if obj:
            meta[k_meta] = obj
    translations: dict[str, dict[str, Any]] = {}
    for e in lang_entries:
        items = (_items(e, source, trailing_comma=e.key == "CODES") if e.key not in ("TIMEVAL", "HIERARCHIES")
                 else [" ".join(t.text for t in e.value)])
        translations.setdefault(e.lang or "", {})[e.name.replace(f"[{e.lang}]", "")] = items[0] if len(items) == 1 else items
    if translations:
        meta["translations"] = translations
    if hierarchies:
        meta["hierarchies"] = {}
        for var, e in hierarchies.items():
            if var not in variables:
                raise ReadError(f'HIERARCHIES("{var}") names no STUB or HEADING variable', source=source,
                                where=f"line {e.line}", expected=" or ".join(map(repr, variables)))
            d = dims[variables.index(var)]
            meta["hierarchies"][d.name] = _hierarchy(e, d, source)
    if px:
        meta["px"] = px

    shape = tuple(len(d) for d in dims)
    values, symbols = values.reshape(shape), symbols.reshape(shape)
    if data_notes:
        _apply_flags(data_notes, dims, values, symbols, notes, source)
        meta["data_notes"] = [{"keys": d["keys"], "text": d["text"]} for d in data_notes]
    table = Table(dims, values, symbols, id=matrix, title=title, source=source, unit=unit,
                  decimals=decimals, footnotes=notes_list, notes=notes, meta=meta)
    return [table]


def _hierarchy(e: _Entry, d: Dimension, source: str) -> dict[str, list[str]]:
    """HIERARCHIES("var")="root","root":"child",...: {parent code: [child codes]} in file order.

    Names are the variable's codes or values; both map to codes. A root lists under "".
    """
    def code(name: str, t: _Tok) -> str:
        if name in d.codes:
            return name
        if name in d.labels:
            return d.codes[d.labels.index(name)]
        raise ReadError(f'HIERARCHIES("{d.label or d.name}") names {name[:40]!r}, not a value of the variable',
                        source=source, where=f"line {t.line}", expected="codes or values of the variable")

    tree: dict[str, list[str]] = {}
    toks = [t for t in e.value]
    k = 0
    while k < len(toks):
        t = toks[k]
        if t.kind != "str":
            raise ReadError(f"unexpected {t.text[:20]!r} in {e.name}", source=source, where=f"line {t.line}",
                            expected='"parent":"child" pairs separated by commas')
        if k + 2 < len(toks) and toks[k + 1].text == ":" and toks[k + 1].kind == "word" and toks[k + 2].kind == "str":
            parent, child = code(t.text, t), code(toks[k + 2].text, toks[k + 2])
            if child in tree.get(parent, []):
                raise ReadError(f"{e.name} lists {parent!r}:{child!r} twice", source=source, where=f"line {t.line}")
            tree.setdefault(parent, []).append(child)
            k += 3
        else:
            tree.setdefault("", []).append(code(t.text, t))
            k += 1
        if k < len(toks):
            if toks[k].text != ",":
                raise ReadError(f"unexpected {toks[k].text[:20]!r} in {e.name}", source=source,
                                where=f"line {toks[k].line}", expected="a comma between items")
            k += 1
    return tree


def _apply_flags(data_notes: list[dict[str, Any]], dims: list[Dimension], values: np.ndarray,
                 symbols: np.ndarray, notes: list[str], source: str) -> None:
    """DATANOTECELL(...)="*" or "r" marks numbers preliminary / revised."""
    for dn in data_notes:
        flag = dn["text"].strip()
        if flag not in ("*", "r"):
            continue
        keys = dn["keys"]
        if len(keys) != len(dims):
            raise ReadError(f"DATANOTECELL has {len(keys)} keys for {len(dims)} variables", source=source,
                            where=f"line {dn['line']}")
        index: list[Any] = []
        for k, d in zip(keys, dims, strict=True):
            if k == "*":
                index.append(slice(None))
            elif k in d.labels and d.labels.count(k) == 1:
                index.append(d.labels.index(k))
            elif k in d.codes:
                index.append(d.codes.index(k))
            else:
                raise ReadError(f"DATANOTECELL names {k!r}, not a value of {d.label or d.name!r}",
                                source=source, where=f"line {dn['line']}")
        sel = symbols[tuple(index)]
        hit = sel == sym.NUMBER
        symbols[tuple(index)] = np.where(hit, sym.CODE[flag], sel)
        if not hit.all():
            notes.append(f"line {dn['line']}: DATANOTECELL {flag!r} on cells without a number is ignored")


# --- writing --------------------------------------------------------------------------------

_TIME_FORMATS = (
    (re.compile(r"^\d{4}$"), "A1", lambda c: c),
    (re.compile(r"^\d{4}[KQ][1-4]$"), "Q1", lambda c: c[:4] + c[5]),
    (re.compile(r"^\d{4}M(0[1-9]|1[0-2])$"), "M1", lambda c: c[:4] + c[5:]),
    (re.compile(r"^\d{4}H[12]$"), "H1", lambda c: c[:4] + c[5]),
    (re.compile(r"^\d{4}T[1-3]$"), "T1", lambda c: c[:4] + c[5]),
    (re.compile(r"^\d{4}U\d{2}$"), "W1", lambda c: c[:4] + c[5:]),
)


def _q(s: str, what: str) -> str:
    if '"' in s or "\n" in s or "\r" in s:
        raise UsageError(f"{what} {s!r} holds a quote or a line break, which PX cannot write")
    return f'"{s}"'


def _qlong(s: str, what: str, width: int = 200) -> str:
    """A quoted string, split into quoted pieces over lines when long (PX lines stay short)."""
    _q(s, what)
    if len(s) <= width:
        return f'"{s}"'
    parts = []
    while len(s) > width:
        cut = s.rfind(" ", 0, width) + 1 or width
        parts.append(s[:cut])
        s = s[cut:]
    parts.append(s)
    return "\n".join(f'"{p}"' for p in parts)


def _qlist(items: list[str] | tuple[str, ...], what: str, per_line: int = 1) -> str:
    qs = [_qlong(x, what) for x in items]
    if len(qs) <= 4 and sum(map(len, qs)) < 150:
        return ",".join(qs)
    lines = [",".join(qs[i:i + per_line]) for i in range(0, len(qs), per_line)]
    return ",\n".join(lines)


def _cell_texts(table: Table) -> list[str]:
    """DATA tokens of every cell, in order: shortest exact numbers, symbols quoted."""
    flat_v, flat_s = table.values.ravel(), table.symbols.ravel()
    is_num = np.isin(flat_s, [sym.NUMBER, sym.CODE["*"], sym.CODE["r"]])
    bad = is_num & ~np.isfinite(flat_v)
    if bad.any():
        k = int(np.argmax(bad))
        raise UsageError(f"cell {k + 1} is a number without a value ({flat_v[k]})")
    whole = is_num & (np.abs(np.where(is_num, flat_v, 0)) < 1e15)
    whole &= np.where(whole, flat_v, 0) == np.round(np.where(whole, flat_v, 0))
    cells = list(map(str, np.where(whole, flat_v, 0).astype(np.int64).tolist()))
    quoted = [f'"{t}"' for t in sym.TEXT]
    for k in np.flatnonzero(~whole).tolist():
        cells[k] = _number(float(flat_v[k])) if is_num[k] else quoted[flat_s[k]]
    return cells


def _number(v: float) -> str:
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return np.format_float_positional(v, trim="-")


def write_px(table: Table, path: str | Path | None, codepage: str = "iso-8859-1", keys: bool = False,
             translations: dict[str, dict[str, Any]] | None = None, separator: str = " ") -> str | None:
    """Write `table` as a PX file (STUB = all dimensions but the last, HEADING = the last).

    Returns the text when `path` is None; otherwise writes the bytes in `codepage`, the
    encoding the file declares. read(write_px(t)) gives a Table equal to `t`.
    `keys` writes a KEYS file (rows named by their STUB codes; rows of nil cells left out);
    `translations` adds languages: {lang: {"title": ..., "variables": {dim name: label},
    "values": {dim name: [labels]}}}, read back with read(..., lang=lang); `meta["hierarchies"]`
    is written as HIERARCHIES; `separator` (" ", ",", "\t" or ";") goes between cells.
    """
    if separator not in (" ", ",", "\t", ";"):
        raise UsageError(f"separator {separator!r}", expected='" ", ",", "\\t" or ";"')
    enc = _codec(codepage)
    if enc is None:
        raise UsageError(f"unknown codepage {codepage!r}", expected='"iso-8859-1", "windows-1252" or "utf-8"')
    if not table.dimensions:
        raise UsageError("a PX file needs at least one dimension")
    dims = table.dimensions
    labels = [d.label or d.name for d in dims]
    if len(set(labels)) != len(labels):
        labels = [d.name for d in dims]
    out: list[str] = []

    def kw(key: str, value: str) -> None:
        out.append(f"{key}={value};")

    kw("CHARSET", '"ANSI"')
    kw("AXIS-VERSION", '"2013"')
    kw("CODEPAGE", _q(codepage, "codepage"))
    meta = table.meta
    language = meta.get("language") or ("en" if translations else None)
    if language:
        kw("LANGUAGE", _q(str(language), "language"))
    if translations:
        if language in translations:
            raise UsageError(f"translations repeat the main language {language!r}")
        kw("LANGUAGES", _qlist([str(language), *translations], "language"))
    if meta.get("creation_date"):
        kw("CREATION-DATE", _q(str(meta["creation_date"]), "date"))
    kw("DECIMALS", str(max(int(meta.get("decimals", 0)), int(table.decimals))))
    kw("SHOWDECIMALS", str(int(table.decimals)))
    kw("MATRIX", _q(table.id or "migaudit", "table id"))
    px_meta = meta.get("px") or {}
    for key in _STRING_KEYS:
        v = px_meta.get(key)
        if isinstance(v, str):
            kw(key, _qlong(v, key))
    if "SUBJECT-CODE" not in px_meta:
        kw("SUBJECT-CODE", '"BE"')
    if "SUBJECT-AREA" not in px_meta:
        kw("SUBJECT-AREA", '"Befolkning"')
    kw("CONTENTS", _qlong(str(meta.get("contents") or table.title or table.id or "table"), "contents"))
    kw("TITLE", _qlong(table.title or table.id or "table", "title"))
    kw("UNITS", _qlong(table.unit or "", "unit"))
    if len(dims) > 1:
        kw("STUB", _qlist(labels[:-1], "variable name"))
    kw("HEADING", _qlist(labels[-1:], "variable name"))
    measure = next((i for i, d in enumerate(dims) if d.role == "measure"), None)
    if measure is not None:
        kw("CONTVARIABLE", _q(labels[measure], "variable name"))
    for i, d in enumerate(dims):
        var = _q(labels[i], "variable name")
        kw(f"VALUES({var})", _qlist(d.labels, "label"))
        if d.role == "time":
            kw(f"TIMEVAL({var})", _timeval_text(d, meta.get("timeval", {}).get(labels[i])))
        if d.has_labels or d.role == "time" or translations or keys:
            kw(f"CODES({var})", _qlist(d.codes, "code"))
        tree = (meta.get("hierarchies") or {}).get(d.name)
        if tree:
            kw(f"HIERARCHIES({var})", _hierarchies_text(tree, d))
        if keys and i < len(dims) - 1:
            kw(f"KEYS({var})", "CODES")
        if d.name != labels[i]:
            kw(f"VARIABLE-CODE({var})", _q(d.name, "dimension name"))
        elim = (meta.get("elimination") or {}).get(labels[i])
        if elim is not None:
            kw(f"ELIMINATION({var})", elim if elim in ("YES", "NO") else _q(elim, "elimination"))
    if measure is not None:
        by_content = meta.get("by_content") or {}
        cvar = _q(labels[measure], "variable name")
        for lab in dims[measure].labels:
            own = by_content.get(lab, {})
            val = _q(lab, "label")
            kw(f"UNITS({val})", _qlong(own.get("UNITS", table.unit or ""), "unit"))
            if own.get("LAST-UPDATED") or meta.get("last_updated"):
                kw(f"LAST-UPDATED({val})", _q(own.get("LAST-UPDATED", meta.get("last_updated", "")), "date"))
            if "PRECISION" in own:
                kw(f"PRECISION({cvar},{val})", str(own["PRECISION"]))
    elif meta.get("last_updated"):
        kw("LAST-UPDATED", _q(str(meta["last_updated"]), "date"))
    if meta.get("px_source"):
        kw("SOURCE", _qlong(str(meta["px_source"]), "source"))
    for note in table.footnotes:
        kw("NOTE", _qlong(note, "note"))
    # flags on numbers travel as DATANOTECELL
    flagged = np.argwhere(np.isin(table.symbols, [sym.CODE["*"], sym.CODE["r"]]))
    for idx in flagged:
        cell_keys = ",".join(_q(_cell_key(d, int(j)), "label") for d, j in zip(dims, idx, strict=True))
        kw(f"DATANOTECELL({cell_keys})", _q(sym.TEXT[int(table.symbols[tuple(idx)])], "flag"))
    for lang, tr in (translations or {}).items():
        _write_language(kw, lang, tr, table, labels)
    out.append("DATA=")
    width = len(dims[-1])
    cells = _cell_texts(table)
    sep = {" ": " ", ",": ",", "\t": "\t", ";": ";"}[separator]
    nil = '"-"'
    for start in range(0, len(cells), width):
        row = cells[start:start + width]
        if keys and len(dims) > 1:
            if all(c == nil for c in row):
                continue
            idx = np.unravel_index(start // width, tuple(len(d) for d in dims[:-1]))
            row = [",".join(_q(d.codes[int(j)], "code") for d, j in zip(dims[:-1], idx, strict=True)) + ","] + row
            out.append(" ".join(row))
            continue
        for k in range(0, len(row), 20):
            out.append(sep.join(row[k:k + 20]) + (sep if sep in (",", ";") and start + k + 20 < len(cells) else ""))
    if out[-1] == "DATA=":
        out[-1] = "DATA=;"
    else:
        out[-1] = out[-1].rstrip(",;") + ";"
    text = "\n".join(out) + "\n"
    try:
        raw = text.encode(enc)
    except UnicodeEncodeError as e:
        bad = text[e.start:e.end]
        line = text.count("\n", 0, e.start) + 1
        raise UsageError(f"{bad!r} (line {line}) cannot be written in {codepage}",
                         expected='codepage="utf-8"') from None
    if path is None:
        return text
    Path(path).write_bytes(raw)
    return None


def _hierarchies_text(tree: dict[str, list[str]], d: Dimension) -> str:
    """HIERARCHIES value: roots, then "parent":"child" pairs, by code."""
    items = [_q(c, "code") for c in tree.get("", [])]
    items += [f"{_q(p, 'code')}:{_q(c, 'code')}" for p, kids in tree.items() if p for c in kids]
    unknown = [c for c in [*tree.get("", []), *(p for p in tree if p), *(c for k in tree.values() for c in k)]
               if c not in d.codes]
    if unknown:
        raise UsageError(f"hierarchy of {d.name} names {unknown[0]!r}, not a code of the dimension")
    return ",\n".join(items)


def _write_language(kw, lang: str, tr: dict[str, Any], table: Table, labels: list[str]) -> None:
    """The keywords of one more language: TITLE, CONTENTS, STUB/HEADING and VALUES in it."""
    dims = table.dimensions
    names = [str(tr.get("variables", {}).get(d.name, labels[i])) for i, d in enumerate(dims)]
    if len(set(names)) != len(names):
        raise UsageError(f"translation {lang!r} gives two variables the same name")
    title = str(tr.get("title") or table.title or table.id or "table")
    kw(f"CONTENTS[{lang}]", _qlong(title, "contents"))
    kw(f"TITLE[{lang}]", _qlong(title, "title"))
    if len(dims) > 1:
        kw(f"STUB[{lang}]", _qlist(names[:-1], "variable name"))
    kw(f"HEADING[{lang}]", _qlist(names[-1:], "variable name"))
    for i, d in enumerate(dims):
        vals = [str(x) for x in tr.get("values", {}).get(d.name, d.labels)]
        if len(vals) != len(d):
            raise UsageError(f"translation {lang!r} gives {len(vals)} values for {len(d)} of {d.name}")
        kw(f"VALUES[{lang}]({_q(names[i], 'variable name')})", _qlist(vals, "label"))


def _cell_key(d: Dimension, j: int) -> str:
    """How DATANOTECELL names category j: its label when unique (the spec), else its code."""
    lab = d.labels[j]
    if d.labels.count(lab) == 1:
        return lab
    code = d.codes[j]
    if code in d.labels and d.labels.count(code) == 1:
        raise UsageError(f"dimension {d.name}: cannot name flagged category {code!r} unambiguously in PX")
    return code


def px_bytes(table: Table, codepage: str = "iso-8859-1") -> bytes:
    """The bytes of `write_px(table)` in the declared codepage (for writing to a stream)."""
    text = write_px(table, None, codepage)
    assert text is not None
    return text.encode(_codec(codepage) or codepage)


def _timeval_text(d: Dimension, known: dict[str, Any] | None) -> str:
    """TIMEVAL for a time dimension: TLIST(Q1),"20143",... when the codes fit a PX time scale."""
    for pattern, scale, conv in _TIME_FORMATS:
        if all(pattern.match(c) for c in d.codes):
            return f"TLIST({scale})," + _qlist([conv(c) for c in d.codes], "time", per_line=10)
    if known and known.get("tlist") and known.get("values") and len(known["values"]) == len(d):
        return f"TLIST({known['tlist']})," + _qlist(known["values"], "time", per_line=10)
    return _qlist(d.codes, "time", per_line=10)


__all__ = ["sniff", "read", "write_px", "px_bytes"]
