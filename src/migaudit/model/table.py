"""The tidy cube every reader produces and every check consumes.

A `Table` is dense: one axis per dimension, a float64 `values` array (NaN where no number
is published) and a uint8 `symbols` array (codes into `migaudit.model.symbols.SYMBOLS`). Dense
blocks are what lets the engine check 10M cells in tens of milliseconds; `frame()` gives
the tidy long form (one column per dimension, labels beside codes, `value`, `symbol`)
at the edges.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from migaudit.errors import ReadError
from migaudit.model import symbols as sym

if TYPE_CHECKING:  # pandas loads only where a frame is made or read
    import pandas as pd

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
        import pandas as pd

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
        """Build a cube from a tidy pandas frame (see `from_arrow`, which does the work)."""
        import pyarrow as pa

        return cls.from_arrow(pa.Table.from_pandas(df, preserve_index=False), dims, roles, source, **meta)

    @classmethod
    def from_arrow(
        cls,
        data: Any,
        dims: list[str] | None = None,
        roles: dict[str, str] | None = None,
        source: str = "<arrow>",
        place: Any = None,
        **meta: Any,
    ) -> Table:
        """Build a cube from a tidy Arrow table; missing key combinations become `.` (no cell).

        Codes are dictionary-encoded once per column and cells placed by integer position, so
        no Python runs per cell. Every bad cell is a `ReadError` naming `place(row)` (default
        "row N"): an empty code, a code with two labels, a duplicate key, a value that is not
        a finite number, an unknown symbol, a number under a symbol that has none, a
        plain-number cell without a number.
        """
        def where(row: int) -> str:
            return place(row) if place is not None else f"row {row + 1}"

        roles = roles or {}
        names = list(data.column_names)
        if dims is None:
            dims = [c for c in names if c not in ("value", "symbol") and not str(c).endswith("_label")]
        for col in [*dims, "value"]:
            if col not in names:
                raise ReadError(f"no column {col!r}", source=source, expected=f"columns {dims + ['value', 'symbol']}")
        n = data.num_rows
        dimensions: list[Dimension] = []
        positions: list[np.ndarray] = []  # per dimension, Arrow's own index buffers (no int64 copies)
        for name in dims:
            idx, uniq = _encode(data.column(name), name, source, where)
            labels = uniq
            if f"{name}_label" in names:
                lab_idx, lab_uniq = _encode(data.column(f"{name}_label"), f"{name}_label", source, where,
                                            empty_ok=True)
                lab_of = np.empty(len(uniq), dtype=np.int64)
                row = _label_clash(idx, lab_idx, lab_of)
                if row is not None:
                    raise ReadError(f"{name} {uniq[idx[row]]!r} has two labels", source=source, where=where(row),
                                    expected="one label per code")
                labels = [lab_uniq[i] for i in lab_of]
                del lab_idx, lab_of
            dimensions.append(Dimension(name, tuple(uniq), tuple(labels), role=roles.get(name, guess_role(name))))
            positions.append(idx)
            del idx
        shape = tuple(len(d) for d in dimensions)
        size = int(np.prod(shape, dtype=np.float64)) if shape else 1
        if size > 1_000_000 and size > 100 * max(n, 1):
            raise ReadError(f"{n} rows keyed by {len(dims)} columns would span {size} cells", source=source,
                            expected="category columns that form a table")
        flat = flat_index(positions, shape, n)
        del positions
        # rows in the cube's own order (what migaudit and most offices write): no scatter needed
        in_order = n == size and is_arange(flat)
        if not in_order:
            seen = np.zeros(size, dtype=bool)
            seen[flat] = True
            if int(np.count_nonzero(seen)) != n:
                _, first_idx, counts = np.unique(flat, return_index=True, return_counts=True)
                dup = int(np.flatnonzero(flat == flat[first_idx[np.argmax(counts > 1)]])[1])
                at = np.unravel_index(int(flat[dup]), shape)
                key = {d.name: d.codes[int(i)] for d, i in zip(dimensions, at, strict=True)}
                raise ReadError(f"duplicate key {key}", source=source, where=where(dup))
            del seen
        vals = _numbers(data.column("value"), source, where)
        if "symbol" in names:
            codes = _symbol_codes(data.column("symbol"), source, where)
            missing = _MISSING_LUT[codes]
            bad = np.flatnonzero(missing & ~np.isnan(vals))
            if bad.size:
                row = int(bad[0])
                raise ReadError(f"a number ({vals[row]:g}) under the symbol {sym.TEXT[codes[row]]!r}", source=source,
                                where=where(row), expected="an empty value where the symbol means no number")
            nil = codes == sym.NIL
            bad = np.flatnonzero(nil & ~np.isnan(vals) & (vals != 0))
            if bad.size:
                row = int(bad[0])
                raise ReadError(f"the nil symbol '-' with the number {vals[row]:g}", source=source, where=where(row),
                                expected="0 or an empty value under '-'")
            vals[nil] = 0.0
            bad = np.flatnonzero(~missing & ~nil & np.isnan(vals))
            if bad.size:
                raise ReadError("a cell with neither a number nor a symbol", source=source, where=where(int(bad[0])),
                                expected="a number, or a symbol such as '..' that says why there is none")
            del missing, nil, bad
        else:
            codes = np.where(np.isnan(vals), sym.CODE[".."], sym.NUMBER).astype(np.uint8)
        if in_order:  # `vals` and `codes` are fresh arrays of this table's own
            values, symbols = vals, codes
        else:
            values = np.full(size, np.nan)
            symbols = np.full(size, sym.NOT_APPLICABLE, dtype=np.uint8)
            values[flat] = vals
            symbols[flat] = codes
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


def _label_clash(idx: np.ndarray, lab_idx: np.ndarray, lab_of: np.ndarray, chunk: int = 1 << 20) -> int | None:
    """Fill `lab_of` (label of each code) and return the first row whose label differs, if any.

    In chunks, so no 80 MB gather is made at 10M rows.
    """
    n = len(idx)
    for i in range(0, n, chunk):
        lab_of[idx[i: i + chunk]] = lab_idx[i: i + chunk]
    for i in range(0, n, chunk):
        diff = np.flatnonzero(lab_of[idx[i: i + chunk]] != lab_idx[i: i + chunk])
        if diff.size:
            return i + int(diff[0])
    return None


def flat_index(positions: list[np.ndarray], shape: tuple[int, ...], n: int) -> np.ndarray:
    """Row-major cell number of each row, from one integer code array per dimension.

    Horner's scheme in place (((i0·n1 + i1)·n2 + i2)…): one int64 array, no temporaries;
    on this machine every fresh 80 MB array costs ~0.1 s of page faults at 10M rows.
    """
    flat = np.zeros(n, dtype=np.int64)
    for k, (idx, m) in enumerate(zip(positions, shape, strict=True)):
        if k:
            flat *= m
            flat += idx
        else:
            np.copyto(flat, idx, casting="unsafe")
    return flat


def is_arange(flat: np.ndarray, chunk: int = 1 << 20) -> bool:
    """True when `flat` is 0, 1, …, n−1 (rows in the cube's order), checked in chunks (no big temporaries)."""
    n = flat.size
    if n == 0:
        return True
    if flat[0] != 0 or flat[-1] != n - 1:
        return False
    buf = np.empty(min(chunk, n), dtype=bool)
    for i in range(0, n - 1, chunk):
        j = min(i + chunk, n - 1)
        b = buf[: j - i]
        np.greater(flat[i + 1: j + 1], flat[i:j], out=b)
        if not b.all():
            return False
    return True  # strictly increasing from 0 to n−1 in n steps: exactly the identity


def release_arrow_memory() -> None:
    """Hand memory Arrow freed back to the system (when pyarrow is loaded at all).

    Arrow's allocator (mimalloc) keeps freed pages: after a 10M-cell Parquet file is read into
    the cube, ~500 MB of the Arrow table's memory stayed in the process and every later step
    (rules, localization) added its peak on top of it.
    """
    import sys

    pa = sys.modules.get("pyarrow")
    if pa is not None:
        pa.default_memory_pool().release_unused()


def arrow_numpy(arr: Any, fill: float | int | bool = 0) -> np.ndarray:
    """An Arrow array as numpy, nulls as `fill`, by zero-copy (pyarrow's converting path imports pandas)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        arr = pc.fill_null(arr, fill)
    is_bool = pa.types.is_boolean(arr.type)
    if is_bool:
        arr = arr.cast(pa.uint8())
    dtype = np.dtype(_NUMPY_OF.get(str(arr.type), "V"))
    if dtype.kind == "V":
        raise TypeError(f"no numpy view of Arrow {arr.type}")
    out = np.frombuffer(arr.buffers()[1], dtype=dtype)[arr.offset: arr.offset + len(arr)]
    return out.astype(bool) if is_bool else out


_MISSING_LUT = np.zeros(256, dtype=bool)
_MISSING_LUT[sym.MISSING_CODES] = True

_NUMPY_OF = {"int8": "i1", "int16": "i2", "int32": "i4", "int64": "i8", "uint8": "u1", "uint16": "u2",
             "uint32": "u4", "uint64": "u8", "float": "f4", "double": "f8"}


def _encode(col: Any, name: str, source: str, where: Any, empty_ok: bool = False) -> tuple[np.ndarray, list[str]]:
    """(integer code per row, distinct texts): one dictionary encoding of an Arrow column."""
    import pyarrow as pa

    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    stored = pa.types.is_dictionary(arr.type)
    if not stored:
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            if not (pa.types.is_integer(arr.type) or pa.types.is_null(arr.type)):
                raise ReadError(f"column {name!r} holds {arr.type}, not text", source=source,
                                expected="codes and labels as text")
            arr = arr.cast(pa.string())
        arr = arr.dictionary_encode()
    if arr.null_count:
        row = int(np.flatnonzero(arrow_numpy(arr.is_null()))[0])
        raise ReadError(f"no {name}", source=source, where=where(row), expected=f"a {name} in every row")
    dictionary = arr.dictionary
    if not (pa.types.is_string(dictionary.type) or pa.types.is_large_string(dictionary.type)):
        dictionary = dictionary.cast(pa.string())
    idx = arrow_numpy(arr.indices)  # a view of Arrow's index buffer: int8/16/32, no copy
    texts = dictionary.to_pylist()
    if stored:  # a dictionary from the file may hold unused or repeated texts: keep used texts, once
        used = np.zeros(len(texts), dtype=bool)
        used[idx] = True
        if not used.all() or len(set(texts)) != len(texts):
            keep = [t for t, u in zip(texts, used, strict=True) if u]
            first = {t: i for i, t in reversed(list(enumerate(dict.fromkeys(keep))))}
            remap = np.array([first.get(t, -1) for t in texts], dtype=np.int64)
            idx, texts = remap[idx], list(dict.fromkeys(keep))
    if not empty_ok and "" in texts:
        row = int(np.flatnonzero(idx == texts.index(""))[0])
        raise ReadError(f"empty {name}", source=source, where=where(row), expected=f"a {name} in every row")
    return idx, texts


def _numbers(col: Any, source: str, where: Any) -> np.ndarray:
    """float64 values of an Arrow column (empty or null = NaN); anything but a finite number is an error."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = col
    if pa.types.is_dictionary(arr.type) or pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        text = pc.utf8_trim_whitespace(arr)
        empty = pc.equal(text, "")
        text = pc.if_else(empty, pa.scalar(None, arr.type), text)
        try:
            arr = text.cast(pa.float64())
        except pa.ArrowInvalid:
            ok = pc.match_substring_regex(text, r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
            bad = arrow_numpy(pc.and_(pc.invert(ok), pc.is_valid(text)), False)
            row = int(np.flatnonzero(bad)[0])
            raise ReadError(f"value {text[row].as_py()!r} is not a number", source=source, where=where(row),
                            expected="a number or an empty cell") from None
    elif pa.types.is_null(arr.type):
        arr = arr.cast(pa.float64())
    elif not (pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type)):
        raise ReadError(f"column 'value' holds {arr.type}, not numbers", source=source, expected="numbers")
    out = _float64_copy(arr.cast(pa.float64()))
    bad = np.flatnonzero(np.isinf(out))
    if bad.size == 0 and (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)
                          or pa.types.is_dictionary(col.type)):
        # "nan" written as text is not an empty cell
        nan_text = np.isnan(out) & arrow_numpy(arr.is_valid(), False)
        bad = np.flatnonzero(nan_text)
    if bad.size:
        row = int(bad[0])
        raise ReadError(f"value {col[row].as_py()!r} is not a finite number", source=source, where=where(row),
                        expected="a finite number or an empty cell")
    return out


def _float64_copy(arr: Any) -> np.ndarray:
    """A fresh float64 numpy array of an Arrow float64 array or chunked array, nulls as NaN.

    One allocation, filled chunk by chunk from Arrow's buffers (combining chunks, filling
    nulls and copying would be three 80 MB arrays at 10M cells).
    """
    import pyarrow as pa

    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    out = np.empty(len(arr), dtype=np.float64)
    pos = 0
    for c in chunks:
        m = len(c)
        if m:
            bufs = c.buffers()
            part = out[pos: pos + m]
            part[:] = np.frombuffer(bufs[1], dtype=np.float64)[c.offset: c.offset + m]
            if c.null_count:
                bits = np.unpackbits(np.frombuffer(bufs[0], dtype=np.uint8), count=c.offset + m, bitorder="little")
                part[bits[c.offset:] == 0] = np.nan
        pos += m
    return out


def _symbol_codes(col: Any, source: str, where: Any) -> np.ndarray:
    """uint8 symbol code per row; an unknown symbol is an error naming its row."""
    import pyarrow as pa

    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_null(arr.type):
        return np.zeros(len(arr), dtype=np.uint8)
    if not pa.types.is_dictionary(arr.type):
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            raise ReadError(f"column 'symbol' holds {arr.type}, not text", source=source, expected="SSB symbols")
        arr = arr.dictionary_encode()
    nulls = arrow_numpy(arr.is_null(), False)
    idx = arrow_numpy(arr.indices)
    texts = [("" if t is None else str(t)).strip() for t in arr.dictionary.to_pylist()]
    lut = np.array([sym.CODE.get(t, 255) for t in texts] or [0], dtype=np.uint8)
    codes = lut[idx] if len(texts) else np.zeros(len(arr), np.uint8)
    if arr.null_count:
        codes[nulls] = sym.NUMBER
    bad = np.flatnonzero(codes == 255)
    if bad.size:
        row = int(bad[0])
        raise ReadError(f"unknown symbol {texts[int(idx[row])]!r}", source=source, where=where(row),
                        expected="one of " + " ".join(repr(t) for t in sym.TEXT))
    return codes


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
