"""The same rules through the engine, pandera and Great Expectations: time on one synthetic cube.

    python benchmarks/backends.py                 # ~400k cells (pandera) and ~20k cells (GX)
    python benchmarks/backends.py --cells 1000000 --gx-cells 50000 --json

A consistent population-changes cube (region × 10 measures × quarter, 01222-like: every
identity, the population chain and the conservation of domestic moves hold, with a few
injected errors) is audited by each backend; the ratios to the engine are measured in the
same run. GX runs on a smaller cube of the same shape (it is far slower), with the engine
timed again on that cube for its ratio. Timings are the best of --repeat runs, after a
warm-up run (imports, GX context).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable

import numpy as np

from migaudit.model.table import Dimension, Table
from migaudit.rules.ruleset import load_rules

MEASURES = [("Fodte2", "Births"), ("Dode3", "Deaths"), ("Fodselsoverskudd4", "Excess of births"),
            ("Innvandring5", "Immigration"), ("Utvandring6", "Emigration"),
            ("Tilflytting7", "In-migration, domestic"), ("Fraflytting8", "Emigration, domestic"),
            ("Nettoinnflytting9", "Net migration"), ("Folketilvekst10", "Population growth"),
            ("Folketallet11", "Population at the end of the quarter")]


def population_cube(cells: int, seed: int = 1, errors: int = 5) -> Table:
    """About `cells` cells: regions × 10 measures × 40 quarters, consistent but for `errors` cells."""
    rng = np.random.default_rng(seed)
    n_t = 40
    n_r = max(2, cells // (len(MEASURES) * n_t))
    births, deaths = rng.integers(0, 400, (n_r, n_t)), rng.integers(0, 300, (n_r, n_t))
    imm, emi = rng.integers(0, 300, (n_r, n_t)), rng.integers(0, 200, (n_r, n_t))
    dom_in = rng.integers(0, 500, (n_r, n_t))
    dom_out = np.stack([rng.permutation(dom_in[:, t]) for t in range(n_t)], axis=1)  # Σ in = Σ out
    excess = births - deaths
    net = imm - emi + dom_in - dom_out
    q4 = (np.arange(n_t) % 4) == 3
    adj = np.where(q4, rng.integers(-30, 31, (n_r, n_t)), 0)  # unpublished: info findings in Q4
    growth = excess + net + adj
    end = rng.integers(10_000, 700_000, (n_r, 1)) + np.cumsum(growth, axis=1)
    values = np.stack([births, deaths, excess, imm, emi, dom_in, dom_out, net, growth, end], axis=1).astype(float)
    flat = values.reshape(-1)
    for i in rng.choice(flat.size, size=errors, replace=False):
        flat[i] += 7
    codes = tuple(f"{i:04d}" for i in range(n_r))
    periods = tuple(f"{2000 + t // 4}K{t % 4 + 1}" for t in range(n_t))
    dims = [Dimension("region", codes, role="region"),
            Dimension("contents", tuple(c for c, _ in MEASURES), tuple(lab for _, lab in MEASURES), role="measure"),
            Dimension("time", periods, role="time")]
    return Table(dims, values, np.zeros(values.shape, np.uint8), id="synthetic_01222",
                 title="Population and changes during the quarter", meta={"covers_country": True})


def best(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Best wall time of `repeat` runs (after the caller's warm-up) and the last result."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def verdicts(result) -> list[tuple]:
    return sorted((v.rule, tuple(sorted(v.codes.items())), v.imbalance, v.severity) for v in result.violation_list)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=400_000, help="cells of the engine/pandera cube")
    ap.add_argument("--gx-cells", type=int, default=20_000, help="cells of the GX cube (0: skip GX)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)

    from migaudit.backends import pandera as mpa
    from migaudit.engine.dense import evaluate
    from migaudit.model.cube import Cube
    from migaudit.runner import audit

    rules = load_rules()
    figures: dict[str, object] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "rules": len(rules),
    }

    def engine_only(table: Table) -> int:
        cube = Cube.of(table)
        return sum(o.failed for r in rules if (o := evaluate(r, cube)) is not None)

    def pandera_only(table: Table, schema, frame) -> int:
        try:
            schema.validate(frame, lazy=True)
        except mpa.SchemaErrors as e:
            return len(e.failure_cases)
        return 0

    big = population_cube(args.cells)
    frame = big.frame()
    schema = mpa.schema_for(rules, big)
    audit([big], rules, cross_table=False)  # warm-up
    mpa.audit_with([big], rules, cross_table=False)
    t_engine, _ = best(lambda: engine_only(big), args.repeat)
    t_audit, native = best(lambda: audit([big], rules, cross_table=False), args.repeat)
    t_frame, _ = best(big.frame, args.repeat)
    t_validate, _ = best(lambda: pandera_only(big, schema, frame), args.repeat)
    t_pandera, via = best(lambda: mpa.audit_with([big], rules, cross_table=False), args.repeat)
    figures["pandera"] = {
        "cells": big.size, "violations": len(native.violation_list), "same_verdicts": verdicts(via) == verdicts(native),
        "engine_rules_s": round(t_engine, 4), "engine_audit_s": round(t_audit, 4),
        "tidy_frame_s": round(t_frame, 4), "pandera_validate_s": round(t_validate, 4),
        "pandera_audit_s": round(t_pandera, 4),
        "validate_over_engine": round(t_validate / t_engine, 1), "audit_over_audit": round(t_pandera / t_audit, 1),
    }
    if args.gx_cells:
        from migaudit.backends import gx as mgx

        small = population_cube(args.gx_cells, seed=2)
        t0 = time.perf_counter()
        ctx = mgx.ephemeral_context()
        t_ctx = time.perf_counter() - t0
        mgx.audit_with([small], rules, cross_table=False, context=ctx)  # warm-up
        t_engine_s, _ = best(lambda: engine_only(small), args.repeat)
        t_audit_s, native_s = best(lambda: audit([small], rules, cross_table=False), args.repeat)
        t_gx, via_s = best(lambda: mgx.audit_with([small], rules, cross_table=False, context=ctx), max(1, args.repeat - 1))
        t_res, _ = best(lambda: mgx.instances_frame(Cube.of(small), rules), max(1, args.repeat - 1))
        figures["gx"] = {
            "cells": small.size, "violations": len(native_s.violation_list),
            "same_verdicts": verdicts(via_s) == verdicts(native_s),
            "import_and_context_s": round(t_ctx, 2), "engine_rules_s": round(t_engine_s, 4),
            "engine_audit_s": round(t_audit_s, 4), "residual_frames_s": round(t_res, 4),
            "gx_audit_s": round(t_gx, 3), "audit_over_audit": round(t_gx / t_audit_s, 1),
            "gx_over_engine_rules": round(t_gx / t_engine_s, 1),
        }
    if args.json:
        print(json.dumps(figures, indent=1))
    else:
        for name, f in figures.items():
            print(f"{name}: {f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
