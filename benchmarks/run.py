"""Engine vs a plain-numpy reference on synthetic population cubes.

    python benchmarks/run.py --cells 10M --json

Builds a consistent cube (regions in 3 levels × sex × age × quarters × 11 measures) of about
the requested size, injects errors at random cells, then times (medians of several runs)
  engine_s     migaudit's engine evaluating every rule that applies (no localization)
  reference_s  hand-written numpy doing the same checks on the same arrays
and checks that both find exactly the same failing rule instances.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from migaudit.engine.dense import evaluate  # noqa: E402
from migaudit.model.cube import Cube  # noqa: E402
from migaudit.model.table import Dimension, Table  # noqa: E402
from migaudit.rules.ruleset import Group, Rule, RuleSet, load_rules  # noqa: E402

MEASURES = ("births", "deaths", "excess_of_births", "immigration", "emigration", "in_migration_domestic",
            "out_migration_domestic", "net_migration", "adjustment", "growth", "population_end")
M = {m: i for i, m in enumerate(MEASURES)}


def _shape(cells: int) -> tuple[int, int, int, int]:
    """(counties, municipalities per county, age groups, quarters) giving about `cells` cells."""
    counties, ages, quarters = 10, 20, 8
    per_cell = 3 * (ages + 1) * quarters * len(MEASURES)
    regions = max(cells // per_cell, 12)
    munis = max((regions - 1 - counties) // counties, 1)
    return counties, munis, ages, quarters


def make_cube(cells: int, seed: int = 1) -> Table:
    """A consistent population cube: every rule holds exactly."""
    rng = np.random.default_rng(seed)
    counties, munis, ages, quarters = _shape(cells)
    n_leaf = counties * munis
    shape_leaf = (n_leaf, 2, ages, quarters)
    flows = {m: rng.integers(0, 60, shape_leaf).astype(np.float64)
             for m in ("births", "deaths", "immigration", "emigration", "out_migration_domestic")}
    # domestic moves are conserved: in-migration is out-migration handed to other municipalities
    flows["in_migration_domestic"] = flows["out_migration_domestic"][rng.permutation(n_leaf)]
    adj = rng.integers(-3, 4, shape_leaf).astype(np.float64)
    adj[..., [q for q in range(quarters) if q % 4 != 3]] = 0  # adjustments only in Q4
    leaf = np.empty((n_leaf, 2, ages, quarters, len(MEASURES)))
    for m, v in flows.items():
        leaf[..., M[m]] = v
    leaf[..., M["excess_of_births"]] = flows["births"] - flows["deaths"]
    leaf[..., M["net_migration"]] = (flows["immigration"] - flows["emigration"]
                                     + flows["in_migration_domestic"] - flows["out_migration_domestic"])
    leaf[..., M["adjustment"]] = adj
    leaf[..., M["growth"]] = leaf[..., M["excess_of_births"]] + leaf[..., M["net_migration"]] + adj
    start = rng.integers(5_000, 50_000, (n_leaf, 2, ages)).astype(np.float64)
    leaf[..., M["population_end"]] = start[..., None] + np.cumsum(leaf[..., M["growth"]], axis=-1)
    # totals over age and sex, then counties and the country
    leaf = np.concatenate([leaf.sum(axis=2, keepdims=True), leaf], axis=2)
    leaf = np.concatenate([leaf.sum(axis=1, keepdims=True), leaf], axis=1)
    by_county = leaf.reshape(counties, munis, *leaf.shape[1:]).sum(axis=1)
    country = by_county.sum(axis=0, keepdims=True)
    values = np.concatenate([country, by_county, leaf], axis=0)
    region_codes = ["0"] + [f"{c:02d}" for c in range(1, counties + 1)] + [
        f"{c:02d}{m:02d}" for c in range(1, counties + 1) for m in range(1, munis + 1)]
    region_labels = ["The whole country"] + [f"County {c}" for c in region_codes[1:counties + 1]] + [
        f"Municipality {c}" for c in region_codes[counties + 1:]]
    dims = [
        Dimension("region", tuple(region_codes), tuple(region_labels), role="region"),
        Dimension("sex", ("0", "1", "2"), ("Total", "Males", "Females"), role="sex"),
        Dimension("age", ("total", *[f"{5 * a:03d}" for a in range(ages)]),
                  ("Total", *[f"{5 * a}-{5 * a + 4} years" for a in range(ages)]), role="age"),
        Dimension("time", tuple(f"{2020 + q // 4}K{q % 4 + 1}" for q in range(quarters)), role="time"),
        Dimension("contents", MEASURES, role="measure"),
    ]
    table = Table(dims, values, np.zeros(values.shape, dtype=np.uint8), id="synthetic",
                  meta={"covers_country": True})
    table.meta["counties"], table.meta["munis"] = counties, munis
    return table


def inject(table: Table, n: int, seed: int = 2) -> list[tuple[int, ...]]:
    """Add errors to `n` random cells; returns where."""
    rng = np.random.default_rng(seed)
    cells = []
    for _ in range(n):
        idx = tuple(int(rng.integers(0, s)) for s in table.shape)
        table.values[idx] += int(rng.choice([-5, -1, 1, 2, 7]))
        cells.append(idx)
    return cells


# --- the reference: hand-written numpy, the same checks -------------------------------
def reference(table: Table) -> dict[str, set[tuple[int, ...]]]:
    """Failing instances per rule, each named by the cube index of its `actual` cell."""
    v = table.values
    counties, munis = table.meta["counties"], table.meta["munis"]
    out: dict[str, set[tuple[int, ...]]] = {}

    def fails(name: str, bad: np.ndarray, place) -> None:  # noqa: ANN001
        out[name] = {place(idx) for idx in zip(*np.nonzero(bad), strict=True)}

    def m(name: str) -> np.ndarray:
        return v[..., M[name]]

    fails("excess_of_births", m("excess_of_births") != m("births") - m("deaths"),
          lambda i: (*i, M["excess_of_births"]))
    net = m("immigration") - m("emigration") + m("in_migration_domestic") - m("out_migration_domestic")
    fails("net_migration_components", m("net_migration") != net, lambda i: (*i, M["net_migration"]))
    q = np.array([t % 4 for t in range(v.shape[3])])
    comp = m("excess_of_births") + m("net_migration") + m("adjustment")
    bad = m("growth") != comp
    fails("growth_q1_q3", bad & (q != 3), lambda i: (*i, M["growth"]))
    fails("growth_q4_year", bad & (q == 3), lambda i: (*i, M["growth"]))
    end = m("population_end")
    bad = end[..., 1:] != end[..., :-1] + m("growth")[..., 1:]
    fails("end_follows_growth", bad, lambda i: (*i[:3], i[3] + 1, M["population_end"]))
    counts = [M[x] for x in MEASURES if x in ("births", "deaths", "immigration", "emigration",
                                               "in_migration_domestic", "out_migration_domestic", "population_end")]
    sub = v[..., counts]
    fails("counts_non_negative", (sub < 0) | (sub != np.round(sub)), lambda i: (*i[:4], counts[i[4]]))
    fails("sexes_sum_to_total", v[:, 0] != v[:, 1] + v[:, 2], lambda i: (i[0], 0, *i[1:]))
    fails("ages_sum_to_total", v[:, :, 0] != v[:, :, 1:].sum(axis=2), lambda i: (i[0], i[1], 0, *i[2:]))
    leaves = v[1 + counties:].reshape(counties, munis, *v.shape[1:]).sum(axis=1)
    bad_c = v[1:1 + counties] != leaves
    bad_0 = v[0] != v[1:1 + counties].sum(axis=0)
    region_bad = {(i[0] + 1, *i[1:]) for i in zip(*np.nonzero(bad_c), strict=True)}
    region_bad |= {(0, *i) for i in zip(*np.nonzero(bad_0), strict=True)}
    out["regions_sum_to_total"] = region_bad
    dom = v[1:, ..., [M["in_migration_domestic"], M["out_migration_domestic"]]].sum(axis=0)
    bad = dom[..., 0] != dom[..., 1]
    fails("domestic_moves_conserved", bad, lambda i: (-1, *i, M["in_migration_domestic"]))
    return out


def bench_rules(table: Table) -> RuleSet:
    """The shipped rules, with the region hierarchy written out for the synthetic 3 levels.

    Replacing a rule by id is how a user describes a grouping migaudit does not know.
    """
    counties, munis = table.meta["counties"], table.meta["munis"]
    codes = table.dim("region").codes
    groups = [Group(codes[0], tuple(codes[1:1 + counties]))]
    for c in range(counties):
        start = 1 + counties + c * munis
        groups.append(Group(codes[1 + c], tuple(codes[start:start + munis])))
    regions = Rule(id="regions_sum_to_total", kind="hierarchy", along="region", groups=tuple(groups),
                   description="country = Σ counties, county = Σ municipalities", family="synthetic")
    return load_rules().add(RuleSet([regions]))


def engine(table: Table, rules) -> dict[str, set[tuple[int, ...]]]:  # noqa: ANN001
    cube = Cube.of(table)
    out: dict[str, set[tuple[int, ...]]] = {}
    for rule in rules:
        o = evaluate(rule, cube)
        if o is None:
            continue
        cells = set()
        for viol in o.violations:
            cells.add(viol.cells[0][1])
        out[rule.id] = cells
    return out


def _median_time(fn, repeat: int) -> tuple[float, object]:  # noqa: ANN001
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def parse_cells(text: str) -> int:
    t = text.upper().strip()
    mult = {"K": 1_000, "M": 1_000_000, "G": 1_000_000_000}.get(t[-1], 1)
    return int(float(t.rstrip("KMG")) * mult)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cells", default="1M", help="cube size, e.g. 1M or 10M")
    ap.add_argument("--errors", type=int, default=20, help="errors injected at random cells")
    ap.add_argument("--repeat", type=int, default=5, help="runs per timing (median)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--write-parquet", metavar="DIR", default=None,
                    help="only write a cube of --cells cells (any size, streamed) as partitioned tidy Parquet to DIR")
    args = ap.parse_args()
    if args.write_parquet:
        from migaudit.backends.synthetic import write_dataset

        injected = write_dataset(args.write_parquet, parse_cells(args.cells), errors=args.errors)
        print(json.dumps({"wrote": args.write_parquet, "errors": injected.cells}))
        return
    table = make_cube(parse_cells(args.cells))
    inject(table, args.errors)
    rules = bench_rules(table)
    engine_s, found = _median_time(lambda: engine(table, rules), args.repeat)
    reference_s, expected = _median_time(lambda: reference(table), args.repeat)
    same = {k: v for k, v in found.items() if v or expected.get(k)} == {
        k: v for k, v in expected.items() if v or found.get(k)}
    result = {
        "cells": table.size,
        "shape": list(table.shape),
        "errors_injected": args.errors,
        "violations": sum(len(v) for v in found.values()),
        "same_violations": same,
        "engine_s": round(engine_s, 4),
        "reference_s": round(reference_s, 4),
        "ratio": round(engine_s / reference_s, 2),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "repeat": args.repeat,
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}",
    }
    if not same:
        result["diff"] = {k: [sorted(found.get(k, set()) - expected.get(k, set()))[:3],
                              sorted(expected.get(k, set()) - found.get(k, set()))[:3]]
                          for k in set(found) | set(expected) if found.get(k, set()) != expected.get(k, set())}
    print(json.dumps(result) if args.json else json.dumps(result, indent=1, default=str))
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
