"""SSB period codes (`2011`, `2014K3`, `2014Q3`, `2018M05`) and their order.

Time links need "the period before t" and conditions need "is t a fourth quarter or a
whole year"; both come from parsing the code, never from the position in a table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})\s*[KQ]([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})\s*M(\d{2})$", re.IGNORECASE)
_QUARTER_TEXT = re.compile(r"^(\d)(?:st|nd|rd|th) quarter (\d{4})$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Period:
    year: int
    #: "year", "quarter" or "month"
    freq: str
    #: quarter 1–4 or month 1–12; 0 for a year
    sub: int = 0

    @property
    def code(self) -> str:
        if self.freq == "quarter":
            return f"{self.year}K{self.sub}"
        if self.freq == "month":
            return f"{self.year}M{self.sub:02d}"
        return str(self.year)

    def previous(self) -> Period:
        if self.freq == "year":
            return Period(self.year - 1, "year")
        last = 4 if self.freq == "quarter" else 12
        if self.sub == 1:
            return Period(self.year - 1, self.freq, last)
        return Period(self.year, self.freq, self.sub - 1)

    def tags(self) -> set[str]:
        """Words a rule condition may test: `year`, `Q4`, `quarter`, `M05`, `2011`."""
        out = {self.freq, str(self.year)}
        if self.freq == "quarter":
            out.add(f"Q{self.sub}")
        if self.freq == "month":
            out.add(f"M{self.sub:02d}")
        return out


def parse_period(text: str) -> Period | None:
    """The period a time code names, or None when it names none (`change`)."""
    t = str(text).strip()
    if m := _YEAR.match(t):
        return Period(int(m[1]), "year")
    if m := _QUARTER.match(t):
        return Period(int(m[1]), "quarter", int(m[2]))
    if m := _MONTH.match(t):
        return Period(int(m[1]), "month", int(m[2]))
    if m := _QUARTER_TEXT.match(t):
        return Period(int(m[2]), "quarter", int(m[1]))
    return None
