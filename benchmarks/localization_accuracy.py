"""How often localization names the injected cell exactly, on real SSB tables.

For random realistic errors (±1, ±10, ±100, transposed, dropped and doubled digits, sign
flips, swapped neighbours) injected into the tables of the bundled example release, audit
the table alone and compare the suspects with the truth:

- *exact*: the suspects are exactly the injected cell(s), each with its original value;
- *singled out*: the published rules leave one minimal change (no tie), the cases the issue
  counts separately; ties are listed whole, so those count as exact only when singled out.

`--method greedy` runs the previous localizer (re-checking, from git history) on the same
errors for the before/after figure.

    PYTHONPATH=src .venv/bin/python benchmarks/localization_accuracy.py --trials 300
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np

import migaudit
from migaudit.model.cube import Cube
from migaudit.model.table import Table
from migaudit.rules.ruleset import load_rules
from migaudit.runner import collect

RELEASE = Path(migaudit.__file__).parent / "data" / "example_release"
KINDS = ("+1", "-1", "+10", "-10", "+100", "-100", "transpose", "drop", "double", "sign", "swap")


def _greedy():  # noqa: ANN202
    """The re-checking localizer as it was before the exact one (commit efb88f5)."""
    root = Path(__file__).resolve().parents[1]
    text = subprocess.run(["git", "-C", str(root), "show", "efb88f5:src/migaudit/localization.py"],
                          capture_output=True, text=True, check=True).stdout
    path = Path(tempfile.mkdtemp()) / "_greedy_localization.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("migaudit._greedy_localization", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _digits(v: int, kind: str, rng: np.random.Generator) -> int | None:
    s = str(abs(int(v)))
    sign = -1 if v < 0 else 1
    if kind == "transpose" and len(s) >= 2:
        i = int(rng.integers(0, len(s) - 1))
        t = s[:i] + s[i + 1] + s[i] + s[i + 2:]
    elif kind == "drop" and len(s) >= 2:
        i = int(rng.integers(0, len(s)))
        t = s[:i] + s[i + 1:]
    elif kind == "double":
        i = int(rng.integers(0, len(s)))
        t = s[:i] + s[i] + s[i:]
    else:
        return None
    return sign * int(t) if t != s else None


def inject(t: Table, kind: str, rng: np.random.Generator) -> list[tuple[tuple[int, ...], float]] | None:
    """Change `t` in place; the changed cells with their original values, or None when not applicable."""
    cells = np.argwhere(~np.isnan(t.values) & (t.symbols == 0))
    if len(cells) == 0:
        return None
    idx = tuple(int(i) for i in cells[rng.integers(len(cells))])
    v = float(t.values[idx])
    if v != int(v):
        return None
    if kind == "swap":
        ax = int(rng.integers(t.values.ndim))
        if t.values.shape[ax] < 2:
            return None
        other = list(idx)
        other[ax] = idx[ax] + 1 if idx[ax] + 1 < t.values.shape[ax] else idx[ax] - 1
        other = tuple(other)
        w = float(t.values[other])
        if np.isnan(w) or t.symbols[other] != 0 or w == v:
            return None
        t.values[idx], t.values[other] = w, v
        return [(idx, v), (other, w)]
    if kind == "sign":
        new = -v
    elif kind[0] in "+-":
        new = v + int(kind)
    else:
        new = _digits(int(v), kind, rng)
    if new is None or new == v:
        return None
    t.values[idx] = new
    return [(idx, v)]


def named(result: migaudit.AuditResult, cube: Cube, truth: list[tuple[tuple[int, ...], float]]) -> tuple[bool, bool]:
    """(exact, tie): suspects are exactly the injected cells with their values; a tie was reported."""
    pad = (0,) * (len(cube.dims) - len(truth[0][0]))  # singleton axes a cube adds from the title
    want = {tuple(sorted(cube.where(i + pad)[0].items())): v for i, v in truth}
    got: dict[tuple, object] = {}
    tie = False
    for v in result.violation_list:
        for s in v.suspects:
            got[tuple(sorted(s["where"].items()))] = s.get("suggested")
            tie |= s.get("tie_size", 1) > 1
    exact = set(got) == set(want) and all(got[k] is not None and abs(float(got[k]) - want[k]) < 1e-6 for k in want)
    return exact, tie


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--method", choices=("exact", "greedy", "both"), default="both")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rules = load_rules()
    tables, _ = collect([RELEASE])
    greedy = _greedy() if args.method in ("greedy", "both") else None
    rng = np.random.default_rng(args.seed)
    stats: dict[str, Counter] = {m: Counter() for m in ("exact", "greedy")}
    per_kind: dict[str, Counter] = {}
    times: dict[str, float] = Counter()
    done = 0
    while done < args.trials:
        base = tables[int(rng.integers(len(tables)))]
        kind = KINDS[int(rng.integers(len(KINDS)))]
        t = replace(base, values=base.values.copy(), symbols=base.symbols.copy(), meta=dict(base.meta))
        truth = inject(t, kind, rng)
        if truth is None:
            continue
        t0 = time.perf_counter()
        r = migaudit.audit([t], rules, cross_table=False)
        times["exact"] += time.perf_counter() - t0
        if not any(v.severity in ("error", "warning") for v in r.violation_list):
            continue  # the rules do not see this error: nothing to localize
        done += 1
        cube = Cube.of(t)
        exact, tie = named(r, cube, truth)
        named_cells = {tuple(sorted(s["where"].items())) for v in r.violation_list for s in v.suspects}
        single = not tie and len(named_cells) == len(truth)  # one minimal change, of the injected size
        k = per_kind.setdefault(kind, Counter())
        k["n"] += 1
        k["exact"] += exact
        k["tie"] += tie
        s = stats["exact"]
        s["n"] += 1
        s["exact"] += exact
        s["singled_out"] += single
        s["singled_out_exact"] += single and exact
        s["tie"] += tie
        if greedy is not None:
            for v in r.violation_list:
                v.suspects = []
            t0 = time.perf_counter()
            greedy.localize(r, [cube], rules)
            times["greedy"] += time.perf_counter() - t0
            g_exact, _ = named(r, cube, truth)
            g = stats["greedy"]
            g["n"] += 1
            g["exact"] += g_exact
            g["singled_out"] += single and g_exact
            k["greedy_exact"] += g_exact
    n = stats["exact"]["n"]
    so = stats["exact"]["singled_out"]
    report = {
        "trials": n,
        "singled_out": so,
        "ties_reported": stats["exact"]["tie"],
        "exact_rate": stats["exact"]["exact"] / n,
        "exact_rate_singled_out": so and stats["exact"]["singled_out_exact"] / so,
        "greedy_exact_rate": stats["greedy"]["exact"] / n if greedy else None,
        "greedy_exact_rate_singled_out": (stats["greedy"]["singled_out"] / so) if greedy and so else None,
        "per_kind": {k: dict(c) for k, c in sorted(per_kind.items())},
        "audit_with_exact_localization_s": round(times["exact"], 2),
        "greedy_localization_s": round(times["greedy"], 2),
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
