"""What a table's unit says about its numbers: whole counts, or rounded figures.

Read from (readers fill these; other keys are ignored):
  Table.decimals                  decimals shown (PX SHOWDECIMALS/DECIMALS, JSON-stat unit.decimals)
  Table.unit                      the unit text: "persons", "1000 persons", "thousands", "per cent", ...
  Table.meta["unit_multiplier"]   SDMX-style power of ten (3 = thousands, 6 = millions)
  Table.meta["multiplier"]        a factor (1000 = thousands)
  Table.meta["units"]             JSON-stat category units {dim: {code: {decimals, multiplier, ...}}}
  Table.meta["rounding_base"]     figures rounded to a multiple of this (ONS: 5), in published units
  Table.title, Table.meta["measure"]  averages and estimates ("Middelfolkemengd", "mean population",
                                  vocabulary `rounded`) are rounded to whole units
  Table.unit                      a measured quantity (tonnes, hectares, kroner: vocabulary
                                  `rounded.units`) is rounded to the last digit shown
A unit that names a rate, share, average or index ("Index", "per cent", vocabulary
`non_additive`) makes the table's figures non-additive: no sum rule applies to them.
A figure shown with decimals, in thousands or millions, or rounded to a base is rounded:
it need not be a whole number, and a sum of n such figures may miss the published total by
up to n × half the last unit (the tolerance reported with each finding).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from migaudit.model.table import Table

_MULTIPLIER_WORDS = (
    (re.compile(r"\b(millions?|mill\.?|millioner|miljoner|miljoonaa?|millionen|millones)\b", re.I), 1e6),
    (re.compile(r"\b(thousands?|1 ?000|tusen|tusental|tuhatta|tausend|milliers|miles)\b", re.I), 1e3),
)


@dataclass(frozen=True)
class Units:
    decimals: int = 0
    multiplier: float = 1.0
    rounding_base: float | None = None
    unit: str = ""
    #: why the figures are taken as rounded when the unit alone does not say so
    rounded_because: str = ""

    @property
    def non_additive(self) -> str | None:
        """The word of the declared unit that makes the figures non-additive (None for counts)."""
        if not self.unit:
            return None
        from migaudit.structure.vocabulary import vocabulary

        return vocabulary().non_additive_word(self.unit)

    @property
    def rounded(self) -> bool:
        """The published figures are rounded (so they need not be whole, nor add up exactly)."""
        return self.decimals > 0 or self.multiplier != 1.0 or bool(self.rounding_base)

    @property
    def half_unit(self) -> float:
        """Half a unit of the last published digit: the most one rounded figure can be off."""
        if self.rounding_base:
            return self.rounding_base / 2
        if self.rounded:
            return 0.5 * 10.0 ** -self.decimals
        return 0.0

    @property
    def whole_numbers(self) -> bool:
        """Counts in this unit are whole numbers (false for thousands with a decimal, millions)."""
        return not self.rounded

    def describe(self, n_figures: int) -> str:
        """How a tolerance of n figures' rounding is made up, for the finding's message."""
        if not self.half_unit:
            return ""
        why = (f"rounded to {self.rounding_base:g}" + (f": {self.rounded_because}" if self.rounded_because else "")
               if self.rounding_base else
               f"{self.decimals} decimal{'s' if self.decimals != 1 else ''}" if self.decimals else
               f"in units of {self.multiplier:g}")
        return f"{n_figures} rounded figures × {self.half_unit:g} ({why})"


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def units_of(table: Table) -> Units:
    """The units of a table from what its reader recorded."""
    meta = table.meta or {}
    decimals = int(table.decimals or 0)
    multiplier = 1.0
    if (exp := _number(meta.get("unit_multiplier"))) is not None:
        multiplier = 10.0 ** exp
    elif (factor := _number(meta.get("multiplier"))) is not None and factor > 0:
        multiplier = factor
    else:
        for cats in (meta.get("units") or {}).values():
            for u in (cats or {}).values() if isinstance(cats, dict) else ():
                if isinstance(u, dict):
                    if (f := _number(u.get("multiplier"))) is not None:
                        multiplier = max(multiplier, 10.0 ** f if f < 10 else f)
                    if (d := _number(u.get("decimals"))) is not None:
                        decimals = max(decimals, int(d))
        text = " ".join(str(x) for x in (table.unit or "",) if x)
        for pattern, factor in _MULTIPLIER_WORDS:
            if multiplier == 1.0 and pattern.search(text):
                multiplier = factor
    base = _number(meta.get("rounding_base"))
    because = ""
    if not base and decimals == 0 and multiplier == 1.0:
        from migaudit.structure.vocabulary import vocabulary

        for text in (table.title, str(meta.get("measure") or "")):
            if text and (w := vocabulary().rounded_word(text)) is not None:
                base, because = 1.0, f"{w!r} figures are averages or estimates"
                break
        if not base and table.unit and (w := vocabulary().measured_unit(str(table.unit))) is not None:
            base, because = 1.0, f"a quantity in {w!r} is rounded to the last digit shown"
    return Units(decimals, multiplier, base if base and base > 0 else None, str(table.unit or ""), because)
