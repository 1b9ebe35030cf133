"""One realistic typo on a web-text page is reported at its row, never hidden, never exit 2.

A typo is made in the figure as published (a wrong digit, two adjacent digits transposed,
a digit dropped or doubled) and the page renders it the way the web copy does: thousands
groups kept, cell borders lost. The audit of the page must then report a new error at the
changed row, or the reader must say it leaned on an identity to split that row
(meta["assumed"]: a reading of the row that satisfies every invariant exists, so no check
can tell; the identity is assumed there, not checked).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migaudit.model.table import Table
from migaudit.readers import webtext
from migaudit.rules.ruleset import load_rules

P002 = "002_9f646cd996dae96d.txt"
P004 = "004_99fd64565a2b4c95.txt"


def render(digits: str, decimals: int, negative: bool) -> str:
    """SSB's rendering of a figure given as its digit string (decimal point implied)."""
    digits = digits.lstrip("0") or "0"
    whole, frac = (digits.rjust(decimals + 1, "0")[:-decimals],
                   digits.rjust(decimals + 1, "0")[-decimals:]) if decimals else (digits, "")
    out = f"{int(whole):,}".replace(",", " ") + ("." + frac if frac else "")
    return ("-" if negative and out.strip("0. ") else "") + out


def typos(cell: str) -> list[str]:
    """Every cell one realistic typo makes of a published number (none of a symbol)."""
    if cell in ("-", ".", "..", "...", ":"):
        return []
    negative = cell.startswith("-")
    body = cell.lstrip("-").replace(" ", "")
    decimals = len(body.split(".", 1)[1]) if "." in body else 0
    d = body.replace(".", "")
    out = set()
    for i, x in enumerate(d):
        out |= {d[:i] + r + d[i + 1:] for r in "0123456789" if r != x}  # wrong digit
        if i + 1 < len(d) and d[i + 1] != x:
            out.add(d[:i] + d[i + 1] + x + d[i + 2:])  # transposed
        if len(d) > 1:
            out.add(d[:i] + d[i + 1:])  # dropped
        out.add(d[:i] + x + d[i:])  # doubled
    return sorted({t for t in (render(o, decimals, negative) for o in out) if t != cell})


def test_typos_render_like_ssb() -> None:
    assert "1 234" in typos("2 134") and "213" in typos("2 134") and "22 134" in typos("2 134")
    assert "-1 869" in typos("-1 896") and "47.4" in typos("47.3") and "4.3" in typos("47.3")
    assert typos("-") == [] and all(t.count(".") == 1 for t in typos("0.4"))


def _key(v) -> tuple:
    return (v.rule, v.table, tuple(sorted(v.where.items())), v.actual, v.expected)


def _violations(tables: list[Table], rules) -> list:
    """What `migaudit.audit` reports, without its localization pass (suspects only, which
    these checks do not need and which costs most of the time)."""
    from migaudit.engine.crosstable import cross_table_outcomes
    from migaudit.engine.dense import evaluate
    from migaudit.model.cube import Cube
    from migaudit.runner import derived_rules

    cubes = [Cube.of(t) for t in tables]
    outs = [o for c in cubes for rule in [*rules, *derived_rules(c)]
            if (o := evaluate(rule, c)) is not None]
    return [v for o in outs + cross_table_outcomes(cubes) for v in o.violations]


def _flags_row(tables: list[Table], rules, baseline: set, table_id: str, row: int) -> bool:
    """A new error whose cells include the row (in that table)."""
    label = next(t for t in tables if t.id == table_id).dimensions[0].labels[row]
    for v in _violations(tables, rules):
        if v.severity != "error" or _key(v) in baseline:
            continue
        if any(c[0] == table_id and c[1][:1] == (row,) for c in v.cells):
            return True
        if v.table == table_id and label in v.where.values():
            return True
    return False


def _assumed(t: Table, row: int) -> bool:
    return any(a["row"] == t.dimensions[0].codes[row] for a in t.meta.get("assumed", []))


def check_typo(lines: list[str], line: int, label: str, cells: list[str], col: int, new: str,
               source: str, rules, baseline: set, table_index: int,
               oracle: Callable[[], list[Table]] | None = None, indent: str = "") -> str:
    """Read the page with one cell changed; 'detected', 'assumed' or 'undetectable'.

    Fails the test when the page does not read, or a detectable typo is neither reported
    at its row nor marked as assumed there.
    """
    changed = list(cells)
    changed[col] = new
    page = list(lines)
    page[line - 1] = indent + label + "".join(changed)
    tables = webtext.read("\n".join(page).encode("utf-8"), source)  # never exit 2
    t = tables[table_index]
    row = next(r for r, lab in enumerate(t.dimensions[0].labels) if lab == label)
    if _flags_row(tables, rules, baseline, t.id, row):
        return "detected"
    if _assumed(t, row):
        return "assumed"
    if oracle is not None:
        # the same change made to the correctly split table: could any check see it?
        fresh = oracle()
        target = fresh[table_index]
        target.values[_row_cells(target, row)[col]] = webtext._parse(new)[0]
        if not _flags_row(fresh, rules, baseline, target.id, row):
            return "undetectable"
    pytest.fail(f"{source} line {line}: {cells[col]!r} → {new!r} in {label!r} is neither "
                f"reported at its row nor marked assumed; notes: {t.notes}")


def _row_cells(t: Table, row: int) -> list[tuple[int, ...]]:
    """The row's cells in the page's column order (a repeated measure's '.' padding left out)."""
    import numpy as np

    from migaudit.model import symbols as sym

    rest = [tuple(int(x) for x in ix) for ix in np.ndindex(t.values.shape[1:])]
    return [(row, *ix) for ix in rest if t.symbols[(row, *ix)] != sym.NOT_APPLICABLE]


# --- random consistent tables ---------------------------------------------------------------

_LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=8).map(
    lambda s: "X" + s)


@st.composite
def _case(draw: st.DrawFn):
    n = draw(st.integers(3, 6))
    labels = draw(st.lists(_LABEL, min_size=n, max_size=n, unique=True))
    rows = []
    for label in labels:
        a = draw(st.integers(0, 300_000))
        b = draw(st.integers(0, 300_000))
        rows.append((label, [a, b, a - b]))
    r = draw(st.integers(0, n - 1))
    col = draw(st.integers(0, 2))
    cells = [render(str(abs(x)), 0, x < 0) for x in rows[r][1]]
    new = draw(st.sampled_from(typos(cells[col])))
    return rows, r, col, new


def _page(rows: list[tuple[str, list[int]]]) -> list[str]:
    lines = ["Some prose about the statistics.", "", "Migration by citizenship",
             "Migration by citizenship", "ImmigrationEmigrationNet migration"]
    lines += [label + "".join(render(str(abs(x)), 0, x < 0) for x in vals)
              for label, vals in rows]
    return lines + ["Explanation of symbols", "", "More prose 12 here."]


_RULES = None


def _rules():
    global _RULES  # a cache of the shipped rules, not a switch
    if _RULES is None:
        _RULES = load_rules()
    return _RULES


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_case())
def test_random_table_with_one_typo_is_reported_at_its_row(case) -> None:
    rows, r, col, new = case
    lines = _page(rows)
    clean = webtext.read("\n".join(lines).encode(), "random.txt")
    baseline = {_key(v) for v in _violations(clean, _rules())}
    label = rows[r][0]
    cells = [render(str(abs(x)), 0, x < 0) for x in rows[r][1]]
    got = check_typo(lines, 6 + r, label, cells, col, new, "random.txt", _rules(), baseline, 0,
                     oracle=lambda: webtext.read("\n".join(lines).encode(), "random.txt"))
    assert got in ("detected", "assumed", "undetectable")


# --- the two seed pages, every row ----------------------------------------------------------


def _seed_rows(text: str) -> list[tuple[int, int, str, list[str], str]]:
    """(block index, line, label, cells as chosen, indent) of every row of every table."""
    raw = text.splitlines()
    lines = [webtext._clean(x) for x in raw]
    blocks = webtext._find_blocks(lines, "seed")
    out = []
    for bi, b in enumerate(blocks):
        webtext._resolve(b, "seed")
        for r, row in enumerate(b.rows):
            for cand in webtext.splits(row.tail, len(b.columns)):
                if [webtext._parse(c) for c in cand] == b.cells[r]:
                    out.append((bi, row.line, row.label, list(cand),
                                raw[row.line - 1][: len(raw[row.line - 1])
                                                  - len(raw[row.line - 1].lstrip())]))
                    break
    return out


@pytest.mark.parametrize("name", [P002, P004])
def test_seed_page_typo_on_every_row_is_reported(seeds: Path, name: str) -> None:
    text = (seeds / name).read_text(encoding="utf-8")
    raw = text.splitlines()
    rules = _rules()
    clean = webtext.read(text.encode(), name)
    baseline = {_key(v) for v in _violations(clean, rules)}
    rng = random.Random(name)
    seen: dict[str, int] = {}
    for bi, line, label, cells, indent in _seed_rows(text):
        cols = [j for j, c in enumerate(cells) if typos(c)]
        if not cols:
            continue
        col = rng.choice(cols)
        new = rng.choice(typos(cells[col]))
        lines = [x.rstrip() for x in raw]
        got = check_typo(lines, line, label, cells, col, new, name, rules, baseline, bi,
                         oracle=lambda: webtext.read(text.encode(), name), indent=indent)
        seen[got] = seen.get(got, 0) + 1
    # most rows are bound by some published invariant, and most of those are reported
    assert seen.get("detected", 0) >= 2 * (seen.get("assumed", 0) + 1), seen
