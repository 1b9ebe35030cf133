"""The tidy cube every reader produces and every check consumes.

A `Table` is dense: one axis per dimension, a float64 `values` array (NaN where no number
is published) and a uint8 `symbols` array (codes into `migaudit.symbols.SYMBOLS`). Dense
blocks are what lets the engine check 10M cells in tens of milliseconds; `frame()` gives
the tidy long form (one column per dimension, labels beside codes, `value`, `symbol`)
at the edges.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from . import symbols as sym
from .errors import ReadError

ROLES = ("time", "region", "citizenship", "measure", "sex", "age")


@dataclass(frozen=True)
class Dimension:
    """One axis of a cube: codes in published order, labels beside them."""

    name: str
    codes: tuple[str, ...]
    labels: tuple[str, ...] = ()
    role: str | None = None
    label: str | None = None
    #: footnote markers on categories, e.g. {"Serbia": ("1",)}
    footnotes: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "codes", tuple(str(c) for c in self.codes))
        labels = tuple(str(x) for x in self.labels) if self.labels else self.codes
        object.__setattr__(self, "labels", labels)
        if len(labels) != len(self.codes):
            raise ValueError(f"dimension {self.name}: {len(self.codes)} codes but {len(labels)} labels")
        if len(set(self.codes)) != len(self.codes):
            seen: set[str] = set()
            dup = next(c for c in self.codes if c in seen or seen.add(c))  # type: ignore[func-returns-value]
            raise ValueError(f"dimension {self.name}: duplicate category {dup!r}")

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def has_labels(self) -> bool:
        """True when the labels say more than the codes (JSON-stat `0301` / `Oslo`)."""
        return self.labels != self.codes

    def index(self, code: str) -> int:
        return self.codes.index(code)

    def label_of(self, code: str) -> str:
        return self.labels[self.codes.index(code)]


@dataclass
class Table:
    """A dense cube of SSB cells with the metadata needed to check and report it."""

    dimensions: list[Dimension]
    values: np.ndarray
    symbols: np.ndarray
    id: str = ""
    title: str = ""
    source: str = ""
    unit: str | None = None
    decimals: int = 0
    footnotes: list[str] = field(default_factory=list)
    #: what a reader had to decide about its input (line numbers included), shown in reports
    notes: list[str] = field(default_factory=list)
    #: anything else the source said (SSB extensions, table number, reference year, ...)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        shape = tuple(len(d) for d in self.dimensions)
        self.values = np.asarray(self.values, dtype=np.float64).reshape(shape)
        self.symbols = np.asarray(self.symbols, dtype=np.uint8).reshape(shape)
        names = [d.name for d in self.dimensions]
        if len(set(names)) != len(names):
            raise ValueError(f"table {self.id}: duplicate dimension names {names}")

    # --- shape and lookup -------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.values.shape

    @property
    def size(self) -> int:
        return int(self.values.size)

    def axis(self, name_or_role: str) -> int:
        """Axis number of the dimension with this name, or else with this role."""
        for i, d in enumerate(self.dimensions):
            if d.name == name_or_role:
                return i
        for i, d in enumerate(self.dimensions):
            if d.role == name_or_role:
                return i
        raise KeyError(f"table {self.id} has no dimension {name_or_role!r}")

    def dim(self, name_or_role: str) -> Dimension:
        return self.dimensions[self.axis(name_or_role)]

    def has(self, name_or_role: str) -> bool:
        try:
            self.axis(name_or_role)
        except KeyError:
            return False
        return True

    def cell(self, **keys: str) -> tuple[float, str]:
        """(value, symbol text) of the cell at these codes (or labels)."""
        idx = []
        for d in self.dimensions:
            key = keys.get(d.name, keys.get(d.role or "", None))
            if key is None:
                if len(d) == 1:
                    idx.append(0)
                    continue
                raise KeyError(f"cell(): missing key for dimension {d.name!r}")
            idx.append(d.codes.index(key) if key in d.codes else d.labels.index(key))
        t = tuple(idx)
        return float(self.values[t]), sym.TEXT[int(self.symbols[t])]

    def symbol_counts(self) -> dict[str, int]:
        counts = np.bincount(self.symbols.ravel(), minlength=len(sym.SYMBOLS))
        return {sym.TEXT[i] or "number": int(n) for i, n in enumerate(counts) if n}

    def total(self) -> float:
        """Sum of all published numbers (nil counts 0): a fingerprint for tests."""
        return float(np.nansum(self.values))

    def with_meta(self, **changes: Any) -> Table:
        return replace(self, **changes)

    # --- tidy form ----------------------------------------------------------------------
    def frame(self) -> pd.DataFrame:
        """The tidy long form: dimension codes, `<dim>_label` where labels differ, value, symbol."""
        shape = self.shape
        grids = np.indices(shape).reshape(len(shape), -1) if shape else np.zeros((0, 1), int)
        cols: dict[str, Any] = {}
        for i, d in enumerate(self.dimensions):
            codes = np.asarray(d.codes, dtype=object)[grids[i]]
            cols[d.name] = codes
            if d.has_labels:
                cols[f"{d.name}_label"] = np.asarray(d.labels, dtype=object)[grids[i]]
        cols["value"] = self.values.ravel()
        cols["symbol"] = np.asarray(sym.TEXT, dtype=object)[self.symbols.ravel()]
        return pd.DataFrame(cols)

    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        dims: list[str] | None = None,
        roles: dict[str, str] | None = None,
        source: str = "<frame>",
        **meta: Any,
    ) -> Table:
        """Build a cube from a tidy frame; missing key combinations become `.` (no cell).

        Duplicate keys and unknown symbols raise a `ReadError` naming the row.
        """
        roles = roles or {}
        if dims is None:
            dims = [c for c in df.columns if c not in ("value", "symbol") and not str(c).endswith("_label")]
        for col in [*dims, "value"]:
            if col not in df.columns:
                raise ReadError(f"no column {col!r}", source=source, expected=f"columns {dims + ['value', 'symbol']}")
        dimensions = []
        positions = []
        for name in dims:
            codes = df[name].astype(str)
            uniq = list(dict.fromkeys(codes))
            labels = uniq
            if f"{name}_label" in df.columns:
                first = dict(zip(codes, df[f"{name}_label"].astype(str), strict=True))
                labels = [first[c] for c in uniq]
            dimensions.append(Dimension(name, tuple(uniq), tuple(labels), role=roles.get(name, guess_role(name))))
            lookup = {c: i for i, c in enumerate(uniq)}
            positions.append(codes.map(lookup).to_numpy(dtype=np.int64))
        shape = tuple(len(d) for d in dimensions)
        flat = np.ravel_multi_index(positions, shape) if dims else np.zeros(len(df), dtype=np.int64)
        if len(np.unique(flat)) != len(flat):
            _, first_idx, counts = np.unique(flat, return_index=True, return_counts=True)
            row = int(first_idx[np.argmax(counts > 1)])
            key = {n: str(df[n].iloc[row]) for n in dims}
            raise ReadError(f"duplicate key {key}", source=source, where=f"row {row + 1}")
        values = np.full(int(np.prod(shape)), np.nan)
        symbols = np.full(int(np.prod(shape)), sym.NOT_APPLICABLE, dtype=np.uint8)
        values[flat] = pd.to_numeric(df["value"], errors="coerce").to_numpy(dtype=np.float64)
        if "symbol" in df.columns:
            texts = df["symbol"].fillna("").astype(str).str.strip()
            unknown = ~texts.isin(sym.CODE.keys())
            if unknown.any():
                row = int(np.argmax(unknown.to_numpy()))
                raise ReadError(
                    f"unknown symbol {texts.iloc[row]!r}", source=source, where=f"row {row + 1}",
                    expected="one of " + " ".join(repr(t) for t in sym.TEXT),
                )
            symbols[flat] = texts.map(sym.CODE).to_numpy(dtype=np.uint8)
        else:
            symbols[flat] = np.where(np.isnan(values[flat]), sym.CODE[".."], sym.NUMBER)
        return cls(dimensions, values.reshape(shape), symbols.reshape(shape), source=source, **meta)

    def equals(self, other: Table) -> bool:
        """Same dimensions (codes, labels), same numbers and symbols."""
        if [(d.name, d.codes, d.labels) for d in self.dimensions] != [
            (d.name, d.codes, d.labels) for d in other.dimensions
        ]:
            return False
        return bool(
            np.array_equal(self.values, other.values, equal_nan=True)
            and np.array_equal(self.symbols, other.symbols)
        )

    def __repr__(self) -> str:
        dims = " × ".join(f"{d.name}[{len(d)}]" for d in self.dimensions)
        return f"<Table {self.id or '?'}: {dims} = {self.size} cells>"


_ROLE_WORDS = {
    "time": ("time", "tid", "year", "år", "quarter", "kvartal", "period", "month", "måned"),
    "region": ("region", "county", "fylke", "kommune", "municipality"),
    "citizenship": ("citizenship", "statsborgerskap", "landbakgrunn", "nationality", "country"),
    "measure": ("contents", "contentscode", "measure", "statistikkvariabel"),
    "sex": ("sex", "kjønn", "kjonn", "kjoenn"),
    "age": ("age", "alder"),
}


def guess_role(name: str) -> str | None:
    """The role a dimension plays, from its name (`Tid` → time, `Region` → region)."""
    n = name.lower()
    for role, words in _ROLE_WORDS.items():
        if n in words or any(n.startswith(w) for w in words):
            return role
    return None
