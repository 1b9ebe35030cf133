"""SSB classifications (regions, citizenship) as dated data, and label normalisation.

Placeholder: the classification loader follows; `normalize_label` is shared with
`migaudit.measures` so that both match published labels the same way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container

_SUPERSCRIPTS = "\u00b9\u00b2\u00b3\u2070\u2071\u2074\u2075\u2076\u2077\u2078\u2079\u207a\u207b\u207c\u207d\u207e"
_MARKERS = re.compile(f"[{_SUPERSCRIPTS}]")
_DASHES = re.compile("[\u2010\u2011\u2012\u2013\u2014\u2015\u2212]")
_SPACES = re.compile(r"\s+")
_HYPHEN_GAP = re.compile(r"(?<=\w)- +(?=[A-ZÆØÅÄÖÜ])")
_COMMA_TOTAL = re.compile(r",\s*(total|i alt)$", re.IGNORECASE)
_TRAILING_MARKER = re.compile(r"^(.*\D)\s+\d{1,2}(?:\s*,?\s*\d{1,2})*$")


def _basic(text: str) -> str:
    t = unicodedata.normalize("NFC", str(text))
    t = _MARKERS.sub(" ", t)
    t = _DASHES.sub("-", t)
    t = _SPACES.sub(" ", t).strip()
    t = _HYPHEN_GAP.sub("-", t)
    t = _COMMA_TOTAL.sub(r" \1", t)
    return t


def normalize_label(text: str, known: Container[str] | None = None) -> str:
    """A published label in the form used for matching, so that SSB's variants meet.

    Strips footnote markers (superscripts such as ``¹``), collapses whitespace, unifies
    dashes, joins ``Bosnia- Herzegovina`` and treats ``North America, total`` as
    ``North America total``. A trailing plain-digit marker (``Serbia 1``) is stripped only
    when ``known`` (casefolded normalised labels) holds the bare label but not the full one,
    so that real labels ending in digits survive. Case is kept; compare with ``casefold()``.
    """
    t = _basic(text)
    if known is not None and t.casefold() not in known:
        m = _TRAILING_MARKER.match(t)
        if m:
            bare = m.group(1).strip()
            if bare.casefold() in known:
                return bare
    return t


def label_key(text: str, known: Container[str] | None = None) -> str:
    """The case-insensitive lookup key of a label (`normalize_label`, casefolded)."""
    return normalize_label(text, known).casefold()
