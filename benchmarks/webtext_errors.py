"""How often one realistic typo on a web-text page is reported at its row.

    PYTHONPATH=src python benchmarks/webtext_errors.py [--per-table 40] [--seed 1] [--json]

For each table of the two web-text seeds (002, 004) it draws mutations of one published
figure — a wrong digit, two adjacent digits transposed, a digit dropped, a digit doubled —
re-renders the row the way the web copy does (cell borders lost, thousands groups kept) and
classifies each:

  detectable  the same change made to the correctly read table makes the audit report a new
              error at the changed row (a published invariant covers the figure)
  detected    reading the mutated page and auditing it reports a new error at that row
  exit2       the mutated page is unreadable (ReadError)
  absorbed    the page read, no error at the row: the row was re-split into a reading that
              satisfies every invariant (the reader marks such rows in meta["assumed"])

Detection rate = detected / detectable, per table. Measured with `--per-table 40 --seed 1`
(the same 360 cases for both; detectable = 34, 40, 40, 1, 10, 40, 40, 20, 40):

  table                                  before (efb88f5)          after (branch webtext)
  002-1 migration by citizenship          6%  (32 exit 2)          100%  (0 exit 2)
  002-2 migrations by county             28%  (29 exit 2)          100%
  002-3 immigration/emigration 1972–     98%  (1 exit 2)           100%
  002-4 internal migration 2015–2024    100%  (1 detectable)       100%
  002-5 internal migration by level       0%  (10 absorbed)        100%
  004-1 population and changes          98%  (1 exit 2)           100%
  004-2 migration in the quarter          0%  (40 exit 2)          100%
  004-3 population by age               100%                       100%
  004-4 foreign citizens by sex          98%  (1 exit 2)           100%
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT / "src"))  # PYTHONPATH first: to measure another checkout

from migaudit.errors import ReadError  # noqa: E402
from migaudit.model.table import Table  # noqa: E402
from migaudit.readers import webtext  # noqa: E402
from migaudit.rules.ruleset import load_rules  # noqa: E402
from migaudit.runner import audit  # noqa: E402

SEEDS = ROOT.parent / "shared" / "seeds"
PAGES = ("002_9f646cd996dae96d.txt", "004_99fd64565a2b4c95.txt")


def fmt_number(digits: str, decimals: int, negative: bool) -> str:
    """SSB's rendering of a figure given as its digit string (decimal point implied)."""
    digits = digits.lstrip("0") or "0"
    if decimals:
        digits = digits.rjust(decimals + 1, "0")
        whole, frac = digits[:-decimals], digits[-decimals:]
    else:
        whole, frac = digits, ""
    whole = f"{int(whole):,}".replace(",", " ")
    out = whole + ("." + frac if frac else "")
    return ("-" if negative and out.strip("0. ") else "") + out


def typos(cell: str) -> list[tuple[str, str]]:
    """Every (kind, new cell text) one realistic typo makes of a published number."""
    if cell in ("-", ".", "..", "...", ":"):
        return []
    negative = cell.startswith("-")
    body = cell.lstrip("-").replace(" ", "")
    decimals = len(body.split(".", 1)[1]) if "." in body else 0
    digits = body.replace(".", "")
    out: set[tuple[str, str]] = set()
    for i, d in enumerate(digits):
        for r in "0123456789":
            if r != d:
                out.add(("wrong", digits[:i] + r + digits[i + 1:]))
        if i + 1 < len(digits) and digits[i + 1] != d:
            out.add(("transposed", digits[:i] + digits[i + 1] + d + digits[i + 2:]))
        if len(digits) > 1:
            out.add(("dropped", digits[:i] + digits[i + 1:]))
        out.add(("doubled", digits[:i] + d + digits[i:]))
    res = []
    for kind, new in sorted(out):
        text = fmt_number(new, decimals, negative)
        if text != cell:
            res.append((kind, text))
    return res


@dataclass
class Case:
    page: str
    table: int  # block index
    line: int  # 1-based line of the row
    row: int
    col: int
    kind: str
    old: str
    new: str


def _blocks(text: str) -> list:
    lines = [webtext._clean(x) for x in text.splitlines()]
    blocks = webtext._find_blocks(lines, "x")
    for b in blocks:
        webtext._resolve(b, "x")
    return blocks


def _chosen_cells(block) -> list[list[str]]:
    """The cell texts the reader chose per row (formatted back from the values)."""
    out = []
    for row in block.rows:
        for cand in webtext.splits(row.tail, len(block.columns)):
            vals = [webtext._parse(c) for c in cand]
            got = block.cells[block.rows.index(row)]
            if all((a[0] == b[0] or (np.isnan(a[0]) and np.isnan(b[0]))) and a[1] == b[1]
                   for a, b in zip(vals, got, strict=True)):
                out.append(list(cand))
                break
        else:
            out.append([])  # a short row: left alone
    return out


def cell_index(tables: list[Table], bi: int, r: int, j: int, n: int) -> tuple[str, tuple[int, ...]]:
    """Where block bi's cell (r, j) lands in the Tables: the tables keep the page's column
    order (a repeated measure is spread over periods in C order, padded with '.')."""
    from migaudit.model import symbols as sym

    t = tables[bi]
    rest = [tuple(int(x) for x in ix) for ix in np.ndindex(t.values.shape[1:])]
    shown = [ix for ix in rest if t.symbols[(r, *ix)] != sym.NOT_APPLICABLE]
    if len(shown) != n:
        raise AssertionError(f"{t.id}: row {r} shows {len(shown)} cells, block has {n}")
    return t.id, (r, *shown[j])


def _key(v) -> tuple:
    return (v.rule, v.table, tuple(sorted(v.where.items())), v.actual, v.expected)


def _at_row(v, table_id: str, row_label: str, row_index: int) -> bool:
    if any(c[0] == table_id and c[1] and c[1][0] == row_index for c in v.cells):
        return True
    places = [(v.table, v.where)] + ([(v.other["table"], v.other.get("where", {}))]
                                      if v.other else [])
    places += [(s.get("table"), s.get("where", {})) for s in v.suspects]
    return any(t == table_id and row_label in (w or {}).values() for t, w in places)


def new_errors_at_row(tables: list[Table], rules, baseline: set, table_id: str,
                      row_label: str, row_index: int) -> bool:
    res = audit(tables, rules)
    return any(v.severity == "error" and _key(v) not in baseline
               and _at_row(v, table_id, row_label, row_index) for v in res.violation_list)


def measure(per_table: int, seed: int) -> dict:
    rules = load_rules()
    report: dict = {}
    for name in PAGES:
        path = SEEDS / name
        page = path.read_bytes()
        text = page.decode("utf-8")
        raw_lines = text.splitlines()
        clean = webtext.read(page, name)
        baseline = {_key(v) for v in audit(clean, rules).violation_list}
        blocks = _blocks(text)
        rng = random.Random(f"{seed}-{name}")
        where: dict[tuple[int, int, int], tuple[str, tuple[int, ...]]] = {}
        for bi, block in enumerate(blocks):
            chosen = _chosen_cells(block)
            cases = []
            for r, row in enumerate(block.rows):
                for j, cell in enumerate(chosen[r]):
                    for kind, new in typos(cell):
                        cases.append(Case(name, bi, row.line, r, j, kind, cell, new))
            rng.shuffle(cases)
            cases = cases[:per_table]
            stats = {"cases": len(cases), "detectable": 0, "detected": 0, "exit2": 0,
                     "absorbed": 0, "exit2_detectable": 0}
            for c in cases:
                row = block.rows[c.row]
                cells = list(chosen[c.row])
                cells[c.col] = c.new
                lines = list(raw_lines)
                old_line = lines[c.line - 1]
                indent = old_line[: len(old_line) - len(old_line.lstrip())]
                lines[c.line - 1] = indent + row.label + "".join(cells)
                mutated = "\n".join(lines).encode("utf-8")
                # detectable: the same change made to the correctly read tables
                if (bi, c.row, c.col) not in where:
                    where[bi, c.row, c.col] = cell_index(clean, bi, c.row, c.col,
                                                          len(block.columns))
                tid, idx = where[bi, c.row, c.col]
                oracle = webtext.read(page, name)
                target = next(t for t in oracle if t.id == tid)
                target.values[idx] = webtext._parse(c.new)[0]
                label = target.dimensions[0].labels[idx[0]]
                detectable = new_errors_at_row(oracle, rules, baseline, tid, label, idx[0])
                stats["detectable"] += detectable
                try:
                    tables = webtext.read(mutated, name)
                except ReadError:
                    stats["exit2"] += 1
                    stats["exit2_detectable"] += detectable
                    continue
                if not detectable:
                    continue
                t_ids = {t.id for t in tables}
                found = tid in t_ids and new_errors_at_row(tables, rules, baseline, tid, label,
                                                           idx[0])
                stats["detected" if found else "absorbed"] += 1
            title = block.title or f"table {bi + 1}"
            stats["rate"] = round(stats["detected"] / stats["detectable"], 3) if stats[
                "detectable"] else None
            report[f"{name[:3]}-{bi + 1} {title}"] = stats
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-table", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    report = measure(args.per_table, args.seed)
    if args.json:
        print(json.dumps(report, indent=1, ensure_ascii=False))
        return
    print(f"{'table':60} cases detectable detected exit2 absorbed  rate")
    for k, s in report.items():
        rate = "n/a" if s["rate"] is None else f"{100 * s['rate']:.0f}%"
        print(f"{k[:60]:60} {s['cases']:5} {s['detectable']:10} {s['detected']:8} "
              f"{s['exit2']:5} {s['absorbed']:8} {rate:>5}")


if __name__ == "__main__":
    main()
