"""Localization on a large synthetic cube: seconds, and how many injected errors are named.

    PYTHONPATH=src .venv/bin/python benchmarks/localize.py --cells 1M --errors 100

Builds the consistent cube of `benchmarks/run.py` (regions in 3 levels × sex × age ×
quarters × 11 measures), injects errors at random cells, runs the audit's rules, then times
`localize()` alone (medians of `--repeat` runs). `named` counts injected cells that are a
suspect with their original value and no tie; `tied` those listed inside a tie.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import bench_rules, make_cube, parse_cells  # noqa: E402

from migaudit.engine.dense import evaluate  # noqa: E402
from migaudit.engine.localization import LocalizeOptions, localize  # noqa: E402
from migaudit.model.cube import Cube  # noqa: E402
from migaudit.result import AuditResult  # noqa: E402


def inject(table, n: int, seed: int = 2) -> dict[tuple[int, ...], float]:  # noqa: ANN001
    """Realistic errors at `n` distinct random cells; {cell: original value}."""
    rng = np.random.default_rng(seed)
    out: dict[tuple[int, ...], float] = {}
    while len(out) < n:
        idx = tuple(int(rng.integers(0, s)) for s in table.shape)
        if idx in out:
            continue
        v = float(table.values[idx])
        new = v + int(rng.choice([-100, -10, -1, 1, 10, 100]))
        if rng.random() < 0.3 and abs(v) >= 10:  # a doubled digit
            s = str(int(abs(v)))
            new = np.sign(v) * int(s[0] + s)
        table.values[idx] = new
        out[idx] = v
    return out


def run(cells: int, errors: int, repeat: int) -> dict:
    table = make_cube(cells)
    truth = inject(table, errors)
    cube = Cube.of(table)
    rules = bench_rules(table)
    t0 = time.perf_counter()
    outcomes = [o for r in rules if (o := evaluate(r, cube)) is not None]
    audit_s = time.perf_counter() - t0
    times = []
    result = None
    for _ in range(repeat):
        result = AuditResult([table], [o for o in outcomes])
        for v in result.violation_list:
            v.suspects = []
        t0 = time.perf_counter()
        localize(result, [cube], rules, LocalizeOptions())
        times.append(time.perf_counter() - t0)
    assert result is not None
    named = tied = 0
    suspects: dict[tuple, list[dict]] = {}
    for v in result.violation_list:
        for s in v.suspects:
            suspects.setdefault(tuple(s["codes"].values()), []).append(s)
    for idx, original in truth.items():
        codes = tuple(cube.where(idx)[1].values())
        found = suspects.get(codes, [])
        if any("tie_size" not in s and s.get("suggested") == original for s in found):
            named += 1
        elif any("tie_size" in s for s in found):
            tied += 1
    return {
        "cells": int(table.values.size), "shape": "×".join(map(str, table.shape)), "errors": errors,
        "failing_instances": sum(o.failed for o in outcomes), "audit_s": round(audit_s, 3),
        "localize_s": round(statistics.median(times), 3), "named": named, "tied": tied,
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", default="1M")
    ap.add_argument("--errors", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(json.dumps(run(parse_cells(args.cells), args.errors, args.repeat), indent=1))


if __name__ == "__main__":
    main()
