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
- DATASYMBOLn whose text is itself an SSB symbol (e.g. DATASYMBOL4=":") remaps the token.
- Preliminary/revised flags (`*`, `r`) travel as DATANOTECELL(...)="*" / "r".
- The `":"` token (confidential) is not in the PX spec but is read and written.

Meta keys: language, languages, translations, contents, px_source, last_updated, timeval,
elimination, by_content, valuenotes, cellnotes, variable_notes, datasymbols,
data_notes (DATANOTECELL), encoding, px (every other keyword, `KEY("sub")` → value).
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

from .. import symbols as sym
from ..errors import ReadError, UsageError
from ..table import Dimension, Table, guess_role

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
    from . import decode

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
    r'(?P<ws>[^\S\n]+)|(?P<nl>\n)|(?P<str>"[^"\n]*")|(?P<bad>"[^"\n]*)'
    r'|(?P<punct>[\[\]()=,;])|(?P<word>[^\s"\[\]()=,;]+)'
)


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
                return _Tok("str", m.group()[1:-1], self.line, self.pos)
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


def _items(e: _Entry, source: str) -> list[str]:
    """A keyword's value as a list: quoted strings (adjacent ones concatenated) or words, by commas."""
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
    elif last == ",":
        raise ReadError(f"{e.name} ends with a comma", source=source, where=f"line {e.line}")
    return out


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
_QUOTED = re.compile(r'"[^"]*"')
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
    if raw.translate(None, _FAST_CHARS) or raw.count(b'"') % 2:
        return None
    tail = text[end + 1:]
    after = end + 1 + (len(tail) - len(tail.lstrip()))
    parsed = _cells_numpy(body, raw, n, symbol_map)
    if parsed is not None:
        return (*parsed, after)
    toks = body.replace(",", " ").split()
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


def _cells_numpy(body: str, raw: bytes, n: int, symbol_map: dict[str, int]) -> tuple[np.ndarray, np.ndarray] | None:
    """C-speed parse: quoted symbols become NaN, then numpy reads the numbers in one go.

    Safe because the caller allowed only digits, signs, `.eE`, quotes, commas and blanks, and
    the number of blank-separated tokens must equal both `n` and the numbers numpy found.
    """
    u = np.frombuffer(raw, dtype=np.uint8)
    blank = (u == 32) | (u == 9) | (u == 10) | (u == 13) | (u == 44)
    ntok = int(np.count_nonzero(~blank[1:] & blank[:-1])) + int(len(u) > 0 and not blank[0])
    if ntok != n:
        return None
    quoted = _QUOTED.findall(body)
    codes = np.array([symbol_map.get(q[1:-1], 255) for q in quoted], dtype=np.uint8)
    if (codes == 255).any():
        return None
    numeric = _QUOTED.sub(" nan ", body) if quoted else body
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            values = np.fromstring(numeric.replace(",", " "), dtype=np.float64, sep=" ")
        except (ValueError, DeprecationWarning):
            return None
    if len(values) != n:
        return None
    nan_at = np.flatnonzero(np.isnan(values))
    if len(nan_at) != len(quoted) or not np.isfinite(np.delete(values, nan_at)).all():
        return None
    symbols = np.zeros(n, dtype=np.uint8)
    symbols[nan_at] = codes
    values[nan_at[codes == sym.NIL]] = 0.0
    return values, symbols


def _cells_exact(sc: _Scanner, n: int, symbol_map: dict[str, int], data_line: int) -> tuple[np.ndarray, np.ndarray]:
    """Token-by-token DATA parse that names the line of any problem."""
    values = np.empty(n, dtype=np.float64)
    symbols = np.zeros(n, dtype=np.uint8)
    i = 0
    while True:
        t = sc.next()
        if t is None:
            raise ReadError(f"DATA is not ended by ';' ({i} cells found)", source=sc.source,
                            where=f"line {sc.line}", expected=f"{n} cells then ';'")
        if t.kind == "punct":
            if t.text == ";":
                break
            if t.text == ",":
                continue
            raise sc.error(f"unexpected {t.text!r} in DATA", t.line, expected="numbers or quoted symbols")
        if i >= n:
            raise sc.error(f"DATA has more cells than the {n} the variables give: extra cell {t.text!r}",
                           t.line, expected=f"{n} cells")
        tok = t.text.strip() if t.kind == "str" else t.text
        if _NUMBER.match(tok):
            values[i], symbols[i] = float(tok), sym.NUMBER
            if not math.isfinite(values[i]):
                raise sc.error(f"number {tok} in DATA is out of range (cell {i + 1})", t.line)
        elif tok in symbol_map:
            code = symbol_map[tok]
            values[i], symbols[i] = (0.0 if code == sym.NIL else math.nan), code
        else:
            shown = f'"{t.text}"' if t.kind == "str" else t.text
            what = "unknown symbol" if t.kind == "str" and not re.search(r"\d", tok) else "not a number or symbol"
            raise sc.error(f"{what} {shown} in DATA (cell {i + 1})", t.line,
                           expected='a number or one of "." ".." "..." "...." "....." "......" "-" ":"')
        i += 1
    if i != n:
        raise ReadError(f"DATA has {i} cells, expected {n} (the product of the VALUES counts)",
                        source=sc.source, where=f"line {sc.line}",
                        expected=f"{n} cells starting at line {data_line}")
    return values, symbols


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


def _timeval(e: _Entry, source: str) -> dict[str, Any]:
    toks = e.value
    if toks and toks[0].kind == "word" and toks[0].text.upper().startswith("TLIST"):
        inner: list[str] = []
        k = 1
        if len(toks) > 1 and toks[1].text == "(":
            k = 2
            while k < len(toks) and toks[k].text != ")":
                if toks[k].text != ",":
                    inner.append(toks[k].text)
                k += 1
            k += 1
        if not inner:
            raise ReadError(f"{e.name}: TLIST without a time scale", source=source, where=f"line {e.line}",
                            expected="TLIST(A1), TLIST(Q1), TLIST(M1)...")
        rest = toks[k:]
        if rest and rest[0].text == ",":
            rest = rest[1:]
        out: dict[str, Any] = {"tlist": inner[0]}
        if len(inner) > 1 and rest and rest[0].text == "-":
            out["from"], out["to"] = inner[1], rest[1].text if len(rest) > 1 else ""
        else:
            out["values"] = _items(_Entry(e.key, e.lang, e.sub, rest, e.line), source) if rest else []
        return out
    return {"tlist": None, "values": _items(e, source)}


def _expand_range(tv: dict[str, Any], e_line: int, source: str) -> list[str]:
    per = {"A1": 1, "H1": 2, "T1": 3, "Q1": 4, "M1": 12, "W1": 52}.get(str(tv["tlist"]).upper())
    a, b = str(tv["from"]), str(tv["to"])
    if per is None or not (a.isdigit() and b.isdigit() and len(a) == len(b) >= 4):
        raise ReadError(f"cannot expand the TIMEVAL range {a}-{b}", source=source, where=f"line {e_line}",
                        expected="VALUES for the time variable")
    width = len(a) - 4

    def ordinal(x: str) -> int:
        return int(x[:4]) * per + (int(x[4:]) - 1 if width else 0)

    lo, hi = ordinal(a), ordinal(b)
    if hi < lo or hi - lo > 10000:
        raise ReadError(f"bad TIMEVAL range {a}-{b}", source=source, where=f"line {e_line}")
    return [f"{o // per}" + (f"{o % per + 1:0{width}d}" if width else "") for o in range(lo, hi + 1)]


def read(data: bytes, source: str) -> list[Table]:
    """The one cube in a PX file; ReadError naming the line of anything that does not fit."""
    if not data.strip():
        raise ReadError("file is empty", source=source, where="line 1", expected="a PX file")
    notes: list[str] = []
    text, encoding = _decode(data, source, notes)
    entries, sc, data_line = _parse(text, source)

    main: dict[tuple[str, tuple[str, ...]], _Entry] = {}
    lang_entries: list[_Entry] = []
    default_lang = None
    for e in entries:
        if e.key == "LANGUAGE" and e.lang is None:
            default_lang = _scalar(e, source)
    notes_list: list[str] = []
    for e in entries:
        if e.lang is not None and e.lang != default_lang:
            lang_entries.append(e)
            continue
        k = (e.key, e.sub)
        if e.key in ("NOTE", "NOTEX") and not e.sub:
            notes_list.append(" ".join(_items(e, source)))
            continue
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
            codes = _items(ce, source)
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
            if txt != tok and txt in sym.CODE and txt not in ("", "*", "r"):
                symbol_map[tok] = sym.CODE[txt]
                notes.append(f"line {e.line}: {key}={txt!r}: cells {tok!r} read as the SSB symbol {txt!r}")
    for key in ("DATASYMBOLNIL", "DATASYMBOLSUM"):
        e = get(key)
        if e is not None:
            datasymbols[key] = _scalar(e, source)
            consumed.add((key, ()))

    n = math.prod(len(d) for d in dims)
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
        values, symbols = _cells_exact(sc, n, symbol_map, data_line)
        rest = text[sc.pos:]
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
    contlabels = set(dims[variables.index(contvar)].labels) if contvar else set()

    for (key, sub), e in main.items():
        if (key, sub) in consumed or key in ("STUB", "HEADING", "CONTVARIABLE", "LANGUAGE", "CODEPAGE"):
            continue
        items = _items(e, source) if key not in ("TIMEVAL",) else []
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
    if default_lang:
        meta["language"] = default_lang
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
        items = _items(e, source) if e.key != "TIMEVAL" else [" ".join(t.text for t in e.value)]
        translations.setdefault(e.lang or "", {})[e.name.replace(f"[{e.lang}]", "")] = items[0] if len(items) == 1 else items
    if translations:
        meta["translations"] = translations
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


def write_px(table: Table, path: str | Path | None, codepage: str = "iso-8859-1") -> str | None:
    """Write `table` as a PX file (STUB = all dimensions but the last, HEADING = the last).

    Returns the text when `path` is None; otherwise writes the bytes in `codepage`, the
    encoding the file declares. read(write_px(t)) gives a Table equal to `t`.
    """
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
    if meta.get("language"):
        kw("LANGUAGE", _q(str(meta["language"]), "language"))
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
        if d.has_labels or d.role == "time":
            kw(f"CODES({var})", _qlist(d.codes, "code"))
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
        keys = ",".join(_q(_cell_key(d, int(j)), "label") for d, j in zip(dims, idx, strict=True))
        kw(f"DATANOTECELL({keys})", _q(sym.TEXT[int(table.symbols[tuple(idx)])], "flag"))
    out.append("DATA=")
    width = len(dims[-1])
    cells = _cell_texts(table)
    for start in range(0, len(cells), width):
        row = cells[start:start + width]
        for k in range(0, len(row), 20):
            out.append(" ".join(row[k:k + 20]))
    out[-1] += ";"
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
