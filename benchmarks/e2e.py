"""`migaudit audit FILE` as a whole process vs the plainest fast reader of FILE + the engine.

    python benchmarks/e2e.py --cells 10M --out /tmp/e2e --json

Writes one synthetic cube (the consistent population cube of `run.py`, 20 errors injected)
in every format: PX, JSON-stat 2.0, tidy CSV, tidy JSON, Parquet, StatBank CSV (long), and
the same cube with 0.1% of its cells `..` (symbols) as PX, tidy CSV and Parquet. For each
file, side by side in one run (the machine may be shared: compare ratios, not seconds):
  audit_s     wall time of `migaudit audit FILE --rules regions.yaml --format json -o …`
  plain_s     wall time of a process that only reads FILE with the fastest plain reader of
              its format (numpy text parsing for PX, json + numpy for JSON-stat and tidy
              JSON, pyarrow for CSV and Parquet), interpreter start included
  engine_s    migaudit's engine evaluating the same rules on the cube, in-process (median)
  ratio       audit_s / (plain_s + engine_s)          target ≤ 3
  mem_ratio   peak RSS of the audit / peak RSS of the plain reader     target ≤ 2
With --read-only the first process only reads FILE with migaudit (`readers.read`): the
reader's own cost against the plain reader, without engine or localization.
With --baseline SRC (the `src` folder of another revision, e.g. `git archive main | tar -x`)
the audit also runs with that code on every file, side by side, and the run stops unless
both reports are identical (every finding, suspect and warning): speed-ups may not change
results. `baseline_s` is that audit's wall time.
Peak RSS from `/usr/bin/time -f %M`. Nothing here is a test: it prints figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import yaml  # noqa: E402
from run import bench_rules, inject, make_cube, parse_cells  # noqa: E402

from migaudit.engine.dense import evaluate  # noqa: E402
from migaudit.model import symbols as sym  # noqa: E402
from migaudit.model.cube import Cube  # noqa: E402
from migaudit.model.table import Table  # noqa: E402
from migaudit.readers import px, tidy  # noqa: E402

PLAIN = {
    "px": """
import numpy as np, sys
data = open(sys.argv[1], 'rb').read()
body = data[data.index(b'DATA=') + 5:].rstrip().rstrip(b';')
for s, v in ((b'"......"', b'nan'), (b'"....."', b'nan'), (b'"...."', b'nan'), (b'"..."', b'nan'),
             (b'".."', b'nan'), (b'"."', b'nan'), (b'":"', b'nan'), (b'"-"', b'0')):
    body = body.replace(s, v)
values = np.fromstring(body, sep=' ')
assert values.size == int(sys.argv[2]), values.size
""",
    "jsonstat": """
import json, numpy as np, sys
doc = json.load(open(sys.argv[1], 'rb'))
values = np.array(doc['value'], dtype=float)
assert values.size == int(sys.argv[2])
""",
    "json": """
import json, numpy as np, sys
doc = json.load(open(sys.argv[1], 'rb'))
values = np.array([c['value'] for c in doc['cells']], dtype=float)
assert values.size == int(sys.argv[2])
""",
    "csv": """
import pyarrow.csv as c, sys
t = c.read_csv(sys.argv[1])
v = t.column('value').to_numpy()
assert t.num_rows == int(sys.argv[2])
""",
    "statbank": """
import pyarrow.csv as c, sys
t = c.read_csv(sys.argv[1], parse_options=c.ParseOptions(delimiter=';'))
assert t.num_rows == int(sys.argv[2])
""",
    "parquet": """
import pyarrow.parquet as pq, sys
t = pq.read_table(sys.argv[1])
v = t.column('value').to_numpy()
assert t.num_rows == int(sys.argv[2])
""",
}


def write_jsonstat(table: Table, path: Path) -> None:
    """JSON-stat 2.0 dataset, as StatBank's API serves it."""
    dims = table.dimensions
    values = table.values.ravel()
    symbols = table.symbols.ravel()
    status = {str(int(i)): sym.TEXT[int(symbols[i])] for i in np.flatnonzero(symbols)}
    roles = {"time": [d.name for d in dims if d.role == "time"], "geo": [d.name for d in dims if d.role == "region"],
             "metric": [d.name for d in dims if d.role == "measure"]}
    doc = {
        "version": "2.0", "class": "dataset", "label": "synthetic", "id": [d.name for d in dims],
        "size": [len(d) for d in dims], "role": {k: v for k, v in roles.items() if v},
        "dimension": {d.name: {"label": d.name, "category": {"index": list(d.codes),
                                                               "label": dict(zip(d.codes, d.labels, strict=True))}}
                      for d in dims},
        "value": [None if v != v else int(v) if v.is_integer() else v for v in values.tolist()],
    }
    if status:
        doc["status"] = status
    path.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")


def write_statbank(table: Table, path: Path) -> None:
    """StatBank CSV export, long form: one row per cell, `;`-separated, the value last."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    at = tidy.arrow_table(table)
    texts = np.array([sym.format_cell(0.0, i) for i in range(len(sym.SYMBOLS))], dtype=object)
    symbols = table.symbols.ravel()
    values = table.values.ravel()
    cells = np.where(symbols == 0, values.astype(np.int64).astype(str), texts[symbols].astype(str))
    cols = {d.name: at.column(d.name).cast(pa.string()) for d in table.dimensions}
    cols["99999: Synthetic population cube"] = pa.array(cells.astype(str))
    pacsv.write_csv(pa.table(cols), str(path), pacsv.WriteOptions(delimiter=";", quoting_style="needed"))


def with_symbols(table: Table, share: float = 0.001, seed: int = 3) -> Table:
    """A copy with `share` of its cells `..` (not available)."""
    rng = np.random.default_rng(seed)
    values, symbols = table.values.copy(), table.symbols.copy()
    flat = rng.choice(values.size, int(values.size * share), replace=False)
    values.ravel()[flat] = np.nan
    symbols.ravel()[flat] = sym.CODE[".."]
    return Table(table.dimensions, values, symbols, id=table.id, meta=dict(table.meta))


def write_all(table: Table, sym_table: Table, out: Path, formats: list[str],
              reuse: bool = False) -> list[tuple[str, Path, str]]:
    files = []
    for fmt in formats:
        for t, tag in ((table, ""), (sym_table, "+symbols")):
            if tag and fmt not in ("px", "csv", "parquet"):
                continue
            name = f"cube{tag.replace('+', '-')}"
            t0 = time.perf_counter()
            f = out / {"px": f"{name}.px", "jsonstat": f"{name}.jsonstat.json",
                       "statbank": f"{name}.statbank.csv"}.get(fmt, f"{name}.{fmt}")
            if reuse and f.exists():
                files.append((fmt + tag, f, fmt))
                continue
            if fmt == "px":
                f = out / f"{name}.px"
                px.write_px(t, f, codepage="utf-8")
            elif fmt == "jsonstat":
                f = out / f"{name}.jsonstat.json"
                write_jsonstat(t, f)
            elif fmt == "statbank":
                f = out / f"{name}.statbank.csv"
                write_statbank(t, f)
            else:
                f = out / f"{name}.{fmt}"
                tidy.write(t, f, fmt)
            print(f"wrote {f.name} ({f.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s",
                  file=sys.stderr)
            files.append((fmt + tag, f, fmt))
    return files


def timed(cmd: list[str]) -> tuple[float, int, int]:
    """(wall seconds, peak RSS in MB, exit code) of one process."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    rss_kb = int(p.stderr.strip().splitlines()[-1])
    if p.returncode not in (0, 1):
        raise SystemExit(f"{cmd}: exit {p.returncode}\n{p.stderr[-2000:]}")
    return wall, rss_kb // 1024, p.returncode


def engine_seconds(table: Table, rules, repeat: int = 3) -> float:  # noqa: ANN001
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        cube = Cube.of(table)
        for rule in rules:
            evaluate(rule, cube)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def rules_yaml(table: Table, path: Path) -> None:
    """The region hierarchy of the synthetic cube, as a user would write it."""
    rule = next(r for r in bench_rules(table) if r.id == "regions_sum_to_total")
    doc = {"family": "synthetic", "rules": [{
        "id": rule.id, "kind": "hierarchy", "along": "region", "description": rule.description,
        "groups": [{"parent": g.parent, "children": list(g.children)} for g in rule.groups]}]}
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cells", default="10M")
    ap.add_argument("--out", default="/tmp/migaudit-e2e", help="folder for the files (about 3 GB at 10M)")
    ap.add_argument("--formats", default="px,jsonstat,csv,json,parquet,statbank")
    ap.add_argument("--repeat", type=int, default=1, help="runs per process timing (median)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--reuse", action="store_true", help="keep files already written in --out (same --cells)")
    ap.add_argument("--baseline", type=Path, default=None,
                    help="src folder of another revision: audit with it too and require identical reports")
    ap.add_argument("--read-only", action="store_true",
                    help="time a process that only reads FILE with migaudit (readers.read) instead of the audit")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table = make_cube(parse_cells(args.cells))
    inject(table, 20)
    sym_table = with_symbols(table)
    rules_file = out / "regions.yaml"
    rules_yaml(table, rules_file)
    rules = bench_rules(table)
    eng = {} if args.read_only else {"": engine_seconds(table, rules), "+symbols": engine_seconds(sym_table, rules)}
    files = write_all(table, sym_table, out, args.formats.split(","), args.reuse)
    del table, sym_table
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    rows = []
    for name, f, fmt in files:
        n = parse_cells(args.cells)
        audit_cmd = [sys.executable, "-m", "migaudit.cli", "audit", str(f), "--rules", str(rules_file),
                     "--format", "json", "-o", str(out / "report.json")]
        if args.read_only:
            audit_cmd = [sys.executable, "-c", "import sys; from migaudit.readers import read; read(sys.argv[1])", str(f)]
        plain_cmd = [sys.executable, "-c", PLAIN[fmt], str(f), str(_cells(f, fmt, n))]
        a, p, b = [], [], []
        for _ in range(args.repeat):  # side by side, so both see the same load
            p.append(timed(plain_cmd))
            subprocess.run(["true"], env=env)
            a.append(_timed_env(audit_cmd, env))
            if args.baseline and not args.read_only:
                base_cmd = [*audit_cmd[:-1], str(out / "report-baseline.json")]
                b.append(_timed_env(base_cmd, dict(env, PYTHONPATH=str(args.baseline.resolve()))))
                _same_reports(out / "report.json", out / "report-baseline.json", name)
        plain_s = statistics.median(x[0] for x in p)
        audit_s = statistics.median(x[0] for x in a)
        engine_s = 0.0 if args.read_only else eng["+symbols" if "+symbols" in name else ""]
        report = {"violations": []} if args.read_only else json.loads((out / "report.json").read_text())
        row = {"format": name, "mb": round(f.stat().st_size / 1e6), "audit_s": round(audit_s, 2),
               "plain_s": round(plain_s, 2), "engine_s": round(engine_s, 2),
               "ratio": round(audit_s / (plain_s + engine_s), 2),
               "audit_mb": max(x[1] for x in a), "plain_mb": max(x[1] for x in p),
               "mem_ratio": round(max(x[1] for x in a) / max(x[1] for x in p), 2),
               "violations": len(report["violations"]), "warnings": len(report.get("warnings", []))}
        if b:
            row["baseline_s"] = round(statistics.median(x[0] for x in b), 2)
            row["baseline_mb"] = max(x[1] for x in b)
            row["same_report"] = True
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)
    result = {"cells": parse_cells(args.cells), "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
              "platform": platform.platform(), "load": os.getloadavg()}, "rows": rows}
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print("| format | MB | audit_s | plain_s | engine_s | ratio | audit_MB | plain_MB | mem_ratio |")
        print("|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['format']} | {r['mb']} | {r['audit_s']} | {r['plain_s']} | {r['engine_s']} | {r['ratio']} "
                  f"| {r['audit_mb']} | {r['plain_mb']} | {r['mem_ratio']} |")


def _same_reports(new: Path, old: Path, name: str) -> None:
    """Stop the run unless the two JSON reports agree in everything but the version line.

    Fields the baseline does not have yet are left out (the contract only ever adds fields).
    """
    a, b = _common(json.loads(new.read_text()), json.loads(old.read_text()))
    a.pop("migaudit", None)
    b.pop("migaudit", None)
    if a != b:
        diff = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        raise SystemExit(f"{name}: the report differs from the baseline's in {diff}")


def _cells(f: Path, fmt: str, n: int) -> int:
    return n


def _timed_env(cmd: list[str], env: dict[str, str]) -> tuple[float, int, int]:
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if p.returncode not in (0, 1):
        raise SystemExit(f"{cmd}: exit {p.returncode}\n{p.stderr[-2000:]}")
    return wall, int(p.stderr.strip().splitlines()[-1]) // 1024, p.returncode


def _common(new: object, old: object) -> tuple[object, object]:
    """`new` without the keys `old` lacks, at every level (lists element by element)."""
    if isinstance(new, dict) and isinstance(old, dict):
        pairs = {k: _common(new[k], old[k]) if k in old else None for k in new}
        return ({k: p[0] for k, p in pairs.items() if p is not None},
                {k: (pairs[k][1] if pairs.get(k) is not None else v) for k, v in old.items()})
    if isinstance(new, list) and isinstance(old, list) and len(new) == len(old):
        both = [_common(x, y) for x, y in zip(new, old, strict=True)]
        return [x for x, _ in both], [y for _, y in both]
    return new, old


if __name__ == "__main__":
    main()
