"""Synthetic population cubes of any size, written as partitioned tidy Parquet while generated.

A register-shaped cube (whole country → counties → municipalities × sex × age × quarter ×
11 measures) that satisfies every shipped rule by construction: leaves are drawn at random,
every dependent figure is derived, totals are summed. Municipalities are made a chunk at a
time and written at once (`pyarrow.dataset`), county and country rows are kept as running
sums and written last, so memory is bounded by one chunk however big the cube: a cube larger
than memory can be written, for the Spark engine and for benchmarks.

The files are migaudit's tidy Parquet (dimension codes, `<dim>_label`, `value`, `symbol`;
the table's metadata under the schema key `migaudit_table`) in a folder of parts with a
`_common_metadata` file; `migaudit.readers.tidy.read_dataset` reads one back as a `Table`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

MEASURES = ("births", "deaths", "excess_of_births", "immigration", "emigration", "in_migration_domestic",
            "out_migration_domestic", "net_migration", "adjustment", "growth", "population_end")
_M = {m: i for i, m in enumerate(MEASURES)}


@dataclass(frozen=True)
class CubeShape:
    """How many of each: the cube has (1 + counties + counties × munis) × 3 × (ages + 1) × quarters × 11 cells."""

    counties: int
    munis: int
    ages: int = 20
    quarters: int = 8

    @classmethod
    def about(cls, cells: int, counties: int = 10, ages: int = 20, quarters: int = 8) -> CubeShape:
        per_region = 3 * (ages + 1) * quarters * len(MEASURES)
        regions = max(cells // per_region, counties + 2)
        return cls(counties, max((regions - 1 - counties) // counties, 1), ages, quarters)

    @property
    def regions(self) -> int:
        return 1 + self.counties + self.counties * self.munis

    @property
    def per_region(self) -> int:
        return 3 * (self.ages + 1) * self.quarters * len(MEASURES)

    @property
    def cells(self) -> int:
        return self.regions * self.per_region


@dataclass
class Injected:
    """Where errors were put: (region code, sex, age, time, measure) and the change."""

    cells: list[tuple[tuple[str, ...], float]] = field(default_factory=list)


def dimensions(shape: CubeShape) -> list[tuple[str, str | None, list[str], list[str]]]:
    """(name, role, codes, labels) per dimension, in cube order."""
    c, m = shape.counties, shape.munis
    width = max(2, len(str(m)))
    region_codes = ["0"] + [f"{k:02d}" for k in range(1, c + 1)] + [
        f"{k:02d}{j:0{width}d}" for k in range(1, c + 1) for j in range(1, m + 1)]
    region_labels = ["The whole country"] + [f"County {x}" for x in region_codes[1:c + 1]] + [
        f"Municipality {x}" for x in region_codes[c + 1:]]
    ages = ["total", *[f"{5 * a:03d}" for a in range(shape.ages)]]
    age_labels = ["Total", *[f"{5 * a}-{5 * a + 4} years" for a in range(shape.ages)]]
    return [
        ("region", "region", region_codes, region_labels),
        ("sex", "sex", ["0", "1", "2"], ["Total", "Males", "Females"]),
        ("age", "age", ages, age_labels),
        ("time", "time", [f"{2020 + q // 4}K{q % 4 + 1}" for q in range(shape.quarters)], []),
        ("contents", "measure", list(MEASURES), []),
    ]


def _leaves(rng: np.random.Generator, k: int, shape: CubeShape) -> np.ndarray:
    """k municipalities, consistent: (k, 3, ages + 1, quarters, measures) with sex and age totals."""
    lead = (k, 2, shape.ages, shape.quarters)
    flows = {m: rng.integers(0, 60, lead).astype(np.float64)
             for m in ("births", "deaths", "immigration", "emigration", "out_migration_domestic")}
    # moves are conserved: in-migration is out-migration handed to other municipalities of the chunk
    flows["in_migration_domestic"] = flows["out_migration_domestic"][rng.permutation(k)]
    adj = rng.integers(-3, 4, lead).astype(np.float64)
    adj[..., [q for q in range(shape.quarters) if q % 4 != 3]] = 0
    leaf = np.empty((*lead, len(MEASURES)))
    for m, v in flows.items():
        leaf[..., _M[m]] = v
    leaf[..., _M["excess_of_births"]] = flows["births"] - flows["deaths"]
    leaf[..., _M["net_migration"]] = (flows["immigration"] - flows["emigration"]
                                      + flows["in_migration_domestic"] - flows["out_migration_domestic"])
    leaf[..., _M["adjustment"]] = adj
    leaf[..., _M["growth"]] = leaf[..., _M["excess_of_births"]] + leaf[..., _M["net_migration"]] + adj
    start = rng.integers(5_000, 50_000, lead[:3]).astype(np.float64)
    leaf[..., _M["population_end"]] = start[..., None] + np.cumsum(leaf[..., _M["growth"]], axis=-1)
    leaf = np.concatenate([leaf.sum(axis=2, keepdims=True), leaf], axis=2)
    return np.concatenate([leaf.sum(axis=1, keepdims=True), leaf], axis=1)


def blocks(shape: CubeShape, seed: int = 1, errors: int = 0, chunk_cells: int = 2_000_000,
           injected: Injected | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(region positions, values of shape (len(positions), 3, ages+1, quarters, 11)), municipalities
    first, a chunk at a time, then counties and the whole country. `errors` random cells of the
    municipality chunks are changed after the totals are summed (so rules fail there)."""
    rng = np.random.default_rng(seed)
    err_rng = np.random.default_rng(seed + 1)
    n_munis = shape.counties * shape.munis
    err_at = np.sort(err_rng.choice(n_munis, size=min(errors, n_munis), replace=False)) if errors else np.array([], int)
    per_chunk = max(1, chunk_cells // shape.per_region)
    county_sums = np.zeros((shape.counties, 3, shape.ages + 1, shape.quarters, len(MEASURES)))
    all_codes = [codes for _, _, codes, _ in dimensions(shape)]
    for c in range(shape.counties):
        for j0 in range(0, shape.munis, per_chunk):
            k = min(per_chunk, shape.munis - j0)
            values = _leaves(rng, k, shape)
            county_sums[c] += values.sum(axis=0)
            first = 1 + shape.counties + c * shape.munis + j0
            muni_index = c * shape.munis + j0
            for e in err_at[(err_at >= muni_index) & (err_at < muni_index + k)]:
                idx = (int(e - muni_index), *(int(err_rng.integers(0, n)) for n in values.shape[1:]))
                delta = float(err_rng.choice([-5, -1, 1, 2, 7]))
                values[idx] += delta
                if injected is not None:
                    where = (all_codes[0][first + idx[0]], *(all_codes[a][i] for a, i in enumerate(idx) if a))
                    injected.cells.append((where, delta))
            yield np.arange(first, first + k), values
    yield np.arange(1, 1 + shape.counties), county_sums
    yield np.array([0]), county_sums.sum(axis=0, keepdims=True)


def table_meta(shape: CubeShape, table_id: str = "synthetic") -> dict[str, Any]:
    """The `migaudit_table` metadata of the cube (as `tidy.table_meta` writes it for a Table)."""
    return {
        "id": table_id, "title": f"Synthetic population cube, {shape.cells} cells", "source": "", "unit": None,
        "decimals": 0, "footnotes": [], "notes": [],
        "dimensions": [{"name": n, "role": r, "label": None, "footnotes": {}} for n, r, _, _ in dimensions(shape)],
        "meta": {"covers_country": True},
    }


def record_batches(shape: CubeShape, seed: int = 1, errors: int = 0, chunk_cells: int = 2_000_000,
                   injected: Injected | None = None) -> tuple[Any, Iterator[Any]]:
    """(Arrow schema, batches of tidy rows): codes and labels as dictionaries of every category."""
    import pyarrow as pa

    dims = dimensions(shape)
    dicts = {name: pa.array(codes, pa.string()) for name, _, codes, _ in dims}
    label_dicts = {name: pa.array(labels, pa.string()) for name, _, _, labels in dims if labels}
    fields = []
    for name, _, _, labels in dims:
        fields.append(pa.field(name, pa.dictionary(pa.int32(), pa.string())))
        if labels:
            fields.append(pa.field(f"{name}_label", pa.dictionary(pa.int32(), pa.string())))
    fields += [pa.field("value", pa.float64()), pa.field("symbol", pa.dictionary(pa.int8(), pa.string()))]
    meta = {b"migaudit_table": json.dumps(table_meta(shape)).encode()}
    schema = pa.schema(fields, metadata=meta)
    symbol_dict = pa.array([""], pa.string())
    inner_sizes = [len(codes) for _, _, codes, _ in dims[1:]]
    per_region = int(np.prod(inner_sizes))

    def batches() -> Iterator[Any]:
        for regions, values in blocks(shape, seed, errors, chunk_cells, injected):
            n = len(regions) * per_region
            cols = []
            for axis, (name, _, _, labels) in enumerate(dims):
                if axis == 0:
                    idx = np.repeat(regions.astype(np.int32), per_region)
                else:
                    inner = int(np.prod(inner_sizes[axis:])) if axis < len(dims) - 1 else 1
                    idx = np.tile(np.repeat(np.arange(inner_sizes[axis - 1], dtype=np.int32), inner),
                                  n // (inner * inner_sizes[axis - 1]))
                cols.append(pa.DictionaryArray.from_arrays(idx, dicts[name]))
                if labels:
                    cols.append(pa.DictionaryArray.from_arrays(idx, label_dicts[name]))
            cols.append(pa.array(values.ravel()))
            cols.append(pa.DictionaryArray.from_arrays(np.zeros(n, dtype=np.int8), symbol_dict))
            yield pa.RecordBatch.from_arrays(cols, schema=schema)

    return schema, batches()


def write_dataset(path: str | Path, cells: int | CubeShape, seed: int = 1, errors: int = 0,
                  rows_per_file: int = 5_000_000, chunk_cells: int = 2_000_000) -> Injected:
    """Write a consistent cube of about `cells` cells (with `errors` injected) as a folder of
    Parquet parts, streaming; returns where the errors are."""
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    shape = cells if isinstance(cells, CubeShape) else CubeShape.about(cells)
    injected = Injected()
    schema, batches = record_batches(shape, seed, errors, chunk_cells, injected)
    base = Path(path)
    base.mkdir(parents=True, exist_ok=True)
    ds.write_dataset(batches, base, schema=schema, format="parquet", basename_template="part-{i}.parquet",
                     max_rows_per_file=rows_per_file, max_rows_per_group=min(rows_per_file, 1_000_000),
                     existing_data_behavior="delete_matching")
    pq.write_metadata(schema, base / "_common_metadata")
    return injected


def region_rules(shape: CubeShape) -> Any:
    """The shipped rules with the cube's region hierarchy written out (country = Σ counties,
    county = Σ its municipalities): synthetic codes are in no SSB classification."""
    from migaudit.rules.ruleset import Group, Rule, RuleSet, load_rules

    codes = dimensions(shape)[0][2]
    c, m = shape.counties, shape.munis
    groups = [Group(codes[0], tuple(codes[1:1 + c]))]
    groups += [Group(codes[1 + k], tuple(codes[1 + c + k * m:1 + c + (k + 1) * m])) for k in range(c)]
    regions = Rule(id="regions_sum_to_total", kind="hierarchy", along="region", groups=tuple(groups),
                   description="country = Σ counties, county = Σ municipalities", family="synthetic")
    return load_rules().add(RuleSet([regions]))
