"""Register-shaped cubes that satisfy the rules, written as partitioned tidy Parquet.

municipality × age × sex × contents × quarter, the shape of SSB's register cubes, where each
municipality publishes only some ages (as registers do: a row exists where someone lives).
The product of the dimensions can be far larger than the rows: a dense array of it would
not fit where the rows easily do, which is what the Spark engine is for. Every figure is
derived the way SSB's arithmetic runs (excess = births − deaths, net = immigration −
emigration, growth = excess + net, end = start + growth, start(t) = end(t−1), totals over
sex, age and region summed from the parts), so a clean cube has no finding and each injected
error is one wrong cell. Needs numpy and pyarrow only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: (code, label) of the measures, as StatBank table 01222 publishes them
MEASURES = (
    ("Folketallet1", "Population at the beginning of the quarter"), ("Fodte2", "Births"), ("Dode3", "Deaths"),
    ("Fodselsoverskudd4", "Excess of births"), ("Innvandring5", "Immigration"), ("Utvandring6", "Emigration"),
    ("Nettoinnflytting9", "Net migration"), ("Folketilvekst10", "Population growth"),
    ("Folketallet11", "Population at the end of the quarter"),
)
SEXES = (("0", "Total"), ("1", "Males"), ("2", "Females"))


@dataclass(frozen=True)
class Injected:
    """One wrong cell: where (dimension → code) and by how much."""

    where: dict[str, str]
    delta: float


@dataclass
class RegisterCube:
    """Rows of a tidy cube as category indices per dimension (int32) and values: compact at 100M rows."""

    index: dict[str, np.ndarray]
    codes: dict[str, list[str]]
    labels: dict[str, list[str]]
    value: np.ndarray

    def __len__(self) -> int:
        return len(self.value)

    def dense_cells(self) -> int:
        """Cells of the full cartesian product of the dimensions (what a dense cube would hold)."""
        return int(np.prod([len(c) for c in self.codes.values()], dtype=np.float64))

    def where(self, row: int) -> dict[str, str]:
        return {d: self.codes[d][int(i[row])] for d, i in self.index.items()}


DIMS = ("region", "age", "sex", "contents", "time")


def generate(regions: int = 400, ages: int = 100, quarters: int = 4, ages_per_region: int = 1,
             seed: int = 0, start: tuple[int, int] = (2015, 1)) -> RegisterCube:
    """A consistent register cube: every municipality publishes `ages_per_region` of the ages."""
    rng = np.random.default_rng(seed)
    year, q = start
    periods = []
    for _ in range(quarters):
        periods.append(f"{year}K{q}")
        year, q = (year + 1, 1) if q == 4 else (year, q + 1)
    n_leaf = regions * ages_per_region
    leaf_region = np.repeat(np.arange(1, regions + 1), ages_per_region)
    leaf_age = np.concatenate([rng.choice(ages, ages_per_region, replace=False) for _ in range(regions)]) + 1
    shape = (n_leaf, 2, quarters)
    births = rng.integers(0, 40, shape).astype(float)
    deaths = rng.integers(0, 30, shape).astype(float)
    immig = rng.integers(0, 30, shape).astype(float)
    emig = rng.integers(0, 20, shape).astype(float)
    excess, net = births - deaths, immig - emig
    growth = excess + net
    start_pop = np.empty(shape)
    start_pop[..., 0] = rng.integers(1_000, 50_000, shape[:2])
    for t in range(1, quarters):
        start_pop[..., t] = start_pop[..., t - 1] + growth[..., t - 1]
    end_pop = start_pop + growth
    leaf = np.stack([start_pop, births, deaths, excess, immig, emig, net, growth, end_pop], axis=-1)
    del births, deaths, immig, emig, excess, net, growth, start_pop, end_pop
    vals = np.concatenate([leaf.sum(axis=1, keepdims=True), leaf], axis=1)  # sex 0 = total
    del leaf
    # age totals per region (regions are contiguous runs of leaves)
    by_region = np.add.reduceat(vals, np.arange(0, n_leaf, ages_per_region), axis=0)
    present, inverse = np.unique(leaf_age, return_inverse=True)
    by_age = np.zeros((len(present), *vals.shape[1:]))
    np.add.at(by_age, inverse, vals)
    kr = np.concatenate([leaf_region, np.arange(1, regions + 1), np.zeros(len(present) + 1, dtype=int)])
    ka = np.concatenate([leaf_age, np.zeros(regions, dtype=int), present, [0]])
    v = np.concatenate([vals, by_region, by_age, vals.sum(axis=0, keepdims=True)])  # (rows, 3, T, M)
    del vals, by_region, by_age
    n_rows, n_m = len(kr), len(MEASURES)
    # codes of one width, as a register's are: "1938" beside "19389" would nest by prefix
    # (a county and its municipalities, to the structure step), which these are not
    width = max(4, len(str(regions)))
    row, sex, time, meas = (g.reshape(-1) for g in np.indices((n_rows, 3, quarters, n_m), dtype=np.int32))
    return RegisterCube(
        index={"region": kr.astype(np.int32)[row], "age": ka.astype(np.int32)[row], "sex": sex,
               "contents": meas, "time": time},
        codes={"region": ["0"] + [f"{r:0{width}d}" for r in range(1, regions + 1)],
               "age": ["999"] + [f"{a:03d}" for a in range(ages)],
               "sex": [c for c, _ in SEXES], "contents": [c for c, _ in MEASURES], "time": periods},
        labels={"region": ["The whole country"] + [f"Municipality {r:0{width}d}" for r in range(1, regions + 1)],
                "age": ["Total"] + [f"{a} years" for a in range(ages)],
                "sex": [lab for _, lab in SEXES], "contents": [lab for _, lab in MEASURES], "time": periods},
        value=v.reshape(-1),
    )


def inject(cube: RegisterCube, n: int = 3, seed: int = 1, measure: str = "Fodte2") -> list[Injected]:
    """Change `n` leaf cells of one measure in place (a leaf: a municipality, an age, a sex)."""
    rng = np.random.default_rng(seed)
    ix = cube.index
    leaf = np.flatnonzero((ix["region"] != 0) & (ix["age"] != 0) & (ix["sex"] != 0)
                          & (ix["contents"] == cube.codes["contents"].index(measure)))
    out = []
    for i in rng.choice(leaf, n, replace=False):
        delta = float(rng.integers(1, 50))
        cube.value[i] += delta
        out.append(Injected(cube.where(i), delta))
    return out


def write_parquet(cube: RegisterCube, root: str | Path, table_id: str = "register",
                  partition_by: str = "time", row_group: int = 1_000_000) -> Path:
    """A tidy Parquet dataset, one folder per `partition_by` value, migaudit's metadata in every file.

    Dimension columns are dictionary-encoded (codes, and `<dim>_label` where labels differ).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = Path(root)
    meta = {"id": table_id, "title": "Population and changes during the quarter, by municipality, age and sex",
            "source": str(root), "unit": "persons", "decimals": 0, "footnotes": [], "notes": [],
            "dimensions": [{"name": d, "role": {"contents": "measure"}.get(d, d), "label": d, "footnotes": {}}
                           for d in DIMS], "meta": {}}
    part = cube.index[partition_by]
    for k, value in enumerate(cube.codes[partition_by]):
        sel = part == k
        data: dict[str, pa.Array] = {}
        for d in DIMS:
            if d == partition_by:
                continue
            idx = pa.array(cube.index[d][sel])
            data[d] = pa.DictionaryArray.from_arrays(idx, pa.array(cube.codes[d]))
            if cube.labels[d] != cube.codes[d]:
                data[f"{d}_label"] = pa.DictionaryArray.from_arrays(idx, pa.array(cube.labels[d]))
        data["value"] = pa.array(cube.value[sel])
        data["symbol"] = pa.DictionaryArray.from_arrays(pa.array(np.zeros(int(sel.sum()), dtype=np.int32)), pa.array([""]))
        table = pa.table(data).replace_schema_metadata({b"migaudit_table": json.dumps(meta).encode()})
        folder = root / f"{partition_by}={value}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, folder / "part-0.parquet", row_group_size=row_group)
    return root
