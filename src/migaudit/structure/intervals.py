"""Interval arithmetic on age labels: which bands contain which, and which tile a whole.

"15–64" is [15, 65); "65 or over", "85 -" and "100 years or older" are [65, ∞);
"Less than 15", "under 15 år" and "alle 15" are [0, 15); "0 years" and "1 year" are [0, 1).
A band that tiles another exactly is one of its parts; bands that overlap are never
summed together. Ages are whole years, so "15-19" ends where "20-24" starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from migaudit.knowledge.classification import label_key
from migaudit.structure.vocabulary import vocabulary

INF = 10**6


@dataclass(frozen=True, order=True)
class Interval:
    lo: int
    hi: int  # exclusive; INF when open-ended

    def contains(self, other: Interval) -> bool:
        return self.lo <= other.lo and other.hi <= self.hi and self != other

    def overlaps(self, other: Interval) -> bool:
        return self.lo < other.hi and other.lo < self.hi

    def __str__(self) -> str:
        return f"[{self.lo}, {'∞' if self.hi >= INF else self.hi})"


_NUM = r"(\d{1,3})"


def _strip_units(key: str) -> str:
    v = vocabulary()
    out = key
    for w in sorted(v.age_unit, key=len, reverse=True):
        out = re.sub(r"(?<![\w])" + re.escape(w) + r"(?![\w])", " ", out)
    out = re.sub(r"^(age|ages|alder|ålder|ikä|alter|âge|edad|aldur)\b:?", " ", out)
    return re.sub(r"\s+", " ", out).strip(" ,.:")


def _range_body(body: str) -> str:
    """ "from 5 to 9" → "5-9": a band written with the words of `age_words.range_*`."""
    v = vocabulary()
    out = body
    for w in sorted(v.age_range_from, key=len, reverse=True):
        if out.startswith(w + " "):
            out = out[len(w):].strip()
            break
    joiners = "|".join(re.escape(w) for w in sorted(v.age_range_to, key=len, reverse=True))
    m = re.fullmatch(_NUM + r"\s+(?:" + joiners + r")\s+" + _NUM, out)
    return f"{m.group(1)}-{m.group(2)}" if m else out


def parse_age(label: str) -> Interval | None:
    """The age interval a label names, or None when it names none."""
    key = label_key(label).replace("–", "-").replace("—", "-")
    v = vocabulary()
    body = _strip_units(key)
    if not body:
        return None
    m = re.fullmatch(_NUM, body)
    if m:
        n = int(m.group(1))
        return Interval(n, n + 1)
    ranged = _range_body(body)
    m = re.fullmatch(_NUM + r"\s*-\s*" + _NUM, ranged) or re.fullmatch(_NUM + r"\s+to\s+" + _NUM, ranged)
    if m:
        lo, hi = int(m.group(1)), int(m.group(2))
        return Interval(lo, hi + 1) if hi >= lo else None
    for w in sorted(v.age_or_over, key=len, reverse=True):
        m = re.fullmatch(_NUM + r"\s*" + re.escape(w), body)
        if m:
            return Interval(int(m.group(1)), INF)
    for w in sorted(v.age_under, key=len, reverse=True):
        m = re.fullmatch(re.escape(w) + r"\s*" + _NUM, body)
        if m and int(m.group(1)) > 0:
            return Interval(0, int(m.group(1)))
    return None


def exact_cover(whole: Interval, parts: dict[int, Interval]) -> list[int] | None:
    """The fewest disjoint `parts` that tile `whole` exactly (indices), or None.

    Coarsest first, so "Total" is checked against "0-14", "15-64", "65+" when those are
    shown, and each of those against its own five-year bands.
    """
    inside = {i: iv for i, iv in parts.items() if whole.contains(iv) or (iv.lo >= whole.lo and iv.hi <= whole.hi)}
    inside = {i: iv for i, iv in inside.items() if iv != whole}
    by_start: dict[int, list[tuple[int, Interval]]] = {}
    for i, iv in inside.items():
        by_start.setdefault(iv.lo, []).append((i, iv))
    best: dict[int, list[int] | None] = {whole.hi: []}
    # dynamic programming from the end: best[x] = fewest parts tiling [x, whole.hi)
    points = sorted({iv.lo for iv in inside.values()} | {whole.lo}, reverse=True)
    for x in points:
        options = []
        for i, iv in by_start.get(x, []):
            rest = best.get(iv.hi)
            if rest is not None:
                options.append([i, *rest])
        best[x] = min(options, key=len) if options else None
    found = best.get(whole.lo)
    return found if found else None
