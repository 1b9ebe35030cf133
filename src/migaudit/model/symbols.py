"""SSB's publication symbols, what each means for arithmetic, and cell parsing.

A cell is a (value, symbol) pair. Symbols are stored as small integer codes into
`SYMBOLS` so a 10M-cell cube keeps them in a uint8 array.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Symbol:
    text: str
    name: str
    meaning: str
    #: how checks treat the cell: "value" (use the number), "zero" (counts as 0),
    #: "absent" (no cell: not applicable), "unknown" (skip the check), "bound" (unknown but >= 0)
    arithmetic: str


SYMBOLS: tuple[Symbol, ...] = (
    Symbol("", "number", "a published number", "value"),
    Symbol("-", "nil", "nil: the category has no occurrences", "zero"),
    Symbol(".", "not_applicable", "category not applicable: no cell", "absent"),
    Symbol("..", "not_available", "data not available", "unknown"),
    Symbol("...", "not_yet_available", "data not yet available", "unknown"),
    Symbol("....", "symbol4", "not for publication (DATASYMBOL4)", "unknown"),
    Symbol(".....", "symbol5", "missing (DATASYMBOL5)", "unknown"),
    Symbol("......", "symbol6", "missing (DATASYMBOL6)", "unknown"),
    Symbol(":", "confidential", "suppressed for confidentiality", "bound"),
    Symbol("*", "preliminary", "preliminary figure", "value"),
    Symbol("r", "revised", "revised since the last publication", "value"),
)

CODE: dict[str, int] = {s.text: i for i, s in enumerate(SYMBOLS)}
TEXT: tuple[str, ...] = tuple(s.text for s in SYMBOLS)
NUMBER = CODE[""]
NIL = CODE["-"]
NOT_APPLICABLE = CODE["."]
CONFIDENTIAL = CODE[":"]

#: symbols whose cells carry no number
MISSING_CODES = np.array(
    [i for i, s in enumerate(SYMBOLS) if s.arithmetic in ("absent", "unknown", "bound")], dtype=np.uint8
)
UNKNOWN_CODES = np.array([i for i, s in enumerate(SYMBOLS) if s.arithmetic == "unknown"], dtype=np.uint8)

_MINUS = "\u2212\u2013\u2012"  # minus sign, en dash, figure dash
_SPACES = " \u00a0\u2009\u202f\u2007"
_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:[ \u00a0\u2009\u202f\u2007]\d{3})+(?:[.,]\d+)?$")
_PLAIN = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")


def lookup(text: str) -> Symbol:
    """The symbol for `text`; KeyError if SSB has no such symbol."""
    return SYMBOLS[CODE[text]]


def parse_number(text: str, decimal: str = ".") -> float:
    """Parse an SSB-formatted number: space-like thousand separators, any minus sign.

    Raises ValueError naming what was expected. `decimal` is "." or ","; with "," a
    comma is the decimal mark (StatBank CSV with Norwegian settings).
    """
    t = text.strip()
    for m in _MINUS:
        t = t.replace(m, "-")
    if not (_GROUPED.match(t) or _PLAIN.match(t)):
        raise ValueError(f"{text!r} is not a number")
    sep = "," if decimal == "," else "."
    other = "." if sep == "," else ","
    if other in t:
        raise ValueError(f"{text!r} has {other!r} where the decimal mark is {sep!r}")
    for s in _SPACES:
        t = t.replace(s, "")
    return float(t.replace(",", "."))


def parse_cell(text: str, decimal: str = ".") -> tuple[float, int]:
    """Parse one published cell into (value, symbol code).

    `-` is nil (value 0); `.`, `..`, `:` and the other missing symbols give NaN;
    a number may carry a `*` (preliminary) or `r` (revised) flag. Raises ValueError for
    anything else, so no cell is ever dropped silently.
    """
    t = text.strip()
    if t in CODE and t != "":
        code = CODE[t]
        if t in ("*", "r"):
            raise ValueError(f"{text!r} is a flag without a number")
        return (0.0 if code == NIL else math.nan), code
    if t in ("\u2212", "\u2013"):
        return 0.0, NIL
    flag = None
    if t.endswith("*"):
        flag, t = "*", t[:-1].rstrip()
    elif t.endswith("r") or t.startswith("r"):
        flag, t = "r", t.strip("r").strip()
    if not t:
        raise ValueError("empty cell")
    value = parse_number(t, decimal)
    return value, CODE[flag] if flag else NUMBER


def format_cell(value: float, symbol: int, decimals: int = 0) -> str:
    """Inverse of `parse_cell` with plain digits (no thousand separators)."""
    text = TEXT[symbol]
    if SYMBOLS[symbol].arithmetic in ("absent", "unknown", "bound", "zero"):
        return text
    number = f"{value:.{decimals}f}" if decimals else f"{value:.0f}" if float(value).is_integer() else repr(float(value))
    return number + text
