"""The structure vocabulary (`data/vocabulary.yaml`): totals, residuals, selections, ratios.

Words are data, not code, so a statistician can add a language or an office's total code
without touching the matching. Every test here works on `cube.norm` labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml

from migaudit.knowledge.classification import label_key

_SOURCE = Path(__file__).resolve().parent.parent / "data" / "vocabulary.yaml"


@lru_cache(maxsize=65536)
def _key(text: str) -> str:
    """`label_key`, remembered: the same labels are tested for many roles."""
    return label_key(text)


def _prefix_re(words: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern for "starts with one of these words" (a whole word, not "Otterøy" for "other")."""
    alts = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(r"^(?:" + alts + r")(?![\w])") if words else re.compile(r"(?!x)x")


def _words(node: Any) -> tuple[str, ...]:
    """A list, or a mapping of language → list, as one tuple of normalised words."""
    if node is None:
        return ()
    if isinstance(node, dict):
        return tuple(w for v in node.values() for w in _words(v))
    return tuple(dict.fromkeys(label_key(str(w)) for w in node if str(w).strip()))


@dataclass(frozen=True)
class Vocabulary:
    total_exact: frozenset[str]
    total_prefix: tuple[str, ...]
    total_codes: frozenset[str]
    subtotal_suffix: tuple[str, ...]
    subtotal_contains: tuple[str, ...]
    residual_prefix: tuple[str, ...]
    residual_suffix: tuple[str, ...]
    selection_prefix: tuple[str, ...]
    non_additive: tuple[str, ...]
    dimension_names: dict[str, frozenset[str]]
    sex_labels: frozenset[str]
    age_unit: tuple[str, ...]
    age_or_over: tuple[str, ...]
    age_under: tuple[str, ...]
    age_range_from: tuple[str, ...]
    age_range_to: tuple[str, ...]
    rounded: tuple[str, ...] = ()
    measured_units: tuple[str, ...] = ()
    split_same: tuple[str, ...] = ()
    split_other: tuple[str, ...] = ()

    # --- label tests ----------------------------------------------------------------
    def is_total(self, label: str) -> bool:
        key = _key(label)
        return key in self.total_exact or any(key.startswith(p) for p in self.total_prefix)

    def is_total_code(self, code: str) -> bool:
        return str(code).strip().upper() in self.total_codes

    def is_subtotal(self, label: str) -> bool:
        """A group's own total ("Europe total", "Vest-Europa i alt, unntatt Norge")."""
        key = re.sub(r"\s*[()]\s*", " ", _key(label)).strip()  # "Basic metals (total)"
        if self.is_total(label):
            return False
        if any(key.endswith(" " + s) or key.endswith("," + s) for s in self.subtotal_suffix):
            return True
        return any(c in key for c in self.subtotal_contains)

    def is_residual(self, label: str) -> bool:
        key = _key(label)
        return (bool(self._residual_re.match(key))
                or any(key.endswith(" " + s) for s in self.residual_suffix))

    def is_selection(self, label: str) -> bool:
        key = _key(label)
        return bool(self._selection_re.match(key))

    @cached_property
    def _residual_re(self) -> re.Pattern[str]:
        return _prefix_re(self.residual_prefix)

    @cached_property
    def _selection_re(self) -> re.Pattern[str]:
        return _prefix_re(self.selection_prefix)

    @cached_property
    def _non_additive_re(self) -> re.Pattern[str]:
        words = sorted((w for w in self.non_additive if w != "%"), key=len, reverse=True)
        return re.compile(r"(?<![\w])(" + "|".join(re.escape(w) for w in words) + r")(?![\w])")

    def non_additive_word(self, label: str) -> str | None:
        """The word that makes a measure a rate, share, average or index (None for counts)."""
        key = _key(label)
        if "%" in key and "%" in self.non_additive:
            return "%"
        m = self._non_additive_re.search(key)
        return m.group(1) if m else None

    def rounded_word(self, text: str) -> str | None:
        """The word that says figures are averages or estimates, so rounded (None otherwise)."""
        key = _key(text)
        return next((w for w in self.rounded if re.search(r"(?<![\w])" + re.escape(w), key)), None)

    def measured_unit(self, unit: str) -> str | None:
        """The word of a unit that names a measured quantity (tonnes, hectares, kroner), so figures
        rounded to the last digit shown; None for counts ("persons") and unknown units."""
        key = _key(unit)
        return next((w for w in self.measured_units
                     if re.search(r"(?<![\w])" + re.escape(w) + r"(?![\w])", key)), None)
    def split_side(self, label: str) -> str | None:
        """"same" or "other" when the label is one side of a total split in two (whole words)."""
        key = _key(label)
        sides = [side for side, words in (("same", self.split_same), ("other", self.split_other))
                 if any(re.search(r"(?<![\w])" + re.escape(w) + r"(?![\w])", key) for w in words)]
        return sides[0] if len(sides) == 1 else None

    def role_of_name(self, name: str) -> str | None:
        key = _key(name)
        for role, names in self.dimension_names.items():
            if key in names:
                return role
        return None


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The shipped vocabulary (read once)."""
    doc = yaml.safe_load(_SOURCE.read_text(encoding="utf-8"))
    total = doc["total"]
    return Vocabulary(
        total_exact=frozenset(_words(total["exact"])),
        total_prefix=_words(total.get("prefix")),
        total_codes=frozenset(str(c).strip().upper() for c in total.get("codes", [])),
        subtotal_suffix=_words(doc["subtotal"].get("suffix")),
        subtotal_contains=tuple(str(w).lower() for w in doc["subtotal"].get("contains", [])),
        residual_prefix=_words(doc["residual"].get("prefix")),
        residual_suffix=_words(doc["residual"].get("suffix")),
        selection_prefix=_words(doc["selection"].get("prefix")),
        non_additive=_words(doc["non_additive"].get("contains")),
        dimension_names={k: frozenset(_words(v)) for k, v in doc["dimension_names"].items()},
        sex_labels=frozenset(_words(doc["sex_labels"])),
        age_unit=_words(doc["age_words"]["unit"]),
        age_or_over=_words(doc["age_words"]["or_over"]),
        age_under=_words(doc["age_words"]["under"]),
        age_range_from=_words(doc["age_words"]["range_from"]),
        age_range_to=_words(doc["age_words"]["range_to"]),
        rounded=_words((doc.get("rounded") or {}).get("contains")),
        measured_units=_words((doc.get("rounded") or {}).get("units")),
        split_same=_words((doc.get("split") or {}).get("same")),
        split_other=_words((doc.get("split") or {}).get("other")),
    )
