"""The canonical measure vocabulary: one name for what SSB publishes under many.

SSB calls births `Fodte2`, "Births", "Levendefødte" or `births`, and labels out-migration
to other municipalities "Emigration, domestic". Rules are written against canonical names
(`births`, `out_migration_domestic`, ...); this module maps every published code or label
to them, from `data/measures.yaml`, so that SSB knowledge stays data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from migaudit.errors import RuleError
from migaudit.knowledge.classification import label_key

KINDS = ("flow", "stock", "net", "ratio")
_SOURCE = "migaudit/data/measures.yaml"


@dataclass(frozen=True)
class Alias:
    """A published code or label of a measure, with any dimension hidden in it."""

    text: str
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Measure:
    """A canonical measure: what it counts and whether a negative number is plausible."""

    name: str
    kind: str
    may_be_negative: bool
    description_en: str = ""
    description_no: str = ""
    labels_en: tuple[str, ...] = ()
    labels_no: tuple[str, ...] = ()
    aliases: tuple[Alias, ...] = ()

    @property
    def label_en(self) -> str:
        return self.labels_en[0] if self.labels_en else self.name

    @property
    def label_no(self) -> str:
        return self.labels_no[0] if self.labels_no else self.label_en


def _strs(value: Any, where: str, source: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str | int | float):
        return (str(value),)
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return tuple(str(v) for v in value)
    raise RuleError("not a string or list of strings", source=source, where=where, expected="text")


def parse_measures(doc: Any, source: str = _SOURCE) -> dict[str, Measure]:
    """Measures from a parsed YAML document; malformed entries raise `RuleError`."""
    if not isinstance(doc, dict) or not isinstance(doc.get("measures"), list):
        raise RuleError("no measures list", source=source, where="measures", expected="measures: [...]")
    out: dict[str, Measure] = {}
    for i, m in enumerate(doc["measures"]):
        where = f"measures[{i}]"
        if not isinstance(m, dict) or not isinstance(m.get("name"), str):
            raise RuleError("measure without a name", source=source, where=where, expected="a mapping with name:")
        name = m["name"]
        if name in out:
            raise RuleError(f"measure {name!r} defined twice", source=source, where=f"{where}.name")
        kind = m.get("kind")
        if kind not in KINDS:
            raise RuleError(f"unknown kind {kind!r}", source=source, where=f"{where}.kind", expected=" / ".join(KINDS))
        neg = m.get("may_be_negative", kind in ("net", "ratio"))
        if not isinstance(neg, bool):
            raise RuleError("not true/false", source=source, where=f"{where}.may_be_negative", expected="a boolean")
        desc = m.get("description") or {}
        labels = m.get("labels") or {}
        if not isinstance(desc, dict) or not isinstance(labels, dict):
            raise RuleError("not a mapping", source=source, where=f"{where}.labels", expected="{en: ..., no: ...}")
        aliases: list[Alias] = [Alias(name)]
        raw = m.get("aliases") or []
        if not isinstance(raw, list):
            raise RuleError("not a list", source=source, where=f"{where}.aliases", expected="a list of labels")
        for j, a in enumerate(raw):
            aw = f"{where}.aliases[{j}]"
            if isinstance(a, str | int):
                aliases.append(Alias(str(a)))
            elif isinstance(a, dict) and isinstance(a.get("alias"), str | int):
                extra = a.get("extra") or {}
                if not isinstance(extra, dict):
                    raise RuleError("extra is not a mapping", source=source, where=f"{aw}.extra", expected="{role: code}")
                aliases.append(Alias(str(a["alias"]), {str(k): str(v) for k, v in extra.items()}))
            else:
                raise RuleError("bad alias", source=source, where=aw, expected="a label or {alias: ..., extra: {...}}")
        out[name] = Measure(
            name=name,
            kind=kind,
            may_be_negative=neg,
            description_en=str(desc.get("en", "")).strip(),
            description_no=str(desc.get("no", "")).strip(),
            labels_en=_strs(labels.get("en"), f"{where}.labels.en", source),
            labels_no=_strs(labels.get("no"), f"{where}.labels.no", source),
            aliases=tuple(aliases),
        )
    return out


@lru_cache(maxsize=1)
def _catalogue() -> tuple[dict[str, Measure], dict[str, tuple[str, dict[str, str]]]]:
    text = resources.files("migaudit").joinpath("data/measures.yaml").read_text(encoding="utf-8")
    measures = parse_measures(yaml.safe_load(text))
    index: dict[str, tuple[str, dict[str, str]]] = {}
    for m in measures.values():
        for a in (*m.aliases, *(Alias(x) for x in (*m.labels_en, *m.labels_no))):
            key = label_key(a.text)
            hit = (m.name, a.extra)
            if key in index and index[key] != hit:
                raise RuleError(
                    f"alias {a.text!r} names both {index[key][0]} and {m.name}",
                    source=_SOURCE, where=f"measures[{m.name}].aliases", expected="each alias once",
                )
            index[key] = hit
    return measures, index


def measures() -> dict[str, Measure]:
    """All canonical measures by name (read once from the package data)."""
    return dict(_catalogue()[0])


def resolve_measure(label_or_code: str) -> tuple[str, dict[str, str]] | None:
    """(canonical name, extra dimensions) of a published measure code or label, else None.

    The extra dimensions are those SSB folds into the label, e.g. "Norwegian citizens,
    immigration" gives ``("immigration", {"citizenship": "000"})``.
    """
    _, index = _catalogue()
    hit = index.get(label_key(label_or_code, index))
    if hit is None:
        return None
    return hit[0], dict(hit[1])


def canonical_measure(label_or_code: str) -> str | None:
    """The canonical measure name of a published code or label, None when unknown."""
    hit = resolve_measure(label_or_code)
    return hit[0] if hit else None


def measure_info(name: str) -> Measure:
    """The `Measure` of a canonical name (or of any alias, for convenience)."""
    catalogue, _ = _catalogue()
    if name in catalogue:
        return catalogue[name]
    canon = canonical_measure(name)
    if canon is None:
        raise KeyError(f"unknown measure {name!r}")
    return catalogue[canon]
