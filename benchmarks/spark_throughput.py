"""Local-mode throughput of the Spark engine on a register cube written as partitioned Parquet.

    nice python benchmarks/spark_throughput.py --cells 10M --partitions 2,8,32 --master 'local[2]' \\
        --dir /work/bench/spark

Writes a consistent municipality × age × sex × contents × quarter cube with a few wrong
cells (migaudit.backends.register_cube; reused when `--dir` already holds one of that size),
then, for each number of shuffle partitions, times two things side by side in one session:

- `scan`: Spark reading the same Parquet and summing `value` per (contents, time), the
  plain baseline of what any query over these cells costs;
- `audit`: `audit_spark` (every rule, one Spark job, plus the driver's planning and
  localization).

One JSON line per run: rows, seconds, rows/s, audit/scan ratio, peak memory of the driver
(Python) and of the JVM during the run (VmHWM, reset before each run), load average.
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


def _children(pid: int) -> list[int]:
    """Every descendant process of `pid` (the JVM is started by spark-submit, a child of ours)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            kids = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        out += [int(k) for k in kids]
        todo += [int(k) for k in kids]
    return out


def _hwm(pid: int) -> int:
    """Peak resident memory (bytes) of a process since start or since the last reset."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _reset_hwm(pids: list[int]) -> None:
    for p in pids:
        try:
            Path(f"/proc/{p}/clear_refs").write_text("5")  # 5: reset the peak RSS to the current RSS
        except OSError:
            pass


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", default="10M", help="rows of the tidy cube (about)")
    ap.add_argument("--partitions", default="2,8", help="spark.sql.shuffle.partitions to try, comma-separated")
    ap.add_argument("--master", default="local[*]")
    ap.add_argument("--quarters", type=int, default=8)
    ap.add_argument("--driver-memory", default="6g", help="spark.driver.memory (local mode: the whole JVM)")
    ap.add_argument("--dir", default=None, help="where to write the Parquet (default: a temporary folder)")
    args = ap.parse_args()

    from migaudit.backends import register_cube as rc
    from migaudit.engine.spark import audit_spark, read_parquet, session
    from migaudit.rules.ruleset import load_rules

    target = _count(args.cells)
    k = 19
    regions = max(10, target // (27 * args.quarters * (k + 1)))
    root = Path(args.dir or tempfile.mkdtemp(prefix="migaudit-spark-")) / f"register-{args.cells}-{args.quarters}q"
    stamp = root / "_migaudit_bench.json"
    t0 = time.perf_counter()
    if stamp.exists():
        info = json.loads(stamp.read_text())
    else:
        cube = rc.generate(regions=regions, ages=100, quarters=args.quarters, ages_per_region=k, seed=1)
        injected = rc.inject(cube, n=3, seed=2)
        rc.write_parquet(cube, root)
        info = {"rows": len(cube), "dense_cells": cube.dense_cells(), "injected": [i.where for i in injected]}
        del cube
        stamp.write_text(json.dumps(info))
    written = time.perf_counter() - t0
    size = sum(f.stat().st_size for f in root.rglob("*.parquet"))
    rules = load_rules()
    os.environ.setdefault("PYSPARK_SUBMIT_ARGS", f"--driver-memory {args.driver_memory} pyspark-shell")
    spark = session(args.master)
    jvm = _children(os.getpid())
    for parts in [int(p) for p in args.partitions.split(",")]:
        spark.conf.set("spark.sql.shuffle.partitions", str(parts))
        load0 = os.getloadavg()[0]
        _reset_hwm([os.getpid(), *jvm])
        df, meta = read_parquet(spark, root)
        t1 = time.perf_counter()
        n_groups = len(df.groupBy("contents", "time").sum("value").collect())
        scan = time.perf_counter() - t1
        t1 = time.perf_counter()
        found = audit_spark(df, rules, spark=spark, meta=meta, cross_table=False)
        seconds = time.perf_counter() - t1
        found.unpersist()
        rows = info["rows"]
        print(json.dumps({
            "rows": rows, "dense_cells": info["dense_cells"], "parquet_mb": round(size / 2**20),
            "partitions": parts, "master": args.master,
            "scan_s": round(scan, 1), "seconds": round(seconds, 1), "rows_per_s": round(rows / seconds),
            "audit_over_scan": round(seconds / scan, 2), "groups": n_groups,
            "violations": len(found.result.violation_list),
            "suspects": sum(1 for v in found.result.violation_list if v.suspects),
            "driver_peak_mb": round(_hwm(os.getpid()) / 2**20),
            "jvm_peak_mb": round(max((_hwm(p) for p in jvm), default=0) / 2**20),
            "write_s": round(written, 1), "cpus": os.cpu_count(), "machine": platform.platform(),
            "load_before": round(load0, 2), "load_after": round(os.getloadavg()[0], 2),
        }), flush=True)
    spark.stop()


if __name__ == "__main__":
    main()
