"""One self-contained HTML page: verdict, rules, violations, and a picture of each two-way table.

Meant to be attached to a CI run or mailed to the table's owner, so it carries its own CSS
and needs no network. A two-way table (e.g. citizenship × region) is drawn as its grid
with the failing sums marked and the cells localization suspects marked in another colour
(the suggested value in the tooltip): that is where a reviewer looks first. Every text
from a table or file is escaped.
"""

from __future__ import annotations

import re
from collections import defaultdict
from html import escape
from typing import Any

import numpy as np

from .. import symbols as sym
from ..engine import Violation
from ..result import SEVERITY_RANK, AuditResult
from ..table import Dimension, Table
from .text import (
    fmt_imbalance,
    fmt_num,
    fmt_where,
    grouped_violations,
    other_text,
    passed_cross_table,
    rule_status,
    worst_severity,
)

_MARKER = re.compile(r"[\s]*[\u00b9\u00b2\u00b3\u2070-\u2079]+$")

CSS = """
:root { --err:#c62828; --warn:#b26a00; --info:#1565c0; --ok:#2e7d32; --sus:#7b1fa2; --line:#d0d4da; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:#1d2329;
       margin: 0 auto; padding: 24px 32px 64px; max-width: 1280px; background:#fafbfc; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 20px 0 6px; }
.verdict { display:inline-block; padding: 2px 10px; border-radius: 4px; color:#fff; font-weight:600; }
.verdict.ok { background: var(--ok); } .verdict.failed { background: var(--err); }
.sub { color:#5b6570; margin: 4px 0 16px; }
.counts { display:flex; gap: 12px; flex-wrap: wrap; margin: 12px 0; }
.count { background:#fff; border:1px solid var(--line); border-radius:6px; padding:8px 14px; min-width: 96px; }
.count b { display:block; font-size: 20px; } .count span { color:#5b6570; font-size: 12px; }
.count.error b { color: var(--err); } .count.warning b { color: var(--warn); } .count.info b { color: var(--info); }
table { border-collapse: collapse; background:#fff; margin: 6px 0 12px; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
th { background:#eef1f4; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.status-failed td:first-child { border-left: 4px solid var(--err); }
tr.status-info td:first-child { border-left: 4px solid var(--info); }
tr.status-skipped td:first-child { border-left: 4px solid #9aa3ad; }
tr.status-passed { color:#5b6570; }
.sev { font-weight: 600; } .sev.error { color: var(--err); } .sev.warning { color: var(--warn); }
.sev.info { color: var(--info); }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.where { max-width: 520px; }
.msg { color:#5b6570; font-size: 12.5px; }
.suspect-list { color: var(--sus); font-size: 12.5px; }
.more { color:#5b6570; font-style: italic; }
.grid-wrap { overflow-x: auto; max-width: 100%; }
table.grid { font-size: 12.5px; }
table.grid td { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; padding: 1px 6px; }
table.grid th { white-space: nowrap; font-weight: 500; }
table.grid thead th { position: sticky; top: 0; }
table.grid th.hl { background: #fde2e2; }
table.grid tr.total td, table.grid tr.total th, table.grid th.total { font-weight: 700; }
table.grid td.sym { color:#8a939c; text-align: center; }
table.grid td.fail { background: #ffcdd2; outline: 2px solid var(--err); outline-offset: -2px; font-weight: 700; }
table.grid td.fail-warning { background: #ffe0b2; outline-color: var(--warn); }
table.grid td.fail-info { background: #d6e6fb; outline-color: var(--info); font-weight: 500; }
table.grid td.suspect { background: #e9d5f5; outline: 2px dashed var(--sus); outline-offset: -2px;
                        font-weight: 700; }
table.grid td.fail.suspect { background: linear-gradient(135deg, #ffcdd2 50%, #e9d5f5 50%); }
table.grid tr.gap td, table.grid tr.gap th { color:#8a939c; text-align: center; font-style: italic; }
.legend span { display:inline-block; padding: 0 8px; margin-right: 8px; border-radius: 3px; font-size: 12.5px; }
.legend .l-fail { background:#ffcdd2; outline: 2px solid var(--err); outline-offset:-2px; }
.legend .l-sus { background:#e9d5f5; outline: 2px dashed var(--sus); outline-offset:-2px; }
.legend .l-info { background:#d6e6fb; outline: 2px solid var(--info); outline-offset:-2px; }
ul.compact { margin: 4px 0; padding-left: 20px; } ul.compact li { margin: 1px 0; }
details > summary { cursor: pointer; color:#37414b; }
footer { margin-top: 40px; color:#8a939c; font-size: 12px; }
"""


def _e(x: object) -> str:
    return escape("" if x is None else str(x), quote=True)


def _n(x: int) -> str:
    return f"{x:,}".replace(",", " ")


def render(result: AuditResult, max_rows: int = 200, grid_rows: int = 120, grid_cols: int = 40,
           title: str = "migaudit report", **_: object) -> str:
    """The whole page as a string; `max_rows` caps violations per table, `grid_rows` rows per grid."""
    d = result.to_dict()
    s = d["summary"]
    verdict = "OK" if result.ok else "FAILED"
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}: {verdict}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
        "<header>",
        f'<h1>{_e(title)} <span class="verdict {verdict.lower()}">{verdict}</span></h1>',
        f'<p class="sub">migaudit {_e(d["migaudit"])}: {s["errors"]} errors, {s["warnings"]} warnings, '
        f'{s["infos"]} infos</p>',
        '<div class="counts">',
    ]
    for key, label, cls in (("tables", "tables", ""), ("cells", "cells", ""), ("rules", "rules", ""),
                            ("checked", "checks", ""), ("errors", "errors", "error"),
                            ("warnings", "warnings", "warning"), ("infos", "infos", "info")):
        parts.append(f'<div class="count {cls}"><b>{_n(s[key])}</b><span>{label}</span></div>')
    parts += ["</div>", "</header>"]
    parts += _rules_section(result)
    parts += _violations_section(result, max_rows)
    parts += _cross_passed_section(result)
    parts += _grids_section(result, grid_rows, grid_cols)
    parts += _inputs_section(result)
    parts += [f"<footer>Generated by migaudit {_e(d['migaudit'])}.</footer>", "</body>", "</html>", ""]
    return "\n".join(parts)


# --- sections ------------------------------------------------------------------------------------
def _rules_section(result: AuditResult) -> list[str]:
    out = ['<section id="rules">', "<h2>Rules</h2>"]
    if not result.outcomes:
        return [*out, "<p>No rule applied to these tables.</p>", "</section>"]
    out += ["<table>", "<thead><tr><th>rule</th><th>table</th><th>severity</th><th>status</th>"
            '<th class="num">checked</th><th class="num">passed</th><th class="num">failed</th>'
            '<th class="num">skipped</th></tr></thead>', "<tbody>"]
    for o in result.outcomes:
        status = rule_status(o)
        sev = worst_severity(o.violations) or o.rule.severity
        desc = (o.rule.description or o.rule.expression or "").strip()
        out.append(
            f'<tr class="status-{status}"><td><code title="{_e(desc)}">{_e(o.rule.id)}</code></td>'
            f"<td>{_e(o.table)}</td><td><span class=\"sev {_e(sev) if status in ('failed', 'info') else ''}\">"
            f"{_e(sev)}</span></td><td>{status}</td>"
            f'<td class="num">{_n(o.checked)}</td><td class="num">{_n(o.passed)}</td>'
            f'<td class="num">{_n(o.failed)}</td><td class="num">{_n(o.skipped)}</td></tr>')
    return [*out, "</tbody>", "</table>", "</section>"]


def _violations_section(result: AuditResult, max_rows: int) -> list[str]:
    groups = list(grouped_violations(result))
    out = ['<section id="violations">', "<h2>Violations</h2>"]
    if not groups:
        return [*out, "<p>None.</p>", "</section>"]
    for group, vs in groups:
        out += [f"<h3>{_e(group)} <small>({len(vs)})</small></h3>", "<table>",
                "<thead><tr><th>severity</th><th>rule</th><th>cell</th><th class=\"num\">expected</th>"
                '<th class="num">actual</th><th class="num">imbalance</th><th>suspects</th></tr></thead>',
                "<tbody>"]
        for v in vs[:max_rows]:
            out.append(_violation_row(v))
        if len(vs) > max_rows:
            out.append(f'<tr><td colspan="7" class="more">… and {len(vs) - max_rows} more</td></tr>')
        out += ["</tbody>", "</table>"]
    return [*out, "</section>"]


def _violation_row(v: Violation) -> str:
    where = _e(fmt_where(v.where))
    if v.other:
        where += f" <b>≠</b> {_e(other_text(v))}"
    if v.message:
        where += f'<div class="msg">{_e(v.message)}</div>'
    suspects = "<br>".join(
        f"{_e(fmt_where(s.get('where')))}: {_e(fmt_num(s.get('actual')))}"
        + (f" → <b>{_e(fmt_num(s.get('suggested')))}</b>" if s.get("suggested") is not None else "")
        + (f" <small>({_e(s.get('table'))})</small>" if s.get("table") not in (None, v.table) else "")
        for s in v.suspects)
    return (f'<tr><td><span class="sev {_e(v.severity)}">{_e(v.severity)}</span></td>'
            f"<td><code>{_e(v.rule)}</code></td><td class=\"where\">{where}</td>"
            f'<td class="num">{_e(fmt_num(v.expected))}</td><td class="num">{_e(fmt_num(v.actual))}</td>'
            f'<td class="num">{_e(fmt_imbalance(v.imbalance))}</td>'
            f'<td class="suspect-list">{suspects}</td></tr>')


def _cross_passed_section(result: AuditResult) -> list[str]:
    passed = passed_cross_table(result)
    if not passed:
        return []
    items = [f"<li>✓ <code>{_e(o.rule.id)}</code> {_e(o.table)} ({_n(o.checked)} figures agree)</li>"
             for o in passed]
    return ['<section id="cross-table">', "<h2>Cross-table checks passed</h2>", '<ul class="compact">',
            *items, "</ul>", "</section>"]


def _inputs_section(result: AuditResult) -> list[str]:
    notes = [(t.id, n) for t in result.tables for n in t.notes]
    out = ['<section id="inputs">', "<h2>Tables and inputs</h2>", "<table>",
           '<thead><tr><th>table</th><th>title</th><th>source</th><th class="num">cells</th>'
           "<th>family</th></tr></thead>", "<tbody>"]
    for t in result.tables:
        out.append(f"<tr><td>{_e(t.id)}</td><td>{_e(t.title)}</td><td><code>{_e(t.source)}</code></td>"
                   f'<td class="num">{_n(t.size)}</td><td>{_e(result.families.get(t.id, ""))}</td></tr>')
    out += ["</tbody>", "</table>"]
    if notes:
        out += ["<h3>Reader notes</h3>", '<ul class="compact notes">']
        out += [f"<li><b>{_e(tid)}</b>: {_e(n)}</li>" for tid, n in notes]
        out.append("</ul>")
    if result.ignored:
        out += ["<h3>Ignored files</h3>", '<ul class="compact ignored">']
        out += [f"<li><code>{_e(f)}</code>: {_e(why)}</li>" for f, why in result.ignored]
        out.append("</ul>")
    return [*out, "</section>"]


# --- grids ---------------------------------------------------------------------------------------
def grid_axes(table: Table) -> tuple[int, int] | None:
    """(row axis, column axis) when the table is two-way (exactly 2 dimensions of size > 1).

    The longer dimension goes down the rows so wide classifications stay readable.
    """
    big = [i for i, dim in enumerate(table.dimensions) if len(dim) > 1]
    if len(big) != 2:
        return None
    a, b = big
    return (a, b) if len(table.dimensions[a]) >= len(table.dimensions[b]) else (b, a)


def _lookup(dim: Dimension) -> dict[str, int]:
    """Category position by code, by label and by label without footnote markers."""
    out: dict[str, int] = {}
    for i, (code, label) in enumerate(zip(dim.codes, dim.labels, strict=True)):
        for key in (_MARKER.sub("", label).strip(), label, code):
            out.setdefault(key, i)
    return out


def _locate(table: Table, axes: tuple[int, int], where: dict[str, Any] | None,
            codes: dict[str, Any] | None = None) -> tuple[int, int] | None:
    """Grid position of the cell named by `where` (labels) or `codes`, None if not in the grid."""
    if not where and not codes:
        return None
    pos = []
    for ax in axes:
        dim = table.dimensions[ax]
        look = _lookup(dim)
        key = None
        for source in (codes or {}, where or {}):
            for name in (dim.name, dim.role):
                if name and name in source and str(source[name]) in look:
                    key = str(source[name])
                    break
            if key is not None:
                break
        if key is None:
            return None
        pos.append(look[key])
    return pos[0], pos[1]


def _marks(result: AuditResult, table: Table, axes: tuple[int, int]) -> tuple[dict, dict]:
    """Failing cells {(r, c): [violations]} and suspect cells {(r, c): [suspects]} of `table`."""
    fails: dict[tuple[int, int], list[Violation]] = defaultdict(list)
    suspects: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    for v in result.violation_list:
        if v.table == table.id:
            at = _locate(table, axes, v.where, v.codes)
            if at is not None:
                fails[at].append(v)
        if v.other and v.other.get("table") == table.id:
            at = _locate(table, axes, v.other.get("where"))
            if at is not None:
                fails[at].append(v)
        for s in v.suspects:
            if s.get("table", v.table) == table.id:
                at = _locate(table, axes, s.get("where"))
                if at is not None:
                    suspects[at].append({**s, "rule": v.rule})
    return fails, suspects


def _grids_section(result: AuditResult, max_rows: int, max_cols: int) -> list[str]:
    out: list[str] = []
    for t in result.tables:
        axes = grid_axes(t)
        if axes is not None:
            out += _grid(result, t, axes, max_rows, max_cols)
    if not out:
        return []
    legend = ('<p class="legend"><span class="l-fail">failing sum</span><span class="l-info">info finding</span>'
              '<span class="l-sus">suspect cell</span> hover a cell for details</p>')
    return ['<section id="grids">', "<h2>Two-way tables</h2>", legend, *out, "</section>"]


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def _is_total(label: str) -> bool:
    """Totals and subtotals (`Total`, `Africa total`, `America, total`) are drawn bold."""
    return "total" in label.lower()


def _keep(n: int, flagged: set[int], limit: int) -> list[int]:
    """All positions when there are few; else the first (the total) and every flagged one."""
    if n <= limit:
        return list(range(n))
    return sorted({0, *flagged})


def _grid(result: AuditResult, t: Table, axes: tuple[int, int], max_rows: int, max_cols: int) -> list[str]:
    fails, suspects = _marks(result, t, axes)
    r_ax, c_ax = axes
    rdim, cdim = t.dimensions[r_ax], t.dimensions[c_ax]
    index: list[Any] = [0] * len(t.dimensions)
    index[r_ax], index[c_ax] = slice(None), slice(None)
    values = t.values[tuple(index)]
    symbols = t.symbols[tuple(index)]
    if r_ax > c_ax:
        values, symbols = values.T, symbols.T
    flagged = set(fails) | set(suspects)
    rows = _keep(len(rdim), {r for r, _ in flagged}, max_rows)
    cols = _keep(len(cdim), {c for _, c in flagged}, max_cols)
    hl_rows = {r for (r, _), vs in fails.items() if any(v.severity != "info" for v in vs)}
    hl_cols = {c for (_, c), vs in fails.items() if any(v.severity != "info" for v in vs)}
    fixed = [f"{_e(dim.label or dim.name)} = {_e(dim.labels[0])}" for i, dim in enumerate(t.dimensions)
             if i not in axes]
    head = f"<h3>{_e(t.id)}: {_e(t.title)}</h3>"
    caption = (f'<p class="sub">{_e(rdim.label or rdim.name)} × {_e(cdim.label or cdim.name)}'
               + (f"; {'; '.join(fixed)}" if fixed else "")
               + (f"; showing {len(rows)} of {len(rdim)} rows" if len(rows) < len(rdim) else "")
               + (f", {len(cols)} of {len(cdim)} columns" if len(cols) < len(cdim) else "") + "</p>")
    out = [head, f'<details{" open" if flagged else ""}><summary>grid of {_n(t.size)} cells, '
                 f"{len(fails)} failing, {len(suspects)} suspect</summary>", caption,
           '<div class="grid-wrap">', f'<table class="grid" data-table="{_e(t.id)}">', "<thead><tr><th></th>"]
    for c in cols:
        cls = " ".join(x for x, on in (("hl", c in hl_cols), ("total", _is_total(cdim.labels[c]))) if on)
        out.append(f'<th class="{cls}" scope="col">{_e(cdim.labels[c])}</th>')
    out += ["</tr></thead>", "<tbody>"]
    prev = -1
    for r in rows:
        if r != prev + 1:
            out.append(f'<tr class="gap"><th></th><td colspan="{len(cols)}">… {_rows(r - prev - 1)}</td></tr>')
        prev = r
        cls = ' class="hl"' if r in hl_rows else ""
        row_cls = ' class="total"' if _is_total(rdim.labels[r]) else ""
        cells = [f"<tr{row_cls}><th{cls} scope=\"row\">{_e(rdim.labels[r])}</th>"]
        for c in cols:
            cells.append(_grid_cell(values[r, c], int(symbols[r, c]), fails.get((r, c), []),
                                    suspects.get((r, c), [])))
        out.append("".join(cells) + "</tr>")
    if rows and rows[-1] != len(rdim) - 1:
        out.append(f'<tr class="gap"><th></th><td colspan="{len(cols)}">… {_rows(len(rdim) - 1 - rows[-1])}</td></tr>')
    return [*out, "</tbody>", "</table>", "</div>", "</details>"]


def _grid_cell(value: float, symbol: int, fails: list[Violation], suspects: list[dict[str, Any]]) -> str:
    classes, tips = [], []
    if np.isnan(value) or symbol == sym.NIL:
        text = sym.TEXT[symbol]
        classes.append("sym")
    elif symbol == sym.NUMBER:
        text = fmt_num(value)
    else:
        text = f"{fmt_num(value)} {sym.TEXT[symbol]}"
    if fails:
        worst = max((v.severity for v in fails), key=lambda s: SEVERITY_RANK.get(s, 0))
        classes += ["fail", f"fail-{worst}"]
        for v in fails:
            tips.append(f"{v.severity} {v.rule}: expected {fmt_num(v.expected)}, actual {fmt_num(v.actual)}, "
                        f"imbalance {fmt_imbalance(v.imbalance)}")
    if suspects:
        classes.append("suspect")
        for s in suspects:
            tip = f"suspect ({s.get('rule')}): published {fmt_num(s.get('actual'))}"
            if s.get("suggested") is not None:
                tip += f", suggested {fmt_num(s.get('suggested'))}"
            tips.append(tip)
    attrs = ""
    if classes:
        attrs += f' class="{" ".join(classes)}"'
    if tips:
        attrs += f' title="{_e(chr(10).join(tips))}"'
    if suspects and suspects[0].get("suggested") is not None:
        attrs += f' data-suggested="{_e(fmt_num(suspects[0]["suggested"]))}"'
    return f"<td{attrs}>{_e(text)}</td>"
