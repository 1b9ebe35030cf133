"""Local-mode throughput of the Spark engine on a register cube written as partitioned Parquet.

    python benchmarks/spark_throughput.py --cells 10M --partitions 2,8,32 --master local[2]

Writes a consistent municipality × age × sex × contents × quarter cube with a few wrong
cells (migaudit.backends.register_cube), then times `audit_spark` (every rule, one Spark job, plus
the driver's work) for each number of shuffle partitions; prints one JSON line per run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path


def _count(text: str) -> int:
    text = text.upper()
    mult = {"K": 1_000, "M": 1_000_000, "G": 1_000_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("KMG")) * mult)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", default="10M", help="rows of the tidy cube (about)")
    ap.add_argument("--partitions", default="2,8", help="spark.sql.shuffle.partitions to try, comma-separated")
    ap.add_argument("--master", default="local[*]")
    ap.add_argument("--quarters", type=int, default=8)
    ap.add_argument("--dir", default=None, help="where to write the Parquet (default: a temporary folder)")
    args = ap.parse_args()

    from migaudit.backends import register_cube as rc
    from migaudit.engine.spark import audit_spark, read_parquet, session
    from migaudit.rules.ruleset import load_rules

    target = _count(args.cells)
    k = 19
    regions = max(10, target // (27 * args.quarters * (k + 1)))
    t0 = time.perf_counter()
    cube = rc.generate(regions=regions, ages=100, quarters=args.quarters, ages_per_region=k, seed=1)
    rc.inject(cube, n=3, seed=2)
    root = Path(args.dir or tempfile.mkdtemp(prefix="migaudit-spark-")) / "register"
    rc.write_parquet(cube, root)
    rows, dense = len(cube), cube.dense_cells()
    del cube
    written = time.perf_counter() - t0
    rules = load_rules()
    spark = session(args.master)
    for parts in [int(p) for p in args.partitions.split(",")]:
        spark.conf.set("spark.sql.shuffle.partitions", str(parts))
        df, meta = read_parquet(spark, root)
        t1 = time.perf_counter()
        found = audit_spark(df, rules, spark=spark, meta=meta, cross_table=False)
        seconds = time.perf_counter() - t1
        print(json.dumps({
            "rows": rows, "dense_cells": dense, "partitions": parts, "master": args.master,
            "seconds": round(seconds, 1), "rows_per_s": round(rows / seconds),
            "violations": len(found.result.violation_list),
            "suspects": sum(1 for v in found.result.violation_list if v.suspects),
            "write_s": round(written, 1), "cpus": os.cpu_count(), "machine": platform.platform(),
            "load": os.getloadavg()[0],
        }), flush=True)
    spark.stop()


if __name__ == "__main__":
    main()
